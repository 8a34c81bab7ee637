//! Claims for the document scopes (`id_doc`, `drivers_licence_doc`, `medical_doc`,
//! `military_doc`, `foreign_passport_doc`, `birth_cert_doc`): one object per scope, shaped
//! like ESIA's REST document (esia.md §4), from verified documents of standard and confirmed
//! accounts only.

use serde_json::{Map, Value, json};

use super::acr::Level;
use super::scope::ScopeSet;

/// Each document scope and the document types it releases, in order of preference.
pub const DOCUMENT_SCOPES: &[(&str, &[&str])] = &[
    ("id_doc", &["RF_PASSPORT", "FID_DOC"]),
    ("drivers_licence_doc", &["RF_DRIVING_LICENSE"]),
    ("medical_doc", &["MDCL_PLCY"]),
    ("military_doc", &["MLTR_ID"]),
    ("foreign_passport_doc", &["FRGN_PASS"]),
    ("birth_cert_doc", &["RF_BRTH_CERT"]),
];

/// A document as claims show it. Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentClaim {
    /// ESIA type code, e.g. `RF_PASSPORT`.
    pub kind: String,
    pub series: Option<String>,
    pub number: String,
    pub issue_date: Option<String>,
    pub issued_by: Option<String>,
    /// Division code `XXX-XXX` (passport RF).
    pub issuer_code: Option<String>,
    pub expiry_date: Option<String>,
    pub verified: bool,
}

/// Whether any document scope is asked for (so the documents need loading at all).
pub fn wanted(scopes: &ScopeSet) -> bool {
    DOCUMENT_SCOPES.iter().any(|(s, _)| scopes.contains(s))
}

/// Adds one claim per requested document scope for which the person has a verified document.
/// `citizenship` goes into `id_doc`. Nothing is released below the standard level.
pub fn release(
    scopes: &ScopeSet,
    level: Option<Level>,
    citizenship: Option<&str>,
    docs: &[DocumentClaim],
    claims: &mut Map<String, Value>,
) {
    if level.is_none_or(|l| l < Level::Standard) {
        return;
    }
    for (scope, kinds) in DOCUMENT_SCOPES {
        if !scopes.contains(scope) {
            continue;
        }
        let found = kinds
            .iter()
            .find_map(|k| docs.iter().find(|d| d.verified && d.kind == *k));
        if let Some(d) = found {
            let mut v = document(d);
            if *scope == "id_doc"
                && let Some(c) = citizenship.filter(|c| !c.is_empty())
            {
                v.insert("citizenship".into(), c.into());
            }
            claims.insert((*scope).into(), Value::Object(v));
        }
    }
}

fn document(d: &DocumentClaim) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(d.kind));
    m.insert("vrfStu".into(), json!("VERIFIED"));
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    put("series", &d.series);
    put("issueDate", &d.issue_date);
    put("issuedBy", &d.issued_by);
    put("issueId", &d.issuer_code);
    put("expiryDate", &d.expiry_date);
    m.insert("number".into(), json!(d.number));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passport(verified: bool) -> DocumentClaim {
        DocumentClaim {
            kind: "RF_PASSPORT".into(),
            series: Some("4508".into()),
            number: "123456".into(),
            issue_date: Some("2010-05-01".into()),
            issued_by: Some("ОВД".into()),
            issuer_code: Some("690-001".into()),
            expiry_date: None,
            verified,
        }
    }

    fn run(scope: &str, level: Level, docs: &[DocumentClaim]) -> Map<String, Value> {
        let mut c = Map::new();
        release(
            &ScopeSet::parse(scope).unwrap_or_default(),
            Some(level),
            Some("RUS"),
            docs,
            &mut c,
        );
        c
    }

    #[test]
    fn id_doc_releases_the_verified_passport_with_citizenship() {
        let c = run("openid id_doc", Level::Standard, &[passport(true)]);
        assert_eq!(c["id_doc"]["series"], "4508");
        assert_eq!(c["id_doc"]["number"], "123456");
        assert_eq!(c["id_doc"]["issueId"], "690-001");
        assert_eq!(c["id_doc"]["issueDate"], "2010-05-01");
        assert_eq!(c["id_doc"]["citizenship"], "RUS");
        assert_eq!(c["id_doc"]["vrfStu"], "VERIFIED");
    }

    #[test]
    fn unverified_documents_and_simplified_accounts_release_nothing() {
        assert!(run("openid id_doc", Level::Standard, &[passport(false)]).is_empty());
        assert!(run("openid id_doc", Level::Simplified, &[passport(true)]).is_empty());
        assert!(run("openid fullname", Level::Confirmed, &[passport(true)]).is_empty());
    }

    #[test]
    fn each_scope_releases_its_own_kind() {
        let licence = DocumentClaim {
            kind: "RF_DRIVING_LICENSE".into(),
            verified: true,
            ..passport(true)
        };
        let c = run(
            "openid drivers_licence_doc medical_doc",
            Level::Confirmed,
            &[passport(true), licence],
        );
        assert_eq!(c["drivers_licence_doc"]["type"], "RF_DRIVING_LICENSE");
        assert!(c.get("medical_doc").is_none());
        assert!(c.get("id_doc").is_none());
        assert!(c["drivers_licence_doc"].get("citizenship").is_none());
    }
}
