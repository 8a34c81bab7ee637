//! `/authorize` while Redis (the short-lived store) is down: once the client and its
//! redirect URI are validated (they come from the database), the browser goes back to the
//! client with `error=temporarily_unavailable`, `state` and `iss` (RFC 6749 §4.1.2.1,
//! RFC 9207); before that (an unknown client, an unregistered redirect URI) a page in
//! Russian; a login form posted while Redis is down gets a 503 page, never a 500. When Redis
//! is back, the same request starts a login again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tests::cluster::{CLIENT_ID, Cluster, REDIRECT_URI, Response, send};
use url::Url;

fn query(r: &Response, name: &str) -> Option<String> {
    let loc = r.location()?;
    let url = Url::parse(&loc).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An error page: HTML, no redirect, not an internal error.
fn page(r: &Response, status: StatusCode, text: &str) {
    assert_eq!(r.status, status, "{r}");
    assert!(r.content_type.starts_with("text/html"), "{r}");
    assert!(r.location().is_none(), "{r}");
    assert!(r.body.contains(text), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorize_with_redis_down_goes_back_to_the_client() {
    let c = Cluster::start(2).await;
    let browser = c.browser();
    // A login form shown before Redis goes (its transaction lives there).
    let (r, _) = c.authorize(&browser, 0, &[]).await.expect("authorize");
    let form = c
        .follow(&browser, 1, &r.location().expect("to the login page"))
        .await
        .expect("form");
    assert_eq!(form.status, StatusCode::OK, "{form}");

    c.redis.down();
    for node in 0..2 {
        let (r, _) = c
            .authorize(&browser, node, &[])
            .await
            .expect("an answer while Redis is down");
        assert!(r.status.is_redirection(), "node {node}: {r}");
        let loc = r.location().expect("location");
        assert!(loc.starts_with(REDIRECT_URI), "back to the client: {r}");
        assert_eq!(
            query(&r, "error").as_deref(),
            Some("temporarily_unavailable"),
            "{r}"
        );
        assert_eq!(query(&r, "state").as_deref(), Some("st"), "{r}");
        assert_eq!(query(&r, "iss").as_deref(), Some(c.issuer.as_str()), "{r}");
        assert!(query(&r, "code").is_none(), "{r}");
        let desc = query(&r, "error_description").unwrap_or_default();
        assert!(
            !desc.to_lowercase().contains("redis"),
            "no internals: {desc}"
        );
    }
    // Before validation: a readable page, never a redirect to an unchecked address.
    let unknown = Url::parse_with_params(
        &c.url(0, "/authorize"),
        &[
            ("client_id", "no-such-client"),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("state", "st"),
        ],
    )
    .expect("url");
    let r = send(browser.get(unknown)).await.expect("an answer");
    page(&r, StatusCode::BAD_REQUEST, "не зарегистрирован");
    let foreign = Url::parse_with_params(
        &c.url(1, "/authorize"),
        &[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "https://attacker.example/cb"),
            ("response_type", "code"),
            ("state", "st"),
        ],
    )
    .expect("url");
    let r = send(browser.get(foreign)).await.expect("an answer");
    page(
        &r,
        StatusCode::BAD_REQUEST,
        "Адрес возврата не зарегистрирован",
    );
    // The login form shown before: its transaction cannot be read, a 503 page in Russian.
    let tx = tests::browser::hidden(&form.body, "tx");
    let csrf = tests::browser::hidden(&form.body, "csrf");
    let posted = send(browser.post(c.url(0, "/login")).form(&[
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", tests::cluster::PHONE),
        ("password", tests::PASSWORD),
    ]))
    .await
    .expect("an answer");
    page(
        &posted,
        StatusCode::SERVICE_UNAVAILABLE,
        "Сервис временно недоступен",
    );

    c.redis.up();
    // The same request starts a login again once the Redis client has reconnected.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (r, _) = c.authorize(&browser, 1, &[]).await.expect("an answer");
        let loc = r.location().unwrap_or_default();
        if loc.contains("/login?tx=") {
            break;
        }
        assert_eq!(
            query(&r, "error").as_deref(),
            Some("temporarily_unavailable"),
            "while reconnecting: {r}"
        );
        assert!(
            Instant::now() < deadline,
            "no recovery after Redis returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, verifier) = c.log_in(&browser, [0, 1, 0]).await.expect("login");
    let r = c.redeem(1, &code, &verifier).await.expect("token");
    assert_eq!(r.status, StatusCode::OK, "{r}");
}
