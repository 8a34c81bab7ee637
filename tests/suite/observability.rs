//! Production shape, observed from outside: `/metrics` counts requests, logins and tokens;
//! `X-Request-Id` is echoed (kept only from a trusted proxy); `X-Forwarded-For` moves the
//! client address only when the TCP peer is a configured proxy; `/health/ready`; and, on
//! PostgreSQL + Redis, two nodes on one database see each other's client deletions and key
//! rotations at once (Redis pub/sub).

use std::time::{Duration, Instant};

use idp::cli::admin::KeysAction;
use idp::protocol::acr::Level;
use idp::store::admins;
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::param;
use tests::{Backend, Browser, Options, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn params(client: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "s"),
    ]
}

async fn metrics(app: &TestApp) -> String {
    let resp = http()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().await.expect("text")
}

/// The value of the sample `line_start` (a metric name with its labels), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .map(|v| v.parse().expect("number"))
        .unwrap_or(0.0)
}

/// A browser that sends `X-Forwarded-For: xff` on every request.
fn browser_behind_proxy(app: &TestApp, xff: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", xff.parse().unwrap());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client");
    Browser {
        http,
        base: app.base.clone(),
    }
}

/// Signs in through a proxy header and returns the address the login history recorded.
async fn recorded_address(app: &TestApp, phone: &str) -> String {
    app.client("obs", "openid").await;
    app.user(phone, Level::Simplified).await;
    let b = browser_behind_proxy(app, "198.51.100.1, 203.0.113.7");
    let back = b.sign_in(&params("obs"), phone, PASSWORD).await;
    assert!(param(&back, "code").is_some(), "{back}");
    let resp = b
        .http
        .get(app.url("/api/logins"))
        .send()
        .await
        .expect("logins");
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Value = resp.json().await.expect("json");
    list["items"][0]["ip"].as_str().expect("ip").to_owned()
}

async fn app_with(backend: Backend, tweak: fn(&mut idp::Config)) -> TestApp {
    TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(tweak)),
    })
    .await
}

macro_rules! with_config {
    ($tweak:expr; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(app_with(Backend::Sqlite, $tweak).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(app_with(Backend::Postgres, $tweak).await).await
                }
            }
        )*
    };
}

on_both_backends! {
    async fn metrics_count_a_token_request_and_a_failed_login(app: TestApp) {
        let client = app.client("obs", "openid").await;
        let phone = "+79007770001";
        app.user(phone, Level::Simplified).await;
        let before = metrics(&app).await;
        assert!(before.contains("# TYPE idp_http_request_duration_seconds histogram"), "{before}");
        assert!(before.contains("idp_outbox_pending "), "{before}");
        assert!(before.contains("idp_jobs_pending "), "{before}");

        // A failed login, then a good one and a code exchange.
        let b = app.browser();
        let (_, _, html) = b.authorize(&params("obs")).await.page();
        let (_, status, html) = b.submit_login(&html, phone, "wrong-password", false).await.page();
        assert_eq!(status, 401);
        let after = b.submit_login(&html, phone, PASSWORD, false).await;
        let back = b.back_to_client(after).await;
        app.id_claims(&client, &back).await;

        let text = metrics(&app).await;
        let login_failed = "idp_logins_total{method=\"pwd\",outcome=\"wrong_password\"}";
        let login_ok = "idp_logins_total{method=\"pwd\",outcome=\"success\"}";
        let tokens = "idp_tokens_issued_total{grant_type=\"authorization_code\"}";
        let token_route = "idp_http_requests_total{route=\"/token\",method=\"POST\",status=\"2xx\"}";
        let login_401 = "idp_http_requests_total{route=\"/login\",method=\"POST\",status=\"4xx\"}";
        assert_eq!(sample(&text, login_failed), sample(&before, login_failed) + 1.0, "{text}");
        assert_eq!(sample(&text, login_ok), sample(&before, login_ok) + 1.0, "{text}");
        assert_eq!(sample(&text, tokens), sample(&before, tokens) + 1.0, "{text}");
        assert_eq!(sample(&text, token_route), 1.0, "{text}");
        assert_eq!(sample(&text, login_401), 1.0, "{text}");
        let count = "idp_http_request_duration_seconds_count{route=\"/token\",method=\"POST\",status=\"2xx\"}";
        let inf = "idp_http_request_duration_seconds_bucket{route=\"/token\",method=\"POST\",status=\"2xx\",le=\"+Inf\"}";
        assert_eq!(sample(&text, count), 1.0, "{text}");
        assert_eq!(sample(&text, inf), 1.0, "{text}");
        // Route templates, never raw paths or query strings.
        let _ = http().get(app.url("/no/such/page?secret=1")).send().await.expect("404");
        let text = metrics(&app).await;
        assert!(text.contains("route=\"unmatched\",method=\"GET\",status=\"4xx\""), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("/no/such/page"), "{text}");
    }

    async fn request_ids_are_made_and_echoed_but_not_taken_from_strangers(app: TestApp) {
        let resp = http().get(app.url("/health/live")).send().await.expect("live");
        let made = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(made.len() >= 12, "{made}");
        let again = http().get(app.url("/health/live")).send().await.expect("live");
        assert_ne!(again.headers()["x-request-id"], made.as_str());
        // 127.0.0.1 is not a trusted proxy here: its id is replaced.
        let resp = http()
            .get(app.url("/health/live"))
            .header("x-request-id", "lb-4f2a-0001")
            .send()
            .await
            .expect("live");
        let id = resp.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, "lb-4f2a-0001");
        // ... and X-Forwarded-For does not move the client address.
        assert_eq!(recorded_address(&app, "+79007770002").await, "127.0.0.1");
    }

    async fn readiness_reflects_the_database_and_the_cache(app: TestApp) {
        let resp = http().get(app.url("/health/ready")).send().await.expect("ready");
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["status"], "ready", "{body}");
        assert_eq!(body["database"], "ok", "{body}");
        assert_eq!(body["cache"], "ok", "{body}");
        let live = http().get(app.url("/health/live")).send().await.expect("live");
        assert_eq!(live.status(), StatusCode::OK);
    }
}

with_config! {
    |c| c.server.trusted_proxies = vec!["127.0.0.0/8".into()];

    async fn a_trusted_proxy_gives_the_client_address_and_request_id(app: TestApp) {
        let resp = http()
            .get(app.url("/health/live"))
            .header("x-request-id", "lb-4f2a-0001")
            .send()
            .await
            .expect("live");
        assert_eq!(resp.headers()["x-request-id"], "lb-4f2a-0001");
        // An id that cannot go into a log line unescaped is replaced even from a proxy.
        let resp = http()
            .get(app.url("/health/live"))
            .header("x-request-id", "a b\"c")
            .send()
            .await
            .expect("live");
        assert_ne!(resp.headers()["x-request-id"], "a b\"c");
        // The right-most hop that is not a proxy: 198.51.100.1 may be forged by the client.
        assert_eq!(recorded_address(&app, "+79007770003").await, "203.0.113.7");
    }
}

with_config! {
    |c| c.metrics.bearer_token = Some("scrape-token-123".into());

    async fn metrics_can_require_a_bearer_token(app: TestApp) {
        let resp = http().get(app.url("/metrics")).send().await.expect("metrics");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = http()
            .get(app.url("/metrics"))
            .bearer_auth("wrong")
            .send()
            .await
            .expect("metrics");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = http()
            .get(app.url("/metrics"))
            .bearer_auth("scrape-token-123")
            .send()
            .await
            .expect("metrics");
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

with_config! {
    |c| c.metrics.enabled = false;

    async fn metrics_can_be_turned_off(app: TestApp) {
        let resp = http().get(app.url("/metrics")).send().await.expect("metrics");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
}

/// A second node on the same database and Redis (same configuration, another port),
/// serving until the test ends.
async fn second_node(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut config = app.state.config.clone();
    config.server.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let node = idp::App::build(config, app.clock.clone())
        .await
        .expect("second node");
    tokio::spawn(node.serve(listener, std::future::pending()));
    format!("http://127.0.0.1:{port}")
}

/// Waits (bounded) until `node` reports `n` invalidation messages received.
async fn invalidations_reach(node: &str, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = http()
            .get(format!("{node}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if sample(&text, "idp_cache_invalidations_received_total") >= n {
            return;
        }
        assert!(Instant::now() < deadline, "no invalidation reached {node}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_see_each_others_client_deletions_and_key_rotations() {
    let a = TestApp::start(Backend::Postgres).await;
    a.client("shared", "openid").await;
    let b = second_node(&a).await;
    let authorize = |base: &str| {
        let url = url::Url::parse_with_params(&format!("{base}/authorize"), params("shared"))
            .expect("url");
        async move { http().get(url).send().await.expect("authorize") }
    };
    // Node B knows (and caches) the client.
    let first = authorize(&b).await;
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        first.headers()
    );

    // Deleted through node A's admin API: node B refuses it as soon as the message arrives,
    // not after its 5-second cache expiry.
    let (_, token) = admins::create(&a.state.db, &a.state.secrets, "Интеграция", a.clock.now())
        .await
        .expect("admin");
    let deleted = http()
        .delete(a.url("/api/admin/clients/shared"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    invalidations_reach(&b, 1.0).await;
    let after = authorize(&b).await;
    assert_eq!(
        after.status(),
        StatusCode::BAD_REQUEST,
        "{:?}",
        after.headers()
    );

    // Keys rotated by the CLI (`idp keys rotate`) on A's state: B serves the new keys.
    let jwks = |base: String| async move {
        http()
            .get(format!("{base}/jwks"))
            .send()
            .await
            .expect("jwks")
            .text()
            .await
            .expect("text")
    };
    let old = jwks(b.clone()).await;
    let received = sample(
        &http()
            .get(format!("{b}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text"),
        "idp_cache_invalidations_received_total",
    );
    idp::cli::admin::keys(&a.state, KeysAction::Rotate { activate_in: 0 })
        .await
        .expect("rotate");
    invalidations_reach(&b, received + 1.0).await;
    let new = jwks(b.clone()).await;
    let kids = |doc: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(doc).expect("json");
        v["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    assert_eq!(kids(&new).len(), kids(&old).len() + 2, "{old}\n{new}");
}

/// A TCP proxy to Redis that can be cut (every connection closed, new ones refused) and
/// restored.
struct CuttableProxy {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    async fn start(upstream: &'static str) -> CuttableProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (cut, watcher) = tokio::sync::watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watcher.borrow() {
                    continue;
                }
                let mut cut_signal = watcher.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
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
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut.send_replace(true);
        self.accept.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_the_cache_when_redis_is_away_and_recovers() {
    let proxy = CuttableProxy::start("127.0.0.1:6379").await;
    let port = proxy.port;
    let app = TestApp::start_with(Options {
        backend: Backend::Postgres,
        database_url: None,
        tweak: Some(Box::new(move |c| {
            c.cache.url = Some(format!("redis://127.0.0.1:{port}"));
        })),
    })
    .await;
    let ready = |app: &TestApp| {
        let url = app.url("/health/ready");
        async move {
            let resp = http().get(url).send().await.expect("ready");
            let status = resp.status();
            (status, resp.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = ready(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    proxy.cut.send_replace(true);
    let (status, body) = ready(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    assert_eq!(body["cache"], "down", "{body}");
    assert_eq!(body["failed"], serde_json::json!(["cache"]), "{body}");

    proxy.cut.send_replace(false);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = ready(&app).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready after Redis came back: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The invalidation subscriber came back too, and dropped what it may have missed.
    invalidations_reach(&app.base, 1.0).await;
}
