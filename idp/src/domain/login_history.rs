//! What the cabinet's "sessions and devices", "login history", "event feed" and
//! "notifications" pages need from the domain: recording each login (success or failure) in
//! the history and the feed, the login notification, ending sessions from the cabinet,
//! notification settings with quiet hours, and the purge of old history.
//!
//! Recording never fails a login: a store error is logged and the login goes on.

use crate::app::AppState;
use crate::store::StoreError;
use crate::store::events;
use crate::store::login_history::{self as history, NewLogin, NotificationSettings};
use crate::store::users::User;

use super::messages::{self, Channel, Template};
use super::user_agent;

/// Event kinds a person may be notified about (the feed's types), in page order.
pub const KINDS: [&str; 5] = [
    "login",
    "security",
    "profile",
    "permissions",
    "verification",
];

/// Quiet hours and the time in notices are in Moscow time (UTC+3), as people in Russia
/// mostly mean it.
const MSK: i64 = 3 * 3600;

/// A successful login by `amr` from this browser and address: history, feed, notification.
pub async fn succeeded(
    state: &AppState,
    user: &User,
    amr: &[String],
    user_agent: Option<&str>,
    ip: Option<&str>,
) {
    let method = amr.join(" ");
    state.metrics.login(&method, "success");
    let now = state.clock.now();
    let device = user_agent::describe(user_agent, false);
    let place = ip.unwrap_or("—");
    let result = async {
        history::record(
            &state.db,
            &NewLogin {
                user_id: &user.id,
                outcome: "success",
                method: &method,
                reason: None,
                user_agent,
                ip,
            },
            now,
        )
        .await?;
        let detail = serde_json::json!({ "method": method, "device": device, "ip": place });
        events::record(
            state.db.write(),
            &events::NewEvent {
                user_id: &user.id,
                kind: "login",
                status: "success",
                summary: "Вход в учётную запись",
                detail: Some(&detail),
                source: "user",
            },
            now,
        )
        .await?;
        notify_login(state, user, &device, place, now).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "recording a login failed");
    }
}

/// A failed login of a known account (`reason`: `wrong_password`, `locked`, `wrong_code`,
/// and for second factors `code_expired`, `code_exhausted`, `passkey_refused`,
/// `signature_refused`; see `mfa::second_factor_failed`).
pub async fn failed(
    state: &AppState,
    user_id: &str,
    method: &str,
    reason: &str,
    user_agent: Option<&str>,
    ip: Option<&str>,
) {
    state.metrics.login(method, reason);
    let now = state.clock.now();
    let result = async {
        history::record(
            &state.db,
            &NewLogin {
                user_id,
                outcome: "failure",
                method,
                reason: Some(reason),
                user_agent,
                ip,
            },
            now,
        )
        .await?;
        let detail = serde_json::json!({
            "method": method,
            "reason": reason,
            "device": user_agent::describe(user_agent, false),
            "ip": ip.unwrap_or("—"),
        });
        events::record(
            state.db.write(),
            &events::NewEvent {
                user_id,
                kind: "login",
                status: "failure",
                summary: "Неудачная попытка входа",
                detail: Some(&detail),
                source: "user",
            },
            now,
        )
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "recording a failed login failed");
    }
}

/// Queues the login notice by the channels the person chose, if logins notify.
async fn notify_login(
    state: &AppState,
    user: &User,
    device: &str,
    place: &str,
    now: i64,
) -> Result<(), StoreError> {
    let time = moscow_time(now);
    let notice = Template::LoginNotice {
        device,
        place,
        time: &time,
    };
    send(state, user, "login", &notice, now).await
}

/// Tells the person about an event of `kind` (one of [`KINDS`]) if they asked for it: by
/// e-mail at any time, by SMS outside quiet hours. For the senders of security, profile,
/// permission and verification events; a store error is the caller's to log or return.
pub async fn notify(
    state: &AppState,
    user: &User,
    kind: &str,
    subject: &str,
    text: &str,
) -> Result<(), StoreError> {
    let notice = Template::Notice { subject, text };
    send(state, user, kind, &notice, state.clock.now()).await
}

/// Records a feed event of `kind` for `user_id` (source "user") and tells the person about
/// it if they asked for that kind: the one call for security, profile and permission changes.
pub async fn record_and_notify(
    state: &AppState,
    user_id: &str,
    kind: &str,
    status: &str,
    summary: &str,
) -> Result<(), StoreError> {
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id,
            kind,
            status,
            summary,
            detail: None,
            source: "user",
        },
        state.clock.now(),
    )
    .await?;
    notify_user(state, user_id, kind, summary).await
}

/// [`notify`] for a person known by id, with the subject of the event's kind.
pub async fn notify_user(
    state: &AppState,
    user_id: &str,
    kind: &str,
    text: &str,
) -> Result<(), StoreError> {
    let Some(user) = crate::store::users::by_id(&state.db, user_id).await? else {
        return Ok(());
    };
    let subject = match kind {
        "security" => "Госуслуги ID: изменение настроек безопасности",
        "permissions" => "Госуслуги ID: разрешения на доступ к данным",
        "verification" => "Госуслуги ID: проверка данных",
        "profile" => "Госуслуги ID: изменение личных данных",
        _ => "Госуслуги ID: уведомление",
    };
    notify(state, &user, kind, subject, text).await
}

async fn send(
    state: &AppState,
    user: &User,
    kind: &str,
    notice: &Template<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let settings = history::settings(&state.db, &user.id).await?;
    if !settings.wants(kind) {
        return Ok(());
    }
    if settings.email
        && let Some(email) = &user.person.email
    {
        messages::queue(state.db.write(), Channel::Email, email, notice, now).await?;
    }
    if settings.sms
        && !in_quiet_hours(settings.quiet, now)
        && let Some(phone) = &user.person.phone
    {
        messages::queue(state.db.write(), Channel::Sms, phone, notice, now).await?;
    }
    Ok(())
}

/// "22.11.2026 18:30 (МСК)".
pub fn moscow_time(now: i64) -> String {
    let t = now + MSK;
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let rem = t.rem_euclid(86_400);
    format!(
        "{d:02}.{m:02}.{y:04} {:02}:{:02} (МСК)",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Whether `now` falls in quiet hours `(from, to)` (minutes after midnight, Moscow time;
/// `from > to` wraps midnight, `from == to` is no quiet time).
pub fn in_quiet_hours(quiet: Option<(i64, i64)>, now: i64) -> bool {
    let Some((from, to)) = quiet else {
        return false;
    };
    let minute = (now + MSK).rem_euclid(86_400) / 60;
    if from <= to {
        from <= minute && minute < to
    } else {
        minute >= from || minute < to
    }
}

/// "HH:MM" → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: i64 = h.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

pub fn format_hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// "YYYY-MM-DD" → the Unix time of that day's start (UTC, as the pages show times).
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-31 and the like: the day must come back unchanged.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400)
}

/// "YYYY-MM-DD" of the UTC day of `t` (the inverse of [`parse_date`]).
pub fn utc_date(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// H. Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// H. Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Why settings were refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SettingsError {
    UnknownKind,
    QuietHoursFormat,
    QuietHoursHalf,
}

impl SettingsError {
    pub fn message(&self, en: bool) -> &'static str {
        match (self, en) {
            (SettingsError::UnknownKind, false) => "Неизвестный тип событий.",
            (SettingsError::UnknownKind, true) => "Unknown event type.",
            (SettingsError::QuietHoursFormat, false) => {
                "Время тишины укажите в формате ЧЧ:ММ, например 22:00."
            }
            (SettingsError::QuietHoursFormat, true) => {
                "Give quiet hours as HH:MM, for example 22:00."
            }
            (SettingsError::QuietHoursHalf, false) => {
                "Укажите и начало, и конец времени тишины (или оставьте оба поля пустыми)."
            }
            (SettingsError::QuietHoursHalf, true) => {
                "Give both the start and the end of quiet hours (or leave both empty)."
            }
        }
    }
}

/// Checks and saves settings typed by the person.
pub async fn save_settings(
    state: &AppState,
    user: &User,
    kinds: &[String],
    email: bool,
    sms: bool,
    quiet_from: &str,
    quiet_to: &str,
) -> Result<Result<(), SettingsError>, StoreError> {
    if kinds.iter().any(|k| !KINDS.contains(&k.as_str())) {
        return Ok(Err(SettingsError::UnknownKind));
    }
    let quiet = match (quiet_from.trim(), quiet_to.trim()) {
        ("", "") => None,
        ("", _) | (_, "") => return Ok(Err(SettingsError::QuietHoursHalf)),
        (f, t) => match (parse_hhmm(f), parse_hhmm(t)) {
            (Some(f), Some(t)) => Some((f, t)),
            _ => return Ok(Err(SettingsError::QuietHoursFormat)),
        },
    };
    let mut kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| kinds.iter().any(|c| c == *k))
        .map(|k| (*k).to_string())
        .collect();
    kinds.dedup();
    let settings = NotificationSettings {
        kinds,
        email,
        sms,
        quiet,
    };
    let now = state.clock.now();
    history::save_settings(&state.db, &user.id, &settings, now).await?;
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Изменены настройки уведомлений",
            detail: None,
            source: "user",
        },
        now,
    )
    .await?;
    Ok(Ok(()))
}

/// Ends one of the person's sessions by its `sid`; false if it is not theirs or not live.
pub async fn end_one(state: &AppState, user: &User, sid: &str) -> Result<bool, StoreError> {
    let now = state.clock.now();
    let live = history::sessions(&state.db, &user.id, now, state.config.session.idle_ttl).await?;
    if !live.iter().any(|s| s.sid == sid) {
        return Ok(false);
    }
    super::login::end_session(state, sid).await?;
    record_ended(state, user, 1).await?;
    Ok(true)
}

/// Ends every live session of the person but `keep`; returns how many ended.
pub async fn end_others(state: &AppState, user: &User, keep: &str) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let live = history::sessions(&state.db, &user.id, now, state.config.session.idle_ttl).await?;
    let mut ended = 0;
    for s in live.iter().filter(|s| s.sid != keep) {
        super::login::end_session(state, &s.sid).await?;
        ended += 1;
    }
    if ended > 0 {
        record_ended(state, user, ended).await?;
    }
    Ok(ended)
}

async fn record_ended(state: &AppState, user: &User, count: usize) -> Result<(), StoreError> {
    let detail = serde_json::json!({ "count": count });
    let text = if count == 1 {
        "В личном кабинете завершён один из сеансов вашей учётной записи. Если это были не вы, смените пароль."
    } else {
        "В личном кабинете завершены все другие сеансы вашей учётной записи. Если это были не вы, смените пароль."
    };
    notify(state, user, "security", "Сеансы завершены", text).await?;
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: if count == 1 {
                "Завершён сеанс"
            } else {
                "Завершены другие сеансы"
            },
            detail: Some(&detail),
            source: "user",
        },
        state.clock.now(),
    )
    .await
}

/// Forgets one of the person's remembered devices; false if it is not theirs.
pub async fn unbind_device(state: &AppState, user: &User, id: &str) -> Result<bool, StoreError> {
    if !crate::store::devices::unbind(&state.db, &user.id, id).await? {
        return Ok(false);
    }
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Устройство отвязано от учётной записи",
            detail: None,
            source: "user",
        },
        state.clock.now(),
    )
    .await?;
    let text =
        "В личном кабинете отвязано запомненное устройство. Если это были не вы, смените пароль.";
    notify(state, user, "security", "Устройство отвязано", text).await?;
    Ok(true)
}

/// Deletes login history older than `login.login_history_days`.
pub async fn purge(state: &AppState) -> Result<u64, StoreError> {
    let keep = state.config.login.login_history_days.max(1) * 86_400;
    history::purge_before(&state.db, state.clock.now() - keep).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_minutes() {
        assert_eq!(parse_hhmm("22:00"), Some(22 * 60));
        assert_eq!(parse_hhmm("7:05"), Some(7 * 60 + 5));
        assert_eq!(parse_hhmm("00:00"), Some(0));
        for bad in [
            "24:00", "12:60", "12", "ab:cd", "12:5", "", "-1:00", "123:00",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
        assert_eq!(format_hhmm(7 * 60 + 5), "07:05");
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        // 2026-11-22 00:00 UTC = 03:00 MSK.
        let midnight_utc = parse_date("2026-11-22").unwrap_or(0);
        let q = Some((22 * 60, 7 * 60));
        assert!(in_quiet_hours(q, midnight_utc));
        assert!(!in_quiet_hours(q, midnight_utc + 6 * 3600)); // 09:00 MSK
        assert!(in_quiet_hours(q, midnight_utc + 19 * 3600 + 30 * 60)); // 22:30 MSK
        let day = Some((9 * 60, 18 * 60));
        assert!(!in_quiet_hours(day, midnight_utc));
        assert!(in_quiet_hours(day, midnight_utc + 7 * 3600)); // 10:00 MSK
        assert!(!in_quiet_hours(None, midnight_utc));
        assert!(!in_quiet_hours(Some((600, 600)), midnight_utc + 7 * 3600));
    }

    #[test]
    fn dates_and_moscow_time() {
        assert_eq!(parse_date("2026-11-22"), Some(1_795_305_600));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(utc_date(1_795_305_600 + 86_399), "2026-11-22");
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("вчера"), None);
        assert_eq!(moscow_time(1_795_305_600), "22.11.2026 03:00 (МСК)");
    }
}
