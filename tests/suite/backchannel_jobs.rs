//! Back-channel logout as a durable job, on both backends: a logout while the relying party's
//! endpoint is down is kept (nothing delivered) and delivered by the worker once it is up, with
//! a logout token that verifies against the JWKS and the same `jti` on every attempt; two job
//! rounds racing deliver once; a relying party that never takes it is given up after
//! `jobs.backchannel_max_attempts` (counted in `/metrics`); a client without a URI gets no job.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use idp::domain::backchannel::JOB_KIND;
use idp::domain::clients::ClientSpec;
use idp::domain::jobs::run_due_jobs;
use idp::protocol::acr::Level;
use idp::store::jobs::{self, Job};
use serde_json::{Value, json};
use tests::browser::param;
use tests::jwt::{decode, verify};
use tests::{Backend, Options, PASSWORD, TestApp};
use tokio::sync::mpsc::UnboundedReceiver;

const CB: &str = "https://rp.example/cb";
const SECRET: &str = "bcl-jobs-client-secret-0123456789";
const LOGIN: &str = "+79001120001";
const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

async fn by_hand(backend: Backend) -> TestApp {
    TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(|c| {
            c.jobs.worker = false;
            c.jobs.backchannel_max_attempts = 2;
        })),
    })
    .await
}

/// A relying party's back-channel endpoint on a fixed port: every POSTed `logout_token` is
/// forwarded; the first `refuse` of them are answered 503, the rest 200.
struct Rp {
    uri: String,
    port: u16,
}

impl Rp {
    /// A port with nothing listening yet (connections are refused until [`Rp::up`]).
    async fn down() -> Rp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        Rp {
            uri: format!("http://127.0.0.1:{port}/backchannel"),
            port,
        }
    }

    async fn up(&self, refuse: usize) -> UnboundedReceiver<String> {
        use axum::routing::post;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let router = axum::Router::new().route(
            "/backchannel",
            post(
                move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                    let tx = tx.clone();
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                        if n < refuse {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE
                        } else {
                            axum::http::StatusCode::OK
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the relying party's port again");
        tokio::spawn(async move { axum::serve(listener, router).await });
        rx
    }
}

/// Registers client `id`, with a back-channel endpoint if given.
async fn client(app: &TestApp, id: &str, backchannel: Option<&str>) {
    app.client_spec(ClientSpec {
        id: id.into(),
        name: format!("Сайт {id}"),
        secret: Some(SECRET.into()),
        redirect_uris: vec![CB.into()],
        scopes: "openid".into(),
        backchannel_logout_uri: backchannel.map(str::to_owned),
        ..ClientSpec::default()
    })
    .await;
}

/// Signs in at `client_id` (SSO after the first) and returns the ID token and its claims.
async fn sign_in(app: &TestApp, browser: &tests::Browser, client_id: &str) -> (String, Value) {
    let params = [
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
        ("nonce", "n-1"),
    ];
    let back = browser.sign_in(&params, LOGIN, PASSWORD).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let resp = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let id_token = body["id_token"].as_str().expect("id_token").to_owned();
    let claims = decode(&id_token).1;
    (id_token, claims)
}

/// RP-initiated logout of the browser's session.
async fn log_out(app: &TestApp, browser: &tests::Browser, id_token: &str) {
    let url = url::Url::parse_with_params(&app.url("/logout"), &[("id_token_hint", id_token)])
        .expect("url");
    let (_, status, _) = browser.visit(url.as_str()).await.page();
    assert_eq!(status, 200);
}

async fn bcl_jobs(app: &TestApp) -> Vec<Job> {
    jobs::of_kind(&app.state.db, JOB_KIND, 50)
        .await
        .expect("jobs")
}

/// Waits (bounded) until `check` holds for the back-channel jobs.
async fn until_jobs(app: &TestApp, what: &str, check: impl Fn(&[Job]) -> bool) -> Vec<Job> {
    for _ in 0..100 {
        let found = bcl_jobs(app).await;
        if check(&found) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for: {what}; jobs: {:?}",
        bcl_jobs(app).await
    );
}

async fn next_token(rx: &mut UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a logout token within 10 s")
        .expect("listener open")
}

async fn metrics(app: &TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

on_both_backends! {
    async fn a_logout_waits_for_a_relying_party_that_is_down(app: TestApp) {
        let rp = Rp::down().await;
        client(&app, "rp-down", Some(&rp.uri)).await;
        let sub = app.user(LOGIN, Level::Standard).await;
        let browser = app.browser();
        let (id_token, id_claims) = sign_in(&app, &browser, "rp-down").await;
        let sid = id_claims["sid"].as_str().expect("sid").to_owned();
        log_out(&app, &browser, &id_token).await;

        // The worker (on by default) tried and failed: the job waits for its next attempt.
        let found = until_jobs(&app, "a failed first attempt", |j| {
            j.len() == 1 && j[0].status == "pending" && j[0].attempts == 1
        })
        .await;
        let job = &found[0];
        assert_eq!(job.user_id, None, "not dropped with the account's jobs");
        assert_eq!(job.last_error.as_deref(), Some("connection failed"));
        assert!(job.run_at > app.clock.now(), "backoff: {job:?}");
        assert_eq!(job.payload["sid"], sid.as_str());
        let text = metrics(&app).await;
        assert!(
            text.contains(&format!("idp_jobs{{kind=\"{JOB_KIND}\",status=\"pending\"}} 1")),
            "{text}"
        );

        // The endpoint comes up answering 503 once, then 200: two more attempts, moved
        // forward in time past each backoff; the worker delivers.
        let mut received = rp.up(1).await;
        app.clock.advance(job.run_at - app.clock.now() + 1);
        let refused = next_token(&mut received).await;
        let job = until_jobs(&app, "the second attempt", |j| j[0].attempts == 2 && j[0].status == "pending").await;
        app.clock.advance(job[0].run_at - app.clock.now() + 1);
        let token = next_token(&mut received).await;
        until_jobs(&app, "the job done", |j| j[0].status == "done").await;

        let (header, claims) = verify(&app, &token).await;
        assert_eq!(header["typ"], "logout+jwt");
        assert_eq!(claims["iss"], app.base.as_str());
        assert!(claims["aud"] == "rp-down" || claims["aud"] == json!(["rp-down"]), "{claims}");
        assert_eq!(claims["sub"], sub.as_str());
        assert_eq!(claims["sid"], sid.as_str());
        assert_eq!(claims["events"], json!({ BCL_EVENT: {} }));
        assert!(claims.get("nonce").is_none(), "{claims}");
        assert!(claims["exp"].as_i64() > claims["iat"].as_i64(), "{claims}");
        // Built at each attempt (a fresh `iat`), one `jti` for the one logout.
        let first = verify(&app, &refused).await.1;
        assert_eq!(first["jti"], claims["jti"]);
        assert!(first["iat"].as_i64() < claims["iat"].as_i64(), "{first} / {claims}");
        let done = bcl_jobs(&app).await;
        assert_eq!(done[0].payload, json!({}), "the payload is erased once done");
        assert!(received.try_recv().is_err(), "delivered once");
    }
}

// Each test runs on both backends with the background job worker off: rounds are run by
// the test with `run_due_jobs`; a relying party is given up after two attempts.
on_both_backends! {
    start = by_hand;
    async fn racing_rounds_deliver_once(app: TestApp) {
        let rp = Rp::down().await;
        let mut received = rp.up(0).await;
        client(&app, "rp-race", Some(&rp.uri)).await;
        client(&app, "rp-no-uri", None).await;
        app.user(LOGIN, Level::Standard).await;
        let browser = app.browser();
        let (id_token, _) = sign_in(&app, &browser, "rp-race").await;
        sign_in(&app, &browser, "rp-no-uri").await;
        log_out(&app, &browser, &id_token).await;

        // One job: the client without a back-channel URI gets none.
        let queued = bcl_jobs(&app).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        assert_eq!(queued[0].payload["client_id"], "rp-race");
        assert!(received.try_recv().is_err(), "nothing is sent outside a job round");

        let (a, b) = tokio::join!(run_due_jobs(&app.state), run_due_jobs(&app.state));
        assert_eq!(a.expect("round") + b.expect("round"), 1, "one claim wins");
        let token = next_token(&mut received).await;
        assert_eq!(verify(&app, &token).await.1["aud"], "rp-race");
        assert_eq!(bcl_jobs(&app).await[0].status, "done");
        assert_eq!(run_due_jobs(&app.state).await.expect("round"), 0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(received.try_recv().is_err(), "a second delivery");
    }

    async fn a_relying_party_that_never_answers_is_given_up(app: TestApp) {
        let rp = Rp::down().await;
        client(&app, "rp-gone", Some(&rp.uri)).await;
        app.user(LOGIN, Level::Standard).await;
        let browser = app.browser();
        let (id_token, _) = sign_in(&app, &browser, "rp-gone").await;
        log_out(&app, &browser, &id_token).await;

        assert_eq!(run_due_jobs(&app.state).await.expect("round"), 1);
        let job = &bcl_jobs(&app).await[0];
        assert_eq!((job.status.as_str(), job.attempts), ("pending", 1));
        assert_eq!(run_due_jobs(&app.state).await.expect("round"), 0, "not due before its backoff");
        app.clock.advance(job.run_at - app.clock.now());
        assert_eq!(run_due_jobs(&app.state).await.expect("round"), 1);
        let job = &bcl_jobs(&app).await[0];
        assert_eq!((job.status.as_str(), job.attempts), ("failed", 2), "{job:?}");
        assert_eq!(job.last_error.as_deref(), Some("connection failed"));
        assert_eq!(job.payload, json!({}), "the payload is erased");
        app.clock.advance(86_400);
        assert_eq!(run_due_jobs(&app.state).await.expect("round"), 0);
        let text = metrics(&app).await;
        assert!(
            text.contains(&format!("idp_jobs{{kind=\"{JOB_KIND}\",status=\"failed\"}} 1")),
            "{text}"
        );
        assert!(text.contains("idp_jobs_pending 0"), "{text}");
    }
}
