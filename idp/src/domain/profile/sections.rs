//! Addresses (registration PRG, residence PLV; no confirmation) and vehicles (a Russian
//! plate and the registration certificate). Input arrives as `Unverified*` and is checked
//! field by field; every problem is reported at once.

use serde::Deserialize;
use serde_json::json;

use super::checks::{self, parse_plate, parse_reg_number, parse_reg_series};
use super::{Problem, ProfileError, begin, conflict_is, record};
use crate::app::AppState;
use crate::protocol::claims::profile::{Address, Vehicle};
use crate::store::profile::{self as store, Section};
use crate::store::users::User;

const MAX_VEHICLES: i64 = 20;

/// An address as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnverifiedAddress {
    pub zip_code: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub street: Option<String>,
    pub house: Option<String>,
    pub flat: Option<String>,
    pub fias_code: Option<String>,
}

/// A vehicle as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnverifiedVehicle {
    pub name: Option<String>,
    pub number_plate: Option<String>,
    pub reg_series: Option<String>,
    pub reg_number: Option<String>,
}

/// `PRG` or `PLV` (case-insensitive), else a problem.
pub fn address_kind(text: &str) -> Result<&'static str, ProfileError> {
    match text.to_ascii_uppercase().as_str() {
        "PRG" => Ok("PRG"),
        "PLV" => Ok("PLV"),
        _ => Err(ProfileError::invalid(
            "type",
            "Тип адреса: PRG (регистрация) или PLV (проживание).",
            "Address type: PRG (registration) or PLV (residence).",
        )),
    }
}

/// Optional text: empty means absent; present but bad is a problem.
fn optional(
    v: &Option<String>,
    max: usize,
    problems: &mut Vec<Problem>,
    bad: Problem,
) -> Option<String> {
    let raw = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let t = checks::text(raw, max);
    if t.is_none() {
        problems.push(bad);
    }
    t
}

impl UnverifiedAddress {
    /// The address to store, or every problem found.
    pub fn validate(&self, kind: &'static str) -> Result<Address, ProfileError> {
        let mut problems = Vec::new();
        let zip = self
            .zip_code
            .as_deref()
            .filter(|z| !z.trim().is_empty())
            .and_then(|z| {
                let p = checks::parse_zip(z);
                if p.is_none() {
                    problems.push(Problem::new(
                        "zip_code",
                        "Индекс — шесть цифр.",
                        "The postal code is six digits.",
                    ));
                }
                p
            });
        let region = self.region.as_deref().and_then(|r| checks::text(r, 200));
        if region.is_none() {
            problems.push(Problem::new(
                "region",
                "Укажите регион.",
                "Enter the region.",
            ));
        }
        let text_problem = Problem::new(
            "address",
            "Поля адреса — до 200 символов, без управляющих символов.",
            "Address fields are up to 200 characters, without control characters.",
        );
        let city = optional(&self.city, 200, &mut problems, text_problem.clone());
        let street = optional(&self.street, 200, &mut problems, text_problem.clone());
        let house = optional(
            &self.house,
            20,
            &mut problems,
            Problem::new(
                "house",
                "Номер дома — до 20 символов.",
                "The house number is up to 20 characters.",
            ),
        );
        let flat = optional(
            &self.flat,
            20,
            &mut problems,
            Problem::new(
                "flat",
                "Номер квартиры — до 20 символов.",
                "The flat number is up to 20 characters.",
            ),
        );
        if city.is_none() && street.is_none() && !problems.contains(&text_problem) {
            problems.push(Problem::new(
                "city",
                "Укажите город или населённый пункт либо улицу.",
                "Enter the city or locality, or the street.",
            ));
        }
        let fias = self
            .fias_code
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .and_then(|f| {
                let p = checks::parse_fias(f);
                if p.is_none() {
                    problems.push(Problem::new(
                        "fias_code",
                        "Код ФИАС — идентификатор вида 0c5b2444-70a0-4932-980c-b4dc0d3f02b5.",
                        "The FIAS code is an identifier like 0c5b2444-70a0-4932-980c-b4dc0d3f02b5.",
                    ));
                }
                p
            });
        if !problems.is_empty() {
            return Err(ProfileError::Invalid(problems));
        }
        let region = region.unwrap_or_default();
        let mut parts: Vec<String> = zip.iter().cloned().collect();
        parts.push(region.clone());
        parts.extend(city.iter().filter(|c| **c != region).cloned());
        parts.extend(street.iter().cloned());
        parts.extend(house.iter().map(|h| format!("д. {h}")));
        parts.extend(flat.iter().map(|f| format!("кв. {f}")));
        Ok(Address {
            id: crate::crypto::random_token(9),
            kind: kind.to_string(),
            address_str: parts.join(", "),
            zip_code: zip,
            region,
            city,
            street,
            house,
            flat,
            fias_code: fias,
        })
    }
}

/// Sets the registration or residence address.
pub async fn put_address(
    state: &AppState,
    user: &User,
    kind: &str,
    input: &UnverifiedAddress,
) -> Result<Address, ProfileError> {
    let kind = address_kind(kind)?;
    let address = input.validate(kind)?;
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::put_address(&mut tx, &user.id, &address, now).await?;
    let detail = json!({
        "field": field_of(kind),
        "old": old.map(|a| a.address_str),
        "new": address.address_str,
    });
    record(
        &mut tx,
        &user.id,
        summary_of(kind, "Изменён"),
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(address)
}

pub async fn remove_address(
    state: &AppState,
    user: &User,
    kind: &str,
) -> Result<Address, ProfileError> {
    let kind = address_kind(kind)?;
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::remove_address(&mut tx, &user.id, kind)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let detail = json!({ "field": field_of(kind), "old": old.address_str, "new": null });
    record(
        &mut tx,
        &user.id,
        summary_of(kind, "Удалён"),
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(old)
}

fn field_of(kind: &str) -> &'static str {
    if kind == "PRG" {
        "registration_address"
    } else {
        "residence_address"
    }
}

fn summary_of(kind: &str, verb: &str) -> &'static str {
    match (kind, verb) {
        ("PRG", "Изменён") => "Изменён адрес регистрации",
        ("PRG", _) => "Удалён адрес регистрации",
        (_, "Изменён") => "Изменён адрес проживания",
        _ => "Удалён адрес проживания",
    }
}

impl UnverifiedVehicle {
    /// The vehicle to store, or every problem found.
    pub fn validate(&self) -> Result<Vehicle, ProfileError> {
        let mut problems = Vec::new();
        let name = self.name.as_deref().and_then(|n| checks::text(n, 100));
        if name.is_none() {
            problems.push(Problem::new(
                "name",
                "Укажите марку и модель (до 100 символов).",
                "Enter the make and model (up to 100 characters).",
            ));
        }
        let plate = self.number_plate.as_deref().and_then(parse_plate);
        if plate.is_none() {
            problems.push(Problem::new("number_plate", "Госномер в формате А123ВС77 или А123ВС777: буквы А, В, Е, К, М, Н, О, Р, С, Т, У, Х.", "The plate as А123ВС77 or А123ВС777: letters А, В, Е, К, М, Н, О, Р, С, Т, У, Х."));
        }
        let typed = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (series, number) = (typed(&self.reg_series), typed(&self.reg_number));
        let series = series.map(|s| parse_reg_series(&s).ok_or(()));
        let number = number.map(|n| parse_reg_number(&n).ok_or(()));
        let cert_problem = Problem::new(
            "reg_certificate",
            "Свидетельство о регистрации ТС: серия — 4 символа (77 УВ), номер — 6 цифр; укажите оба или ни одного.",
            "Registration certificate: the series is 4 characters (77 УВ), the number 6 digits; give both or neither.",
        );
        let (reg_series, reg_number) = match (series, number) {
            (None, None) => (None, None),
            (Some(Ok(s)), Some(Ok(n))) => (Some(s), Some(n)),
            _ => {
                problems.push(cert_problem);
                (None, None)
            }
        };
        if !problems.is_empty() {
            return Err(ProfileError::Invalid(problems));
        }
        Ok(Vehicle {
            id: crate::crypto::random_token(9),
            name: name.unwrap_or_default(),
            number_plate: plate.unwrap_or_default(),
            reg_series,
            reg_number,
        })
    }
}

pub async fn add_vehicle(
    state: &AppState,
    user: &User,
    input: &UnverifiedVehicle,
) -> Result<Vehicle, ProfileError> {
    let v = input.validate()?;
    if store::count(&state.db, Section::Vehicles, &user.id).await? >= MAX_VEHICLES {
        return Err(ProfileError::Limit);
    }
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    store::add_vehicle(&mut tx, &user.id, &v, now)
        .await
        .map_err(|e| conflict_is(e, ProfileError::Duplicate))?;
    let detail = json!({ "field": "vehicles", "old": null, "new": { "name": v.name, "numberPlate": v.number_plate } });
    record(
        &mut tx,
        &user.id,
        "Добавлено транспортное средство",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn remove_vehicle(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<Vehicle, ProfileError> {
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::remove_vehicle(&mut tx, &user.id, id)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let detail = json!({ "field": "vehicles", "old": { "name": old.name, "numberPlate": old.number_plate }, "new": null });
    record(
        &mut tx,
        &user.id,
        "Удалено транспортное средство",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_composed_and_checked() {
        let a = UnverifiedAddress {
            zip_code: Some("101000".into()),
            region: Some("Москва".into()),
            city: Some("Москва".into()),
            street: Some("ул. Мясницкая".into()),
            house: Some("1".into()),
            flat: Some("2".into()),
            ..UnverifiedAddress::default()
        };
        let ok = a.validate("PRG").unwrap();
        assert_eq!(ok.address_str, "101000, Москва, ул. Мясницкая, д. 1, кв. 2");
        let bad = UnverifiedAddress {
            zip_code: Some("1010".into()),
            ..UnverifiedAddress::default()
        };
        let Err(ProfileError::Invalid(ps)) = bad.validate("PLV") else {
            panic!("accepted a bad address")
        };
        let fields: Vec<_> = ps.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["zip_code", "region", "city"]);
        assert!(address_kind("plv").is_ok() && address_kind("XYZ").is_err());
    }

    #[test]
    fn vehicle_needs_a_plate_and_a_whole_certificate() {
        let v = UnverifiedVehicle {
            name: Some("Лада Веста".into()),
            number_plate: Some("a123bc 77".into()),
            reg_series: Some("77 ув".into()),
            reg_number: Some("123456".into()),
        };
        let ok = v.validate().unwrap();
        assert_eq!(ok.number_plate, "А123ВС77");
        assert_eq!(ok.reg_series.as_deref(), Some("77УВ"));
        let half = UnverifiedVehicle {
            name: Some("Лада".into()),
            number_plate: Some("Б123ВС77".into()),
            reg_series: Some("77УВ".into()),
            reg_number: None,
        };
        let Err(ProfileError::Invalid(ps)) = half.validate() else {
            panic!("accepted a bad vehicle")
        };
        let fields: Vec<_> = ps.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["number_plate", "reg_certificate"]);
    }
}
