//! The identity provider: an OpenID Connect / OAuth 2.0 server in the style of ESIA.
//!
//! Layers, from the wire inwards (see `docs/ARCHITECTURE.md`):
//! - [`http`]: axum handlers, one module per endpoint; parse, call the domain, render.
//! - [`domain`]: what happens on each flow (sessions, grants, tokens, logout).
//! - [`protocol`] and [`jose`]: wire types, error codes, scope and claim rules, JWS; no I/O.
//! - [`store`] (durable, SQLite or PostgreSQL) and [`cache`] (short-lived, in-process or Redis).

pub mod app;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod esia;
pub mod http;
pub mod jose;
pub mod metrics;
pub mod protocol;
pub mod store;

pub use app::{App, AppState};
pub use config::Config;
