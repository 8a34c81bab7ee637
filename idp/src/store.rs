//! Durable state behind narrow repositories: one module per table family. Every function
//! takes the [`Db`] (or an open transaction) explicitly. The same SQL runs on SQLite and
//! PostgreSQL through sqlx's `Any` driver: integers for times and flags, text for the rest.

pub mod clients;
pub mod codes;
pub mod consents;
pub mod db;
pub mod events;
pub mod grants;
pub mod keys;
pub mod outbox;
pub mod sessions;
pub mod users;

pub use db::{Backend, Db, StoreError};
