//! ESIA's person API shapes (`/rs/prns/{oid}` and its collections, esia.md §4 "REST
//! shapes"): pure functions from our records to ESIA's JSON, with the scope rules that decide
//! which fields and collections a token may read, and the `eTag` of every resource.
//! `http/esia_rest.rs` loads the records and answers; `docs/esia-compat.md` "Person API" has
//! the choices.

use serde_json::{Map, Value, json};

use crate::domain::documents::CivilDate;
use crate::protocol::acr::Level;
use crate::protocol::claims::profile::{self, Address, Contact, Kid, OrgRole, Vehicle};
use crate::protocol::claims::{Person, format_snils};
use crate::protocol::doc_claims::DOCUMENT_SCOPES;
use crate::store::documents::{REJECTED, StoredDocument, VERIFIED, VERIFYING};

/// The scopes a token carries (names without `?oid=`).
#[derive(Clone, Copy, Debug)]
pub struct Grants<'a>(pub &'a [String]);

pub const KID_SCOPES: [&str; 7] = [
    "kid_fullname",
    "kid_birthdate",
    "kid_gender",
    "kid_snils",
    "kid_inn",
    "kid_birth_cert_doc",
    "kid_medical_doc",
];

impl Grants<'_> {
    pub fn has(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn any(&self, scopes: &[&str]) -> bool {
        scopes.iter().any(|s| self.has(s))
    }

    /// `/ctts`: `contacts` (all), `mobile` (the mobile), `email` (the e-mail).
    pub fn contacts(&self) -> bool {
        self.any(&["contacts", "mobile", "email"])
    }

    pub fn contact_visible(&self, c: &Contact) -> bool {
        self.has("contacts")
            || (self.has("mobile") && c.kind == "MBT")
            || (self.has("email") && c.kind == "EML")
    }

    /// `/docs`: any document scope.
    pub fn documents(&self) -> bool {
        DOCUMENT_SCOPES.iter().any(|(s, _)| self.has(s))
    }

    pub fn document_visible(&self, kind: &str) -> bool {
        DOCUMENT_SCOPES
            .iter()
            .any(|(s, kinds)| self.has(s) && kinds.contains(&kind))
    }

    pub fn addresses(&self) -> bool {
        self.has("addresses")
    }

    pub fn vehicles(&self) -> bool {
        self.has("vehicles")
    }

    pub fn kids(&self) -> bool {
        self.any(&KID_SCOPES)
    }

    /// `/orgs`, `/roles`, `/rs/orgs/{oid}`.
    pub fn orgs(&self) -> bool {
        self.has("usr_org")
    }
}

/// What the person resource is made from.
#[derive(Clone, Copy, Debug)]
pub struct PersonView<'a> {
    pub person: &'a Person,
    pub citizenship: Option<&'a str>,
    /// A registry check of the identity data is in progress.
    pub verifying: bool,
    /// The id of the identity document (`rIdDoc`), if the person has one.
    pub id_doc: Option<&'a str>,
}

/// `2015-06-01` → `01.06.2015`; anything else unchanged.
pub fn esia_date(iso: &str) -> String {
    CivilDate::parse(iso)
        .map(CivilDate::esia)
        .unwrap_or_else(|| iso.to_string())
}

/// The person (`GET /rs/prns/{oid}`) without its `eTag`: the account facts always, the
/// personal fields of the granted scopes only.
pub fn person(v: &PersonView<'_>, g: Grants<'_>) -> Map<String, Value> {
    let p = v.person;
    let standard = p.level.is_some_and(|l| l >= Level::Standard);
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["EntityRoot"]));
    if g.has("fullname") {
        m.insert("firstName".into(), p.given_name.clone().into());
        m.insert("lastName".into(), p.surname.clone().into());
        if let Some(mn) = &p.middle_name {
            m.insert("middleName".into(), mn.clone().into());
        }
    }
    let mut put = |name: &str, scope: bool, value: Option<String>| {
        if let Some(value) = value.filter(|_| scope) {
            m.insert(name.into(), value.into());
        }
    };
    put(
        "birthDate",
        g.has("birthdate"),
        p.birthdate.as_deref().map(esia_date),
    );
    put("birthPlace", g.has("birthplace"), p.birthplace.clone());
    put("gender", g.has("gender"), p.gender.clone());
    put(
        "snils",
        g.has("snils") && standard,
        p.snils.as_deref().map(format_snils),
    );
    put("inn", g.has("inn") && standard, p.inn.clone());
    put(
        "citizenship",
        g.any(&["fullname", "id_doc"]),
        v.citizenship.filter(|c| !c.is_empty()).map(str::to_string),
    );
    put("rIdDoc", g.has("id_doc"), v.id_doc.map(str::to_string));
    m.insert("trusted".into(), (p.level == Some(Level::Confirmed)).into());
    m.insert("verifying".into(), v.verifying.into());
    m.insert("updatedOn".into(), p.updated_at.into());
    m.insert("status".into(), "REGISTERED".into());
    m
}

/// A contact element: `{id, type, vrfStu, value}`.
pub fn contact(c: &Contact) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["Identifiable"]));
    m.insert("id".into(), c.id.clone().into());
    m.insert("type".into(), c.kind.clone().into());
    m.insert(
        "vrfStu".into(),
        if c.verified {
            "VERIFIED"
        } else {
            "NOT_VERIFIED"
        }
        .into(),
    );
    m.insert("value".into(), c.value.clone().into());
    m
}

/// An address element: ESIA's Address as the `addresses` claim carries it
/// ([`profile::address`]), with the REST API's `stateFacts`.
pub fn address(a: &Address) -> Map<String, Value> {
    let mut m = profile::address_fields(a);
    m.insert("stateFacts".into(), json!(["Identifiable"]));
    m
}

/// `vrfStu` of a stored document.
fn document_status(verification: &str) -> &'static str {
    match verification {
        VERIFIED => "VERIFIED",
        VERIFYING => "VERIFYING",
        _ => "NOT_VERIFIED",
    }
}

/// Whether a stored document is shown at all (rejected ones are not).
pub fn document_listed(d: &StoredDocument) -> bool {
    d.verification != REJECTED
}

/// A document element: `{id, type, vrfStu, series, number, issueDate, issueId, issuedBy,
/// expiryDate}`, dates `dd.MM.yyyy`.
pub fn document(d: &StoredDocument) -> Map<String, Value> {
    let doc = &d.document;
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["Identifiable"]));
    m.insert("id".into(), d.id.clone().into());
    m.insert("type".into(), doc.kind.as_str().into());
    m.insert("vrfStu".into(), document_status(&d.verification).into());
    if let Some(s) = &doc.series {
        m.insert("series".into(), s.clone().into());
    }
    m.insert("number".into(), doc.number.clone().into());
    if let Some(date) = doc.issue_date {
        m.insert("issueDate".into(), date.esia().into());
    }
    if let Some(code) = &doc.issuer_code {
        m.insert("issueId".into(), code.clone().into());
    }
    if let Some(by) = &doc.issued_by {
        m.insert("issuedBy".into(), by.clone().into());
    }
    if let Some(date) = doc.expiry_date {
        m.insert("expiryDate".into(), date.esia().into());
    }
    m
}

/// The identity document `rIdDoc` points at: a listed passport RF (else a foreign citizen's
/// document), verified first, newest first (`docs` come newest first).
pub fn id_doc(docs: &[StoredDocument]) -> Option<&StoredDocument> {
    let rank = |d: &StoredDocument| {
        let kind = match d.document.kind.as_str() {
            "RF_PASSPORT" => 0,
            "FID_DOC" => 1,
            _ => return None,
        };
        Some((kind, d.verification != VERIFIED))
    };
    docs.iter()
        .filter(|d| document_listed(d))
        .filter_map(|d| rank(d).map(|r| (r, d)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, d)| d)
}

/// A vehicle element: `{id, name, numberPlate, regCertificate:{series, number}}`.
pub fn vehicle(v: &Vehicle) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["Identifiable"]));
    m.insert("id".into(), v.id.clone().into());
    m.insert("name".into(), v.name.clone().into());
    m.insert("numberPlate".into(), v.number_plate.clone().into());
    if v.reg_series.is_some() || v.reg_number.is_some() {
        let mut cert = Map::new();
        if let Some(s) = &v.reg_series {
            cert.insert("series".into(), s.clone().into());
        }
        if let Some(n) = &v.reg_number {
            cert.insert("number".into(), n.clone().into());
        }
        m.insert("regCertificate".into(), Value::Object(cert));
    }
    m
}

/// A child element with only the fields whose `kid_*` scope was granted; SNILS and INN only
/// when they come from a standard or confirmed account.
pub fn kid(k: &Kid, g: Grants<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["Identifiable"]));
    m.insert("id".into(), k.id.clone().into());
    if g.has("kid_fullname") {
        m.insert("firstName".into(), k.given_name.clone().into());
        m.insert("lastName".into(), k.surname.clone().into());
        if let Some(mn) = &k.middle_name {
            m.insert("middleName".into(), mn.clone().into());
        }
    }
    let mut put = |name: &str, scope: &str, value: Option<String>| {
        if let Some(value) = value.filter(|_| g.has(scope)) {
            m.insert(name.into(), value.into());
        }
    };
    put(
        "birthDate",
        "kid_birthdate",
        k.birthdate.as_deref().map(esia_date),
    );
    put("gender", "kid_gender", k.gender.clone());
    put(
        "snils",
        "kid_snils",
        k.snils
            .as_deref()
            .map(format_snils)
            .filter(|_| k.verified_ids),
    );
    put("inn", "kid_inn", k.inn.clone().filter(|_| k.verified_ids));
    m
}

/// A role element (`/roles`): `{oid, fullName, shortName, ogrn, type, chief, admin, active}`.
pub fn role(o: &OrgRole) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("oid".into(), o.oid.into());
    m.insert("fullName".into(), o.full_name.clone().into());
    m.insert("shortName".into(), o.short_name.clone().into());
    m.insert("ogrn".into(), o.ogrn.clone().into());
    m.insert("type".into(), o.kind.clone().into());
    m.insert("chief".into(), (o.role == "chief").into());
    m.insert(
        "admin".into(),
        (o.role == "chief" || o.role == "admin").into(),
    );
    m.insert("active".into(), true.into());
    m
}

/// An organisation (`/rs/orgs/{oid}`): `{oid, fullName, shortName, ogrn, inn, type}`.
pub fn organization(o: &OrgRole) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["EntityRoot"]));
    m.insert("oid".into(), o.oid.into());
    m.insert("fullName".into(), o.full_name.clone().into());
    m.insert("shortName".into(), o.short_name.clone().into());
    m.insert("ogrn".into(), o.ogrn.clone().into());
    m.insert("inn".into(), o.inn.clone().into());
    m.insert("type".into(), o.kind.clone().into());
    m
}

/// A resource's `eTag`: upper-case hex of the first 20 bytes of SHA-256 over its JSON without
/// the `eTag` (keys in a fixed order, so equal content gives the same tag).
pub fn etag(m: &Map<String, Value>) -> String {
    let mut m = m.clone();
    m.remove("eTag");
    let bytes = serde_json::to_vec(&canonical(Value::Object(m))).unwrap_or_default();
    let digest = crate::crypto::sha256(&bytes);
    crate::crypto::hex(&digest[..20]).to_ascii_uppercase()
}

/// Sorts object keys recursively (whatever map order serde_json was built with).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Adds `eTag` to a resource and returns it as a value.
pub fn tagged(mut m: Map<String, Value>) -> Value {
    let tag = etag(&m);
    m.insert("eTag".into(), tag.into());
    Value::Object(m)
}

/// The collection envelope `{stateFacts:["hasSize"], size, eTag, elements}`.
pub fn collection(elements: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("stateFacts".into(), json!(["hasSize"]));
    m.insert("size".into(), elements.len().into());
    m.insert("elements".into(), Value::Array(elements));
    tagged(m)
}

/// `{base}/rs/prns/{oid}/{collection}/{id}`.
pub fn element_url(base: &str, oid: &str, collection: &str, id: &str) -> String {
    format!("{base}/rs/prns/{oid}/{collection}/{id}")
}

/// `{base}/rs/orgs/{org_oid}`.
pub fn org_url(base: &str, org_oid: i64) -> String {
    format!("{base}/rs/orgs/{org_oid}")
}

/// What `embed` asks for: `(elements)` or `(contacts.elements,addresses.elements,…)`, with or
/// without the parentheses, items trimmed. Unknown items are kept (and ignored by callers).
pub fn parse_embed(raw: &str) -> Vec<String> {
    let inner = raw.trim();
    let inner = inner.strip_prefix('(').unwrap_or(inner);
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    inner
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether `If-None-Match` (a list of quoted, possibly weak, tags, or `*`) matches `tag`.
pub fn none_match(header: &str, tag: &str) -> bool {
    header.split(',').any(|t| {
        let t = t.trim();
        let t = t.strip_prefix("W/").unwrap_or(t);
        t == "*" || t.trim_matches('"') == tag
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::documents::{Document, DocumentKind};

    fn scopes(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn ivan(level: Level) -> Person {
        Person {
            oid: 1000000001,
            level: Some(level),
            surname: "Иванов".into(),
            given_name: "Иван".into(),
            middle_name: Some("Иванович".into()),
            birthdate: Some("1980-01-02".into()),
            birthplace: Some("г. Тверь".into()),
            gender: Some("M".into()),
            snils: Some("11223344595".into()),
            inn: Some("500100732259".into()),
            updated_at: 1_700_000_000,
            ..Person::default()
        }
    }

    fn passport(id: &str, verification: &str) -> StoredDocument {
        StoredDocument {
            id: id.into(),
            user_id: "1000000001".into(),
            document: Document {
                kind: DocumentKind::RfPassport,
                series: Some("4508".into()),
                number: "123456".into(),
                issue_date: CivilDate::parse("2010-05-01"),
                issued_by: Some("ОВД Тверского района".into()),
                issuer_code: Some("690-001".into()),
                expiry_date: None,
            },
            verification: verification.into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn person_fields_in_esia_formats() {
        let p = ivan(Level::Confirmed);
        let s = scopes("openid fullname birthdate gender snils inn birthplace id_doc");
        let v = PersonView {
            person: &p,
            citizenship: Some("RUS"),
            verifying: false,
            id_doc: Some("d1"),
        };
        let m = person(&v, Grants(&s));
        assert_eq!(m["firstName"], "Иван");
        assert_eq!(m["lastName"], "Иванов");
        assert_eq!(m["middleName"], "Иванович");
        assert_eq!(m["birthDate"], "02.01.1980");
        assert_eq!(m["birthPlace"], "г. Тверь");
        assert_eq!(m["gender"], "M");
        assert_eq!(m["snils"], "112-233-445 95");
        assert_eq!(m["inn"], "500100732259");
        assert_eq!(m["citizenship"], "RUS");
        assert_eq!(m["rIdDoc"], "d1");
        assert_eq!(m["trusted"], true);
        assert_eq!(m["verifying"], false);
        assert_eq!(m["updatedOn"], 1_700_000_000);
        assert_eq!(m["status"], "REGISTERED");
    }

    #[test]
    fn person_without_scopes_has_only_account_facts() {
        let p = ivan(Level::Standard);
        let s = scopes("openid");
        let v = PersonView {
            person: &p,
            citizenship: Some("RUS"),
            verifying: true,
            id_doc: Some("d1"),
        };
        let m = person(&v, Grants(&s));
        for k in [
            "firstName",
            "birthDate",
            "gender",
            "snils",
            "inn",
            "citizenship",
            "rIdDoc",
        ] {
            assert!(m.get(k).is_none(), "{k}");
        }
        assert_eq!(m["trusted"], false);
        assert_eq!(m["verifying"], true);
    }

    #[test]
    fn snils_and_inn_need_a_standard_account() {
        let p = ivan(Level::Simplified);
        let s = scopes("openid snils inn");
        let v = PersonView {
            person: &p,
            citizenship: None,
            verifying: false,
            id_doc: None,
        };
        let m = person(&v, Grants(&s));
        assert!(m.get("snils").is_none() && m.get("inn").is_none());
    }

    #[test]
    fn documents_and_the_identity_document() {
        let d = document(&passport("d1", VERIFIED));
        assert_eq!(d["type"], "RF_PASSPORT");
        assert_eq!(d["vrfStu"], "VERIFIED");
        assert_eq!(d["series"], "4508");
        assert_eq!(d["number"], "123456");
        assert_eq!(d["issueDate"], "01.05.2010");
        assert_eq!(d["issueId"], "690-001");
        assert_eq!(d["issuedBy"], "ОВД Тверского района");
        assert!(d.get("expiryDate").is_none());
        assert_eq!(document(&passport("d2", VERIFYING))["vrfStu"], "VERIFYING");
        let docs = [passport("new", VERIFYING), passport("old", VERIFIED)];
        assert_eq!(id_doc(&docs).map(|d| d.id.as_str()), Some("old"));
        assert!(id_doc(&[passport("x", REJECTED)]).is_none());
        let s = scopes("openid id_doc");
        assert!(Grants(&s).document_visible("RF_PASSPORT"));
        assert!(!Grants(&s).document_visible("RF_DRIVING_LICENSE"));
    }

    #[test]
    fn contacts_by_scope() {
        let mbt = Contact {
            id: "MBT".into(),
            kind: "MBT".into(),
            value: "+79001234567".into(),
            verified: true,
        };
        let phn = Contact {
            id: "c1".into(),
            kind: "PHN".into(),
            value: "+74951234567".into(),
            verified: false,
        };
        let mobile = scopes("openid mobile");
        assert!(Grants(&mobile).contact_visible(&mbt));
        assert!(!Grants(&mobile).contact_visible(&phn));
        let all = scopes("openid contacts");
        assert!(Grants(&all).contact_visible(&phn));
        let c = contact(&phn);
        assert_eq!(c["vrfStu"], "NOT_VERIFIED");
        assert_eq!(c["type"], "PHN");
        assert_eq!(contact(&mbt)["vrfStu"], "VERIFIED");
    }

    #[test]
    fn vehicles_kids_roles() {
        let v = vehicle(&Vehicle {
            id: "v1".into(),
            name: "Лада Веста".into(),
            number_plate: "А123ВС77".into(),
            reg_series: Some("77УВ".into()),
            reg_number: Some("123456".into()),
        });
        assert_eq!(v["numberPlate"], "А123ВС77");
        assert_eq!(v["regCertificate"]["series"], "77УВ");
        assert_eq!(v["regCertificate"]["number"], "123456");
        let k = Kid {
            id: "k1".into(),
            surname: "Иванова".into(),
            given_name: "Мария".into(),
            birthdate: Some("2015-06-01".into()),
            gender: Some("F".into()),
            snils: Some("11223344595".into()),
            verified_ids: false,
            ..Kid::default()
        };
        let s = scopes("openid kid_fullname kid_birthdate kid_snils");
        let m = kid(&k, Grants(&s));
        assert_eq!(m["firstName"], "Мария");
        assert_eq!(m["birthDate"], "01.06.2015");
        assert!(m.get("gender").is_none() && m.get("snils").is_none());
        let o = OrgRole {
            oid: 1_000_000_777,
            full_name: "ООО «Ромашка»".into(),
            short_name: "Ромашка".into(),
            ogrn: "1027700132195".into(),
            inn: "7707083893".into(),
            kind: "LEGAL".into(),
            role: "chief".into(),
        };
        let r = role(&o);
        assert_eq!(r["chief"], true);
        assert_eq!(r["admin"], true);
        assert_eq!(r["active"], true);
        assert_eq!(organization(&o)["inn"], "7707083893");
    }

    #[test]
    fn collections_etags_and_embed() {
        let c = collection(vec![json!("http://x/rs/prns/1/ctts/MBT")]);
        assert_eq!(c["stateFacts"], json!(["hasSize"]));
        assert_eq!(c["size"], 1);
        let tag = c["eTag"].as_str().unwrap_or_default().to_string();
        assert_eq!(tag.len(), 40);
        assert_eq!(tag, tag.to_ascii_uppercase());
        assert_eq!(c, collection(vec![json!("http://x/rs/prns/1/ctts/MBT")]));
        assert_ne!(c["eTag"], collection(Vec::new())["eTag"]);
        assert_eq!(
            parse_embed("(contacts.elements, addresses.elements)"),
            vec!["contacts.elements", "addresses.elements"]
        );
        assert_eq!(parse_embed("elements"), vec!["elements"]);
        assert!(none_match(&format!("W/\"a\", \"{tag}\""), &tag));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"other\"", &tag));
    }
}
