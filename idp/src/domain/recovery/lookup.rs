//! Which account a person names when the password is lost, and which registered contact its
//! code goes to. Every kind of identifier is recognised and looked up here, in one place.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::crypto::sha256_hex;
use crate::domain::documents::DocumentKind;
use crate::domain::identifiers::{Login, inn_checksum_ok};
use crate::domain::messages::Channel;
use crate::protocol::claims::Person;
use crate::store::users::{self, User};
use crate::store::{StoreError, documents, recovery};

/// An identifier typed on the recovery or unlock page, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Named {
    /// `+7XXXXXXXXXX`
    Phone(String),
    /// Lower-case.
    Email(String),
    /// 11 digits, checksum valid.
    Snils(String),
    /// 12 digits (a person's INN), checksum valid.
    Inn(String),
    /// An RF passport: series (4 digits) and number (6 digits).
    Passport { series: String, number: String },
}

impl Named {
    /// Recognises a phone, e-mail or SNILS (as at login), then a 12-digit INN with a valid
    /// checksum, then a passport as 10 digits (`4508 123456`). A 10-digit entry that reads as
    /// a mobile number (`900 123 45 67`) is a phone.
    pub fn parse(text: &str) -> Option<Named> {
        let t = text.trim();
        if let Some(login) = Login::parse(t) {
            return Some(match login {
                Login::Phone(p) => Named::Phone(p),
                Login::Email(e) => Named::Email(e),
                Login::Snils(s) => Named::Snils(s),
            });
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return None;
        }
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        match digits.len() {
            12 if inn_checksum_ok(&digits) => Some(Named::Inn(digits)),
            10 => Some(Named::Passport {
                series: digits[..4].to_string(),
                number: digits[4..].to_string(),
            }),
            _ => None,
        }
    }

    /// A stable key without the identifier in clear: the subject of its codes.
    pub fn key(&self) -> String {
        let raw = match self {
            Named::Phone(v) => format!("phone:{v}"),
            Named::Email(v) => format!("email:{v}"),
            Named::Snils(v) => format!("snils:{v}"),
            Named::Inn(v) => format!("inn:{v}"),
            Named::Passport { series, number } => format!("passport:{series}{number}"),
        };
        sha256_hex(raw.as_bytes())[..32].to_string()
    }
}

/// The account `named` belongs to, if any.
pub async fn find(state: &AppState, named: &Named) -> Result<Option<User>, StoreError> {
    match named {
        Named::Phone(p) => users::by_login(&state.db, &Login::Phone(p.clone())).await,
        Named::Email(e) => users::by_login(&state.db, &Login::Email(e.clone())).await,
        // SNILS finds only standard and confirmed accounts, as at login.
        Named::Snils(s) => users::by_login(&state.db, &Login::Snils(s.clone())).await,
        Named::Inn(inn) => match recovery::user_id_by_inn(&state.db, inn).await? {
            Some(id) => users::by_id(&state.db, &id).await,
            None => Ok(None),
        },
        // Only a VERIFIED RF passport names an account (a typed, unchecked one could be
        // anyone's); nothing found looks exactly like an unknown identifier.
        Named::Passport { series, number } => {
            match by_verified_passport(state, series, number).await? {
                Some(id) => users::by_id(&state.db, &id).await,
                None => Ok(None),
            }
        }
    }
}

/// The one account whose verified RF passport has this series and number (None when there
/// is none, or, should the registries ever have verified it twice, more than one).
async fn by_verified_passport(
    state: &AppState,
    series: &str,
    number: &str,
) -> Result<Option<String>, StoreError> {
    let kind = DocumentKind::RfPassport;
    let mut found = Vec::new();
    for owner in documents::owners(&state.db, kind, Some(series), number).await? {
        let verified = documents::for_user(&state.db, &owner)
            .await?
            .iter()
            .any(|d| {
                d.verification == documents::VERIFIED
                    && d.document.kind == kind
                    && d.document.series.as_deref() == Some(series)
                    && d.document.number == number
            });
        if verified {
            found.push(owner);
        }
    }
    Ok(match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    })
}

/// Where a code goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contact {
    Sms(String),
    Email(String),
}

impl Contact {
    pub fn channel(&self) -> Channel {
        match self {
            Contact::Sms(_) => Channel::Sms,
            Contact::Email(_) => Channel::Email,
        }
    }

    pub fn address(&self) -> &str {
        match self {
            Contact::Sms(a) | Contact::Email(a) => a,
        }
    }
}

/// The registered (confirmed) contact a code for `named` goes to: the phone or e-mail itself
/// when the person named one of them, otherwise the phone, else the e-mail. None when the
/// account has no confirmed contact (then only a service centre can help).
pub fn contact_for(named: &Named, person: &Person) -> Option<Contact> {
    let phone = person.phone.clone().filter(|_| person.phone_verified);
    let email = person.email.clone().filter(|_| person.email_verified);
    match named {
        Named::Phone(p) if phone.as_deref() == Some(p.as_str()) => Some(Contact::Sms(p.clone())),
        Named::Email(e) if email.as_deref() == Some(e.as_str()) => Some(Contact::Email(e.clone())),
        _ => phone.map(Contact::Sms).or(email.map(Contact::Email)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_recognised() {
        assert_eq!(
            Named::parse("8 (900) 123-45-67"),
            Some(Named::Phone("+79001234567".into()))
        );
        assert_eq!(
            Named::parse(" Ivan@Example.RU"),
            Some(Named::Email("ivan@example.ru".into()))
        );
        assert_eq!(
            Named::parse("112-233-445 95"),
            Some(Named::Snils("11223344595".into()))
        );
        assert_eq!(
            Named::parse("500100732259"),
            Some(Named::Inn("500100732259".into()))
        );
        assert_eq!(Named::parse("500100732258"), None, "bad INN checksum");
        assert_eq!(
            Named::parse("4508 123456"),
            Some(Named::Passport {
                series: "4508".into(),
                number: "123456".into()
            })
        );
        assert_eq!(Named::parse("nobody"), None);
        assert_eq!(Named::parse(""), None);
    }

    #[test]
    fn keys_differ_by_kind_and_hide_the_value() {
        let phone = Named::Phone("+79001234567".into()).key();
        assert_eq!(phone.len(), 32);
        assert!(!phone.contains("9001234567"));
        assert_ne!(phone, Named::Email("+79001234567".into()).key());
    }

    fn person(phone: Option<(&str, bool)>, email: Option<(&str, bool)>) -> Person {
        Person {
            phone: phone.map(|p| p.0.to_string()),
            phone_verified: phone.is_some_and(|p| p.1),
            email: email.map(|e| e.0.to_string()),
            email_verified: email.is_some_and(|e| e.1),
            ..Person::default()
        }
    }

    #[test]
    fn codes_go_to_the_named_contact_else_phone_else_email() {
        let both = person(Some(("+79001234567", true)), Some(("a@b.ru", true)));
        let by_email = Named::Email("a@b.ru".into());
        let by_snils = Named::Snils("11223344595".into());
        assert_eq!(
            contact_for(&by_email, &both),
            Some(Contact::Email("a@b.ru".into()))
        );
        assert_eq!(
            contact_for(&by_snils, &both),
            Some(Contact::Sms("+79001234567".into()))
        );
        let email_only = person(Some(("+79001234567", false)), Some(("a@b.ru", true)));
        assert_eq!(
            contact_for(&Named::Phone("+79001234567".into()), &email_only),
            Some(Contact::Email("a@b.ru".into())),
            "an unconfirmed phone gets nothing"
        );
        assert_eq!(contact_for(&by_snils, &person(None, None)), None);
    }
}
