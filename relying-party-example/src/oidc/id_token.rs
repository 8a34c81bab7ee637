//! ID token verification after a code exchange or a refresh: the `openidconnect` verifier
//! (signature by `kid` against the JWKS, `iss`, `aud`, `exp`, `nonce`), then `at_hash`
//! against the access token, and the claims the site keeps.

use openidconnect::core::CoreGenderClaim;
use openidconnect::{
    AccessTokenHash, ClaimsVerificationError, IdTokenClaims, Nonce, OAuth2TokenResponse,
};

use super::{EsiaClient, EsiaIdToken, EsiaTokenResponse, IdentityToken, SessionIdClaim};

/// How the nonce of an ID token is checked.
pub(super) enum NonceCheck<'a> {
    /// After a login: must equal the nonce sent.
    Expect(&'a Nonce),
    /// After a refresh: not checked; a refreshed ID token carries no fresh nonce (OIDC Core
    /// §12.2), so the caller checks that `sub` is unchanged instead.
    Refreshed,
}

pub(super) fn verify_id_token(
    client: &EsiaClient,
    token: &EsiaIdToken,
    tokens: &EsiaTokenResponse,
    nonce: &NonceCheck<'_>,
) -> Result<IdentityToken, ClaimsVerificationError> {
    let verifier = client.id_token_verifier();
    let claims: &IdTokenClaims<SessionIdClaim, CoreGenderClaim> = match nonce {
        NonceCheck::Expect(n) => token.claims(&verifier, *n)?,
        NonceCheck::Refreshed => token.claims(&verifier, |_: Option<&Nonce>| Ok(()))?,
    };
    if let Some(expected) = claims.access_token_hash() {
        let alg = token
            .signing_alg()
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let key = token
            .signing_key(&verifier)
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
            .map_err(|e| ClaimsVerificationError::Other(format!("at_hash: {e}")))?;
        if actual != *expected {
            return Err(ClaimsVerificationError::Other(
                "at_hash does not match the access token".into(),
            ));
        }
    }
    Ok(IdentityToken {
        raw: token.to_string(),
        sub: claims.subject().as_str().to_string(),
        sid: claims.additional_claims().sid.clone(),
        acr: claims.auth_context_ref().map(|a| a.as_str().to_string()),
        amr: claims
            .auth_method_refs()
            .map(|v| v.iter().map(|a| a.as_str().to_string()).collect())
            .unwrap_or_default(),
        auth_time: claims.auth_time().map(|t| t.timestamp()),
        expires_at: claims.expiration().timestamp(),
    })
}
