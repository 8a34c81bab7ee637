//! Cookies: the SSO session cookie and the CSRF cookie, and the double-submit check that
//! every state-changing form carries.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::app::AppState;
use crate::crypto::{constant_time_eq, random_token};

pub const SESSION: &str = "idp_session";
pub const CSRF: &str = "idp_csrf";

/// The value of cookie `name` in the request.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when configured.
/// `max_age` None makes a browser-session cookie (the "someone else's computer" choice).
pub fn set(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.cookie_secure() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

pub fn clear(state: &AppState, name: &str) -> HeaderValue {
    set(state, name, "", Some(0))
}

/// The CSRF pair for a page: the token to put in the form, and a `Set-Cookie` if the browser
/// had no CSRF cookie yet. The form token is a MAC of the cookie, so it cannot be forged
/// without reading the cookie.
pub fn csrf_for_page(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match read(headers, CSRF) {
        Some(v) => (state.secrets.cookie_mac(v.as_bytes()), None),
        None => {
            let v = random_token(32);
            (
                state.secrets.cookie_mac(v.as_bytes()),
                Some(set(state, CSRF, &v, None)),
            )
        }
    }
}

/// Whether a submitted form token matches this browser's CSRF cookie.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    read(headers, CSRF).is_some_and(|v| {
        constant_time_eq(
            state.secrets.cookie_mac(v.as_bytes()).as_bytes(),
            submitted.as_bytes(),
        )
    })
}
