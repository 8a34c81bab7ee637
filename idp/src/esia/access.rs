//! The contract between ESIA's token endpoint and its person API: verifying an ESIA access
//! token (its signature, `sbt` = access, expiry, and that its grant is live) and what it
//! grants. Implemented with the token format (`esia::tokens`).

use crate::app::AppState;

/// What a valid ESIA access token allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsiaAccess {
    /// The person's OID (also our user id).
    pub oid: String,
    /// The client system's mnemonic.
    pub client_id: String,
    /// Scope names without their `?oid=` suffixes.
    pub scopes: Vec<String>,
    /// The grant the token belongs to (revocation ends the token).
    pub grant_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Missing, malformed, badly signed, expired or revoked: 401.
    #[error("invalid token")]
    Invalid,
    /// The store could not be read: 503.
    #[error("unavailable")]
    Unavailable,
}

/// Verifies `bearer` (the token after `Bearer `): our signature (RS256 or GOST), header
/// `sbt` = `access`, `iss`, `nbf`/`exp` (60 s leeway on `nbf`), and that the grant named by
/// `urn:esia:sid` is live (not revoked by logout, permission withdrawal or code replay).
pub async fn verify_access(state: &AppState, bearer: &str) -> Result<EsiaAccess, AccessError> {
    match verify_esia_token(state, bearer).await {
        // Not an ESIA token: perhaps one of the provider's own OIDC access tokens.
        Err(AccessError::Invalid) => oidc_access(state, bearer).await,
        other => other,
    }
}

/// The ESIA-token part of [`verify_access`] (issue 8, helper H2).
async fn verify_esia_token(state: &AppState, bearer: &str) -> Result<EsiaAccess, AccessError> {
    let signers = super::tokens::signers(&state.config.esia).map_err(|e| {
        tracing::error!(error = %e, "ESIA signing keys cannot be loaded");
        AccessError::Unavailable
    })?;
    let (header, claims) = signers.verify(bearer.trim()).ok_or(AccessError::Invalid)?;
    if header.get("sbt").and_then(|v| v.as_str()) != Some("access") {
        return Err(AccessError::Invalid);
    }
    let now = state.clock.now();
    let int = |k: &str| claims.get(k).and_then(|v| v.as_i64());
    let exp = int("exp").ok_or(AccessError::Invalid)?;
    let nbf = int("nbf").unwrap_or(0);
    if exp <= now || nbf > now + 60 {
        return Err(AccessError::Invalid);
    }
    if claims.get("iss").and_then(|v| v.as_str()) != Some(state.config.esia.issuer.as_str()) {
        return Err(AccessError::Invalid);
    }
    let text = |k: &str| -> Option<String> {
        match claims.get(k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let oid = text("urn:esia:sbj_id").ok_or(AccessError::Invalid)?;
    let client_id = text("client_id").ok_or(AccessError::Invalid)?;
    let grant_id = text("urn:esia:sid").ok_or(AccessError::Invalid)?;
    let scopes = super::tokens::scope_names(&text("scope").unwrap_or_default());
    let live = crate::store::grants::access_token_live(&state.db, Some(&grant_id), "", now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "ESIA access token: grant check failed");
            AccessError::Unavailable
        })?;
    if !live {
        return Err(AccessError::Invalid);
    }
    Ok(EsiaAccess {
        oid,
        client_id,
        scopes,
        grant_id,
    })
}

/// The fallback path of [`verify_access`] (issue 8, helper H3: the person API): one of the
/// provider's own OIDC access tokens (RFC 9068 `at+jwt`), verified as `/userinfo` does
/// (signature, type, issuer, expiry; its grant live and its `jti` not revoked), so integrators
/// can call `/rs/prns` with an OIDC token too. The scopes are the token's `scope`, the OID its
/// `sub`; tokens not issued for a person (no grant) are refused.
pub async fn oidc_access(state: &AppState, bearer: &str) -> Result<EsiaAccess, AccessError> {
    let now = state.clock.now();
    let keys = state.keys.current();
    let at = state
        .verified_tokens
        .verify(&keys, &state.issuer, bearer.trim(), now)
        .map_err(|_| AccessError::Invalid)?;
    let grant_id = at.gid.clone().ok_or(AccessError::Invalid)?;
    match crate::store::users::by_access_token(&state.db, &at.sub, &grant_id, &at.jti, now).await {
        Ok(Some((_, true))) => Ok(EsiaAccess {
            oid: at.sub.clone(),
            client_id: at.client_id.clone(),
            scopes: at.scope.split_whitespace().map(str::to_string).collect(),
            grant_id,
        }),
        Ok(_) => Err(AccessError::Invalid),
        Err(e) => {
            tracing::warn!(error = %e, "OIDC access token at the person API: check failed");
            Err(AccessError::Unavailable)
        }
    }
}
