//! Password login with lockout, and the SSO session it opens.
//!
//! Failures are counted per login identifier (known or not, so counting reveals nothing);
//! past `login.max_failures` the identifier is locked for a wait that doubles with each
//! further failure, up to an hour, and a success clears it.

use crate::app::AppState;
use crate::crypto::password::Verified;
use crate::crypto::{random_token, sha256_hex};
use crate::store::sessions::{self, NewSession, Session};
use crate::store::users::{self, User};
use crate::store::{StoreError, grants};

use super::identifiers::Login;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong login or password")]
    Failed,
    #[error("too many failures; locked")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

/// Checks a login and password. Unknown logins cost the same Argon2 work as known ones.
pub async fn check_password(
    state: &AppState,
    login_text: &str,
    password: &str,
) -> Result<User, LoginError> {
    let login = Login::parse(login_text);
    let throttle = login
        .as_ref()
        .map(Login::throttle_key)
        .unwrap_or_else(|| sha256_hex(login_text.trim().as_bytes())[..32].to_string());
    if state
        .cache
        .get(&format!("lock:{throttle}"))
        .await?
        .is_some()
    {
        return Err(LoginError::Locked);
    }
    let user = match &login {
        Some(l) => users::by_login(&state.db, l).await?,
        None => None,
    };
    // A password over 128 characters is refused without hashing it (denial-of-service guard).
    let verdict = if password.len() > 128 {
        Verified::No
    } else {
        state
            .passwords
            .verify(
                password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await
    };
    match (user, verdict) {
        (Some(u), Verified::Yes) => {
            clear_failures(state, &throttle).await?;
            Ok(u)
        }
        (Some(u), Verified::YesRehash(new_hash)) => {
            clear_failures(state, &throttle).await?;
            users::set_password_hash(&state.db, &u.id, &new_hash, state.clock.now()).await?;
            Ok(u)
        }
        _ => {
            record_failure(state, &throttle).await?;
            Err(LoginError::Failed)
        }
    }
}

async fn record_failure(state: &AppState, throttle: &str) -> Result<(), LoginError> {
    let failures = state.cache.incr(&format!("fail:{throttle}"), 3600).await?;
    let cfg = &state.config.login;
    if failures >= cfg.max_failures {
        let doublings = (failures - cfg.max_failures).min(16) as u32;
        let wait = cfg
            .lockout_base_secs
            .saturating_mul(1i64 << doublings)
            .min(3600);
        state
            .cache
            .put(&format!("lock:{throttle}"), b"1", wait as u64)
            .await?;
    }
    Ok(())
}

async fn clear_failures(state: &AppState, throttle: &str) -> Result<(), LoginError> {
    state.cache.delete(&format!("fail:{throttle}")).await?;
    state.cache.delete(&format!("lock:{throttle}")).await?;
    Ok(())
}

/// The live session behind a session cookie, with its user.
pub async fn current(
    state: &AppState,
    cookie: Option<&str>,
) -> Result<Option<(Session, User)>, StoreError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let now = state.clock.now();
    let hash = sha256_hex(cookie.as_bytes());
    let Some(session) =
        sessions::active(&state.db, &hash, now, state.config.session.idle_ttl).await?
    else {
        return Ok(None);
    };
    let Some(user) = users::by_id(&state.db, &session.user_id).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at > 60 {
        sessions::touch(&state.db, &hash, now).await?;
    }
    Ok(Some((session, user)))
}

/// Opens a session for `user` after a successful login, or re-authenticates the current one
/// if it belongs to the same user. Either way the cookie value is new (rotated at login).
/// Returns the new cookie value and the session.
pub async fn open_session(
    state: &AppState,
    user: &User,
    amr: &[String],
    persistent: bool,
    existing: Option<&Session>,
    user_agent: Option<&str>,
    ip: Option<&str>,
) -> Result<(String, Session), StoreError> {
    let now = state.clock.now();
    let cookie = random_token(32);
    let hash = sha256_hex(cookie.as_bytes());
    if let Some(s) = existing {
        if s.user_id == user.id
            && sessions::reauthenticate(&state.db, &s.id_hash, &hash, now, amr).await?
        {
            let session = Session {
                id_hash: hash,
                auth_time: now,
                amr: amr.to_vec(),
                last_seen_at: now,
                ..s.clone()
            };
            return Ok((cookie, session));
        }
        // Another person logs in on this browser: the previous session ends.
        end_session(state, &s.sid).await?;
    }
    let sid = random_token(16);
    let expires_at = now + state.config.session.absolute_ttl;
    sessions::create(
        &state.db,
        &NewSession {
            id_hash: &hash,
            sid: &sid,
            user_id: &user.id,
            auth_time: now,
            amr,
            persistent,
            expires_at,
            user_agent,
            ip,
        },
    )
    .await?;
    let session = Session {
        id_hash: hash,
        sid,
        user_id: user.id.clone(),
        auth_time: now,
        amr: amr.to_vec(),
        persistent,
        created_at: now,
        last_seen_at: now,
        expires_at,
    };
    Ok((cookie, session))
}

/// Ends a session: its session-bound grants are revoked and every client that took part
/// gets a back-channel logout token.
pub async fn end_session(state: &AppState, sid: &str) -> Result<(), StoreError> {
    let now = state.clock.now();
    let Some(session) = sessions::end_by_sid(&state.db, sid, now).await? else {
        return Ok(());
    };
    let participants = grants::by_sid(&state.db, sid).await?;
    grants::revoke_session_grants(&state.db, sid, now).await?;
    super::backchannel::notify(state, &session, &participants).await;
    Ok(())
}
