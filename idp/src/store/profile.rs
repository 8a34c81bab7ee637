//! The profile sections: contacts besides the login identifiers, addresses and vehicles
//! (here), children ([`kids`]), organisations ([`orgs`]), and the erasure of an account
//! ([`erase`]). Rows come back as the claim types of [`crate::protocol::claims::profile`].
//! Writes take a connection so the caller can put the change and its history event in one
//! transaction.

pub mod erase;
pub mod kids;
pub mod orgs;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::db::{Db, StoreError, flag};
use crate::protocol::claims::profile::{Address, Contact, Vehicle};

fn contact(r: &AnyRow) -> Result<Contact, sqlx::Error> {
    Ok(Contact {
        id: r.try_get("id")?,
        kind: r.try_get("type")?,
        value: r.try_get("value")?,
        verified: flag(r, "verified")?,
    })
}

/// The contacts kept in the table (not the login identifiers), oldest first.
pub async fn contacts(db: &Db, user_id: &str) -> Result<Vec<Contact>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, type, value, verified FROM contacts WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(contact).collect::<Result<_, _>>()?)
}

/// Adds a contact; `Conflict` if the person already has this one.
pub async fn add_contact(
    conn: &mut AnyConnection,
    user_id: &str,
    c: &Contact,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO contacts (id, user_id, type, value, verified, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&c.id)
        .bind(user_id)
        .bind(&c.kind)
        .bind(&c.value)
        .bind(i64::from(c.verified))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes one of the person's contacts; returns it if it existed.
pub async fn remove_contact(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<Contact>, StoreError> {
    let row = sqlx::query(
        "SELECT id, type, value, verified FROM contacts WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(found) = row.as_ref().map(contact).transpose()? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM contacts WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(Some(found))
}

/// The login identifier a confirmed contact change replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginContact {
    Phone,
    Email,
}

/// Sets the account's mobile or e-mail to a confirmed `value`; `Conflict` if another account
/// has it (the users table's uniqueness decides, so two accounts cannot race to it).
pub async fn set_login_contact(
    conn: &mut AnyConnection,
    user_id: &str,
    which: LoginContact,
    value: &str,
    now: i64,
) -> Result<(), StoreError> {
    let sql = match which {
        LoginContact::Phone => {
            "UPDATE users SET phone = $1, phone_verified = 1, updated_at = $2 WHERE id = $3"
        }
        LoginContact::Email => {
            "UPDATE users SET email = $1, email_verified = 1, updated_at = $2 WHERE id = $3"
        }
    };
    sqlx::query(sql)
        .bind(value)
        .bind(now)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

fn address(r: &AnyRow) -> Result<Address, sqlx::Error> {
    Ok(Address {
        id: r.try_get("id")?,
        kind: r.try_get("type")?,
        address_str: r.try_get("address_str")?,
        zip_code: r.try_get("zip_code")?,
        region: r.try_get("region")?,
        city: r.try_get("city")?,
        street: r.try_get("street")?,
        house: r.try_get("house")?,
        flat: r.try_get("flat")?,
        fias_code: r.try_get("fias_code")?,
    })
}

macro_rules! address_columns {
    () => {
        "id, type, address_str, zip_code, region, city, street, house, flat, fias_code"
    };
}

/// Registration address first, then residence.
pub async fn addresses(db: &Db, user_id: &str) -> Result<Vec<Address>, StoreError> {
    let sql = concat!(
        "SELECT ",
        address_columns!(),
        " FROM addresses WHERE user_id = $1 ORDER BY type DESC"
    );
    let rows = sqlx::query(sql).bind(user_id).fetch_all(db.read()).await?;
    Ok(rows.iter().map(address).collect::<Result<_, _>>()?)
}

/// Sets the person's address of `a.kind` (replacing the previous one); returns the previous.
pub async fn put_address(
    conn: &mut AnyConnection,
    user_id: &str,
    a: &Address,
    now: i64,
) -> Result<Option<Address>, StoreError> {
    let old = remove_address(&mut *conn, user_id, &a.kind).await?;
    sqlx::query(
        "INSERT INTO addresses (id, user_id, type, address_str, zip_code, region, city, street, house, flat, fias_code, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&a.id)
    .bind(user_id)
    .bind(&a.kind)
    .bind(&a.address_str)
    .bind(&a.zip_code)
    .bind(&a.region)
    .bind(&a.city)
    .bind(&a.street)
    .bind(&a.house)
    .bind(&a.flat)
    .bind(&a.fias_code)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(old)
}

/// Removes the person's address of `kind`; returns it if there was one.
pub async fn remove_address(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
) -> Result<Option<Address>, StoreError> {
    let sql = concat!(
        "SELECT ",
        address_columns!(),
        " FROM addresses WHERE user_id = $1 AND type = $2"
    );
    let row = sqlx::query(sql)
        .bind(user_id)
        .bind(kind)
        .fetch_optional(&mut *conn)
        .await?;
    let old = row.as_ref().map(address).transpose()?;
    if old.is_some() {
        sqlx::query("DELETE FROM addresses WHERE user_id = $1 AND type = $2")
            .bind(user_id)
            .bind(kind)
            .execute(conn)
            .await?;
    }
    Ok(old)
}

fn vehicle(r: &AnyRow) -> Result<Vehicle, sqlx::Error> {
    Ok(Vehicle {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        number_plate: r.try_get("number_plate")?,
        reg_series: r.try_get("reg_series")?,
        reg_number: r.try_get("reg_number")?,
    })
}

pub async fn vehicles(db: &Db, user_id: &str) -> Result<Vec<Vehicle>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, number_plate, reg_series, reg_number FROM vehicles WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(vehicle).collect::<Result<_, _>>()?)
}

/// Adds a vehicle; `Conflict` if the person already has this plate.
pub async fn add_vehicle(
    conn: &mut AnyConnection,
    user_id: &str,
    v: &Vehicle,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO vehicles (id, user_id, name, number_plate, reg_series, reg_number, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&v.id)
        .bind(user_id)
        .bind(&v.name)
        .bind(&v.number_plate)
        .bind(&v.reg_series)
        .bind(&v.reg_number)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove_vehicle(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<Vehicle>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, number_plate, reg_series, reg_number FROM vehicles WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let old = row.as_ref().map(vehicle).transpose()?;
    if old.is_some() {
        sqlx::query("DELETE FROM vehicles WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(conn)
            .await?;
    }
    Ok(old)
}

/// How many rows of a section the person has (to cap them).
pub async fn count(db: &Db, table: Section, user_id: &str) -> Result<i64, StoreError> {
    let sql = match table {
        Section::Contacts => "SELECT COUNT(*) AS n FROM contacts WHERE user_id = $1",
        Section::Vehicles => "SELECT COUNT(*) AS n FROM vehicles WHERE user_id = $1",
        Section::Kids => "SELECT COUNT(*) AS n FROM kids WHERE parent_id = $1",
        Section::Orgs => "SELECT COUNT(*) AS n FROM org_members WHERE user_id = $1",
    };
    let row = sqlx::query(sql).bind(user_id).fetch_one(db.read()).await?;
    Ok(row.try_get("n")?)
}

/// Sections whose rows are counted against a cap.
#[derive(Clone, Copy, Debug)]
pub enum Section {
    Contacts,
    Vehicles,
    Kids,
    Orgs,
}
