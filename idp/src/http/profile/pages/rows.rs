//! The stored profile as the rows the pages list.

use consent_ui::{AddressRow, ContactRow, HistoryRow, KidRow, OrgRow, VehicleRow};
use serde_json::Value;

use crate::domain::profile::kids::full_name;
use crate::protocol::claims::profile::Profile;

pub(super) struct Rows {
    pub contacts: Vec<ContactRow>,
    pub addresses: Vec<AddressRow>,
    pub vehicles: Vec<VehicleRow>,
    pub kids: Vec<KidRow>,
    pub orgs: Vec<OrgRow>,
    pub history: Vec<HistoryRow>,
}

impl Rows {
    pub fn of(p: &Profile, history: &[Value]) -> Rows {
        Rows {
            contacts: p
                .contacts
                .iter()
                .map(|c| ContactRow {
                    id: c.id.clone(),
                    kind: c.kind.clone(),
                    value: c.value.clone(),
                    verified: c.verified,
                })
                .collect(),
            addresses: p
                .addresses
                .iter()
                .map(|a| AddressRow {
                    kind: a.kind.clone(),
                    text: a.address_str.clone(),
                })
                .collect(),
            vehicles: p
                .vehicles
                .iter()
                .map(|v| VehicleRow {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    plate: v.number_plate.clone(),
                    certificate: [v.reg_series.as_deref(), v.reg_number.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect(),
            kids: p
                .kids
                .iter()
                .map(|k| KidRow {
                    id: k.id.clone(),
                    name: full_name(k),
                    birthdate: k.birthdate.clone().unwrap_or_default(),
                    has_account: k.linked,
                })
                .collect(),
            orgs: p
                .orgs
                .iter()
                .map(|o| OrgRow {
                    oid: o.oid.to_string(),
                    name: o.short_name.clone(),
                    ogrn: o.ogrn.clone(),
                    inn: o.inn.clone(),
                    role: o.role.clone(),
                })
                .collect(),
            history: history.iter().map(history_row).collect(),
        }
    }
}

/// "old → new" from an event's detail, for the values that are plain text.
fn history_row(e: &Value) -> HistoryRow {
    let show = |v: &Value| match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .values()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let d = &e["detail"];
    let change = if d.get("old").is_some() || d.get("new").is_some() {
        format!("{} → {}", show(&d["old"]), show(&d["new"]))
    } else {
        String::new()
    };
    HistoryRow {
        time: consent_ui::format_utc(e["time"].as_i64().unwrap_or(0)),
        summary: e["summary"].as_str().unwrap_or("").to_string(),
        change,
    }
}
