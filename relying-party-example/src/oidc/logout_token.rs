//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0, §2.6): signature
//! against the provider's JWKS, `iss`, `aud`, `exp`, `typ` = `logout+jwt` (or absent), the
//! `events` member, no `nonce`. The token is a JWT with ID-token-like claims, so the
//! `openidconnect` ID token verifier does the JOSE work with the logout token's own `typ`.

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, IdToken, IdTokenVerifier, JsonWebTokenType, Nonce,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{OidcError, Provider, error_chain};

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

type LogoutToken = IdToken<
    LogoutClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

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
        match check(&logout_verifier(d.client.id_token_verifier()), &parsed) {
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.rediscover().await?;
                check(&logout_verifier(fresh.client.id_token_verifier()), &parsed)
            }
            other => other,
        }
        .map_err(|e| OidcError::Invalid(error_chain(&e)))
    }
}

/// The ID token verifier (keys, algorithms, `iss`, `aud`, `exp`) narrowed to the logout
/// token's type: `typ` must be `logout+jwt` or absent, so an ID token (`typ: JWT`) never
/// passes as a logout token.
fn logout_verifier(
    base: IdTokenVerifier<'_, CoreJsonWebKey>,
) -> IdTokenVerifier<'_, CoreJsonWebKey> {
    match JsonWebTokenType::new("logout+jwt".into()).normalize() {
        Ok(typ) => base.set_allowed_jose_types([typ]),
        // Unreachable for this constant; refusing every typed token is the safe fallback.
        Err(_) => base.set_allowed_jose_types([]),
    }
}

fn check(
    verifier: &IdTokenVerifier<'_, CoreJsonWebKey>,
    token: &LogoutToken,
) -> Result<LogoutEvent, ClaimsVerificationError> {
    let claims = token.claims(verifier, |nonce: Option<&Nonce>| match nonce {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use openidconnect::core::{CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, JsonWebKeyId, PrivateSigningKey};
    use serde_json::json;

    use super::*;
    use crate::session::unix_now;

    const ISSUER: &str = "http://127.0.0.1:8080";
    const KEY: &str = include_str!("testdata/test-only-rsa-key.pem");

    fn key() -> CoreRsaPrivateSigningKey {
        CoreRsaPrivateSigningKey::from_pem(KEY, Some(JsonWebKeyId::new("k1".into()))).unwrap()
    }

    fn verifier() -> IdTokenVerifier<'static, CoreJsonWebKey> {
        let jwks = CoreJsonWebKeySet::new(vec![key().as_verification_key()]);
        logout_verifier(IdTokenVerifier::new_confidential_client(
            ClientId::new("fns-lk".into()),
            ClientSecret::new("secret".into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks,
        ))
    }

    /// A JWT signed with the test key (RS256, kid k1).
    fn sign(typ: Option<&str>, claims: &Value) -> String {
        let mut header = json!({ "alg": "RS256", "kid": "k1" });
        if let Some(t) = typ {
            header["typ"] = t.into();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = key()
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn claims() -> Value {
        let now = unix_now();
        json!({
            "iss": ISSUER, "aud": "fns-lk", "iat": now, "exp": now + 120, "jti": "j-1",
            "sub": "1000000002", "sid": "s-1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        })
    }

    fn verify(token: &str) -> Result<LogoutEvent, ClaimsVerificationError> {
        check(&verifier(), &token.parse().unwrap())
    }

    #[test]
    fn a_good_logout_token_names_the_session() {
        let e = verify(&sign(Some("logout+jwt"), &claims())).unwrap();
        assert_eq!(e.sid.as_deref(), Some("s-1"));
        assert_eq!(e.sub, "1000000002");
        assert_eq!(e.jti.as_deref(), Some("j-1"));
        assert!(verify(&sign(None, &claims())).is_ok(), "typ may be absent");
    }

    #[test]
    fn anything_else_is_refused() {
        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = claims();
            f(&mut c);
            c
        };
        let cases = [
            ("an ID token", sign(Some("JWT"), &claims())),
            (
                "no events",
                sign(
                    None,
                    &with(&|c| drop(c.as_object_mut().unwrap().remove("events"))),
                ),
            ),
            (
                "another event",
                sign(None, &with(&|c| c["events"] = json!({ "urn:other": {} }))),
            ),
            ("a nonce", sign(None, &with(&|c| c["nonce"] = "n".into()))),
            (
                "another audience",
                sign(None, &with(&|c| c["aud"] = "sfr-pension".into())),
            ),
            (
                "another issuer",
                sign(None, &with(&|c| c["iss"] = "https://evil.example".into())),
            ),
            (
                "expired",
                sign(None, &with(&|c| c["exp"] = (unix_now() - 10).into())),
            ),
        ];
        for (what, token) in cases {
            assert!(verify(&token).is_err(), "{what} must be refused");
        }
        // A payload changed after signing.
        let good = sign(None, &claims());
        let parts: Vec<&str> = good.split('.').collect();
        let forged = with(&|c| c["sid"] = "someone-else".into());
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(forged.to_string()),
            parts[2]
        );
        assert!(matches!(
            verify(&tampered),
            Err(ClaimsVerificationError::SignatureVerification(_))
        ));
    }
}
