//! Claims from the profile sections: contacts, addresses, vehicles, children and
//! organisations. Each scope releases a list shaped after ESIA's REST elements (esia.md §4,
//! "REST shapes"); `docs/claims.md` has the table. Pure: the caller loads the rows.

use serde_json::{Map, Value, json};

use super::format_snils;
use crate::protocol::scope::ScopeSet;

/// A contact: `MBT` mobile, `EML` e-mail (the login identifiers), `PHN` home phone, `CEM`
/// work e-mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub verified: bool,
}

/// `PRG` registration or `PLV` residence address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub id: String,
    pub kind: String,
    pub address_str: String,
    pub zip_code: Option<String>,
    pub region: String,
    pub city: Option<String>,
    pub street: Option<String>,
    pub house: Option<String>,
    pub flat: Option<String>,
    pub fias_code: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vehicle {
    pub id: String,
    pub name: String,
    /// Canonical: Cyrillic letters, no spaces (`А123ВС77`).
    pub number_plate: String,
    pub reg_series: Option<String>,
    pub reg_number: Option<String>,
}

/// A child: a linked account or a record kept by the parent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kid {
    pub id: String,
    pub surname: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    /// `YYYY-MM-DD`
    pub birthdate: Option<String>,
    /// `M` or `F`
    pub gender: Option<String>,
    /// 11 digits
    pub snils: Option<String>,
    pub inn: Option<String>,
    /// The child has an account of their own, linked by a code.
    pub linked: bool,
    /// SNILS and INN may be released: they come from a standard or confirmed account.
    pub verified_ids: bool,
}

/// An organisation the person acts for, and in which role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgRole {
    pub oid: i64,
    pub full_name: String,
    pub short_name: String,
    pub ogrn: String,
    pub inn: String,
    /// `LEGAL`
    pub kind: String,
    /// `chief`, `admin` or `employee`
    pub role: String,
}

/// The sections a set of scopes needs, so only those are loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub contacts: bool,
    pub addresses: bool,
    pub vehicles: bool,
    pub kids: bool,
    pub orgs: bool,
}

impl Wanted {
    pub fn any(self) -> bool {
        self.contacts || self.addresses || self.vehicles || self.kids || self.orgs
    }
}

const KID_SCOPES: [&str; 5] = [
    "kid_fullname",
    "kid_birthdate",
    "kid_gender",
    "kid_snils",
    "kid_inn",
];
const ORG_SCOPES: [&str; 3] = ["org_shortname", "org_ogrn", "org_inn"];

pub fn wanted(scopes: &ScopeSet) -> Wanted {
    Wanted {
        contacts: scopes.contains("contacts"),
        addresses: scopes.contains("addresses") || scopes.contains("address"),
        vehicles: scopes.contains("vehicles"),
        kids: KID_SCOPES.iter().any(|s| scopes.contains(s)),
        orgs: scopes.contains("usr_org") || ORG_SCOPES.iter().any(|s| scopes.contains(s)),
    }
}

/// The loaded sections (empty when not wanted).
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub contacts: Vec<Contact>,
    pub addresses: Vec<Address>,
    pub vehicles: Vec<Vehicle>,
    pub kids: Vec<Kid>,
    pub orgs: Vec<OrgRole>,
}

/// Adds the profile claims for `scopes` to `c`.
pub fn release(scopes: &ScopeSet, p: &Profile, c: &mut Map<String, Value>) {
    if scopes.contains("contacts") {
        c.insert("contacts".into(), p.contacts.iter().map(contact).collect());
    }
    if scopes.contains("addresses") {
        c.insert(
            "addresses".into(),
            p.addresses.iter().map(address).collect(),
        );
    }
    if scopes.contains("address") {
        let preferred = ["PLV", "PRG"]
            .iter()
            .find_map(|k| p.addresses.iter().find(|a| a.kind == *k));
        if let Some(a) = preferred {
            c.insert("address".into(), oidc_address(a));
        }
    }
    if scopes.contains("vehicles") {
        c.insert("vehicles".into(), p.vehicles.iter().map(vehicle).collect());
    }
    if wanted(scopes).kids {
        let kids = p.kids.iter().map(|k| kid(scopes, k)).collect();
        c.insert("kids".into(), kids);
    }
    if scopes.contains("usr_org") {
        c.insert("usr_org".into(), p.orgs.iter().map(role).collect());
    }
    if ORG_SCOPES.iter().any(|s| scopes.contains(s)) {
        let orgs = p.orgs.iter().map(|o| organization(scopes, o)).collect();
        c.insert("organizations".into(), orgs);
    }
}

/// ESIA's Contact element.
pub fn contact(x: &Contact) -> Value {
    json!({
        "id": x.id,
        "type": x.kind,
        "value": x.value,
        "vrfStu": if x.verified { "VERIFIED" } else { "NOT_VERIFIED" },
    })
}

/// ESIA's Address element (absent parts omitted).
pub fn address(a: &Address) -> Value {
    Value::Object(address_fields(a))
}

/// The members of [`address`], for callers that add their own.
pub fn address_fields(a: &Address) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), a.id.clone().into());
    m.insert("type".into(), a.kind.clone().into());
    m.insert("addressStr".into(), a.address_str.clone().into());
    m.insert("countryId".into(), "RUS".into());
    m.insert("region".into(), a.region.clone().into());
    for (name, v) in [
        ("zipCode", &a.zip_code),
        ("city", &a.city),
        ("street", &a.street),
        ("house", &a.house),
        ("flat", &a.flat),
        ("fiasCode", &a.fias_code),
    ] {
        if let Some(v) = v {
            m.insert(name.into(), v.clone().into());
        }
    }
    m
}

/// OIDC Core §5.1.1 address claim.
fn oidc_address(a: &Address) -> Value {
    let mut street = a.street.clone().unwrap_or_default();
    for (prefix, part) in [("д. ", &a.house), ("кв. ", &a.flat)] {
        if let Some(p) = part {
            if !street.is_empty() {
                street.push_str(", ");
            }
            street.push_str(prefix);
            street.push_str(p);
        }
    }
    let mut m = Map::new();
    m.insert("formatted".into(), a.address_str.clone().into());
    if !street.is_empty() {
        m.insert("street_address".into(), street.into());
    }
    if let Some(city) = &a.city {
        m.insert("locality".into(), city.clone().into());
    }
    m.insert("region".into(), a.region.clone().into());
    if let Some(zip) = &a.zip_code {
        m.insert("postal_code".into(), zip.clone().into());
    }
    m.insert("country".into(), "RU".into());
    Value::Object(m)
}

/// ESIA's Vehicle element.
pub fn vehicle(v: &Vehicle) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), v.id.clone().into());
    m.insert("name".into(), v.name.clone().into());
    m.insert("numberPlate".into(), v.number_plate.clone().into());
    if v.reg_series.is_some() || v.reg_number.is_some() {
        m.insert(
            "regCertificate".into(),
            json!({ "series": v.reg_series, "number": v.reg_number }),
        );
    }
    Value::Object(m)
}

/// A child with only the fields whose `kid_*` scope was granted.
fn kid(scopes: &ScopeSet, k: &Kid) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), k.id.clone().into());
    if scopes.contains("kid_fullname") {
        m.insert("lastName".into(), k.surname.clone().into());
        m.insert("firstName".into(), k.given_name.clone().into());
        if let Some(mn) = &k.middle_name {
            m.insert("middleName".into(), mn.clone().into());
        }
    }
    let granted = |scope: &str, v: Option<String>| v.filter(|_| scopes.contains(scope));
    let fields = [
        (
            "birthDate",
            granted("kid_birthdate", k.birthdate.as_deref().and_then(esia_date)),
        ),
        ("gender", granted("kid_gender", k.gender.clone())),
        // SNILS and INN only when they come from a standard or confirmed account.
        (
            "snils",
            granted(
                "kid_snils",
                k.snils
                    .as_deref()
                    .map(format_snils)
                    .filter(|_| k.verified_ids),
            ),
        ),
        (
            "inn",
            granted("kid_inn", k.inn.clone().filter(|_| k.verified_ids)),
        ),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            m.insert(name.into(), v.into());
        }
    }
    Value::Object(m)
}

/// ESIA's Role element.
pub fn role(o: &OrgRole) -> Value {
    json!({
        "oid": o.oid,
        "fullName": o.full_name,
        "shortName": o.short_name,
        "ogrn": o.ogrn,
        "type": o.kind,
        "chief": o.role == "chief",
        "admin": o.role == "chief" || o.role == "admin",
        "active": true,
    })
}

/// An organisation with only the fields whose `org_*` scope was granted.
fn organization(scopes: &ScopeSet, o: &OrgRole) -> Value {
    let mut m = Map::new();
    m.insert("oid".into(), o.oid.into());
    if scopes.contains("org_shortname") {
        m.insert("shortName".into(), o.short_name.clone().into());
    }
    if scopes.contains("org_ogrn") {
        m.insert("ogrn".into(), o.ogrn.clone().into());
    }
    if scopes.contains("org_inn") {
        m.insert("inn".into(), o.inn.clone().into());
    }
    Value::Object(m)
}

/// `2015-06-01` → `01.06.2015` (ESIA's date format).
fn esia_date(iso: &str) -> Option<String> {
    let mut parts = iso.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{d}.{m}.{y}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            contacts: vec![
                Contact {
                    id: "mbt".into(),
                    kind: "MBT".into(),
                    value: "+79001234567".into(),
                    verified: true,
                },
                Contact {
                    id: "c1".into(),
                    kind: "PHN".into(),
                    value: "+74951234567".into(),
                    verified: false,
                },
            ],
            addresses: vec![Address {
                id: "a1".into(),
                kind: "PRG".into(),
                address_str: "101000, г. Москва, ул. Мясницкая, д. 1, кв. 2".into(),
                zip_code: Some("101000".into()),
                region: "Москва".into(),
                city: Some("Москва".into()),
                street: Some("ул. Мясницкая".into()),
                house: Some("1".into()),
                flat: Some("2".into()),
                fias_code: None,
            }],
            vehicles: vec![Vehicle {
                id: "v1".into(),
                name: "Лада Веста".into(),
                number_plate: "А123ВС77".into(),
                reg_series: Some("77УВ".into()),
                reg_number: Some("123456".into()),
            }],
            kids: vec![Kid {
                id: "k1".into(),
                surname: "Иванова".into(),
                given_name: "Мария".into(),
                birthdate: Some("2015-06-01".into()),
                gender: Some("F".into()),
                snils: Some("11223344595".into()),
                verified_ids: false,
                ..Kid::default()
            }],
            orgs: vec![OrgRole {
                oid: 1_000_000_777,
                full_name: "ООО «Ромашка»".into(),
                short_name: "Ромашка".into(),
                ogrn: "1027700132195".into(),
                inn: "7707083893".into(),
                kind: "LEGAL".into(),
                role: "admin".into(),
            }],
        }
    }

    fn claims(scope: &str) -> Map<String, Value> {
        let mut c = Map::new();
        release(&ScopeSet::parse(scope).unwrap(), &profile(), &mut c);
        c
    }

    #[test]
    fn nothing_without_the_scopes() {
        assert!(claims("openid profile email").is_empty());
        assert!(!wanted(&ScopeSet::parse("openid profile").unwrap()).any());
    }

    #[test]
    fn contacts_addresses_vehicles_in_esia_shapes() {
        let c = claims("openid contacts addresses vehicles address");
        assert_eq!(c["contacts"][0]["vrfStu"], "VERIFIED");
        assert_eq!(c["contacts"][1]["type"], "PHN");
        assert_eq!(c["contacts"][1]["vrfStu"], "NOT_VERIFIED");
        assert_eq!(c["addresses"][0]["zipCode"], "101000");
        assert_eq!(c["addresses"][0]["countryId"], "RUS");
        assert!(c["addresses"][0].get("fiasCode").is_none());
        assert_eq!(c["address"]["postal_code"], "101000");
        assert_eq!(c["address"]["street_address"], "ул. Мясницкая, д. 1, кв. 2");
        assert_eq!(c["vehicles"][0]["numberPlate"], "А123ВС77");
        assert_eq!(c["vehicles"][0]["regCertificate"]["number"], "123456");
    }

    #[test]
    fn kids_carry_only_the_granted_fields() {
        let c = claims("openid kid_birthdate kid_snils");
        let kid = c["kids"][0].as_object().unwrap();
        assert_eq!(kid["birthDate"], "01.06.2015");
        assert!(kid.get("lastName").is_none() && kid.get("gender").is_none());
        assert!(
            kid.get("snils").is_none(),
            "unverified SNILS is not released"
        );
        let mut p = profile();
        p.kids[0].verified_ids = true;
        let mut c = Map::new();
        release(
            &ScopeSet::parse("openid kid_fullname kid_snils").unwrap(),
            &p,
            &mut c,
        );
        assert_eq!(c["kids"][0]["snils"], "112-233-445 95");
        assert_eq!(c["kids"][0]["firstName"], "Мария");
    }

    #[test]
    fn organisations_as_roles_and_by_field() {
        let c = claims("openid usr_org org_inn");
        assert_eq!(c["usr_org"][0]["admin"], true);
        assert_eq!(c["usr_org"][0]["chief"], false);
        assert_eq!(c["usr_org"][0]["ogrn"], "1027700132195");
        assert_eq!(c["organizations"][0]["inn"], "7707083893");
        assert!(c["organizations"][0].get("ogrn").is_none());
    }
}
