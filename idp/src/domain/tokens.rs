//! Minting and checking tokens: ID tokens, RFC 9068 JWT access tokens, logout tokens.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keyring::KeySet;
use crate::jose::{self, Alg};

/// Claims of our JWT access tokens (RFC 9068).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The grant this token came from; revoking the grant revokes the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// Signs an access token with the client's access-token algorithm.
pub fn sign_access(keys: &KeySet, alg: Alg, claims: &AccessClaims) -> Option<String> {
    Some(keys.signer(alg)?.sign("at+jwt", claims))
}

/// Claims of an ID token (OIDC Core §2).
#[derive(Debug, Serialize)]
pub struct IdClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub acr: &'a str,
    pub amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    pub at_hash: String,
    pub azp: &'a str,
}

pub fn sign_id(keys: &KeySet, alg: Alg, claims: &IdClaims<'_>) -> Option<String> {
    Some(keys.signer(alg)?.sign("JWT", claims))
}

/// Why an access token was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum AccessTokenError {
    Malformed,
    BadSignature,
    Expired,
    WrongIssuer,
    NotAnAccessToken,
}

/// Verifies signature, type (`at+jwt`, so an ID token cannot pass as an access token),
/// issuer and expiry. Revocation is checked by the caller against the store.
pub fn verify_access(
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessClaims, AccessTokenError> {
    let jws = jose::UnverifiedJws::parse(token).map_err(|_| AccessTokenError::Malformed)?;
    if jws.typ() != Some("at+jwt") {
        return Err(AccessTokenError::NotAnAccessToken);
    }
    let claims = jose::verify_with_any(token, &keys.verifying)
        .map_err(|_| AccessTokenError::BadSignature)?;
    let claims: AccessClaims =
        serde_json::from_value(Value::Object(claims)).map_err(|_| AccessTokenError::Malformed)?;
    if claims.iss != issuer {
        return Err(AccessTokenError::WrongIssuer);
    }
    if claims.exp <= now {
        return Err(AccessTokenError::Expired);
    }
    Ok(claims)
}

/// Verifies an ID token we issued (signature and issuer; expiry ignored, as `id_token_hint`
/// may be expired). Returns its claims.
pub fn verify_own_id_token(keys: &KeySet, issuer: &str, token: &str) -> Option<Map<String, Value>> {
    let claims = jose::verify_with_any(token, &keys.verifying).ok()?;
    (claims.get("iss").and_then(Value::as_str) == Some(issuer)).then_some(claims)
}

/// Who a back-channel logout token is for, and its `jti` (fixed when the logout is queued,
/// so every delivery attempt carries the same one and the client can drop repeats).
pub struct LogoutNotice<'a> {
    pub client_id: &'a str,
    pub sub: &'a str,
    pub sid: &'a str,
    pub jti: &'a str,
}

/// A back-channel logout token (OIDC Back-Channel Logout §2.4).
pub fn logout_token(
    keys: &KeySet,
    alg: Alg,
    issuer: &str,
    n: &LogoutNotice<'_>,
    now: i64,
) -> Option<String> {
    let (sub, sid) = (n.sub, n.sid);
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": n.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": n.jti,
        "sub": sub,
        "sid": sid,
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    Some(keys.signer(alg)?.sign("logout+jwt", &claims))
}

/// Access tokens whose signature was already checked, keyed by SHA-256 of the token. A token
/// is immutable, so a hit skips only the signature check; expiry is re-checked on every use
/// and revocation is always asked of the store. Bounded: cleared when full.
#[derive(Default)]
pub struct VerifiedTokens {
    map: std::sync::RwLock<std::collections::HashMap<[u8; 32], std::sync::Arc<AccessClaims>>>,
}

impl VerifiedTokens {
    const MAX: usize = 100_000;

    /// Like [`verify_access`], remembering successes.
    pub fn verify(
        &self,
        keys: &KeySet,
        issuer: &str,
        token: &str,
        now: i64,
    ) -> Result<std::sync::Arc<AccessClaims>, AccessTokenError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        if let Some(c) = self.map.read().ok().and_then(|m| m.get(&key).cloned()) {
            return if c.exp > now {
                Ok(c)
            } else {
                Err(AccessTokenError::Expired)
            };
        }
        let claims = std::sync::Arc::new(verify_access(keys, issuer, token, now)?);
        if let Ok(mut m) = self.map.write() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(key, claims.clone());
        }
        Ok(claims)
    }
}

/// A recently issued client-credentials token, kept for reuse (see `token/client_credentials.rs`).
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// Client-credentials tokens by (client, scope), reused while at least 90% of their lifetime
/// remains.
#[derive(Default)]
pub struct ClientTokens {
    map: std::sync::Mutex<std::collections::HashMap<(String, String), IssuedToken>>,
}

impl ClientTokens {
    pub fn fresh(&self, client_id: &str, scope: &str, now: i64, ttl: i64) -> Option<IssuedToken> {
        let map = self.map.lock().ok()?;
        let t = map.get(&(client_id.to_owned(), scope.to_owned()))?;
        (now - t.iat <= ttl / 10 && t.exp > now).then(|| t.clone())
    }

    pub fn remember(&self, client_id: &str, scope: &str, token: &str, claims: &AccessClaims) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(
                (client_id.to_owned(), scope.to_owned()),
                IssuedToken {
                    token: token.to_owned(),
                    jti: claims.jti.clone(),
                    iat: claims.iat,
                    exp: claims.exp,
                },
            );
        }
    }

    pub fn forget(&self, client_id: &str, scope: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&(client_id.to_owned(), scope.to_owned()));
        }
    }
}
