//! Contacts. The mobile (MBT) and e-mail (EML) are login identifiers: a change is applied
//! only after the new value is confirmed (an SMS code; an e-mail code or link). Whether the
//! value is bound to another account is checked only after that proof of possession, and
//! refused with one neutral message, so typing someone's number reveals nothing. Home phone
//! (PHN) and work e-mail (CEM) are kept without confirmation.

use serde_json::json;

use super::{ProfileError, begin, conflict_is, record};
use crate::app::AppState;
use crate::domain::codes::{self, Checked};
use crate::domain::identifiers::{normalize_email, normalize_phone};
use crate::domain::messages::{self, Channel, Template};
use crate::protocol::claims::profile::Contact;
use crate::store::profile::{self as store, LoginContact, Section};
use crate::store::users::{self, User};
use crate::store::{StoreError, released};

const PURPOSE_MOBILE: &str = "profile_mobile";
const PURPOSE_EMAIL: &str = "profile_email";
const PURPOSE_EMAIL_LINK: &str = "profile_email_link";
/// Contacts besides the login identifiers, per person.
const MAX_EXTRA: i64 = 10;

/// How a new e-mail is confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailProof {
    Code,
    Link,
}

/// All contacts: the mobile and e-mail of the account first, then the others.
pub async fn list(state: &AppState, user: &User) -> Result<Vec<Contact>, StoreError> {
    let p = &user.person;
    let mut all: Vec<Contact> = [
        ("MBT", &p.phone, p.phone_verified),
        ("EML", &p.email, p.email_verified),
    ]
    .into_iter()
    .filter_map(|(kind, value, verified)| {
        value.as_ref().map(|v| Contact {
            id: kind.to_string(),
            kind: kind.to_string(),
            value: v.clone(),
            verified,
        })
    })
    .collect();
    all.extend(store::contacts(&state.db, &user.id).await?);
    Ok(all)
}

/// Sends a code to a new mobile number; returns the number as it will be stored.
pub async fn request_mobile(
    state: &AppState,
    user: &User,
    typed: &str,
) -> Result<String, ProfileError> {
    let phone = normalize_phone(typed).ok_or_else(bad_phone)?;
    if user.person.phone.as_deref() == Some(phone.as_str()) {
        return Err(ProfileError::SameValue);
    }
    let payload = json!({ "value": phone });
    let code = codes::issue(state, PURPOSE_MOBILE, &user.id, codes::SMS, Some(&payload)).await?;
    let t = Template::PhoneCode { code: &code };
    messages::queue(
        state.db.write(),
        Channel::Sms,
        &phone,
        &t,
        state.clock.now(),
    )
    .await?;
    Ok(phone)
}

/// Sends a code or a link to a new e-mail address; returns the address as it will be stored.
pub async fn request_email(
    state: &AppState,
    user: &User,
    typed: &str,
    proof: EmailProof,
) -> Result<String, ProfileError> {
    let email = normalize_email(typed).ok_or_else(bad_email)?;
    if user.person.email.as_deref() == Some(email.as_str()) {
        return Err(ProfileError::SameValue);
    }
    let payload = json!({ "value": email });
    let now = state.clock.now();
    match proof {
        EmailProof::Code => {
            let code = codes::issue(
                state,
                PURPOSE_EMAIL,
                &user.id,
                codes::EMAIL_CODE,
                Some(&payload),
            )
            .await?;
            let t = Template::EmailCode { code: &code };
            messages::queue(state.db.write(), Channel::Email, &email, &t, now).await?;
        }
        EmailProof::Link => {
            let token = codes::issue(
                state,
                PURPOSE_EMAIL_LINK,
                &user.id,
                codes::EMAIL_LINK,
                Some(&payload),
            )
            .await?;
            let link = link_url(state, &user.id, &token);
            let text = format!(
                "Здравствуйте!\n\nЧтобы подтвердить новый адрес электронной почты в профиле, перейдите по ссылке (действует 3 дня):\n{link}\n\nЕсли вы не меняли адрес, просто удалите это письмо."
            );
            let t = Template::Notice {
                subject: "Подтвердите новый адрес электронной почты",
                text: &text,
            };
            messages::queue(state.db.write(), Channel::Email, &email, &t, now).await?;
        }
    }
    Ok(email)
}

/// `{issuer}/profile/contacts/email-link?u=…&token=…`: the page shows a confirm button, so
/// mail scanners that open links spend nothing.
pub fn link_url(state: &AppState, user_id: &str, token: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("u", user_id)
        .append_pair("token", token)
        .finish();
    state.url(&format!("/profile/contacts/email-link?{query}"))
}

/// Checks the SMS code and, if right, makes the new number the account's mobile.
pub async fn confirm_mobile(
    state: &AppState,
    user: &User,
    code: &str,
) -> Result<Contact, ProfileError> {
    let value = accepted(state, PURPOSE_MOBILE, &user.id, code).await?;
    apply(state, user, LoginContact::Phone, &value).await
}

/// Checks the e-mail code and, if right, makes the new address the account's e-mail.
pub async fn confirm_email(
    state: &AppState,
    user: &User,
    code: &str,
) -> Result<Contact, ProfileError> {
    let value = accepted(state, PURPOSE_EMAIL, &user.id, code).await?;
    apply(state, user, LoginContact::Email, &value).await
}

/// The link from the e-mail was followed and confirmed: applies the address. The token is
/// the proof; no session is needed (the link may be opened on another device).
pub async fn confirm_email_link(
    state: &AppState,
    user_id: &str,
    token: &str,
) -> Result<Contact, ProfileError> {
    let value = accepted(state, PURPOSE_EMAIL_LINK, user_id, token).await?;
    let user = users::by_id(&state.db, user_id)
        .await?
        .ok_or(ProfileError::NoCode)?;
    apply(state, &user, LoginContact::Email, &value).await
}

/// The value carried by an accepted code, or the refusal.
async fn accepted(
    state: &AppState,
    purpose: &str,
    subject: &str,
    code: &str,
) -> Result<String, ProfileError> {
    if code.trim().is_empty() || code.len() > 64 {
        return Err(ProfileError::invalid(
            "code",
            "Введите код из сообщения.",
            "Enter the code from the message.",
        ));
    }
    match codes::check(state, purpose, subject, code).await? {
        Checked::Accepted(payload) => payload
            .as_ref()
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
            .ok_or(ProfileError::NoCode),
        Checked::Wrong { remaining } => Err(ProfileError::WrongCode { remaining }),
        Checked::Expired => Err(ProfileError::CodeExpired),
        Checked::Exhausted => Err(ProfileError::CodeUsedUp),
        Checked::Missing => Err(ProfileError::NoCode),
    }
}

/// Binds a confirmed value; the old one is released (once-a-month reuse rule) and told.
async fn apply(
    state: &AppState,
    user: &User,
    which: LoginContact,
    value: &str,
) -> Result<Contact, ProfileError> {
    let now = state.clock.now();
    let (kind, field, old) = match which {
        LoginContact::Phone => ("phone", "mobile", user.person.phone.clone()),
        LoginContact::Email => ("email", "email", user.person.email.clone()),
    };
    if old.as_deref() == Some(value) {
        return Err(ProfileError::SameValue);
    }
    if !released::may_bind(&state.db, kind, value, now).await? {
        return Err(ProfileError::ContactUnavailable);
    }
    let mut tx = begin(state).await?;
    store::set_login_contact(&mut tx, &user.id, which, value, now)
        .await
        .map_err(|e| conflict_is(e, ProfileError::ContactUnavailable))?;
    if let Some(old) = &old {
        released::release_identifier(&mut *tx, kind, old, now).await?;
    }
    let detail = json!({ "field": field, "old": old, "new": value });
    let summary = match which {
        LoginContact::Phone => "Изменён мобильный телефон",
        LoginContact::Email => "Изменена электронная почта",
    };
    record(&mut tx, &user.id, summary, &detail, "user", now).await?;
    tx.commit().await?;
    released::mark_reused(&state.db, kind, value, now).await?;
    if let Some(old) = &old {
        tell_old_contact(state, which, old).await?;
    }
    Ok(Contact {
        id: if which == LoginContact::Phone {
            "MBT"
        } else {
            "EML"
        }
        .into(),
        kind: if which == LoginContact::Phone {
            "MBT"
        } else {
            "EML"
        }
        .into(),
        value: value.to_string(),
        verified: true,
    })
}

/// A notice to the previous mobile or e-mail, so a takeover does not go unnoticed.
async fn tell_old_contact(
    state: &AppState,
    which: LoginContact,
    old: &str,
) -> Result<(), StoreError> {
    let (channel, text) = match which {
        LoginContact::Phone => (
            Channel::Sms,
            "Номер мобильного телефона в вашей учётной записи изменён. Если это были не вы, восстановите доступ.",
        ),
        LoginContact::Email => (
            Channel::Email,
            "Адрес электронной почты в вашей учётной записи изменён. Если это были не вы, восстановите доступ.",
        ),
    };
    let t = Template::Notice {
        subject: "Контакт в учётной записи изменён",
        text,
    };
    messages::queue(state.db.write(), channel, old, &t, state.clock.now()).await?;
    Ok(())
}

/// Adds a home phone (PHN) or work e-mail (CEM); no confirmation needed.
pub async fn add(
    state: &AppState,
    user: &User,
    kind: &str,
    typed: &str,
) -> Result<Contact, ProfileError> {
    let value = match kind {
        "PHN" => normalize_phone(typed).ok_or_else(bad_phone)?,
        "CEM" => normalize_email(typed).ok_or_else(bad_email)?,
        _ => {
            return Err(ProfileError::invalid(
                "type",
                "Мобильный телефон и электронная почта меняются с подтверждением кодом; здесь можно добавить домашний телефон (PHN) или служебную почту (CEM).",
                "The mobile phone and e-mail change with a confirmation code; here add a home phone (PHN) or a work e-mail (CEM).",
            ));
        }
    };
    if store::count(&state.db, Section::Contacts, &user.id).await? >= MAX_EXTRA {
        return Err(ProfileError::Limit);
    }
    let now = state.clock.now();
    let c = Contact {
        id: crate::crypto::random_token(9),
        kind: kind.to_string(),
        value,
        verified: false,
    };
    let mut tx = begin(state).await?;
    store::add_contact(&mut tx, &user.id, &c, now)
        .await
        .map_err(|e| conflict_is(e, ProfileError::Duplicate))?;
    let detail = json!({ "field": "contacts", "type": kind, "old": null, "new": c.value });
    record(&mut tx, &user.id, "Добавлен контакт", &detail, "user", now).await?;
    tx.commit().await?;
    Ok(c)
}

/// Removes a home phone or work e-mail.
pub async fn remove(state: &AppState, user: &User, id: &str) -> Result<Contact, ProfileError> {
    let now = state.clock.now();
    let mut tx = begin(state).await?;
    let old = store::remove_contact(&mut tx, &user.id, id)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let detail = json!({ "field": "contacts", "type": old.kind, "old": old.value, "new": null });
    record(&mut tx, &user.id, "Удалён контакт", &detail, "user", now).await?;
    tx.commit().await?;
    Ok(old)
}

fn bad_phone() -> ProfileError {
    ProfileError::invalid(
        "value",
        "Укажите номер телефона в формате +7 900 123-45-67.",
        "Enter the phone number as +7 900 123-45-67.",
    )
}

fn bad_email() -> ProfileError {
    ProfileError::invalid(
        "value",
        "Укажите адрес электронной почты, например ivan@example.ru.",
        "Enter an e-mail address, e.g. ivan@example.ru.",
    )
}
