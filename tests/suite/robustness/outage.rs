//! PostgreSQL goes away and comes back. The provider talks to the database through a TCP
//! proxy the test can cut (every live connection closed, new ones refused). While cut, the
//! endpoints that need the database answer 503 (`temporarily_unavailable`, or a readable
//! page) without leaking internals; once restored, the same requests succeed again, and
//! nothing half-done was left behind: a refresh attempted during the outage did not spend
//! the refresh token.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::protocol::acr::Level;
use sqlx::Connection;
use tests::browser::{hidden, param};
use tests::{Backend, Options, PASSWORD, PG_BASE_URL, TestApp};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::{Reply, http, send};

/// A TCP proxy to PostgreSQL that can be cut and restored.
struct CuttableProxy {
    port: u16,
    cut: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    async fn start(upstream: &'static str) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (cut, watcher) = watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watcher.borrow() {
                    drop(inbound); // refused: closed at once
                    continue;
                }
                let mut cut_signal = watcher.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_signal.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        CuttableProxy { port, cut, accept }
    }

    /// Closes every live connection and refuses new ones.
    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut.send_replace(true);
        self.accept.abort();
    }
}

const VERIFIER: &str = "outage-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_and_recovers_without_half_done_work() {
    let proxy = CuttableProxy::start("127.0.0.1:5432").await;
    let app = TestApp::start_with(Options {
        backend: Backend::Postgres,
        database_url: Some(format!(
            "postgres://postgres@127.0.0.1:{}/{{db}}",
            proxy.port
        )),
        tweak: None,
    })
    .await;
    assert!(
        app.database_url.contains(&format!(":{}/", proxy.port)),
        "{}",
        app.database_url
    );
    let (id, secret) = app.client("outage-rp", "openid profile").await;
    app.user("+79005550777", Level::Simplified).await;
    app.user("+79005550778", Level::Simplified).await;
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        VERIFIER.as_bytes(),
    ));
    let params = [
        ("client_id", id.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("redirect_uri", "https://rp.example/cb"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];

    // Before the outage: tokens from a code, a second code not yet redeemed, and a login
    // form of another person, filled in but not yet sent.
    let browser = app.browser();
    let back = browser.sign_in(&params, "+79005550777", PASSWORD).await;
    let tokens = redeem(&app, &id, &secret, &param(&back, "code").expect("code")).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let tokens: serde_json::Value = serde_json::from_str(&tokens.body).expect("json");
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string();
    let back = browser.sign_in(&params, "+79005550777", PASSWORD).await;
    let second_code = param(&back, "code").expect("code");
    let late = app.browser();
    let (url, _, login_html) = late.authorize(&params).await.page();
    assert!(url.contains("/login"), "{url}");
    let login_form = [
        ("tx", hidden(&login_html, "tx")),
        ("csrf", hidden(&login_html, "csrf")),
        ("login", "+79005550778".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let rows_before = row_counts(&app).await;

    proxy.cut();

    let ready = send(http().get(app.url("/health/ready"))).await;
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_no_internals(&ready);

    let info = send(http().get(app.url("/userinfo")).bearer_auth(&access)).await;
    info.assert_oauth_error(503, "temporarily_unavailable");
    assert!(info.headers.contains_key("retry-after"), "{info:?}");
    assert_no_internals(&info);

    let refreshed = refresh_with(&app, &id, &secret, &refresh).await;
    refreshed.assert_oauth_error(503, "temporarily_unavailable");
    assert_no_internals(&refreshed);

    let redeemed = redeem(&app, &id, &secret, &second_code).await;
    redeemed.assert_oauth_error(503, "temporarily_unavailable");
    assert_no_internals(&redeemed);

    let login = submit(&late, &app, &login_form).await;
    assert_eq!(login.status, 503, "{login:?}");
    assert!(
        login.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html"),
        "{login:?}"
    );
    assert!(
        login.body.contains("Сервис временно недоступен"),
        "{}",
        login.body
    );
    assert_no_internals(&login);

    let page = send(http().get(app.url(&format!(
        "/authorize?client_id={id}&response_type=code&scope=openid"
    ))))
    .await;
    assert!(matches!(page.status, 303 | 503), "{page:?}");
    assert_no_internals(&page);

    proxy.restore();

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = send(http().get(app.url("/health/ready"))).await;
        if ready.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready 20 s after the database came back: {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Nothing was written while the database was away.
    assert_eq!(row_counts(&app).await, rows_before);
    let info = send(http().get(app.url("/userinfo")).bearer_auth(&access)).await;
    assert_eq!(info.status, 200, "{info:?}");
    // The refresh attempted during the outage did not spend the token.
    let refreshed = refresh_with(&app, &id, &secret, &refresh).await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    // The code redeemed during the outage was given back: it still works, once.
    let redeemed = redeem(&app, &id, &secret, &second_code).await;
    assert_eq!(redeemed.status, 200, "{redeemed:?}");
    let again = redeem(&app, &id, &secret, &second_code).await;
    again.assert_oauth_error(400, "invalid_grant");
    // The login form sent during the outage can be sent again and goes on.
    let login = submit(&late, &app, &login_form).await;
    assert_eq!(login.status, 303, "{login:?}");
    let next = login.headers["location"].to_str().expect("location");
    assert!(
        next.starts_with("/consent?tx=") || next.starts_with("https://rp.example/cb?"),
        "{next}"
    );
}

async fn redeem(app: &TestApp, id: &str, secret: &str, code: &str) -> Reply {
    send(
        http()
            .post(app.url("/token"))
            .basic_auth(id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", "https://rp.example/cb"),
                ("code_verifier", VERIFIER),
            ]),
    )
    .await
}

async fn refresh_with(app: &TestApp, id: &str, secret: &str, refresh: &str) -> Reply {
    send(
        http()
            .post(app.url("/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
    )
    .await
}

async fn submit(browser: &tests::Browser, app: &TestApp, form: &[(&str, String)]) -> Reply {
    send(browser.http.post(app.url("/login")).form(form)).await
}

/// Bodies seen by people and clients never name the database or the driver.
#[track_caller]
fn assert_no_internals(reply: &Reply) {
    let body = reply.body.to_lowercase();
    for word in ["postgres", "sqlx", "connection", "pool", "tcp", "127.0.0.1"] {
        assert!(!body.contains(word), "{word:?} leaked in {reply:?}");
    }
}

/// Rows of the tables a flow writes, read directly (not through the proxy).
async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let db = app.database_url.rsplit('/').next().expect("database name");
    let mut conn = sqlx::PgConnection::connect(&format!("{PG_BASE_URL}/{db}"))
        .await
        .expect("direct connection");
    let mut counts = Vec::new();
    for table in [
        "grants",
        "refresh_tokens",
        "sessions",
        "consents",
        "revoked_tokens",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .expect("count");
        counts.push((table, n));
    }
    let _ = conn.close().await;
    counts
}
