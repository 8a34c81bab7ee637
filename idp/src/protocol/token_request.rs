//! The token request as an enum tagged by `grant_type`, each variant with its required fields.

use serde::Deserialize;

use super::error::{ErrorCode, OAuthError};
use super::scope::ScopeSet;

/// The form as it arrives; client credentials are read from it by client authentication.
#[derive(Debug, Default, Deserialize)]
pub struct UnverifiedTokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<ScopeSet>,
    },
    ClientCredentials {
        scope: Option<ScopeSet>,
    },
}

impl TokenRequest {
    pub fn grant_type(&self) -> &'static str {
        match self {
            TokenRequest::AuthorizationCode { .. } => "authorization_code",
            TokenRequest::RefreshToken { .. } => "refresh_token",
            TokenRequest::ClientCredentials { .. } => "client_credentials",
        }
    }
}

impl TryFrom<&UnverifiedTokenRequest> for TokenRequest {
    type Error = OAuthError;

    fn try_from(r: &UnverifiedTokenRequest) -> Result<Self, OAuthError> {
        let required = |v: &Option<String>, name: &'static str| {
            v.clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
        };
        let scope = |v: &Option<String>| {
            v.as_deref()
                .map(ScopeSet::parse)
                .transpose()
                .map_err(|d| OAuthError::new(ErrorCode::InvalidScope, d))
        };
        match r.grant_type.as_deref() {
            None | Some("") => Err(OAuthError::invalid_request("grant_type is required")),
            Some("authorization_code") => Ok(TokenRequest::AuthorizationCode {
                code: required(&r.code, "code")?,
                redirect_uri: r.redirect_uri.clone(),
                code_verifier: r.code_verifier.clone(),
            }),
            Some("refresh_token") => Ok(TokenRequest::RefreshToken {
                refresh_token: required(&r.refresh_token, "refresh_token")?,
                scope: scope(&r.scope)?,
            }),
            Some("client_credentials") => Ok(TokenRequest::ClientCredentials {
                scope: scope(&r.scope)?,
            }),
            Some(_) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "this grant_type is not supported",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_need_their_fields() {
        let r = UnverifiedTokenRequest {
            grant_type: Some("authorization_code".into()),
            ..Default::default()
        };
        assert_eq!(
            TokenRequest::try_from(&r).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let r = UnverifiedTokenRequest {
            grant_type: Some("password".into()),
            ..Default::default()
        };
        assert_eq!(
            TokenRequest::try_from(&r).unwrap_err().code,
            ErrorCode::UnsupportedGrantType
        );
        let r = UnverifiedTokenRequest {
            grant_type: Some("implicit".into()),
            ..Default::default()
        };
        assert_eq!(
            TokenRequest::try_from(&r).unwrap_err().code,
            ErrorCode::UnsupportedGrantType
        );
        let r = UnverifiedTokenRequest {
            grant_type: None,
            ..Default::default()
        };
        assert_eq!(
            TokenRequest::try_from(&r).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let r = UnverifiedTokenRequest {
            grant_type: Some("client_credentials".into()),
            scope: Some("a b".into()),
            ..Default::default()
        };
        assert_eq!(
            TokenRequest::try_from(&r).unwrap(),
            TokenRequest::ClientCredentials {
                scope: Some(ScopeSet::parse("a b").unwrap())
            }
        );
    }
}
