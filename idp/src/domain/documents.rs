//! Identity documents as validated types, in the style of [`super::identifiers`]: pure code
//! without I/O. An [`UnverifiedDocument`] is what a person typed; [`UnverifiedDocument::validate`]
//! turns it into a [`Document`] (normalised: `45 08` → `4508`, `770001` → `770-001`) or into
//! the list of problems, each with a Russian message for the person.

use serde::Deserialize;

/// The kinds of documents ESIA knows (esia.md §4, "Document").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// Паспорт гражданина РФ.
    RfPassport,
    /// Заграничный паспорт.
    ForeignPassport,
    /// Водительское удостоверение.
    DrivingLicense,
    /// Военный билет.
    MilitaryId,
    /// Полис ОМС.
    MedicalPolicy,
    /// Свидетельство о рождении.
    BirthCertificate,
    /// A foreign citizen's identity document.
    ForeignIdentity,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 7] = [
        DocumentKind::RfPassport,
        DocumentKind::ForeignPassport,
        DocumentKind::DrivingLicense,
        DocumentKind::MilitaryId,
        DocumentKind::MedicalPolicy,
        DocumentKind::BirthCertificate,
        DocumentKind::ForeignIdentity,
    ];

    /// ESIA's type code, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::RfPassport => "RF_PASSPORT",
            DocumentKind::ForeignPassport => "FRGN_PASS",
            DocumentKind::DrivingLicense => "RF_DRIVING_LICENSE",
            DocumentKind::MilitaryId => "MLTR_ID",
            DocumentKind::MedicalPolicy => "MDCL_PLCY",
            DocumentKind::BirthCertificate => "RF_BRTH_CERT",
            DocumentKind::ForeignIdentity => "FID_DOC",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether this document proves who the person is (the check for the standard level).
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            DocumentKind::RfPassport | DocumentKind::ForeignIdentity
        )
    }

    /// The name in Russian, for messages.
    pub fn ru(self) -> &'static str {
        match self {
            DocumentKind::RfPassport => "паспорт гражданина РФ",
            DocumentKind::ForeignPassport => "заграничный паспорт",
            DocumentKind::DrivingLicense => "водительское удостоверение",
            DocumentKind::MilitaryId => "военный билет",
            DocumentKind::MedicalPolicy => "полис ОМС",
            DocumentKind::BirthCertificate => "свидетельство о рождении",
            DocumentKind::ForeignIdentity => "документ иностранного гражданина",
        }
    }
}

/// A calendar date (proleptic Gregorian), compared and checked without a date library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl CivilDate {
    /// `YYYY-MM-DD` or `DD.MM.YYYY`, a real date between 1900 and 2199.
    pub fn parse(text: &str) -> Option<CivilDate> {
        let t = text.trim();
        let (y, m, d) = if let Some((y, rest)) = t.split_once('-') {
            let (m, d) = rest.split_once('-')?;
            (y, m, d)
        } else {
            let mut parts = t.split('.');
            let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            (y, m, d)
        };
        let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return None;
        }
        let date = CivilDate {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let valid = (1900..2200).contains(&date.year)
            && (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days_in_month(date.year, date.month);
        valid.then_some(date)
    }

    /// The UTC date of a Unix time.
    pub fn from_unix(secs: i64) -> CivilDate {
        // Howard Hinnant's civil_from_days.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        CivilDate { year, month, day }
    }

    /// `YYYY-MM-DD`, as stored.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `DD.MM.YYYY`, as ESIA shows dates.
    pub fn esia(self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }

    /// The same day `years` later (29 February → 28 February).
    pub fn plus_years(self, years: i32) -> CivilDate {
        let year = self.year + years;
        CivilDate {
            year,
            month: self.month,
            day: self.day.min(days_in_month(year, self.month)),
        }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// One thing wrong with submitted data: the field and a message in Russian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub ru: &'static str,
}

impl Problem {
    pub fn new(field: &'static str, ru: &'static str) -> Self {
        Self { field, ru }
    }
}

/// A document as typed, before any check.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UnverifiedDocument {
    pub kind: Option<String>,
    pub series: Option<String>,
    pub number: Option<String>,
    pub issue_date: Option<String>,
    pub issued_by: Option<String>,
    pub issuer_code: Option<String>,
    pub expiry_date: Option<String>,
}

/// A document whose fields passed the format rules of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub series: Option<String>,
    pub number: String,
    pub issue_date: Option<CivilDate>,
    pub issued_by: Option<String>,
    pub issuer_code: Option<String>,
    pub expiry_date: Option<CivilDate>,
}

impl Document {
    /// Whether `other` is the same document (kind, series, number, dates, issuer).
    pub fn same_as(&self, other: &Document) -> bool {
        self == other
    }
}

impl UnverifiedDocument {
    /// Checks the fields against the rules of the document's kind (`default_kind` when the
    /// person did not name one). Dates must not be in the future (an expiry date must be).
    pub fn validate(
        &self,
        default_kind: DocumentKind,
        today: CivilDate,
    ) -> Result<Document, Vec<Problem>> {
        let mut problems = Vec::new();
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => default_kind,
            Some(k) => match DocumentKind::parse(k) {
                Some(k) => k,
                None => {
                    problems.push(Problem::new("kind", "Неизвестный вид документа."));
                    return Err(problems);
                }
            },
        };
        let rules = Rules::of(kind);
        let series = compact(self.series.as_deref());
        let number = compact(self.number.as_deref());
        check_series(&rules, series.as_deref(), &mut problems);
        if !number.as_deref().is_some_and(|n| (rules.number)(n)) {
            problems.push(Problem::new("number", rules.number_ru));
        }
        let issue_date = date_field(
            self.issue_date.as_deref(),
            rules.issue_date_required,
            "issue_date",
            "Укажите дату выдачи документа в формате ГГГГ-ММ-ДД.",
            &mut problems,
        );
        if issue_date.is_some_and(|d| d > today) {
            problems.push(Problem::new(
                "issue_date",
                "Дата выдачи не может быть в будущем.",
            ));
        }
        let expiry_date = date_field(
            self.expiry_date.as_deref(),
            rules.expiry_required,
            "expiry_date",
            "Укажите срок действия документа в формате ГГГГ-ММ-ДД.",
            &mut problems,
        );
        if expiry_date.is_some_and(|d| d < today) {
            problems.push(Problem::new(
                "expiry_date",
                "Срок действия документа истёк.",
            ));
        }
        if let (Some(i), Some(e)) = (issue_date, expiry_date)
            && e <= i
        {
            problems.push(Problem::new(
                "expiry_date",
                "Срок действия должен быть позже даты выдачи.",
            ));
        }
        let issued_by = text_field(self.issued_by.as_deref());
        if rules.issued_by_required && issued_by.is_none() {
            problems.push(Problem::new("issued_by", "Укажите, кем выдан документ."));
        }
        if self.issued_by.as_deref().is_some_and(|t| !plain_text(t)) {
            problems.push(Problem::new(
                "issued_by",
                "Поле «Кем выдан» слишком длинное или содержит недопустимые символы.",
            ));
        }
        let issuer_code = if kind == DocumentKind::RfPassport {
            let code = self.issuer_code.as_deref().and_then(division_code);
            if code.is_none() {
                problems.push(Problem::new(
                    "issuer_code",
                    "Код подразделения — шесть цифр в формате XXX-XXX.",
                ));
            }
            code
        } else {
            None
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Document {
            kind,
            series,
            number: number.unwrap_or_default(),
            issue_date,
            issued_by,
            issuer_code,
            expiry_date,
        })
    }
}

/// The format rules of one kind of document.
struct Rules {
    series: Option<fn(&str) -> bool>,
    series_required: bool,
    series_ru: &'static str,
    number: fn(&str) -> bool,
    number_ru: &'static str,
    issue_date_required: bool,
    expiry_required: bool,
    issued_by_required: bool,
}

impl Rules {
    fn of(kind: DocumentKind) -> Rules {
        let base = Rules {
            series: None,
            series_required: false,
            series_ru: "",
            number: |n| n.chars().count() <= 32 && n.chars().all(char::is_alphanumeric),
            number_ru: "Укажите номер документа (до 32 букв и цифр).",
            issue_date_required: false,
            expiry_required: false,
            issued_by_required: false,
        };
        match kind {
            DocumentKind::RfPassport => Rules {
                series: Some(|s| digits(s, 4)),
                series_required: true,
                series_ru: "Серия паспорта — четыре цифры.",
                number: |n| digits(n, 6),
                number_ru: "Номер паспорта — шесть цифр.",
                issue_date_required: true,
                issued_by_required: true,
                ..base
            },
            DocumentKind::ForeignPassport => Rules {
                series: Some(|s| digits(s, 2)),
                series_required: true,
                series_ru: "Серия заграничного паспорта — две цифры.",
                number: |n| digits(n, 7),
                number_ru: "Номер заграничного паспорта — семь цифр.",
                issue_date_required: true,
                expiry_required: true,
                ..base
            },
            DocumentKind::DrivingLicense => Rules {
                series: Some(|s| {
                    let c: Vec<char> = s.chars().collect();
                    c.len() == 4
                        && c[..2].iter().all(char::is_ascii_digit)
                        && c[2..]
                            .iter()
                            .all(|x| x.is_ascii_digit() || cyrillic_upper(*x))
                }),
                series_required: true,
                series_ru: "Серия водительского удостоверения — четыре знака: 2 цифры и 2 цифры или 2 буквы.",
                number: |n| digits(n, 6),
                number_ru: "Номер водительского удостоверения — шесть цифр.",
                issue_date_required: true,
                expiry_required: true,
                ..base
            },
            DocumentKind::MilitaryId => Rules {
                series: Some(|s| s.chars().count() == 2 && s.chars().all(cyrillic_upper)),
                series_required: true,
                series_ru: "Серия военного билета — две заглавные русские буквы.",
                number: |n| digits(n, 7),
                number_ru: "Номер военного билета — семь цифр.",
                issue_date_required: true,
                ..base
            },
            DocumentKind::MedicalPolicy => Rules {
                number: |n| digits(n, 16),
                number_ru: "Номер полиса ОМС — шестнадцать цифр.",
                ..base
            },
            DocumentKind::BirthCertificate => Rules {
                series: Some(birth_certificate_series),
                series_required: true,
                series_ru: "Серия свидетельства о рождении — римские цифры, дефис и две русские буквы (например, IV-МЮ).",
                number: |n| digits(n, 6),
                number_ru: "Номер свидетельства о рождении — шесть цифр.",
                issue_date_required: true,
                ..base
            },
            DocumentKind::ForeignIdentity => Rules {
                series: Some(|s| s.chars().count() <= 16 && s.chars().all(char::is_alphanumeric)),
                series_ru: "Серия документа — до 16 букв и цифр.",
                ..base
            },
        }
    }
}

fn check_series(rules: &Rules, series: Option<&str>, problems: &mut Vec<Problem>) {
    match (series, rules.series) {
        (None, _) if rules.series_required => {
            problems.push(Problem::new("series", rules.series_ru))
        }
        (None, _) => {}
        (Some(_), None) => problems.push(Problem::new(
            "series",
            "У этого документа нет серии: оставьте поле пустым.",
        )),
        (Some(s), Some(ok)) if !ok(s) => problems.push(Problem::new("series", rules.series_ru)),
        (Some(_), Some(_)) => {}
    }
}

fn date_field(
    text: Option<&str>,
    required: bool,
    field: &'static str,
    message: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<CivilDate> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None if required => {
            problems.push(Problem::new(field, message));
            None
        }
        None => None,
        Some(t) => {
            let d = CivilDate::parse(t);
            if d.is_none() {
                problems.push(Problem::new(field, message));
            }
            d
        }
    }
}

/// Removes the spaces people type inside series and numbers (`45 08`); None when empty.
/// Letters are upper-cased.
fn compact(text: Option<&str>) -> Option<String> {
    let t: String = text?
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    (!t.is_empty()).then_some(t)
}

/// Trimmed free text; None when empty or not plain.
pub fn text_field(text: Option<&str>) -> Option<String> {
    let t = text?.trim();
    (!t.is_empty() && plain_text(t)).then(|| t.to_string())
}

/// At most 200 characters and no control characters.
pub fn plain_text(t: &str) -> bool {
    t.trim().chars().count() <= 200 && !t.chars().any(char::is_control)
}

fn digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

fn cyrillic_upper(c: char) -> bool {
    ('А'..='Я').contains(&c) || c == 'Ё'
}

/// `IV-МЮ`: Roman numerals (I, V, X, L, C), a dash, two Russian capitals.
fn birth_certificate_series(s: &str) -> bool {
    let Some((roman, letters)) = s.split_once('-') else {
        return false;
    };
    (1..=6).contains(&roman.len())
        && roman.chars().all(|c| "IVXLC".contains(c))
        && letters.chars().count() == 2
        && letters.chars().all(cyrillic_upper)
}

/// A passport's division code: `770-001` or `770001` → `770-001`.
pub fn division_code(text: &str) -> Option<String> {
    let t = text.trim();
    let d: String = t.chars().filter(char::is_ascii_digit).collect();
    let shape_ok =
        t.len() == 6 && d.len() == 6 || t.len() == 7 && d.len() == 6 && t.as_bytes()[3] == b'-';
    shape_ok.then(|| format!("{}-{}", &d[..3], &d[3..]))
}

#[cfg(test)]
mod tests;
