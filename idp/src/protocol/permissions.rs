//! ESIA-style permission requests: the `permissions` authorization parameter, base64url of a
//! JSON array of `{responsibleObject?, sysname, expire (minutes), actions:[{sysname}],
//! purposes:[{sysname}], scopes:[{sysname}]}` (see docs/permissions.md). Parsed into a typed
//! value or refused with a description that says what is wrong; no I/O.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::scope::ScopeSet;

/// The longest `permissions` value accepted, in characters (before decoding).
pub const MAX_ENCODED: usize = 4096;
/// At most this many permission objects in one request.
pub const MAX_ITEMS: usize = 8;
/// The longest validity a relying party may ask for: one year, in minutes.
pub const MAX_EXPIRE_MINUTES: i64 = 366 * 24 * 60;

/// What a relying party may do with the data (ESIA's action registry).
pub const ACTIONS: [&str; 3] = ["ALL_ACTIONS_TO_DATA", "USE_DATA", "SHARE_DATA"];
/// The purposes this provider knows (a subset of ESIA's registry; each has a label in
/// `consent_ui::purpose_label`). An unknown purpose is refused, as ESIA does.
pub const PURPOSES: [&str; 8] = [
    "IDENTIFICATION",
    "VERIFY_USER",
    "APIPGU",
    "CREDIT",
    "INSURANCE",
    "EMPLOYMENT",
    "BANK_ACCOUNT",
    "PENSION",
];

/// One permission object, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub sysname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_object: Option<String>,
    /// Validity in minutes from the moment of consent.
    pub expire: i64,
    pub actions: Vec<String>,
    pub purposes: Vec<String>,
    pub scopes: Vec<String>,
}

/// A validated `permissions` request (never empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions(pub Vec<Permission>);

impl Permissions {
    /// The shortest validity among the objects, in seconds: the consent lasts that long.
    pub fn validity_seconds(&self) -> i64 {
        self.0.iter().map(|p| p.expire).min().unwrap_or(0) * 60
    }

    /// Every purpose named, in order, each once.
    pub fn purposes(&self) -> Vec<String> {
        distinct(self.0.iter().flat_map(|p| p.purposes.iter()))
    }

    /// Every action named, in order, each once.
    pub fn actions(&self) -> Vec<String> {
        distinct(self.0.iter().flat_map(|p| p.actions.iter()))
    }

    /// The canonical JSON stored with the consent (and compared to later requests).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads back what [`Self::to_json`] wrote.
    pub fn from_json(text: &str) -> Option<Permissions> {
        serde_json::from_str(text).ok()
    }
}

fn distinct<'a>(it: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in it {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

// The wire shape: lenient types so every fault gets its own description.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    sysname: Option<serde_json::Value>,
    responsible_object: Option<serde_json::Value>,
    expire: Option<serde_json::Value>,
    actions: Option<Vec<WireName>>,
    purposes: Option<Vec<WireName>>,
    scopes: Option<Vec<WireName>>,
}

#[derive(Deserialize)]
struct WireName {
    sysname: Option<String>,
}

/// Parses and checks `encoded` against the scopes of the same request (`requested`, the
/// known scopes without `openid`). The error is an `invalid_request` description.
pub fn parse(encoded: &str, requested: &ScopeSet) -> Result<Permissions, &'static str> {
    if encoded.len() > MAX_ENCODED {
        return Err("permissions is too long (at most 4096 characters)");
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| "permissions must be base64url-encoded JSON")?;
    let items: Vec<WireItem> = serde_json::from_slice(&bytes)
        .map_err(|_| "permissions must be a JSON array of permission objects")?;
    if items.is_empty() {
        return Err("permissions must name at least one permission");
    }
    if items.len() > MAX_ITEMS {
        return Err("permissions may name at most 8 permissions");
    }
    items
        .into_iter()
        .map(|i| item(i, requested))
        .collect::<Result<_, _>>()
        .map(Permissions)
}

fn item(w: WireItem, requested: &ScopeSet) -> Result<Permission, &'static str> {
    let sysname = match w.sysname {
        Some(serde_json::Value::String(s)) if is_sysname(&s) => s,
        Some(_) => return Err("permissions: sysname must be letters, digits and _ (1-64)"),
        None => return Err("permissions: every permission needs a sysname"),
    };
    let responsible_object = match w.responsible_object {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.chars().count() <= 200 => Some(s),
        Some(_) => return Err("permissions: responsibleObject must be a short string"),
    };
    let expire = match w.expire {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
        None => return Err("permissions: every permission needs expire (minutes)"),
        Some(_) => None,
    }
    .filter(|m| (1..=MAX_EXPIRE_MINUTES).contains(m))
    .ok_or("permissions: expire must be a whole number of minutes from 1 to 527040")?;
    let actions = names(
        w.actions,
        "permissions: actions must list at least one action",
    )?;
    if !actions.iter().all(|a| ACTIONS.contains(&a.as_str())) {
        return Err(
            "permissions: unknown action (use ALL_ACTIONS_TO_DATA, USE_DATA or SHARE_DATA)",
        );
    }
    let purposes = names(
        w.purposes,
        "permissions: purposes must list at least one purpose",
    )?;
    if !purposes.iter().all(|p| PURPOSES.contains(&p.as_str())) {
        return Err("permissions: unknown purpose sysname");
    }
    let scopes = names(w.scopes, "permissions: scopes must list at least one scope")?;
    if !scopes
        .iter()
        .all(|s| s != "openid" && requested.contains(s))
    {
        return Err("permissions: a scope is not among the requested scopes");
    }
    Ok(Permission {
        sysname,
        responsible_object,
        expire,
        actions,
        purposes,
        scopes,
    })
}

fn names(list: Option<Vec<WireName>>, missing: &'static str) -> Result<Vec<String>, &'static str> {
    let list = list.unwrap_or_default();
    if list.is_empty() {
        return Err(missing);
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for n in list {
        match n.sysname {
            Some(s) if is_sysname(&s) => {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            _ => return Err("permissions: every action, purpose and scope needs a sysname"),
        }
    }
    Ok(out)
}

fn is_sysname(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn requested() -> ScopeSet {
        ScopeSet::parse("fullname snils birthdate").unwrap()
    }

    fn good() -> serde_json::Value {
        serde_json::json!([{
            "sysname": "SFR_PENSION_ACCOUNT",
            "expire": 43200,
            "actions": [{ "sysname": "ALL_ACTIONS_TO_DATA" }],
            "purposes": [{ "sysname": "IDENTIFICATION" }],
            "scopes": [{ "sysname": "fullname" }, { "sysname": "snils" }],
        }])
    }

    #[test]
    fn the_esia_shape_parses() {
        let p = parse(&enc(good()), &requested()).unwrap();
        assert_eq!(p.0.len(), 1);
        assert_eq!(p.validity_seconds(), 43200 * 60);
        assert_eq!(p.purposes(), ["IDENTIFICATION"]);
        assert_eq!(p.actions(), ["ALL_ACTIONS_TO_DATA"]);
        assert_eq!(Permissions::from_json(&p.to_json()), Some(p));
        // Padding is tolerated.
        let padded = format!("{}==", enc(good()));
        assert!(parse(&padded, &requested()).is_ok());
    }

    #[test]
    fn faults_are_refused_with_a_reason() {
        let r = requested();
        assert!(parse("***", &r).is_err());
        assert!(parse(&"A".repeat(MAX_ENCODED + 1), &r).is_err());
        assert!(parse(&enc(serde_json::json!({"sysname": "X"})), &r).is_err());
        assert!(parse(&enc(serde_json::json!([])), &r).is_err());
        let cases: [(&str, serde_json::Value); 7] = [
            ("sysname", serde_json::json!("")),
            ("expire", serde_json::json!(0)),
            ("expire", serde_json::json!(MAX_EXPIRE_MINUTES + 1)),
            ("actions", serde_json::json!([{ "sysname": "DELETE_DATA" }])),
            ("purposes", serde_json::json!([{ "sysname": "SPAM" }])),
            ("purposes", serde_json::json!([])),
            ("scopes", serde_json::json!([{ "sysname": "inn" }])),
        ];
        for (field, value) in cases {
            let mut v = good();
            v[0][field] = value.clone();
            assert!(parse(&enc(v), &r).is_err(), "{field} = {value}");
        }
        let mut v = good();
        v[0].as_object_mut().unwrap().remove("expire");
        assert!(parse(&enc(v), &r).is_err());
    }
}
