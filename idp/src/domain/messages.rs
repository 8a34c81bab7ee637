//! Messages that leave the system: templates in Russian, queued in the durable outbox, and a
//! worker that delivers them by SMTP (e-mail) or an HTTP SMS gateway, retrying with backoff.
//! With no transport configured (the embedded default) messages are "delivered" to the
//! development outbox, readable at `/dev/outbox` and with `idp outbox`.

use std::time::Duration;

use crate::app::AppState;
use crate::store::StoreError;
use crate::store::outbox::{self, NewMessage, OutboxMessage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// Every message the provider sends.
pub enum Template<'a> {
    /// A code confirming a phone (registration, contact change).
    PhoneCode { code: &'a str },
    /// A code confirming an e-mail, typed in.
    EmailCode { code: &'a str },
    /// A link confirming an e-mail, valid 3 days.
    EmailLink { link: &'a str },
    /// A password-recovery code.
    RecoveryCode { code: &'a str },
    /// A code to unlock an account locked after failed logins.
    UnlockCode { code: &'a str },
    /// A one-time login code.
    LoginCode { code: &'a str },
    /// The outcome of a check by the state registries.
    VerificationResult { ok: bool, what: &'a str },
    /// Someone logged in.
    LoginNotice {
        device: &'a str,
        place: &'a str,
        time: &'a str,
    },
    /// A free-form notice (level changes, deletions).
    Notice { subject: &'a str, text: &'a str },
}

impl Template<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Template::PhoneCode { .. } => "phone_code",
            Template::EmailCode { .. } => "email_code",
            Template::EmailLink { .. } => "email_link",
            Template::RecoveryCode { .. } => "recovery_code",
            Template::UnlockCode { .. } => "unlock_code",
            Template::LoginCode { .. } => "login_code",
            Template::VerificationResult { .. } => "verification_result",
            Template::LoginNotice { .. } => "login_notice",
            Template::Notice { .. } => "notice",
        }
    }

    /// (subject, body), in Russian.
    pub fn render(&self) -> (String, String) {
        let never = "Никому не сообщайте этот код, даже сотрудникам Госуслуг.";
        match self {
            Template::PhoneCode { code } => (
                "Код подтверждения".into(),
                format!("Код подтверждения: {code}. Действует 5 минут. {never}"),
            ),
            Template::EmailCode { code } => (
                "Код подтверждения почты".into(),
                format!("Код подтверждения: {code}. Действует 10 минут. {never}"),
            ),
            Template::EmailLink { link } => (
                "Подтвердите адрес электронной почты".into(),
                format!(
                    "Здравствуйте!\n\nЧтобы подтвердить адрес электронной почты, перейдите по ссылке (действует 3 дня):\n{link}\n\nЕсли вы не регистрировались, просто удалите это письмо."
                ),
            ),
            Template::RecoveryCode { code } => (
                "Восстановление доступа".into(),
                format!("Код для восстановления пароля: {code}. {never}"),
            ),
            Template::UnlockCode { code } => (
                "Разблокировка учётной записи".into(),
                format!("Код для разблокировки входа: {code}. {never}"),
            ),
            Template::LoginCode { code } => (
                "Код для входа".into(),
                format!("Код для входа: {code}. Действует 5 минут. {never}"),
            ),
            Template::VerificationResult { ok, what } => {
                if *ok {
                    (
                        "Данные подтверждены".into(),
                        format!("Проверка завершена успешно: {what}."),
                    )
                } else {
                    (
                        "Данные не подтверждены".into(),
                        format!(
                            "Проверка не пройдена: {what}. Проверьте данные в личном кабинете и отправьте их снова."
                        ),
                    )
                }
            }
            Template::LoginNotice {
                device,
                place,
                time,
            } => (
                "Вход в учётную запись".into(),
                format!(
                    "Выполнен вход: {time}, устройство: {device}, место: {place}. Если это были не вы, смените пароль."
                ),
            ),
            Template::Notice { subject, text } => ((*subject).into(), (*text).into()),
        }
    }
}

/// Queues `template` to `recipient` over `channel` (inside the caller's transaction if given).
pub async fn queue<'e, E>(
    executor: E,
    channel: Channel,
    recipient: &str,
    template: &Template<'_>,
    now: i64,
) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (subject, body) = template.render();
    outbox::enqueue(
        executor,
        &NewMessage {
            channel: channel.as_str(),
            recipient,
            template: template.name(),
            subject: &subject,
            body: &body,
        },
        now,
    )
    .await
}

/// Runs until the app is dropped: every `messages.poll_ms` claims due messages and delivers
/// them. The first round comes one period after start, so a test that sets a long period
/// drives delivery itself with [`deliver_due`], with no worker racing it.
pub fn spawn_worker(state: &AppState) {
    let weak = state.downgrade();
    tokio::spawn(async move {
        loop {
            let Some(state) = AppState::upgrade(&weak) else {
                return;
            };
            let poll = Duration::from_millis(state.config.messages.poll_ms.max(50));
            drop(state);
            tokio::time::sleep(poll).await;
            let Some(state) = AppState::upgrade(&weak) else {
                return;
            };
            if let Err(e) = deliver_due(&state).await {
                tracing::warn!(error = %e, "outbox delivery round failed");
            }
        }
    });
}

/// One delivery round; returns how many messages were sent.
pub async fn deliver_due(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let due = outbox::claim_due(&state.db, now, 60, 20).await?;
    let mut sent = 0;
    for m in due {
        match send(state, &m).await {
            Ok(transport) => {
                outbox::mark_sent(&state.db, &m.id, transport, state.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                let max = state.config.messages.max_attempts;
                let retry_at = (m.attempts < max)
                    .then(|| state.clock.now() + (5i64 << m.attempts.clamp(0, 10)).min(3600));
                if retry_at.is_none() {
                    tracing::error!(message = %m.id, channel = %m.channel, error = %e, "message undeliverable; marked dead");
                } else {
                    tracing::warn!(message = %m.id, channel = %m.channel, error = %e, "message delivery failed; will retry");
                }
                outbox::mark_failed(&state.db, &m.id, &e, retry_at).await?;
            }
        }
    }
    Ok(sent)
}

async fn send(state: &AppState, m: &OutboxMessage) -> Result<&'static str, String> {
    let cfg = &state.config.messages;
    match m.channel.as_str() {
        "email" => match &cfg.smtp_url {
            Some(url) => send_smtp(url, &cfg.from, m).await.map(|_| "smtp"),
            None if cfg.dev_outbox => Ok("dev"),
            None => Err("no e-mail transport configured (messages.smtp_url)".into()),
        },
        "sms" => match &cfg.sms_gateway_url {
            Some(url) => send_sms(state, url, cfg.sms_gateway_token.as_deref(), m)
                .await
                .map(|_| "sms-gateway"),
            None if cfg.dev_outbox => Ok("dev"),
            None => Err("no SMS transport configured (messages.sms_gateway_url)".into()),
        },
        other => Err(format!("unknown channel {other}")),
    }
}

async fn send_smtp(url: &str, from: &str, m: &OutboxMessage) -> Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let email = Message::builder()
        .from(from.parse().map_err(|e| format!("messages.from: {e}"))?)
        .to(m.recipient.parse().map_err(|e| format!("recipient: {e}"))?)
        .subject(&m.subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("messages.smtp_url: {e}"))?
        .timeout(Some(Duration::from_secs(10)))
        .build();
    transport
        .send(email)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// POSTs `{"to": …, "text": …}` as JSON with an optional bearer token; any 2xx is delivered.
async fn send_sms(
    state: &AppState,
    url: &str,
    token: Option<&str>,
    m: &OutboxMessage,
) -> Result<(), String> {
    let mut req = state
        .http
        .post(url)
        .json(&serde_json::json!({ "to": m.recipient, "text": m.body, "id": m.id }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("SMS gateway answered {}", resp.status()))
    }
}
