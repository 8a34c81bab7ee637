//! Durable state behind narrow repositories: one module per table family. Every function
//! takes the [`Db`] (or an open transaction) explicitly. The same SQL runs on SQLite and
//! PostgreSQL through sqlx's `Any` driver: integers for times and flags, text for the rest.

pub mod admins;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod db;
pub mod devices;
pub mod documents;
pub mod esia_systems;
pub mod events;
pub mod feed;
pub mod grants;
pub mod identity;
pub mod jobs;
pub mod keys;
pub mod letters;
pub mod login_history;
pub mod login_settings;
pub mod operators;
pub mod outbox;
pub mod passkeys;
pub mod profile;
pub mod recovery;
pub mod released;
pub mod sessions;
pub mod signature_certs;
pub mod totp;
pub mod users;

pub use db::{Backend, Db, StoreError};
