//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0, §2.6): signature
//! against the provider's JWKS, `iss`, `aud`, `exp`, `typ` = `logout+jwt` (or absent), the
//! `events` member, no `nonce`. The token is a JWT with ID-token-like claims, so the
//! `openidconnect` ID token verifier does the JOSE work with the logout token's own `typ`.

use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, IdToken, JsonWebTokenType, Nonce,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{EsiaClient, OidcError, Provider, error_chain};

/// The one event a logout token carries.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct LogoutClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<Map<String, Value>>,
}
impl AdditionalClaims for LogoutClaims {}

type LogoutToken =
    IdToken<LogoutClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// A verified logout: end the site's sessions for `sid` (or, without one, for `sub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutEvent {
    pub sid: Option<String>,
    pub sub: String,
    pub jti: Option<String>,
    pub expires_at: i64,
}

impl Provider {
    /// Verifies a logout token posted to the back-channel endpoint.
    pub async fn verify_logout_token(&self, token: &str) -> Result<LogoutEvent, OidcError> {
        let parsed: LogoutToken = token
            .parse()
            .map_err(|e| OidcError::Invalid(format!("not a JWT: {e}")))?;
        let d = self.discovered().await?;
        match check(&d.client, &parsed) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.rediscover().await?;
                check(&fresh.client, &parsed)
            }
            other => other,
        }
        .map_err(|e| OidcError::Invalid(error_chain(&e)))
    }
}

fn check(client: &EsiaClient, token: &LogoutToken) -> Result<LogoutEvent, ClaimsVerificationError> {
    let typ = JsonWebTokenType::new("logout+jwt".into())
        .normalize()
        .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
    let verifier = client.id_token_verifier().set_allowed_jose_types([typ]);
    let claims = token.claims(&verifier, |nonce: Option<&Nonce>| match nonce {
        None => Ok(()),
        Some(_) => Err("a logout token must not contain nonce".to_string()),
    })?;
    let extra = claims.additional_claims();
    let event = extra
        .events
        .as_ref()
        .and_then(|e| e.get(BACKCHANNEL_LOGOUT_EVENT));
    if !matches!(event, Some(Value::Object(_))) {
        return Err(ClaimsVerificationError::Other(format!(
            "events has no {BACKCHANNEL_LOGOUT_EVENT} member"
        )));
    }
    Ok(LogoutEvent {
        sid: extra.sid.clone().filter(|s| !s.is_empty()),
        sub: claims.subject().as_str().to_string(),
        jti: extra.jti.clone(),
        expires_at: claims.expiration().timestamp(),
    })
}
