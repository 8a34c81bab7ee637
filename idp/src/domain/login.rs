//! Password login with lockout, and the SSO session it opens.
//!
//! Failures are counted per account (per identifier when it names none, so counting reveals
//! nothing) and per client address, with locks that grow and expire by themselves; see
//! [`super::lockout`] for the rules and the unlock by code.

use std::net::IpAddr;

use crate::app::AppState;
use crate::crypto::password::Verified;
use crate::crypto::{random_token, sha256_hex};
use crate::store::sessions::{self, NewSession, Session};
use crate::store::users::{self, User};
use crate::store::{StoreError, events, grants};

use super::identifiers::Login;
use super::lockout::Counters;

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

/// Checks a login and password without a client address (only the account is counted).
pub async fn check_password(
    state: &AppState,
    login_text: &str,
    password: &str,
) -> Result<User, LoginError> {
    check_password_from(state, login_text, password, None).await
}

/// Checks a login and password typed at `addr`. Unknown logins cost the same Argon2 work as
/// known ones, and a locked account or address is refused before any hashing.
pub async fn check_password_from(
    state: &AppState,
    login_text: &str,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<User, LoginError> {
    let login = Login::parse(login_text);
    let identifier_key = login
        .as_ref()
        .map(Login::throttle_key)
        .unwrap_or_else(|| sha256_hex(login_text.trim().as_bytes())[..32].to_string());
    let user = match &login {
        Some(l) => users::by_login(&state.db, l).await?,
        None => None,
    };
    let counters = Counters::for_attempt(
        state,
        user.as_ref().map(|u| u.id.as_str()),
        &identifier_key,
        addr,
    )
    .await?;
    let ip = addr.map(|a| a.to_string());
    if counters.locked(state).await? {
        if let Some(u) = &user {
            super::login_history::failed(state, &u.id, "pwd", "locked", None, ip.as_deref()).await;
        }
        return Err(LoginError::Locked);
    }
    match user {
        Some(u) => {
            let id = u.id.clone();
            let outcome = verify_counted(state, u, password, &counters).await;
            if matches!(outcome, Err(LoginError::Failed)) {
                let reason = "wrong_password";
                super::login_history::failed(state, &id, "pwd", reason, None, ip.as_deref()).await;
            }
            outcome
        }
        None => {
            // The same work as a known login: a dummy hash, a counted failure.
            let _ = verify(state, None, password).await;
            counters.failed(state).await?;
            state.metrics.login("pwd", "unknown_account");
            Err(LoginError::Failed)
        }
    }
}

/// Re-asks the password of a logged-in person (before a sensitive change), with the same
/// lockout as a login from `addr`.
pub async fn confirm_password(
    state: &AppState,
    user: &User,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<(), LoginError> {
    let counters = Counters::for_attempt(state, Some(&user.id), "", addr).await?;
    if counters.locked(state).await? {
        return Err(LoginError::Locked);
    }
    verify_counted(state, user.clone(), password, &counters)
        .await
        .map(|_| ())
}

async fn verify_counted(
    state: &AppState,
    user: User,
    password: &str,
    counters: &Counters,
) -> Result<User, LoginError> {
    match verify(state, user.password_hash.as_deref(), password).await {
        Verified::Yes => {
            counters.succeeded(state).await?;
            Ok(user)
        }
        Verified::YesRehash(new_hash) => {
            counters.succeeded(state).await?;
            users::set_password_hash(&state.db, &user.id, &new_hash, state.clock.now()).await?;
            Ok(user)
        }
        Verified::No => {
            if let Some(wait) = counters.failed(state).await? {
                record_lock(state, &user.id, wait).await?;
            }
            Err(LoginError::Failed)
        }
    }
}

async fn verify(state: &AppState, stored: Option<&str>, password: &str) -> Verified {
    // A password over 128 characters is refused without hashing it (denial-of-service guard).
    if password.len() > 128 {
        return Verified::No;
    }
    state.passwords.verify(password, stored).await
}

/// Puts the lock in the account's event feed, so its owner sees why logging in was refused.
async fn record_lock(state: &AppState, user_id: &str, wait: i64) -> Result<(), StoreError> {
    let detail = serde_json::json!({ "wait_secs": wait });
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id,
            kind: "security",
            status: "failure",
            summary: "Вход временно заблокирован после неудачных попыток ввода пароля",
            detail: Some(&detail),
            source: "system",
        },
        state.clock.now(),
    )
    .await
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
/// gets a back-channel logout token, as a durable job queued in the same transaction as the
/// session's end (all of it happens, or none of it).
pub async fn end_session(state: &AppState, sid: &str) -> Result<(), StoreError> {
    let now = state.clock.now();
    let participants = grants::by_sid(&state.db, sid).await?;
    let mut tx = state.db.write().begin().await?;
    let Some(session) = sessions::end_by_sid_in(&mut tx, sid, now).await? else {
        return Ok(());
    };
    grants::revoke_session_grants_in(&mut tx, sid, now).await?;
    super::backchannel::enqueue(state, &mut tx, &session.user_id, sid, &participants).await?;
    tx.commit().await?;
    Ok(())
}
