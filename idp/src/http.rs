//! The HTTP surface: one module per endpoint. Handlers parse, call the domain, and render.

mod authorize;
mod client_auth;
mod consent;
mod cookies;
mod discovery;
pub mod errors;
mod extract;
mod health;
mod home;
mod introspect;
mod login;
mod logout;
mod revoke;
mod security;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.config.server.body_limit;
    Router::new()
        .route("/", get(home::page))
        .route("/assets/style.css", get(home::stylesheet))
        .route("/assets/app.js", get(home::script))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::page).post(login::submit))
        .route("/consent", get(consent::page).post(consent::submit))
        .route("/token", post(token::handle))
        .route("/userinfo", get(userinfo::get).post(userinfo::post))
        .route("/introspect", post(introspect::handle))
        .route("/revoke", post(revoke::handle))
        .route("/logout", get(logout::get).post(logout::post))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .fallback(home::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}
