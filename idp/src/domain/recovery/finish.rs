//! The end of a recovery: the new password with its event and notice, every session ended.

use super::lookup::Contact;
use crate::app::AppState;
use crate::domain::login;
use crate::domain::messages::{self, Template};
use crate::store::users::User;
use crate::store::{StoreError, events, recovery, sessions};

/// The new password, its event and the notice to the contact, in one transaction.
pub(super) async fn replace_password(
    state: &AppState,
    user: &User,
    contact: Option<&Contact>,
    hash: &str,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await?;
    recovery::replace_password(&mut *tx, &user.id, hash, now).await?;
    let detail = serde_json::json!({ "channel": contact.map(|c| c.channel().as_str()) });
    events::record(
        &mut *tx,
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Пароль восстановлен по коду, все сеансы завершены",
            detail: Some(&detail),
            source: "user",
        },
        now,
    )
    .await?;
    if let Some(c) = contact {
        let notice = Template::Notice {
            subject: "Пароль изменён",
            text: "Пароль от вашей учётной записи Госуслуги ID изменён через восстановление доступа, \
                   все сеансы входа завершены. Если это были не вы, восстановите доступ снова \
                   и обратитесь в центр обслуживания.",
        };
        messages::queue(&mut *tx, c.channel(), c.address(), &notice, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ends every live session of the user the way logout does (grants revoked, back-channel
/// logout sent).
pub(super) async fn end_all_sessions(state: &AppState, user_id: &str) -> Result<(), StoreError> {
    for s in sessions::live_for_user(&state.db, user_id, state.clock.now()).await? {
        login::end_session(state, &s.sid).await?;
    }
    Ok(())
}

/// What a new password must not contain: names, phone digits, the e-mail's local part.
pub(super) fn personal_data(user: &User) -> Vec<&str> {
    let p = &user.person;
    let mut v = vec![p.surname.as_str(), p.given_name.as_str()];
    v.extend(p.middle_name.as_deref());
    v.extend(p.phone.as_deref().map(|x| x.trim_start_matches("+7")));
    v.extend(p.email.as_deref().and_then(|e| e.split('@').next()));
    v
}
