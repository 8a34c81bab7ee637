//! Deleting an account: final, and only with the password. Every live session ends the
//! usual way ([`login::end_session`]: its grants revoked, back-channel logout to the clients
//! that took part); grants outside sessions (offline access, sessions ended earlier) are
//! revoked and announced by back-channel logout too; then the person's data is erased in
//! one transaction and the phone and e-mail are released for a new registration.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::ProfileError;
use crate::app::AppState;
use crate::domain::login::{self, LoginError};
use crate::domain::messages::{self, Channel, Template};
use crate::store::profile::erase::{self, Erasure};
use crate::store::sessions;
use crate::store::users::User;
use crate::store::{StoreError, grants};

/// Deletes `user`'s account if `password` is theirs; nothing changes otherwise.
pub async fn delete_account(
    state: &AppState,
    user: &User,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<(), ProfileError> {
    match login::confirm_password(state, user, password, addr).await {
        Ok(()) => {}
        Err(LoginError::Failed) => return Err(ProfileError::WrongPassword),
        Err(LoginError::Locked) => return Err(ProfileError::Locked),
        Err(LoginError::Store(e)) => return Err(e.into()),
        Err(LoginError::Cache(e)) => return Err(e.into()),
    }
    let notified = end_sessions(state, &user.id).await?;
    revoke_the_rest(state, &user.id, &notified).await?;
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    let erasure = Erasure {
        user_id: &user.id,
        phone: user.person.phone.as_deref(),
        email: user.person.email.as_deref(),
    };
    erase::erase(&mut tx, &erasure, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tell_owner(state, user).await?;
    Ok(())
}

/// Ends every live session; returns the (client, sid) pairs that were sent a logout token.
async fn end_sessions(
    state: &AppState,
    user_id: &str,
) -> Result<BTreeSet<(String, String)>, StoreError> {
    let mut notified = BTreeSet::new();
    for s in sessions::live_for_user(&state.db, user_id, state.clock.now()).await? {
        for g in grants::by_sid(&state.db, &s.sid).await? {
            notified.insert((g.client_id, s.sid.clone()));
        }
        login::end_session(state, &s.sid).await?;
    }
    Ok(notified)
}

/// Revokes the grants still open and sends a logout token for each (client, sid) not told yet.
async fn revoke_the_rest(
    state: &AppState,
    user_id: &str,
    notified: &BTreeSet<(String, String)>,
) -> Result<(), StoreError> {
    let open = erase::open_grants(&state.db, user_id).await?;
    let mut by_sid: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in open {
        let Some(sid) = g.sid else { continue };
        if !notified.contains(&(g.client_id.clone(), sid.clone())) {
            by_sid.entry(sid).or_default().insert(g.id);
        }
    }
    for (sid, ids) in by_sid {
        let participants: Vec<_> = grants::by_sid(&state.db, &sid)
            .await?
            .into_iter()
            .filter(|g| ids.contains(&g.id))
            .collect();
        // The session itself ended earlier; the logout token names it by its sid.
        crate::domain::backchannel::notify(state, user_id, &sid, &participants).await?;
    }
    // Revoked after the logouts are queued: a crash in between leaves grants to revoke on
    // the person's retry, never a revoked grant whose client was not told.
    erase::revoke_grants(&state.db, user_id, state.clock.now()).await?;
    Ok(())
}

/// Tells the former phone and e-mail that the account is gone (so a stolen password cannot
/// delete an account unnoticed).
async fn tell_owner(state: &AppState, user: &User) -> Result<(), StoreError> {
    let t = Template::Notice {
        subject: "Учётная запись удалена",
        text: "Ваша учётная запись на Госуслугах удалена, все входы на сайты завершены. Если это были не вы, обратитесь в центр обслуживания.",
    };
    let now = state.clock.now();
    if let Some(phone) = &user.person.phone {
        messages::queue(state.db.write(), Channel::Sms, phone, &t, now).await?;
    }
    if let Some(email) = &user.person.email {
        messages::queue(state.db.write(), Channel::Email, email, &t, now).await?;
    }
    Ok(())
}
