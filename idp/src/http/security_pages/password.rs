//! `/profile/security/password`: the current password, the new one twice (the password
//! policy, its messages in the page's language). On success the hash is replaced, the change
//! goes to the event feed (with a notice to a confirmed e-mail, in the same transaction), and
//! every other session of the person ends the way logout ends it (grants revoked,
//! back-channel logout); the session that made the change stays.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Extra, PASSWORD, PageQuery, done, frame, html, locked, notice, submitted, tr};
use crate::app::AppState;
use crate::domain::login::{self, LoginError};
use crate::domain::messages::{self, Channel, Template};
use crate::domain::password_policy;
use crate::http::errors::PageError;
use crate::http::profile::{Visit, visit};
use crate::http::{cookies, extract};
use crate::store::users::User;
use crate::store::{StoreError, events, recovery, sessions};

async fn render(v: Visit, extra: Extra, status: StatusCode) -> Response {
    let name = v.user.person.full_name();
    let body = consent_ui::render_security_password(&frame(&v, &name, &extra));
    html(&v, body, status)
}

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let extra = Extra {
        notice: notice(q.done.as_deref(), v.lang),
        ..Extra::default()
    };
    render(v, extra, StatusCode::OK).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, form) = match submitted(&state, &headers, &body, |v, e| {
        render(v, e, StatusCode::FORBIDDEN)
    })
    .await
    {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let lang = v.lang;
    let refuse = |v: Visit, status: StatusCode, errors: Vec<String>| {
        render(
            v,
            Extra {
                errors,
                ..Extra::default()
            },
            status,
        )
    };
    match login::confirm_password(&state, &v.user, &form.current, Some(peer.ip())).await {
        Ok(()) => {}
        Err(LoginError::Failed) => {
            let m = tr(
                lang,
                "Неверный текущий пароль.",
                "The current password is wrong.",
            );
            return refuse(v, StatusCode::FORBIDDEN, vec![m.to_string()]).await;
        }
        Err(LoginError::Locked) => {
            return refuse(v, StatusCode::TOO_MANY_REQUESTS, vec![locked(lang)]).await;
        }
        Err(LoginError::Store(e)) => return PageError::from(e).into_response(),
        Err(LoginError::Cache(e)) => return PageError::from(e).into_response(),
    }
    let mut problems: Vec<String> =
        password_policy::check(&form.password, &form.again, &personal_data(&v.user))
            .iter()
            .map(|p| match lang {
                consent_ui::Lang::Ru => p.ru(),
                consent_ui::Lang::En => p.en(),
            })
            .collect();
    if problems.is_empty() && form.password == form.current {
        problems.push(
            tr(
                lang,
                "Новый пароль совпадает с текущим.",
                "The new password is the same as the current one.",
            )
            .to_string(),
        );
    }
    if !problems.is_empty() {
        return refuse(v, StatusCode::UNPROCESSABLE_ENTITY, problems).await;
    }
    let hash = match state.passwords.hash(&form.password).await {
        Ok(h) => h,
        Err(e) => return PageError::from_store(lang, e, false).into_response(),
    };
    let current = cookies::read(&headers, cookies::SESSION);
    let current_sid = match login::current(&state, current.as_deref()).await {
        Ok(found) => found.map(|(s, _)| s.sid),
        Err(e) => return PageError::from(e).into_response(),
    };
    if let Err(e) = replace(&state, &v.user, &hash).await {
        return PageError::from(e).into_response();
    }
    if let Err(e) = end_other_sessions(&state, &v.user.id, current_sid.as_deref()).await {
        return PageError::from(e).into_response();
    }
    done(PASSWORD, lang, "password")
}

/// The new hash, its event and the e-mail notice, in one transaction.
async fn replace(state: &AppState, user: &User, hash: &str) -> Result<(), StoreError> {
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await?;
    recovery::replace_password(&mut *tx, &user.id, hash, now).await?;
    events::record(
        &mut *tx,
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Пароль изменён, другие сеансы завершены",
            detail: None,
            source: "user",
        },
        now,
    )
    .await?;
    if let Some(email) = user
        .person
        .email
        .as_deref()
        .filter(|_| user.person.email_verified)
    {
        let notice = Template::Notice {
            subject: "Пароль изменён",
            text: "Пароль от вашей учётной записи Госуслуги ID изменён в личном кабинете, \
                   другие сеансы входа завершены. Если это были не вы, восстановите доступ \
                   и обратитесь в центр обслуживания.",
        };
        messages::queue(&mut *tx, Channel::Email, email, &notice, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ends every live session of the person except `keep` (the one that changed the password).
async fn end_other_sessions(
    state: &AppState,
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), StoreError> {
    for s in sessions::live_for_user(&state.db, user_id, state.clock.now()).await? {
        if Some(s.sid.as_str()) != keep {
            login::end_session(state, &s.sid).await?;
        }
    }
    Ok(())
}

/// What a new password must not contain: names, phone digits, the e-mail's local part.
fn personal_data(user: &User) -> Vec<&str> {
    let p = &user.person;
    let mut v = vec![p.surname.as_str(), p.given_name.as_str()];
    v.extend(p.middle_name.as_deref());
    v.extend(p.phone.as_deref().map(|x| x.trim_start_matches("+7")));
    v.extend(p.email.as_deref().and_then(|e| e.split('@').next()));
    v
}
