//! The person data for the standard level, as typed ([`UnverifiedIdentity`]) and as checked
//! ([`Identity`]), and the rule that decides what a change does to the account's level.
//! Pure code: no I/O.

use serde::Deserialize;

use super::registry::PersonData;
use crate::domain::documents::{CivilDate, Document, DocumentKind, Problem, UnverifiedDocument};
use crate::domain::identifiers::{inn_checksum_ok, parse_snils};
use crate::protocol::acr::Level;

/// What `POST /api/identity` takes. Names default to the account's own.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UnverifiedIdentity {
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub birthdate: Option<String>,
    pub birthplace: Option<String>,
    pub gender: Option<String>,
    pub citizenship: Option<String>,
    pub snils: Option<String>,
    pub inn: Option<String>,
    pub passport: Option<UnverifiedDocument>,
}

/// Person data and identity document whose formats and checksums hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub person: PersonData,
    pub document: Document,
}

/// The account's names, used where the submission leaves them out.
pub struct CurrentNames<'a> {
    pub surname: &'a str,
    pub given_name: &'a str,
    pub middle_name: Option<&'a str>,
}

impl UnverifiedIdentity {
    pub fn validate(
        &self,
        names: &CurrentNames<'_>,
        today: CivilDate,
    ) -> Result<Identity, Vec<Problem>> {
        let mut problems = Vec::new();
        let surname = name(
            self.surname.as_deref(),
            Some(names.surname),
            "surname",
            &mut problems,
        );
        let given_name = name(
            self.given_name.as_deref(),
            Some(names.given_name),
            "given_name",
            &mut problems,
        );
        let middle_name = match self.middle_name.as_deref() {
            Some(m) if m.trim().is_empty() => None,
            Some(m) => name(Some(m), None, "middle_name", &mut problems),
            None => names.middle_name.map(str::to_string),
        };
        let birthdate = self.birthdate.as_deref().and_then(CivilDate::parse);
        match birthdate {
            None => problems.push(Problem::new(
                "birthdate",
                "Укажите дату рождения в формате ГГГГ-ММ-ДД.",
            )),
            Some(b) if b.plus_years(14) > today => problems.push(Problem::new(
                "birthdate",
                "Дата рождения указана неверно: учётную запись можно подтвердить с 14 лет.",
            )),
            Some(_) => {}
        }
        let birthplace = crate::domain::documents::text_field(self.birthplace.as_deref());
        if birthplace.is_none() {
            problems.push(Problem::new("birthplace", "Укажите место рождения."));
        }
        let gender = gender(self.gender.as_deref());
        if gender.is_none() {
            problems.push(Problem::new(
                "gender",
                "Укажите пол: M (мужской) или F (женский).",
            ));
        }
        let citizenship = citizenship(self.citizenship.as_deref());
        if citizenship.is_none() {
            problems.push(Problem::new(
                "citizenship",
                "Гражданство — трёхбуквенный код страны, например RUS.",
            ));
        }
        let snils = self.snils.as_deref().and_then(parse_snils);
        if snils.is_none() {
            problems.push(Problem::new(
                "snils",
                "СНИЛС указан с ошибкой: нужно 11 цифр (XXX-XXX-XXX YY) с верным контрольным числом.",
            ));
        }
        let inn = match self.inn.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            None => None,
            Some(i) if i.len() == 12 && inn_checksum_ok(i) => Some(i.to_string()),
            Some(_) => {
                problems.push(Problem::new(
                    "inn",
                    "ИНН указан с ошибкой: нужно 12 цифр с верными контрольными числами.",
                ));
                None
            }
        };
        let document = self.document(citizenship.as_deref(), birthdate, today, &mut problems);
        match (
            surname,
            given_name,
            birthdate,
            birthplace,
            gender,
            citizenship,
            snils,
            document,
        ) {
            (Some(s), Some(g), Some(b), Some(bp), Some(ge), Some(c), Some(sn), Some(d))
                if problems.is_empty() =>
            {
                Ok(Identity {
                    person: PersonData {
                        surname: s,
                        given_name: g,
                        middle_name,
                        birthdate: b.iso(),
                        birthplace: bp,
                        gender: ge.into(),
                        citizenship: c,
                        snils: sn,
                        inn,
                    },
                    document: d,
                })
            }
            _ => Err(problems),
        }
    }

    /// The identity document: a Russian passport for citizens of Russia, else a foreign one.
    fn document(
        &self,
        citizenship: Option<&str>,
        birthdate: Option<CivilDate>,
        today: CivilDate,
        problems: &mut Vec<Problem>,
    ) -> Option<Document> {
        let Some(raw) = &self.passport else {
            problems.push(Problem::new(
                "passport",
                "Укажите данные документа, удостоверяющего личность.",
            ));
            return None;
        };
        let russian = citizenship.is_none_or(|c| c == "RUS");
        let default = if russian {
            DocumentKind::RfPassport
        } else {
            DocumentKind::ForeignIdentity
        };
        let doc = match raw.validate(default, today) {
            Ok(d) => d,
            Err(p) => {
                problems.extend(p);
                return None;
            }
        };
        let wanted = if russian {
            DocumentKind::RfPassport
        } else {
            DocumentKind::ForeignIdentity
        };
        if doc.kind != wanted {
            problems.push(Problem::new(
                "kind",
                if russian {
                    "Гражданин России подтверждает личность паспортом гражданина РФ (RF_PASSPORT)."
                } else {
                    "Иностранный гражданин указывает документ, удостоверяющий личность (FID_DOC)."
                },
            ));
            return None;
        }
        if let (Some(b), Some(issued), DocumentKind::RfPassport) =
            (birthdate, doc.issue_date, doc.kind)
            && issued < b.plus_years(14)
        {
            problems.push(Problem::new(
                "issue_date",
                "Паспорт РФ выдаётся с 14 лет: проверьте дату выдачи и дату рождения.",
            ));
            return None;
        }
        Some(doc)
    }
}

/// A name: letters (Russian or Latin), spaces, hyphens, apostrophes, dots; at most 100.
fn name(
    text: Option<&str>,
    fallback: Option<&str>,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let t = text.or(fallback).map(str::trim).unwrap_or_default();
    let ok = !t.is_empty()
        && t.chars().count() <= 100
        && t.chars().all(|c| c.is_alphabetic() || " -'.’".contains(c));
    if !ok {
        problems.push(Problem::new(
            field,
            "Имя, фамилия и отчество пишутся буквами (допустимы пробел, дефис и апостроф).",
        ));
    }
    ok.then(|| t.to_string())
}

fn gender(text: Option<&str>) -> Option<&'static str> {
    match text?.trim().to_lowercase().as_str() {
        "m" | "male" | "м" | "муж" | "мужской" => Some("M"),
        "f" | "female" | "ж" | "жен" | "женский" => Some("F"),
        _ => None,
    }
}

fn citizenship(text: Option<&str>) -> Option<String> {
    let t = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("RUS");
    (t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic())).then(|| t.to_ascii_uppercase())
}

/// How a submission differs from the data already verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing differs.
    None,
    /// Only the identity document, INN, birthplace or citizenship differ: the person is
    /// demonstrably the same.
    Documents,
    /// The name, birth date, gender or SNILS differ: who the person is has changed.
    Person,
}

/// Compares a submission with the verified data (`None` when nothing was verified yet).
pub fn classify(verified: Option<(&PersonData, Option<&Document>)>, new: &Identity) -> Change {
    let Some((old, old_doc)) = verified else {
        return Change::Person;
    };
    let n = &new.person;
    if (
        &old.surname,
        &old.given_name,
        &old.middle_name,
        &old.birthdate,
        &old.gender,
        &old.snils,
    ) != (
        &n.surname,
        &n.given_name,
        &n.middle_name,
        &n.birthdate,
        &n.gender,
        &n.snils,
    ) {
        return Change::Person;
    }
    let same_doc = old_doc.is_some_and(|d| d.same_as(&new.document));
    if same_doc
        && old.inn == n.inn
        && old.birthplace == n.birthplace
        && old.citizenship == n.citizenship
    {
        Change::None
    } else {
        Change::Documents
    }
}

/// The level while a change is being checked. The standard level rests on verified data, so
/// it is withdrawn at once; a confirmed account keeps its level only while the person is the
/// same (a new passport or INN of a person already proven in person).
pub fn level_while_verifying(current: Level, change: Change) -> Level {
    match (current, change) {
        (_, Change::None) => current,
        (Level::Confirmed, Change::Documents) => Level::Confirmed,
        _ => Level::Simplified,
    }
}

/// The level once the registries confirmed the data: standard, or confirmed if it was kept.
pub fn level_after_success(current: Level) -> Level {
    current.max(Level::Standard)
}

#[cfg(test)]
mod tests;
