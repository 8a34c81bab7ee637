//! The registration form as typed, parsed into an [`Applicant`] (names checked, the phone
//! normalised to `+79XXXXXXXXX`, the e-mail lower-cased), and the stages a registration goes
//! through until the password is set. Pure: no I/O.

use serde::{Deserialize, Serialize};

use crate::domain::identifiers::{normalize_email, normalize_phone};

/// The form as submitted; nothing in it is trusted yet.
#[derive(Clone, Debug, Default)]
pub struct UnverifiedApplicant<'a> {
    pub surname: &'a str,
    pub given_name: &'a str,
    pub middle_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
}

/// A person asking for a simplified account: names checked, at least one contact, each
/// contact in its stored form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub surname: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    /// `+79XXXXXXXXX`: a Russian mobile number (SMS goes there).
    pub phone: Option<String>,
    /// Lower-case.
    pub email: Option<String>,
}

/// What is wrong with the form; each names its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormProblem {
    SurnameMissing,
    GivenNameMissing,
    NameInvalid(&'static str),
    PhoneMalformed,
    EmailMalformed,
    NoContact,
}

const NAME_MAX: usize = 60;

impl FormProblem {
    /// The form field the problem is about.
    pub fn field(&self) -> &'static str {
        match self {
            FormProblem::SurnameMissing => "surname",
            FormProblem::GivenNameMissing => "given_name",
            FormProblem::NameInvalid(field) => field,
            FormProblem::PhoneMalformed => "phone",
            FormProblem::EmailMalformed => "email",
            FormProblem::NoContact => "phone",
        }
    }

    pub fn ru(&self) -> String {
        match self {
            FormProblem::SurnameMissing => "Укажите фамилию".into(),
            FormProblem::GivenNameMissing => "Укажите имя".into(),
            FormProblem::NameInvalid(field) => format!(
                "{}: используйте только буквы, пробел, дефис или апостроф (до {NAME_MAX} символов)",
                match *field {
                    "surname" => "Фамилия",
                    "given_name" => "Имя",
                    _ => "Отчество",
                }
            ),
            FormProblem::PhoneMalformed => {
                "Номер мобильного телефона указан неверно. Пример: +7 900 123-45-67".into()
            }
            FormProblem::EmailMalformed => {
                "Адрес электронной почты указан неверно. Пример: ivanov@mail.ru".into()
            }
            FormProblem::NoContact => {
                "Укажите мобильный телефон или адрес электронной почты".into()
            }
        }
    }

    pub fn en(&self) -> String {
        match self {
            FormProblem::SurnameMissing => "Enter your surname".into(),
            FormProblem::GivenNameMissing => "Enter your first name".into(),
            FormProblem::NameInvalid(field) => format!(
                "{}: use letters, spaces, hyphens or apostrophes only (up to {NAME_MAX} characters)",
                match *field {
                    "surname" => "Surname",
                    "given_name" => "First name",
                    _ => "Middle name",
                }
            ),
            FormProblem::PhoneMalformed => {
                "The mobile number is not valid. Example: +7 900 123-45-67".into()
            }
            FormProblem::EmailMalformed => {
                "The e-mail address is not valid. Example: ivanov@mail.ru".into()
            }
            FormProblem::NoContact => "Enter a mobile number or an e-mail address".into(),
        }
    }
}

impl UnverifiedApplicant<'_> {
    /// Checks every field and reports every problem at once.
    pub fn parse(&self) -> Result<Applicant, Vec<FormProblem>> {
        let mut problems = Vec::new();
        let surname = name(self.surname, "surname", &mut problems);
        let given_name = name(self.given_name, "given_name", &mut problems);
        let middle_name = name(self.middle_name, "middle_name", &mut problems);
        if surname.is_none() && !problems.iter().any(|p| p.field() == "surname") {
            problems.push(FormProblem::SurnameMissing);
        }
        if given_name.is_none() && !problems.iter().any(|p| p.field() == "given_name") {
            problems.push(FormProblem::GivenNameMissing);
        }
        let phone = contact(
            self.phone,
            mobile_phone,
            FormProblem::PhoneMalformed,
            &mut problems,
        );
        let email = contact(
            self.email,
            normalize_email,
            FormProblem::EmailMalformed,
            &mut problems,
        );
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            problems.push(FormProblem::NoContact);
        }
        match (surname, given_name) {
            (Some(surname), Some(given_name)) if problems.is_empty() => Ok(Applicant {
                surname,
                given_name,
                middle_name,
                phone,
                email,
            }),
            _ => Err(problems),
        }
    }
}

impl Applicant {
    /// The person's own data that must not appear in the password.
    pub fn personal(&self) -> Vec<String> {
        let mut out = vec![self.surname.clone(), self.given_name.clone()];
        out.extend(self.middle_name.clone());
        out.extend(
            self.phone
                .as_ref()
                .map(|p| p.trim_start_matches("+7").to_string()),
        );
        out.extend(
            self.email
                .as_ref()
                .and_then(|e| e.split('@').next())
                .map(str::to_string),
        );
        out
    }
}

/// A Russian mobile number (`+79…`): SMS codes cannot go to a landline.
pub fn mobile_phone(text: &str) -> Option<String> {
    normalize_phone(text).filter(|p| p.starts_with("+79"))
}

/// A name: trimmed, inner runs of spaces collapsed; letters (Cyrillic or Latin) with single
/// spaces, hyphens or apostrophes between them. Empty reads as absent.
fn name(text: &str, field: &'static str, problems: &mut Vec<FormProblem>) -> Option<String> {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }
    let letters_ok = collapsed
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’'));
    let ends_ok = collapsed.chars().next().is_some_and(char::is_alphabetic)
        && collapsed.chars().last().is_some_and(char::is_alphabetic);
    if !letters_ok || !ends_ok || collapsed.chars().count() > NAME_MAX {
        problems.push(FormProblem::NameInvalid(field));
        return None;
    }
    Some(collapsed)
}

fn contact(
    text: &str,
    normalize: fn(&str) -> Option<String>,
    malformed: FormProblem,
    problems: &mut Vec<FormProblem>,
) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    let value = normalize(text);
    if value.is_none() {
        problems.push(malformed);
    }
    value
}

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The SMS code to the phone is awaited.
    PhoneCode,
    /// The code e-mailed to the address is awaited (when a phone was given too).
    EmailCode,
    /// The link e-mailed to the address is awaited (e-mail only).
    EmailLink,
    /// Every contact is confirmed: the password is next.
    Password,
}

/// The next stage given what has been confirmed: the phone first (by SMS), then the e-mail
/// (by a code when a phone was given, else by a link).
pub fn stage(applicant: &Applicant, phone_verified: bool, email_verified: bool) -> Stage {
    if applicant.phone.is_some() && !phone_verified {
        Stage::PhoneCode
    } else if applicant.email.is_some() && !email_verified {
        if applicant.phone.is_some() {
            Stage::EmailCode
        } else {
            Stage::EmailLink
        }
    } else {
        Stage::Password
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(
        surname: &'a str,
        given: &'a str,
        phone: &'a str,
        email: &'a str,
    ) -> UnverifiedApplicant<'a> {
        UnverifiedApplicant {
            surname,
            given_name: given,
            middle_name: "",
            phone,
            email,
        }
    }

    #[test]
    fn a_good_form_is_normalised() {
        let a = UnverifiedApplicant {
            middle_name: "  Сергеевич ",
            ..form(
                " Салтыков-Щедрин ",
                "Михаил",
                "8 (900) 123-45-67",
                " Mikhail@Mail.RU ",
            )
        }
        .parse()
        .expect("valid");
        assert_eq!(a.surname, "Салтыков-Щедрин");
        assert_eq!(a.middle_name.as_deref(), Some("Сергеевич"));
        assert_eq!(a.phone.as_deref(), Some("+79001234567"));
        assert_eq!(a.email.as_deref(), Some("mikhail@mail.ru"));
        assert!(a.personal().contains(&"9001234567".to_string()));
        assert!(a.personal().contains(&"mikhail".to_string()));
    }

    #[test]
    fn one_contact_is_enough_and_one_is_needed() {
        assert!(form("Иванов", "Иван", "+79001234567", "").parse().is_ok());
        assert!(form("Иванов", "Иван", "", "a@b.ru").parse().is_ok());
        assert_eq!(
            form("Иванов", "Иван", " ", "").parse(),
            Err(vec![FormProblem::NoContact])
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = form("", "Иван2", "12345", "not-an-email")
            .parse()
            .expect_err("invalid");
        assert_eq!(
            problems,
            vec![
                FormProblem::NameInvalid("given_name"),
                FormProblem::SurnameMissing,
                FormProblem::PhoneMalformed,
                FormProblem::EmailMalformed,
            ]
        );
        for p in &problems {
            assert!(!p.ru().is_empty() && !p.en().is_empty());
        }
    }

    #[test]
    fn landlines_and_foreign_numbers_are_not_mobile() {
        assert_eq!(mobile_phone("+7 495 123-45-67"), None);
        assert_eq!(mobile_phone("+1 900 123 4567"), None);
        assert_eq!(
            mobile_phone("8 900 123 45 67").as_deref(),
            Some("+79001234567")
        );
    }

    #[test]
    fn names_refuse_digits_markup_and_dangling_punctuation() {
        for bad in ["Иван1", "<b>", "-Иван", "Иван-", "Ив@н", &"Я".repeat(61)] {
            assert!(
                form("Иванов", bad, "+79001234567", "").parse().is_err(),
                "{bad}"
            );
        }
        for good in ["Анна-Мария", "O'Brien", "Jean Luc", "Ёлкин"] {
            assert!(
                form(good, "Иван", "+79001234567", "").parse().is_ok(),
                "{good}"
            );
        }
    }

    /// Property: whatever is typed, parsing never panics, and an accepted name is non-empty,
    /// has no outer or double spaces and only allowed characters.
    #[test]
    fn property_accepted_names_are_clean() {
        let alphabet: Vec<char> = "аБяЁzZ -'’1<>@._\t\u{0}é".chars().collect();
        for round in 0..2000 {
            let bytes = crate::crypto::random_bytes(24);
            let len = (bytes[0] as usize) % 20;
            let s: String = bytes[1..=len]
                .iter()
                .map(|b| alphabet[*b as usize % alphabet.len()])
                .collect();
            let parsed = form(&s, "Иван", "+79001234567", "").parse();
            if let Ok(a) = parsed {
                let n = &a.surname;
                assert!(!n.is_empty(), "round {round}: {s:?}");
                assert_eq!(n.trim(), n);
                assert!(!n.contains("  "));
                assert!(
                    n.chars().all(|c| c.is_alphabetic() || " -'’".contains(c)),
                    "{n:?}"
                );
            }
        }
    }

    #[test]
    fn stages_follow_the_contacts() {
        let both = form("Иванов", "Иван", "+79001234567", "a@b.ru")
            .parse()
            .expect("valid");
        assert_eq!(stage(&both, false, false), Stage::PhoneCode);
        assert_eq!(stage(&both, true, false), Stage::EmailCode);
        assert_eq!(stage(&both, true, true), Stage::Password);
        let email = form("Иванов", "Иван", "", "a@b.ru").parse().expect("valid");
        assert_eq!(stage(&email, false, false), Stage::EmailLink);
        assert_eq!(stage(&email, false, true), Stage::Password);
        let phone = form("Иванов", "Иван", "+79001234567", "")
            .parse()
            .expect("valid");
        assert_eq!(stage(&phone, false, false), Stage::PhoneCode);
        assert_eq!(stage(&phone, true, false), Stage::Password);
    }
}
