//! The HTTP surface: one module per endpoint. Handlers parse, call the domain, and render.

mod admin;
mod admin_esia;
mod api;
mod api_security;
mod api_totp;
mod authorize;
mod cabinet_sessions;
mod client_auth;
pub mod client_ip;
mod consent;
mod cookies;
mod dev_outbox;
mod devices;
mod discovery;
pub mod errors;
mod esia;
mod esia_rest;
mod extract;
mod health;
mod home;
mod identity;
mod introspect;
mod level;
mod login;
mod logout;
mod metrics;
mod operator;
mod passkeys;
mod permissions;
mod profile;
mod recovery;
mod registration;
pub mod request_id;
mod revoke;
mod security;
mod security_pages;
pub(crate) mod session_start;
mod signature;
mod strong_auth;
mod token;
mod upstream;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.config.server.body_limit;
    Router::new()
        .route("/", get(home::page))
        .route("/assets/style.css", get(home::stylesheet))
        .route("/assets/app.js", get(home::script))
        .route("/favicon.ico", get(home::favicon))
        .route("/favicon.svg", get(home::favicon))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::page).post(login::submit))
        .route(
            "/login/code",
            get(strong_auth::page).post(strong_auth::start),
        )
        .route(
            "/login/signature",
            get(signature::page).post(signature::submit),
        )
        .route("/login/code/verify", post(strong_auth::verify))
        .route(
            "/login/second",
            get(strong_auth::step_up).post(strong_auth::second),
        )
        .route(
            "/login/level",
            get(level::level_page).post(level::level_back),
        )
        .route(
            "/api/security/totp",
            post(api_totp::enrol).delete(api_totp::disable),
        )
        .route("/api/security/totp/confirm", post(api_totp::confirm))
        .route(
            "/recover",
            get(recovery::recover_page).post(recovery::recover_start),
        )
        .route("/recover/code", post(recovery::recover_code))
        .route("/recover/answer", post(recovery::recover_answer))
        .route("/recover/password", post(recovery::recover_password))
        .route(
            "/unlock",
            get(recovery::unlock_page).post(recovery::unlock_start),
        )
        .route("/unlock/code", post(recovery::unlock_code))
        .route(
            "/api/security/secret-question",
            get(api_security::get).put(api_security::put),
        )
        .route(
            "/register",
            get(registration::page).post(registration::submit),
        )
        .route(
            "/register/code",
            get(registration::code_page).post(registration::code_submit),
        )
        .route(
            "/register/email",
            get(registration::link_page).post(registration::link_submit),
        )
        .route(
            "/register/password",
            get(registration::password_page).post(registration::password_submit),
        )
        .route("/dev/outbox", get(dev_outbox::page))
        .route("/consent", get(consent::page).post(consent::submit))
        .route("/token", post(token::handle))
        .route("/userinfo", get(userinfo::get).post(userinfo::post))
        .route("/introspect", post(introspect::handle))
        .route("/revoke", post(revoke::handle))
        .route("/logout", get(logout::get).post(logout::post))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .merge(identity::routes())
        .merge(admin::routes())
        .merge(admin_esia::routes())
        .merge(operator::routes())
        .merge(profile::routes())
        .merge(cabinet_sessions::routes())
        .merge(security_pages::routes())
        .merge(permissions::routes())
        .merge(upstream::routes())
        .merge(passkeys::routes())
        .merge(esia_rest::routes())
        .merge(esia::routes())
        .fallback(home::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(from_fn_with_state(state.clone(), client_ip::layer))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn_with_state(state.clone(), request_id::layer))
        .with_state(state)
}
