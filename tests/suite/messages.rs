//! Messages that leave the system, on both backends: real SMTP delivery to an aiosmtpd server,
//! the HTTP SMS gateway with retries, backoff and dead letters (the worker driven by
//! `deliver_due` and the injected clock, never by sleeping), the development outbox page and
//! the `idp outbox` report. Sending never blocks or fails the person's request.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use idp::domain::messages::deliver_due;
use idp::store::outbox;
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::hidden;
use tests::{Backend, Options, TestApp};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::registration::{
    GOOD_PASSWORD, last_code, last_message, link_in, open_link, person, start, submit_code,
    submit_password,
};

/// Starts a server with `tweak` applied after the test defaults: no background delivery
/// (the test drives the worker) and no development outbox.
async fn app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut idp::Config) + Send + 'static,
) -> TestApp {
    TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(move |c| {
            c.messages.dev_outbox = false;
            // The background worker's first round would come in an hour: the test delivers.
            c.messages.poll_ms = 3_600_000;
            tweak(c);
        })),
    })
    .await
}

/// Python's aiosmtpd as a real SMTP server, writing each message to a JSON file.
struct SmtpSink {
    port: u16,
    dir: PathBuf,
    _child: tokio::process::Child,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let port = tests::cluster::free_port();
        let dir = std::env::temp_dir().join(format!(
            "idp-smtp-{}-{}",
            std::process::id(),
            idp::crypto::random_token(6)
        ));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/smtp_sink.sh");
        let mut child = tokio::process::Command::new("bash")
            .arg(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tests/tools/smtp_sink.sh");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // The first run installs aiosmtpd from PyPI; later runs start in a second.
        let ready = tokio::time::timeout(
            std::time::Duration::from_secs(300),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        assert!(
            matches!(ready, Ok(Ok(_))) && line.trim() == "ready",
            "the SMTP sink did not start (got {line:?}); see tests/tools/smtp_sink.sh"
        );
        SmtpSink {
            port,
            dir,
            _child: child,
        }
    }

    fn received(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tiny SMS gateway: records JSON POSTs; answers 500 while `failing`.
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<Value>>>,
    failing: Arc<AtomicBool>,
}

impl Gateway {
    async fn start() -> (Gateway, String) {
        let gw = Gateway::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
        let router = axum::Router::new()
            .route("/sms", axum::routing::post(receive))
            .with_state(gw.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (gw, url)
    }

    fn received(&self) -> Vec<Value> {
        self.received.lock().expect("lock").clone()
    }

    fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }
}

async fn receive(State(gw): State<Gateway>, Json(body): Json<Value>) -> AxumStatus {
    if gw.failing.load(Ordering::SeqCst) {
        return AxumStatus::INTERNAL_SERVER_ERROR;
    }
    gw.received.lock().expect("lock").push(body);
    AxumStatus::OK
}

async fn only_message(app: &TestApp, recipient: &str) -> outbox::OutboxMessage {
    let all = outbox::list(&app.state.db, Some(recipient), 10)
        .await
        .expect("outbox");
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().expect("one")
}

macro_rules! both {
    ($($name:ident($backend:ident) $body:block)*) => {
        $(
            mod $name {
                use super::*;
                async fn run($backend: Backend) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { run(Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() { run(Backend::Postgres).await }
            }
        )*
    };
}

both! {
    smtp_delivery_of_the_registration_link(backend) {
        let sink = SmtpSink::start().await;
        let port = sink.port;
        let app = app_with(backend, move |c| c.messages.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
        let b = app.browser();
        let (_, status, page) = start(&app, &b, person("", "smtp.user@example.ru"), "").await.page();
        assert_eq!(status, StatusCode::OK, "{page}");
        let queued = only_message(&app, "smtp.user@example.ru").await;
        assert_eq!((queued.status.as_str(), queued.transport.as_deref()), ("pending", None));

        assert_eq!(deliver_due(&app.state).await.expect("delivery round"), 1);
        let mail = sink.received();
        assert_eq!(mail.len(), 1, "{mail:?}");
        assert_eq!(mail[0]["rcpt_tos"], serde_json::json!(["smtp.user@example.ru"]));
        assert_eq!(mail[0]["subject"], "Подтвердите адрес электронной почты");
        let body = mail[0]["body"].as_str().expect("body");
        let link = link_in(body);
        assert!(link.starts_with(&app.url("/register/email?")), "{body}");
        let sent = only_message(&app, "smtp.user@example.ru").await;
        assert_eq!(sent.status, "sent");
        assert_eq!(sent.transport.as_deref(), Some("smtp"));
        assert_eq!(sent.attempts, 1);

        // The link that arrived by mail completes the registration.
        let (url, _, html) = open_link(&b, &link).await.page();
        assert!(url.contains("/register/password"), "{url}");
        let (_, status, done) = submit_password(&b, &html, GOOD_PASSWORD, GOOD_PASSWORD).await.page();
        assert_eq!(status, StatusCode::OK, "{done}");
        assert!(done.contains("Регистрация завершена"));
    }

    sms_gateway_retries_with_backoff_then_delivers(backend) {
        let (gw, url) = Gateway::start().await;
        let app = app_with(backend, move |c| c.messages.sms_gateway_url = Some(url)).await;
        let phone = "+79005550201";
        let b = app.browser();
        let (_, _, html) = start(&app, &b, person(phone, ""), "").await.page();
        assert_eq!(deliver_due(&app.state).await.expect("round"), 1);
        let code = last_code(&app, phone).await;
        let got = gw.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["to"], phone);
        assert!(got[0]["text"].as_str().expect("text").contains(&code), "the code arrives: {got:?}");
        let m = last_message(&app, phone).await;
        assert_eq!((m.status.as_str(), m.transport.as_deref()), ("sent", Some("sms-gateway")));

        // The gateway fails: the person's request still succeeds at once.
        gw.fail(true);
        app.clock.advance(61);
        let reg = hidden(&html, "reg");
        let csrf = hidden(&html, "csrf");
        let (_, status, page) = b
            .post_form("/register/code", &[("reg", reg.as_str()), ("csrf", csrf.as_str()), ("action", "resend")])
            .await
            .page();
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Новый код отправлен"));
        let new_code = last_code(&app, phone).await;

        assert_eq!(deliver_due(&app.state).await.expect("round"), 0);
        let m = last_message(&app, phone).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
        assert!(m.last_error.as_deref().is_some_and(|e| e.contains("500")), "{m:?}");
        // Not due again before the backoff (10 s after the first failure).
        assert_eq!(deliver_due(&app.state).await.expect("round"), 0);
        assert_eq!(last_message(&app, phone).await.attempts, 1);
        app.clock.advance(11);
        assert_eq!(deliver_due(&app.state).await.expect("round"), 0);
        let m = last_message(&app, phone).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 2));

        // The gateway recovers: delivered after the next backoff (20 s).
        gw.fail(false);
        app.clock.advance(21);
        assert_eq!(deliver_due(&app.state).await.expect("round"), 1);
        let m = last_message(&app, phone).await;
        assert_eq!((m.status.as_str(), m.attempts, m.last_error.as_deref()), ("sent", 3, None));
        assert!(gw.received().last().expect("second SMS")["text"].as_str().expect("text").contains(&new_code));

        // The code still works (well within its 5 minutes).
        let (url, _, _) = submit_code(&b, &html, &new_code).await.page();
        assert!(url.contains("/register/password"), "{url}");
    }

    sms_gateway_down_for_good_marks_the_message_dead(backend) {
        let (gw, url) = Gateway::start().await;
        gw.fail(true);
        let app = app_with(backend, move |c| {
            c.messages.sms_gateway_url = Some(url);
            c.messages.max_attempts = 3;
        })
        .await;
        let phone = "+79005550202";
        let (url, status, _) = start(&app, &app.browser(), person(phone, ""), "").await.page();
        assert_eq!(status, StatusCode::OK, "registration goes on while the gateway is down");
        assert!(url.contains("/register/code"));
        for attempt in 1..=3 {
            assert_eq!(deliver_due(&app.state).await.expect("round"), 0);
            let m = last_message(&app, phone).await;
            assert_eq!(m.attempts, attempt);
            assert_eq!(m.status, if attempt < 3 { "pending" } else { "dead" });
            app.clock.advance(3600);
        }
        // Dead messages are not retried.
        gw.fail(false);
        assert_eq!(deliver_due(&app.state).await.expect("round"), 0);
        assert!(gw.received().is_empty());

        // The operator sees it: `idp outbox` and its counts.
        let text = idp::cli::outbox::report(&app.state.db, Some("8 900 555-02-02"), 20, false).await.expect("report");
        assert!(text.contains("dead") && text.contains(phone), "{text}");
        assert!(text.contains("last error: SMS gateway answered 500"), "{text}");
        assert!(text.ends_with("pending: 0, sent: 0, dead: 1\n"), "{text}");
        let json: Value = serde_json::from_str(&idp::cli::outbox::report(&app.state.db, None, 20, true).await.expect("json")).expect("parse");
        assert_eq!(json["counts"]["dead"], 1);
        assert_eq!(json["messages"][0]["status"], "dead");
        assert_eq!(json["messages"][0]["attempts"], 3);

        // Without dev_outbox the development page does not exist.
        let resp = reqwest::get(app.url("/dev/outbox")).await.expect("GET");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn dev_outbox_page_shows_newest_messages(app: TestApp) {
        let b = app.browser();
        start(&app, &b, person("+79005550203", ""), "").await.page();
        app.clock.advance(1);
        start(&app, &b, person("", "dev.page@example.ru"), "").await.page();
        let code = last_code(&app, "+79005550203").await;

        let resp = reqwest::get(app.url("/dev/outbox")).await.expect("GET");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let all = resp.text().await.expect("body");
        assert!(all.contains("+79005550203") && all.contains("dev.page@example.ru"), "{all}");
        assert!(all.contains(&code));
        assert!(all.find("dev.page@example.ru") < all.find("+79005550203"), "newest first");

        let only = reqwest::get(app.url("/dev/outbox?to=8%20(900)%20555-02-03")).await.expect("GET").text().await.expect("body");
        assert!(only.contains(&code) && !only.contains("dev.page@example.ru"), "{only}");
        assert!(only.contains("phone_code"));
    }
}

#[test]
fn outbox_command_line() {
    use clap::Parser;
    let cli = idp::cli::Cli::try_parse_from([
        "idp",
        "outbox",
        "--to",
        "+79001234567",
        "--limit",
        "5",
        "--json",
    ])
    .expect("parses");
    match cli.command {
        idp::cli::Command::Outbox(a) => {
            assert_eq!(
                (a.to.as_deref(), a.limit, a.json),
                (Some("+79001234567"), 5, true)
            );
        }
        _ => panic!("not the outbox command"),
    }
    assert!(idp::cli::Cli::try_parse_from(["idp", "outbox", "--limit", "x"]).is_err());
}
