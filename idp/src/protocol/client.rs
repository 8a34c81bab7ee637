//! A registered relying party, as the protocol sees it.

use serde_json::Value;

use super::scope::ScopeSet;
use crate::jose::Alg;

/// How a client proves who it is at the token, introspection and revocation endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// A shared secret, accepted in the Basic header or the form body.
    ClientSecret,
    /// A JWT signed with the client's key (RFC 7523).
    PrivateKeyJwt,
    /// A public client (browser or native app): PKCE instead of a secret.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "client_secret_basic",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" | "client_secret_post" => Some(AuthMethod::ClientSecret),
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            "none" => Some(AuthMethod::None),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes this client may ask for.
    pub scopes: ScopeSet,
    pub grant_types: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub id_token_alg: Alg,
    pub access_token_alg: Alg,
    pub created_at: i64,
    /// Standing requirements on every login for this client (`auth_policy`).
    pub auth_policy: crate::domain::assurance::Policy,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Exact string match, as RFC 9700 requires.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}
