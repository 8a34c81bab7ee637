//! The stateful side of the signature login: challenges in the short-lived store (one use
//! each) and finding the person the certificate names (SNILS, else INN, else e-mail),
//! confirming a standard account on its first qualified signature.

use super::*;

fn challenge_key(challenge: &str) -> String {
    format!("sigchal:{challenge}")
}

/// Issues a challenge for the authorization transaction `tx`: single use, [`CHALLENGE_TTL`].
pub async fn issue_challenge(state: &AppState, tx: &str) -> Result<String, CacheError> {
    let challenge = format!(
        "gosuslugi-id-login:{}:{}",
        state.clock.now(),
        crate::crypto::random_token(24)
    );
    state
        .cache
        .put(&challenge_key(&challenge), tx.as_bytes(), CHALLENGE_TTL)
        .await?;
    Ok(challenge)
}

/// Spends a challenge: true when it was issued for `tx` and not used before.
pub async fn take_challenge(
    state: &AppState,
    challenge: &str,
    tx: &str,
) -> Result<bool, CacheError> {
    if challenge.len() > 200 {
        return Ok(false);
    }
    Ok(state
        .cache
        .take(&challenge_key(challenge))
        .await?
        .as_deref()
        == Some(tx.as_bytes()))
}

/// Failures of the whole signature login.
#[derive(Debug, thiserror::Error)]
pub enum SignatureLoginError {
    #[error(transparent)]
    Refused(#[from] SignatureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Verifies the signature of a spent challenge and finds the account: by SNILS (verified
/// accounts only), else by INN, else by e-mail. A standard account whose SNILS matches is
/// raised to confirmed (`verification::confirm_by_signature`).
pub async fn authenticate(
    state: &AppState,
    signature: &[u8],
    challenge: &str,
) -> Result<(User, Signer), SignatureLoginError> {
    let store = TrustStore::load(&state.config.signature).map_err(|e| {
        tracing::error!(error = %e, "signature trust store");
        SignatureError::NotConfigured
    })?;
    if store.is_empty() {
        return Err(SignatureError::NotConfigured.into());
    }
    let signer = store.verify(signature, challenge.as_bytes(), state.clock.now())?;
    let user = find_account(state, &signer)
        .await?
        .ok_or(SignatureError::NoAccount)?;
    let mut user = user;
    if let Some(snils) = &signer.snils
        && user.level == crate::protocol::acr::Level::Standard
        && user.person.snils.as_deref() == Some(snils.as_str())
    {
        match crate::domain::verification::confirm::confirm_by_signature(state, &user.id, snils)
            .await
        {
            Ok(()) => {
                if let Some(u) = users::by_id(&state.db, &user.id).await? {
                    user = u;
                }
            }
            Err(e) => tracing::info!(error = %e, "signature did not confirm the account"),
        }
    }
    crate::store::signature_certs::record_use(
        &state.db,
        &user.id,
        &signer.certificate(),
        state.clock.now(),
    )
    .await?;
    Ok((user, signer))
}

async fn find_account(state: &AppState, signer: &Signer) -> Result<Option<User>, StoreError> {
    use crate::domain::identifiers::{Login, normalize_email};
    if let Some(s) = &signer.snils
        && let Some(u) = users::by_login(&state.db, &Login::Snils(s.clone())).await?
    {
        return Ok(Some(u));
    }
    if let Some(inn) = &signer.inn
        && let Some(u) = users::by_inn(&state.db, inn).await?
    {
        return Ok(Some(u));
    }
    if let Some(e) = signer.email.as_deref().and_then(normalize_email)
        && let Some(u) = users::by_login(&state.db, &Login::Email(e)).await?
    {
        return Ok(Some(u));
    }
    Ok(None)
}
