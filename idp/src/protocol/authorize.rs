//! The authorization request: raw parameters in, a validated request (or a classified error) out.

use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ErrorCode, OAuthError};
use super::permissions::{self, Permissions};
use super::pkce::CodeChallenge;
use super::scope::{self, ScopeSet};

/// Parameters as they arrive by GET query or POST form; every field optional, unknown ones ignored.
#[derive(Debug, Default, Deserialize)]
pub struct UnverifiedAuthorizationRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub id_token_hint: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    pub display: Option<String>,
    pub claims: Option<String>,
    pub claims_locales: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// ESIA-style permission request (base64url JSON), see [`super::permissions`].
    pub permissions: Option<String>,
}

/// `prompt` as flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request that passed every check; only this type reaches login, consent and code issuance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub id_token_hint: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Vec<String>,
    /// The parsed `permissions` parameter: purposes, actions and validity of the consent.
    #[serde(default)]
    pub permissions: Option<Permissions>,
}

/// Where an authorization error goes.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show a page, never redirect.
    /// The value is the message key of the page.
    Page(&'static str),
    /// Redirect back to the client with the error.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl AuthorizationRequest {
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope).unwrap_or_default()
    }
}

/// Validates `raw` for `client` (already looked up by `raw.client_id`).
pub fn validate(
    raw: UnverifiedAuthorizationRequest,
    client: &Client,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let redirect_uri = match raw.redirect_uri.as_deref() {
        Some(uri) if client.has_redirect_uri(uri) => uri.to_owned(),
        Some(_) => return Err(AuthorizeError::Page("bad_redirect_uri")),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(AuthorizeError::Page("bad_redirect_uri")),
    };
    let state = raw.state.clone();
    let fail = |code: ErrorCode, d: &'static str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(code, d),
    };
    if raw.request.is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if raw.request_uri.is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match raw.response_type.as_deref() {
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !matches!(raw.response_mode.as_deref(), None | Some("query")) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    let requested = ScopeSet::parse(raw.scope.as_deref().unwrap_or("")).map_err(|_| {
        fail(
            ErrorCode::InvalidScope,
            "scope contains characters that are not allowed",
        )
    })?;
    // Unknown scopes are ignored; known ones the client is not registered for are an error.
    let known = requested.filter(scope::is_known);
    if !known.filter(|s| s != "openid").is_subset(&client.scopes) {
        return Err(fail(
            ErrorCode::InvalidScope,
            "a requested scope is not allowed for this client",
        ));
    }
    let code_challenge = match raw.code_challenge.as_deref() {
        Some(c) => Some(
            CodeChallenge::parse(c, raw.code_challenge_method.as_deref())
                .map_err(|d| fail(ErrorCode::InvalidRequest, d))?,
        ),
        None if client.is_public() => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "PKCE (code_challenge with S256) is required for public clients",
            ));
        }
        None => None,
    };
    let prompt =
        parse_prompt(raw.prompt.as_deref()).map_err(|d| fail(ErrorCode::InvalidRequest, d))?;
    let max_age = match raw.max_age.as_deref() {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            fail(
                ErrorCode::InvalidRequest,
                "max_age must be a non-negative integer",
            )
        })?),
    };
    let permissions = match raw.permissions.as_deref() {
        None | Some("") => None,
        Some(p) => Some(
            permissions::parse(p, &known.filter(|s| s != "openid"))
                .map_err(|d| fail(ErrorCode::InvalidRequest, d))?,
        ),
    };
    let acr_values = raw
        .acr_values
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope: known.to_string(),
        state,
        nonce: raw.nonce.filter(|n| !n.is_empty()),
        code_challenge,
        prompt,
        max_age,
        id_token_hint: raw.id_token_hint.filter(|s| !s.is_empty()),
        login_hint: raw.login_hint.filter(|s| !s.is_empty()),
        ui_locales: raw.ui_locales,
        acr_values,
        permissions,
    })
}

fn parse_prompt(text: Option<&str>) -> Result<Prompt, &'static str> {
    let mut p = Prompt::default();
    for v in text.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            _ => {} // select_account and unknown values: nothing to do
        }
    }
    if p.none && (p.login || p.consent) {
        return Err("prompt=none cannot be combined with other values");
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::Alg;
    use crate::protocol::client::AuthMethod;

    fn client(public: bool) -> Client {
        Client {
            id: "rp".into(),
            name: "RP".into(),
            secret_hash: None,
            auth_method: if public {
                AuthMethod::None
            } else {
                AuthMethod::ClientSecret
            },
            redirect_uris: vec![
                "https://rp.example/cb".into(),
                "https://rp.example/cb2".into(),
            ],
            post_logout_redirect_uris: vec![],
            scopes: ScopeSet::parse("openid profile email fullname").unwrap(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            backchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            id_token_alg: Alg::RS256,
            access_token_alg: Alg::ES256,
            created_at: 0,
            auth_policy: Default::default(),
        }
    }

    fn raw() -> UnverifiedAuthorizationRequest {
        UnverifiedAuthorizationRequest {
            client_id: Some("rp".into()),
            redirect_uri: Some("https://rp.example/cb".into()),
            response_type: Some("code".into()),
            scope: Some("openid email unknown_scope".into()),
            state: Some("xyz".into()),
            ..Default::default()
        }
    }

    fn error_code(r: Result<AuthorizationRequest, AuthorizeError>) -> ErrorCode {
        match r {
            Err(AuthorizeError::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("xyz"));
                error.code
            }
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_passes_and_drops_unknown_scopes() {
        let r = validate(raw(), &client(false)).unwrap();
        assert_eq!(r.scope, "email openid");
        assert_eq!(r.redirect_uri, "https://rp.example/cb");
    }

    #[test]
    fn redirect_uri_must_match_exactly_and_errors_never_redirect_there() {
        for bad in [
            "https://rp.example/cb/",
            "https://rp.example/cb?x=1",
            "https://evil.example/cb",
            "HTTPS://rp.example/cb",
        ] {
            let r = UnverifiedAuthorizationRequest {
                redirect_uri: Some(bad.into()),
                ..raw()
            };
            assert_eq!(
                validate(r, &client(false)).unwrap_err(),
                AuthorizeError::Page("bad_redirect_uri")
            );
        }
        let missing = UnverifiedAuthorizationRequest {
            redirect_uri: None,
            ..raw()
        };
        assert_eq!(
            validate(missing, &client(false)).unwrap_err(),
            AuthorizeError::Page("bad_redirect_uri")
        );
    }

    #[test]
    fn protocol_errors_redirect_with_the_right_code() {
        let c = client(false);
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    response_type: None,
                    ..raw()
                },
                &c
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    response_type: Some("token".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    request: Some("eyJ".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::RequestNotSupported
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    request_uri: Some("urn:x".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::RequestUriNotSupported
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    scope: Some("openid snils".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    prompt: Some("none login".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            error_code(validate(
                UnverifiedAuthorizationRequest {
                    max_age: Some("-1".into()),
                    ..raw()
                },
                &c
            )),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn permissions_are_parsed_or_refused_as_invalid_request() {
        use base64::Engine;
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let good = serde_json::json!([{ "sysname": "X", "expire": 60,
            "actions": [{ "sysname": "USE_DATA" }], "purposes": [{ "sysname": "CREDIT" }],
            "scopes": [{ "sysname": "email" }] }]);
        let r = UnverifiedAuthorizationRequest {
            permissions: Some(enc(good)),
            ..raw()
        };
        let p = validate(r, &client(false)).unwrap().permissions.unwrap();
        assert_eq!(p.validity_seconds(), 3600);
        let r = UnverifiedAuthorizationRequest {
            permissions: Some("%%%".into()),
            ..raw()
        };
        assert_eq!(
            error_code(validate(r, &client(false))),
            ErrorCode::InvalidRequest
        );
        assert!(
            validate(raw(), &client(false))
                .unwrap()
                .permissions
                .is_none()
        );
    }

    #[test]
    fn public_clients_need_s256() {
        let c = client(true);
        assert_eq!(error_code(validate(raw(), &c)), ErrorCode::InvalidRequest);
        let plain = UnverifiedAuthorizationRequest {
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("plain".into()),
            ..raw()
        };
        assert_eq!(error_code(validate(plain, &c)), ErrorCode::InvalidRequest);
        let s256 = UnverifiedAuthorizationRequest {
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            ..raw()
        };
        assert!(validate(s256, &c).is_ok());
    }

    #[test]
    fn display_ui_locales_claims_and_login_hint_are_accepted() {
        let r = UnverifiedAuthorizationRequest {
            display: Some("popup".into()),
            ui_locales: Some("en ru".into()),
            claims_locales: Some("ru".into()),
            claims: Some(r#"{"id_token":{"name":{"essential":true}}}"#.into()),
            login_hint: Some("+79001234567".into()),
            ..raw()
        };
        assert!(validate(r, &client(false)).is_ok());
    }
}
