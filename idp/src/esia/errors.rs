//! ESIA's error catalogue (`ESIA-0070xx`, as client libraries list it) and the two ways an
//! error reaches a client system: on the redirect (`error`, `error_description` =
//! "ESIA-0070xx: text", `state`) or as a JSON body with HTTP 400.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One entry of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EsiaCode {
    /// 007002: the certificate does not match the system.
    CertificateMismatch,
    /// 007003: a bad or duplicated parameter.
    BadParameter,
    /// 007004: the person denied access.
    Denied,
    /// 007005: the system is not registered or not allowed.
    UnauthorizedClient,
    /// 007006: a scope is unknown or not allowed.
    BadScope,
    /// 007007: a server error.
    ServerError,
    /// 007008: temporarily unavailable.
    Unavailable,
    /// 007009: an unsupported method.
    UnsupportedMethod,
    /// 007011: the grant (code or refresh token) is invalid, expired or revoked.
    InvalidGrant,
    /// 007012: an unsupported grant type.
    UnsupportedGrantType,
    /// 007013: no scope requested (`openid` missing).
    NoScope,
    /// 007014: a mandatory parameter is missing.
    MissingParameter,
    /// 007015: the timestamp is outside the allowed window.
    WrongTime,
    /// 007019: no permission for this request.
    NoPermission,
    /// 007023: the redirect URI is not registered.
    RedirectNotAllowed,
    /// 007038: parameters cannot be read.
    Unreadable,
    /// 007039: the PKCE challenge is missing.
    PkceMissing,
    /// 007040: the PKCE verifier does not match.
    PkceMismatch,
    /// 007046: a second factor is required but cannot be used.
    SecondFactorImpossible,
    /// 007053: the `client_secret` signature is wrong (sent as `access_denied`).
    WrongSecret,
    /// 007055: the account is not confirmed.
    UnconfirmedAccount,
    /// 008010: client authentication failed.
    ClientAuthFailed,
}

impl EsiaCode {
    /// The number after `ESIA-`.
    pub fn number(self) -> &'static str {
        match self {
            EsiaCode::CertificateMismatch => "007002",
            EsiaCode::BadParameter => "007003",
            EsiaCode::Denied => "007004",
            EsiaCode::UnauthorizedClient => "007005",
            EsiaCode::BadScope => "007006",
            EsiaCode::ServerError => "007007",
            EsiaCode::Unavailable => "007008",
            EsiaCode::UnsupportedMethod => "007009",
            EsiaCode::InvalidGrant => "007011",
            EsiaCode::UnsupportedGrantType => "007012",
            EsiaCode::NoScope => "007013",
            EsiaCode::MissingParameter => "007014",
            EsiaCode::WrongTime => "007015",
            EsiaCode::NoPermission => "007019",
            EsiaCode::RedirectNotAllowed => "007023",
            EsiaCode::Unreadable => "007038",
            EsiaCode::PkceMissing => "007039",
            EsiaCode::PkceMismatch => "007040",
            EsiaCode::SecondFactorImpossible => "007046",
            EsiaCode::WrongSecret => "007053",
            EsiaCode::UnconfirmedAccount => "007055",
            EsiaCode::ClientAuthFailed => "008010",
        }
    }

    /// The OAuth `error` value sent with it.
    pub fn oauth_error(self) -> &'static str {
        match self {
            EsiaCode::Denied | EsiaCode::WrongSecret | EsiaCode::UnconfirmedAccount => {
                "access_denied"
            }
            EsiaCode::UnauthorizedClient
            | EsiaCode::CertificateMismatch
            | EsiaCode::RedirectNotAllowed => "unauthorized_client",
            EsiaCode::BadScope | EsiaCode::NoScope | EsiaCode::NoPermission => "invalid_scope",
            EsiaCode::ServerError => "server_error",
            EsiaCode::Unavailable => "temporarily_unavailable",
            EsiaCode::InvalidGrant | EsiaCode::PkceMismatch => "invalid_grant",
            EsiaCode::UnsupportedGrantType => "unsupported_grant_type",
            EsiaCode::ClientAuthFailed => "invalid_client",
            EsiaCode::SecondFactorImpossible => "access_denied",
            EsiaCode::BadParameter
            | EsiaCode::UnsupportedMethod
            | EsiaCode::MissingParameter
            | EsiaCode::WrongTime
            | EsiaCode::Unreadable
            | EsiaCode::PkceMissing => "invalid_request",
        }
    }

    /// The catalogue's text (in English, as ESIA's own descriptions are).
    pub fn text(self) -> &'static str {
        match self {
            EsiaCode::CertificateMismatch => "the certificate does not match the system",
            EsiaCode::BadParameter => "bad or duplicated request parameter",
            EsiaCode::Denied => "access denied by the user",
            EsiaCode::UnauthorizedClient => "the system is not registered or not allowed",
            EsiaCode::BadScope => "bad scope",
            EsiaCode::ServerError => "internal server error",
            EsiaCode::Unavailable => "temporarily unavailable",
            EsiaCode::UnsupportedMethod => "unsupported method",
            EsiaCode::InvalidGrant => "the grant is invalid, expired or revoked",
            EsiaCode::UnsupportedGrantType => "unsupported grant type",
            EsiaCode::NoScope => "no scope requested",
            EsiaCode::MissingParameter => "a mandatory parameter is missing",
            EsiaCode::WrongTime => "wrong request time",
            EsiaCode::NoPermission => "no permission for the request",
            EsiaCode::RedirectNotAllowed => "redirect_uri is not allowed",
            EsiaCode::Unreadable => "request parameters cannot be read",
            EsiaCode::PkceMissing => "the PKCE challenge is missing",
            EsiaCode::PkceMismatch => "the PKCE verifier does not match",
            EsiaCode::SecondFactorImpossible => "a second factor is required but impossible",
            EsiaCode::WrongSecret => "wrong client_secret",
            EsiaCode::UnconfirmedAccount => "the account is not confirmed",
            EsiaCode::ClientAuthFailed => "client authentication failed",
        }
    }
}

/// An error for a client system: the catalogue entry and an optional detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsiaError {
    pub code: EsiaCode,
    /// Added after the catalogue text (never secrets, never internals).
    pub detail: Option<String>,
}

impl EsiaError {
    pub fn new(code: EsiaCode) -> Self {
        Self { code, detail: None }
    }

    pub fn with(code: EsiaCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
        }
    }

    /// `ESIA-0070xx: text` (with the detail, if any).
    pub fn description(&self) -> String {
        match &self.detail {
            Some(d) => format!("ESIA-{}: {} ({d})", self.code.number(), self.code.text()),
            None => format!("ESIA-{}: {}", self.code.number(), self.code.text()),
        }
    }

    /// The redirect to the system's `redirect_uri` carrying the error and `state`.
    pub fn redirect(&self, redirect_uri: &str, state: Option<&str>) -> String {
        let Ok(mut url) = url::Url::parse(redirect_uri) else {
            return redirect_uri.to_owned();
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("error", self.code.oauth_error());
            q.append_pair("error_description", &self.description());
            if let Some(s) = state {
                q.append_pair("state", s);
            }
        }
        url.to_string()
    }

    /// HTTP 400 with `{error, error_description, state}` (the token endpoint's form).
    pub fn json(&self, state: Option<&str>) -> Response {
        let status = match self.code {
            EsiaCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            EsiaCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({
            "error": self.code.oauth_error(),
            "error_description": self.description(),
            "state": state,
        });
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_carry_the_number() {
        let e = EsiaError::new(EsiaCode::WrongTime);
        assert_eq!(e.description(), "ESIA-007015: wrong request time");
        assert_eq!(EsiaCode::WrongSecret.oauth_error(), "access_denied");
        let url = e.redirect("https://is.example/cb?x=1", Some("st"));
        assert!(url.starts_with("https://is.example/cb?x=1&error=invalid_request"));
        assert!(url.contains("error_description=ESIA-007015") && url.ends_with("state=st"));
    }
}
