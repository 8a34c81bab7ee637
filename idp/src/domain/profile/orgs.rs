//! Organisations: a person with a confirmed account registers a legal entity by its OGRN
//! (13 digits, check digit) and INN (10 digits, check digit), naming their role in it:
//! chief, admin or employee. One registration per OGRN; others are added by the
//! organisation, not by registering it again.

use serde::Deserialize;
use serde_json::json;

use super::checks::{self, ogrn_checksum_ok};
use super::{Problem, ProfileError, begin, conflict_is, record};
use crate::app::AppState;
use crate::domain::identifiers::inn_checksum_ok;
use crate::protocol::acr::Level;
use crate::protocol::claims::profile::OrgRole;
use crate::store::profile::{self as store, Section};
use crate::store::users::User;

const MAX_ORGS: i64 = 20;
pub const ROLES: [&str; 3] = ["chief", "admin", "employee"];

/// An organisation as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnverifiedOrg {
    pub ogrn: Option<String>,
    pub inn: Option<String>,
    pub full_name: Option<String>,
    pub short_name: Option<String>,
    pub role: Option<String>,
}

impl UnverifiedOrg {
    /// The organisation and role, or every problem found.
    pub fn validate(&self) -> Result<OrgRole, ProfileError> {
        let mut problems = Vec::new();
        let digits = |v: &Option<String>| -> String {
            v.as_deref()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect()
        };
        let ogrn = digits(&self.ogrn);
        if !ogrn_checksum_ok(&ogrn) {
            problems.push(Problem::new(
                "ogrn",
                "ОГРН — 13 цифр, последняя — контрольная. Проверьте номер.",
                "The OGRN is 13 digits, the last a check digit. Check the number.",
            ));
        }
        let inn = digits(&self.inn);
        if inn.len() != 10 || !inn_checksum_ok(&inn) {
            problems.push(Problem::new(
                "inn",
                "ИНН организации — 10 цифр, последняя — контрольная. Проверьте номер.",
                "An organisation's INN is 10 digits, the last a check digit. Check the number.",
            ));
        }
        let full_name = self.full_name.as_deref().and_then(|n| checks::text(n, 300));
        if full_name.is_none() {
            problems.push(Problem::new(
                "full_name",
                "Укажите полное наименование организации (до 300 символов).",
                "Enter the organisation's full name (up to 300 characters).",
            ));
        }
        let short = self.short_name.as_deref().filter(|s| !s.trim().is_empty());
        let short_name = short.and_then(|n| checks::text(n, 100));
        if short.is_some() && short_name.is_none() {
            problems.push(Problem::new(
                "short_name",
                "Сокращённое наименование — до 100 символов.",
                "The short name is up to 100 characters.",
            ));
        }
        let role = self.role.as_deref().map(str::trim).unwrap_or("");
        if !ROLES.contains(&role) {
            problems.push(Problem::new("role", "Роль в организации: chief (руководитель), admin (администратор) или employee (сотрудник).", "Role: chief, admin or employee."));
        }
        if !problems.is_empty() {
            return Err(ProfileError::Invalid(problems));
        }
        let full_name = full_name.unwrap_or_default();
        Ok(OrgRole {
            oid: random_oid(),
            short_name: short_name.unwrap_or_else(|| full_name.clone()),
            full_name,
            ogrn,
            inn,
            kind: "LEGAL".into(),
            role: role.to_string(),
        })
    }
}

/// Registers an organisation with the person in the role they named.
pub async fn register(
    state: &AppState,
    user: &User,
    input: &UnverifiedOrg,
) -> Result<OrgRole, ProfileError> {
    if user.level < Level::Confirmed {
        return Err(ProfileError::NotConfirmed);
    }
    let org = input.validate()?;
    if store::orgs::ogrn_taken(&state.db, &org.ogrn).await? {
        return Err(ProfileError::OrgRegistered);
    }
    if store::count(&state.db, Section::Orgs, &user.id).await? >= MAX_ORGS {
        return Err(ProfileError::Limit);
    }
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    // A race for the same OGRN ends here, in the unique index.
    store::orgs::register(&mut tx, &user.id, &org, now)
        .await
        .map_err(|e| conflict_is(e, ProfileError::OrgRegistered))?;
    let detail = json!({ "field": "organizations", "old": null, "new": { "ogrn": org.ogrn, "inn": org.inn, "shortName": org.short_name, "role": org.role } });
    record(
        &mut tx,
        &user.id,
        "Зарегистрирована организация",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Ends the person's membership in the organisation `oid`.
pub async fn leave(state: &AppState, user: &User, oid: i64) -> Result<OrgRole, ProfileError> {
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::orgs::leave(&mut tx, &user.id, oid)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let detail = json!({ "field": "organizations", "old": { "ogrn": old.ogrn, "role": old.role }, "new": null });
    record(
        &mut tx,
        &user.id,
        "Прекращено участие в организации",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(old)
}

/// Organisation OIDs are random ten-digit numbers, like people's.
fn random_oid() -> i64 {
    let b = crate::crypto::random_bytes(8);
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    1_000_000_000 + (n % 8_999_999_999) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ogrn_inn_and_role_are_checked() {
        let good = UnverifiedOrg {
            ogrn: Some("1027700132195".into()),
            inn: Some("7707083893".into()),
            full_name: Some("ПАО «Сбербанк России»".into()),
            short_name: None,
            role: Some("chief".into()),
        };
        let org = good.validate().unwrap();
        assert_eq!(org.short_name, "ПАО «Сбербанк России»");
        let bad = UnverifiedOrg {
            ogrn: Some("1027700132194".into()),
            inn: Some("500100732259".into()),
            role: Some("owner".into()),
            ..good
        };
        let Err(ProfileError::Invalid(ps)) = bad.validate() else {
            panic!("accepted bad numbers")
        };
        let fields: Vec<_> = ps.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["ogrn", "inn", "role"]);
    }
}
