//! Children. A parent creates a link code in their account; the child types it in theirs and
//! appears in the parent's list. The code is `<parent OID>-<six digits>`: the OID says whose
//! code to check, the digits are a one-time code ([`crate::domain::codes`]: hashed, ten
//! minutes, three attempts, single use). An account whose birth date makes it an adult's
//! cannot be linked as a child's. A parent may also keep a record of a child who has no
//! account (names, birth date, gender, SNILS, INN).

use serde::Deserialize;
use serde_json::json;

use super::checks::{self, Date};
use super::{Problem, ProfileError, begin, conflict_is, record};
use crate::app::AppState;
use crate::domain::codes::{self, Checked, Policy};
use crate::domain::identifiers::{inn_checksum_ok, parse_snils};
use crate::protocol::claims::profile::Kid;
use crate::store::profile::{self as store, Section};
use crate::store::users::{self, User};

const PURPOSE_LINK: &str = "kid_link";
/// Ten minutes to type it in the child's account, three attempts, a new one after 30 s.
pub const LINK_POLICY: Policy = Policy {
    ttl: 600,
    max_attempts: 3,
    resend_after: 30,
    daily_cap: 10,
    digits: 6,
};
const MAX_KIDS: i64 = 20;

/// A link code to show the parent.
#[derive(Debug)]
pub struct LinkCode {
    pub code: String,
    pub expires_in: i64,
}

/// A child without an account, as typed by the parent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnverifiedKid {
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub birthdate: Option<String>,
    pub gender: Option<String>,
    pub snils: Option<String>,
    pub inn: Option<String>,
}

/// Issues a new link code for the parent (the previous one stops counting).
pub async fn link_code(state: &AppState, parent: &User) -> Result<LinkCode, ProfileError> {
    if store::count(&state.db, Section::Kids, &parent.id).await? >= MAX_KIDS {
        return Err(ProfileError::Limit);
    }
    let digits = codes::issue(state, PURPOSE_LINK, &parent.id, LINK_POLICY, None).await?;
    Ok(LinkCode {
        code: format!("{}-{digits}", parent.person.oid),
        expires_in: LINK_POLICY.ttl,
    })
}

/// The child's session typed `typed`: links the child's account to the parent's. Returns
/// the parent's OID.
pub async fn link(state: &AppState, child: &User, typed: &str) -> Result<i64, ProfileError> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let (oid, digits) = compact
        .split_once('-')
        .filter(|(o, d)| {
            (1..=19).contains(&o.len())
                && d.len() == 6
                && o.chars().chain(d.chars()).all(|c| c.is_ascii_digit())
        })
        .ok_or_else(|| {
            ProfileError::invalid(
                "code",
                "Введите код привязки в том виде, в каком он показан в кабинете родителя, например 1234567890-123456.",
                "Enter the link code as shown in the parent's account, e.g. 1234567890-123456.",
            )
        })?;
    let parent_id = oid
        .parse::<i64>()
        .map_err(|_| ProfileError::NoCode)?
        .to_string();
    // Only a minor's account can be a child's, and never the parent's own; checked before the
    // code, so these refusals spend no attempt.
    let today = Date::from_unix(state.clock.now());
    let adult = child
        .person
        .birthdate
        .as_deref()
        .and_then(Date::parse)
        .is_some_and(|b| b.years_until(today) >= 18);
    if parent_id == child.id || adult {
        return Err(ProfileError::CannotLink);
    }
    match codes::check(state, PURPOSE_LINK, &parent_id, digits).await? {
        Checked::Accepted(_) => {}
        Checked::Wrong { remaining } => return Err(ProfileError::WrongCode { remaining }),
        Checked::Expired => return Err(ProfileError::CodeExpired),
        Checked::Exhausted => return Err(ProfileError::CodeUsedUp),
        Checked::Missing => return Err(ProfileError::NoCode),
    }
    let parent = users::by_id(&state.db, &parent_id)
        .await?
        .ok_or(ProfileError::NoCode)?;
    // A parent cannot become their own child's child.
    if store::kids::is_linked(&state.db, &child.id, &parent.id).await? {
        return Err(ProfileError::CannotLink);
    }
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    store::kids::link(
        &mut tx,
        &crate::crypto::random_token(9),
        &parent.id,
        &child.id,
        now,
    )
    .await
    .map_err(|e| conflict_is(e, ProfileError::Duplicate))?;
    let to_parent = json!({ "field": "kids", "old": null, "new": { "oid": child.person.oid, "name": child.person.full_name() } });
    let source = format!("user:{}", child.id);
    record(
        &mut tx,
        &parent.id,
        "Привязана учётная запись ребёнка",
        &to_parent,
        &source,
        now,
    )
    .await?;
    let to_child = json!({ "field": "parents", "old": null, "new": { "oid": parent.person.oid } });
    record(
        &mut tx,
        &child.id,
        "Учётная запись привязана к учётной записи родителя",
        &to_child,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(parent.person.oid)
}

impl UnverifiedKid {
    /// The record to store, or every problem found. `today` bounds the birth date: a child
    /// is under 18.
    pub fn validate(&self, today: Date) -> Result<Kid, ProfileError> {
        let mut problems = Vec::new();
        let name_of = |v: &Option<String>| v.as_deref().and_then(checks::name);
        let surname = name_of(&self.surname);
        let given_name = name_of(&self.given_name);
        if surname.is_none() || given_name.is_none() {
            problems.push(Problem::new(
                "name",
                "Укажите фамилию и имя ребёнка буквами.",
                "Enter the child's surname and first name in letters.",
            ));
        }
        let middle = self.middle_name.as_deref().filter(|m| !m.trim().is_empty());
        let middle_name = middle.and_then(checks::name);
        if middle.is_some() && middle_name.is_none() {
            problems.push(Problem::new(
                "middle_name",
                "Отчество — только буквы.",
                "The middle name is letters only.",
            ));
        }
        let born = self.birthdate.as_deref().and_then(Date::parse);
        match born {
            Some(b) if b <= today && b.years_until(today) < 18 => {}
            _ => problems.push(Problem::new(
                "birthdate",
                "Дата рождения ребёнка в формате ГГГГ-ММ-ДД; ребёнку должно быть меньше 18 лет.",
                "The child's birth date as YYYY-MM-DD; the child must be under 18.",
            )),
        }
        let gender = match self.gender.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("M" | "m" | "М") => Some("M".to_string()),
            Some("F" | "f" | "Ж") => Some("F".to_string()),
            Some(_) => {
                problems.push(Problem::new("gender", "Пол: M или F.", "Gender: M or F."));
                None
            }
        };
        fn typed(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let snils = typed(&self.snils).map(parse_snils);
        if matches!(snils, Some(None)) {
            problems.push(Problem::new(
                "snils",
                "СНИЛС указан с ошибкой: проверьте цифры.",
                "The SNILS is wrong: check the digits.",
            ));
        }
        let inn =
            typed(&self.inn).map(|i| (i.len() == 12 && inn_checksum_ok(i)).then(|| i.to_string()));
        if matches!(inn, Some(None)) {
            problems.push(Problem::new(
                "inn",
                "ИНН физического лица — 12 цифр с верными контрольными цифрами.",
                "A person's INN is 12 digits with valid check digits.",
            ));
        }
        if !problems.is_empty() {
            return Err(ProfileError::Invalid(problems));
        }
        Ok(Kid {
            id: crate::crypto::random_token(9),
            surname: surname.unwrap_or_default(),
            given_name: given_name.unwrap_or_default(),
            middle_name,
            birthdate: born.map(Date::iso),
            gender,
            snils: snils.flatten(),
            inn: inn.flatten(),
            linked: false,
            verified_ids: false,
        })
    }
}

/// Adds a record of a child without an account.
pub async fn add_record(
    state: &AppState,
    parent: &User,
    input: &UnverifiedKid,
) -> Result<Kid, ProfileError> {
    let now = state.clock.now();
    let kid = input.validate(Date::from_unix(now))?;
    if store::count(&state.db, Section::Kids, &parent.id).await? >= MAX_KIDS {
        return Err(ProfileError::Limit);
    }
    let mut tx = begin(state).await?;
    store::kids::add_record(&mut tx, &parent.id, &kid, now).await?;
    let detail = json!({ "field": "kids", "old": null, "new": { "name": full_name(&kid), "birthdate": kid.birthdate } });
    record(
        &mut tx,
        &parent.id,
        "Добавлены сведения о ребёнке",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(kid)
}

/// Removes a child from the parent's list (a linked child's account stays as it is).
pub async fn remove(state: &AppState, parent: &User, id: &str) -> Result<Kid, ProfileError> {
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::kids::remove(&mut tx, &parent.id, id)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let detail = json!({ "field": "kids", "old": { "name": full_name(&old) }, "new": null });
    record(
        &mut tx,
        &parent.id,
        "Удалены сведения о ребёнке",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(old)
}

pub fn full_name(k: &Kid) -> String {
    let mut n = format!("{} {}", k.surname, k.given_name);
    if let Some(m) = &k.middle_name {
        n.push(' ');
        n.push_str(m);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_record_is_checked() {
        let today = Date::parse("2026-03-01").unwrap();
        let kid = UnverifiedKid {
            surname: Some("Иванова".into()),
            given_name: Some("Мария".into()),
            birthdate: Some("2015-06-01".into()),
            gender: Some("F".into()),
            snils: Some("112-233-445 95".into()),
            inn: Some("500100732259".into()),
            ..UnverifiedKid::default()
        };
        let ok = kid.validate(today).unwrap();
        assert_eq!(ok.snils.as_deref(), Some("11223344595"));
        let adult = UnverifiedKid {
            birthdate: Some("2000-01-01".into()),
            snils: Some("112-233-445 96".into()),
            inn: Some("7707083893".into()),
            ..kid
        };
        let Err(ProfileError::Invalid(ps)) = adult.validate(today) else {
            panic!("accepted an adult with a bad SNILS")
        };
        let fields: Vec<_> = ps.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["birthdate", "snils", "inn"]);
    }
}
