//! The development outbox page (`/dev/outbox`): the newest messages the provider queued, so
//! a developer can read SMS codes and e-mail links without a phone or a mail server.

use askama::Template;

use crate::Lang;
use crate::texts::Texts;

/// One message as the page shows it.
pub struct OutboxRow<'a> {
    pub created_at: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub template: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub status: &'a str,
    pub transport: Option<&'a str>,
    pub attempts: i64,
    pub last_error: Option<&'a str>,
}

/// The page: an optional recipient filter, counts by status, and the messages.
pub struct OutboxPage<'a> {
    pub filter: &'a str,
    pub counts: &'a [(String, i64)],
    pub rows: &'a [OutboxRow<'a>],
}

#[derive(Template)]
#[template(path = "dev_outbox.html")]
struct OutboxView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a OutboxPage<'a>,
    times: Vec<String>,
}

/// Renders the development outbox (Russian; it is a developer's page).
pub fn render_outbox(page: &OutboxPage) -> String {
    let view = OutboxView {
        lang: Lang::Ru.code(),
        t: Texts::get(Lang::Ru),
        title: "Исходящие сообщения (разработка)",
        other_lang_url: "",
        p: page,
        times: page.rows.iter().map(|r| format_utc(r.created_at)).collect(),
    };
    view.render()
        .unwrap_or_else(|e| format!("<!DOCTYPE html><p>{e}</p>"))
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn page_lists_messages_escaped() {
        let rows = [OutboxRow {
            created_at: 0,
            channel: "sms",
            recipient: "+79001234567",
            template: "phone_code",
            subject: "Код",
            body: "Код подтверждения: 123456 <b>",
            status: "dead",
            transport: None,
            attempts: 3,
            last_error: Some("SMS gateway answered 500"),
        }];
        let counts = [("dead".to_string(), 1)];
        let html = render_outbox(&OutboxPage {
            filter: "+79001234567",
            counts: &counts,
            rows: &rows,
        });
        assert!(html.contains("123456") && !html.contains("<b>"));
        assert!(html.contains("SMS gateway answered 500"));
        assert!(html.contains("1970-01-01 00:00:00 UTC"));
        assert!(html.contains("name=\"to\""));
    }
}
