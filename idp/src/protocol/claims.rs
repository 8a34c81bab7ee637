//! Which claims each scope releases, over one person record. ESIA scope names and the
//! standard OIDC scopes read the same data.

pub mod profile;

use serde_json::{Map, Value, json};

use super::acr::Level;
use super::scope::ScopeSet;

/// The person data claims are made from.
#[derive(Clone, Debug, Default)]
pub struct Person {
    pub oid: i64,
    pub level: Option<Level>,
    pub surname: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    /// `YYYY-MM-DD`
    pub birthdate: Option<String>,
    pub birthplace: Option<String>,
    /// `M` or `F`
    pub gender: Option<String>,
    /// 11 digits
    pub snils: Option<String>,
    pub inn: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    /// `+7XXXXXXXXXX`
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub updated_at: i64,
}

impl Person {
    /// "Иванов Иван Иванович".
    pub fn full_name(&self) -> String {
        let mut n = format!("{} {}", self.surname, self.given_name);
        if let Some(m) = &self.middle_name {
            n.push(' ');
            n.push_str(m);
        }
        n
    }

    fn verified_level(&self) -> bool {
        self.level.is_some_and(|l| l >= Level::Standard)
    }
}

/// The claims released for `scopes` (always `sub`). Verified data (SNILS, INN) only from
/// standard and confirmed accounts.
pub fn release(scopes: &ScopeSet, p: &Person) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), p.oid.to_string().into());
    let wants = |s: &str| scopes.contains(s);
    if wants("profile") || wants("fullname") {
        c.insert("family_name".into(), p.surname.clone().into());
        c.insert("given_name".into(), p.given_name.clone().into());
        if let Some(m) = &p.middle_name {
            c.insert("middle_name".into(), m.clone().into());
        }
        c.insert("name".into(), p.full_name().into());
    }
    if wants("profile") || wants("birthdate") {
        put(&mut c, "birthdate", p.birthdate.clone());
    }
    if wants("profile") || wants("gender") {
        put(&mut c, "gender", p.gender.as_deref().map(oidc_gender));
    }
    if wants("profile") {
        c.insert("updated_at".into(), p.updated_at.into());
    }
    if wants("birthplace") {
        put(&mut c, "birthplace", p.birthplace.clone());
    }
    if wants("snils") && p.verified_level() {
        put(&mut c, "snils", p.snils.as_deref().map(format_snils));
    }
    if wants("inn") && p.verified_level() {
        put(&mut c, "inn", p.inn.clone());
    }
    if (wants("email") || wants("contacts")) && p.email.is_some() {
        put(&mut c, "email", p.email.clone());
        c.insert("email_verified".into(), p.email_verified.into());
    }
    if (wants("phone") || wants("mobile") || wants("contacts")) && p.phone.is_some() {
        put(&mut c, "phone_number", p.phone.clone());
        c.insert("phone_number_verified".into(), p.phone_verified.into());
    }
    if (wants("profile") || wants("fullname"))
        && let Some(level) = p.level
    {
        c.insert("account_level".into(), json!(level.as_str()));
    }
    c
}

fn put(c: &mut Map<String, Value>, name: &str, v: Option<String>) {
    if let Some(v) = v {
        c.insert(name.into(), v.into());
    }
}

fn oidc_gender(g: &str) -> String {
    match g {
        "M" => "male".into(),
        "F" => "female".into(),
        other => other.to_string(),
    }
}

/// `11223344595` → `112-233-445 95`.
pub fn format_snils(digits: &str) -> String {
    if digits.len() != 11 {
        return digits.to_string();
    }
    format!(
        "{}-{}-{} {}",
        &digits[0..3],
        &digits[3..6],
        &digits[6..9],
        &digits[9..11]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(level: Level) -> Person {
        Person {
            oid: 1000000001,
            level: Some(level),
            surname: "Иванов".into(),
            given_name: "Иван".into(),
            middle_name: Some("Иванович".into()),
            birthdate: Some("1980-01-02".into()),
            gender: Some("M".into()),
            snils: Some("11223344595".into()),
            inn: Some("500100732259".into()),
            email: Some("ivan@example.ru".into()),
            email_verified: true,
            phone: Some("+79001234567".into()),
            phone_verified: true,
            ..Person::default()
        }
    }

    #[test]
    fn esia_and_oidc_scopes_release_the_same_data() {
        let esia = release(
            &ScopeSet::parse("openid fullname birthdate gender").unwrap(),
            &person(Level::Standard),
        );
        let oidc = release(
            &ScopeSet::parse("openid profile").unwrap(),
            &person(Level::Standard),
        );
        for k in [
            "family_name",
            "given_name",
            "middle_name",
            "name",
            "birthdate",
            "gender",
        ] {
            assert_eq!(esia[k], oidc[k], "{k}");
        }
        assert_eq!(oidc["gender"], "male");
        assert_eq!(esia["name"], "Иванов Иван Иванович");
    }

    #[test]
    fn openid_alone_releases_only_sub() {
        let c = release(
            &ScopeSet::parse("openid").unwrap(),
            &person(Level::Confirmed),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c["sub"], "1000000001");
    }

    #[test]
    fn verified_data_needs_a_standard_account() {
        let s = ScopeSet::parse("openid snils inn").unwrap();
        assert!(
            release(&s, &person(Level::Simplified))
                .get("snils")
                .is_none()
        );
        let c = release(&s, &person(Level::Standard));
        assert_eq!(c["snils"], "112-233-445 95");
        assert_eq!(c["inn"], "500100732259");
    }

    #[test]
    fn mobile_and_email() {
        let c = release(
            &ScopeSet::parse("openid mobile email").unwrap(),
            &person(Level::Simplified),
        );
        assert_eq!(c["phone_number"], "+79001234567");
        assert_eq!(c["email_verified"], true);
    }
}
