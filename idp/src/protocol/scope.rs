//! Scopes: the OIDC ones and ESIA's, as a normalised set.

use std::collections::BTreeSet;

/// Standard OpenID Connect scopes.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// ESIA scopes over personal data (../shared/esia.md §3). Those we cannot fill yet release nothing.
pub const ESIA_SCOPES: &[&str] = &[
    "fullname",
    "birthdate",
    "gender",
    "birthplace",
    "snils",
    "inn",
    "id_doc",
    "medical_doc",
    "military_doc",
    "foreign_passport_doc",
    "drivers_licence_doc",
    "birth_cert_doc",
    "residence_doc",
    "temporary_residence_doc",
    "vehicles",
    "mobile",
    "contacts",
    "addresses",
    "usr_org",
    "kid_fullname",
    "kid_birthdate",
    "kid_gender",
    "kid_snils",
    "kid_inn",
    "kid_birth_cert_doc",
    "kid_medical_doc",
    "org_shortname",
    "org_ogrn",
    "org_inn",
];

/// Scopes that release state-verified data: only standard and confirmed accounts have it.
pub const VERIFIED_DATA_SCOPES: &[&str] = &[
    "snils",
    "inn",
    "id_doc",
    "medical_doc",
    "military_doc",
    "foreign_passport_doc",
    "drivers_licence_doc",
    "birth_cert_doc",
];

pub fn is_known(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope) || ESIA_SCOPES.contains(&scope)
}

/// A set of scope tokens, sorted and without duplicates; shown space-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Splits on spaces. Tokens must be printable ASCII without `"` or `\` (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let mut set = BTreeSet::new();
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            if !token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
            {
                return Err("scope contains characters that are not allowed");
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Keeps only the scopes `keep` accepts.
    pub fn filter(&self, keep: impl Fn(&str) -> bool) -> ScopeSet {
        Self(self.0.iter().filter(|s| keep(s)).cloned().collect())
    }

    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.union(&other.0).cloned().collect())
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_normalises_and_compares() {
        let a = ScopeSet::parse("openid  email openid fullname").unwrap();
        assert_eq!(a.to_string(), "email fullname openid");
        let b = ScopeSet::parse("openid email").unwrap();
        assert!(b.is_subset(&a) && !a.is_subset(&b));
        assert!(ScopeSet::parse("open\"id").is_err());
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn knows_both_vocabularies() {
        assert!(is_known("snils") && is_known("profile") && !is_known("admin"));
    }
}
