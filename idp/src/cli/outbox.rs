//! `idp outbox [--to RECIPIENT] [--limit N] [--json]`: the newest outgoing messages and the
//! counts by status (pending, sent, dead), so an operator sees what is stuck or failed, and
//! a developer reads codes in the embedded default. Only reads the database: no delivery
//! worker starts.

use clap::Args;

use super::Target;
use crate::domain::identifiers::{normalize_email, normalize_phone};
use crate::store::outbox::{self, OutboxMessage};
use crate::store::{Db, StoreError};

#[derive(Args, Clone, Debug)]
pub struct OutboxArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only messages to this phone or e-mail (normalised like a login: `8 900 …` works).
    #[arg(long)]
    pub to: Option<String>,
    /// How many of the newest messages to show.
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Print JSON: `{"counts": {...}, "messages": [...]}`.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command: connects (and migrates) without starting the server's workers.
pub async fn run(args: &OutboxArgs) -> Result<(), String> {
    let config = args.target.load()?;
    let db = Db::connect(&config.database).await?;
    db.migrate()
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    let out = report(&db, args.to.as_deref(), args.limit, args.json)
        .await
        .map_err(|e| e.to_string())?;
    print!("{out}");
    Ok(())
}

/// The report as text (or JSON): messages newest first, then the counts by status.
pub async fn report(
    db: &Db,
    to: Option<&str>,
    limit: i64,
    json: bool,
) -> Result<String, StoreError> {
    let recipient = to
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(stored_recipient);
    let messages = outbox::list(db, recipient.as_deref(), limit.clamp(1, 10_000)).await?;
    let counts = counts(&outbox::counts(db).await?);
    Ok(if json {
        render_json(&messages, &counts)
    } else {
        render_text(&messages, &counts)
    })
}

/// A typed recipient in its stored form: `8 900 …` → `+7900…`, e-mail lower-cased.
fn stored_recipient(text: &str) -> String {
    let stored = if text.contains('@') {
        normalize_email(text)
    } else {
        normalize_phone(text)
    };
    stored.unwrap_or_else(|| text.to_string())
}

/// pending, sent and dead always present (0 when none), then any other status.
fn counts(raw: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = ["pending", "sent", "dead"]
        .iter()
        .map(|s| {
            let n = raw.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            (s.to_string(), n)
        })
        .collect();
    out.extend(
        raw.iter()
            .filter(|(k, _)| !["pending", "sent", "dead"].contains(&k.as_str()))
            .cloned(),
    );
    out
}

fn render_text(messages: &[OutboxMessage], counts: &[(String, i64)]) -> String {
    let mut out = String::new();
    if messages.is_empty() {
        out.push_str("no messages\n");
    }
    for m in messages {
        out.push_str(&format!(
            "{}  {:<7} {:<5} {} ({})  transport: {}  attempts: {}\n",
            consent_ui::format_utc(m.created_at),
            m.status,
            m.channel,
            m.recipient,
            m.template,
            m.transport.as_deref().unwrap_or("-"),
            m.attempts,
        ));
        out.push_str(&format!("    subject: {}\n", m.subject));
        for line in m.body.lines() {
            out.push_str(&format!("    | {line}\n"));
        }
        if let Some(e) = &m.last_error {
            out.push_str(&format!("    last error: {e}\n"));
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    out.push_str(&format!("\n{}\n", summary.join(", ")));
    out
}

fn render_json(messages: &[OutboxMessage], counts: &[(String, i64)]) -> String {
    let counts: serde_json::Map<String, serde_json::Value> = counts
        .iter()
        .map(|(k, n)| (k.clone(), serde_json::Value::from(*n)))
        .collect();
    let messages: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "channel": m.channel,
                "recipient": m.recipient,
                "template": m.template,
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "transport": m.transport,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "created_at": m.created_at,
                "sent_at": m.sent_at,
            })
        })
        .collect();
    let doc = serde_json::json!({ "counts": counts, "messages": messages });
    format!("{doc:#}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(status: &str, error: Option<&str>) -> OutboxMessage {
        OutboxMessage {
            id: "m1".into(),
            channel: "sms".into(),
            recipient: "+79001234567".into(),
            template: "phone_code".into(),
            subject: "Код подтверждения".into(),
            body: "Код подтверждения: 123456.".into(),
            status: status.into(),
            transport: None,
            attempts: 3,
            last_error: error.map(str::to_string),
            created_at: 0,
            sent_at: None,
        }
    }

    #[test]
    fn counts_always_name_the_three_statuses() {
        let c = counts(&[("dead".into(), 2), ("weird".into(), 1)]);
        assert_eq!(
            c,
            vec![
                ("pending".to_string(), 0),
                ("sent".to_string(), 0),
                ("dead".to_string(), 2),
                ("weird".to_string(), 1)
            ]
        );
    }

    #[test]
    fn text_shows_failures_and_counts() {
        let m = [message("dead", Some("SMS gateway answered 500"))];
        let text = render_text(&m, &counts(&[("dead".into(), 1)]));
        assert!(text.contains("dead"), "{text}");
        assert!(text.contains("last error: SMS gateway answered 500"));
        assert!(text.contains("| Код подтверждения: 123456."));
        assert!(text.ends_with("pending: 0, sent: 0, dead: 1\n"), "{text}");
    }

    #[test]
    fn recipients_are_normalised_like_logins() {
        assert_eq!(stored_recipient("8 (900) 123-45-67"), "+79001234567");
        assert_eq!(stored_recipient("Ivan@Mail.RU"), "ivan@mail.ru");
        assert_eq!(stored_recipient("whatever"), "whatever");
    }

    #[test]
    fn json_is_parseable() {
        let m = [message("pending", None)];
        let doc: serde_json::Value =
            serde_json::from_str(&render_json(&m, &counts(&[("pending".into(), 1)])))
                .expect("json");
        assert_eq!(doc["counts"]["pending"], 1);
        assert_eq!(doc["messages"][0]["recipient"], "+79001234567");
        assert_eq!(doc["messages"][0]["transport"], serde_json::Value::Null);
    }
}
