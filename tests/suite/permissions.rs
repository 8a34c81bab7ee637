//! Permissions (разрешения) over HTTP, on both backends: an ESIA `permissions` request is
//! shown on the consent page (purpose, actions, validity) and stored; a malformed one goes
//! back to the client as `invalid_request`; the cabinet page and API list active, expired and
//! revoked permissions; "Отозвать" (a plain form with csrf) ends the client's access at once
//! (refresh `invalid_grant`, userinfo 401, introspection inactive, a back-channel logout
//! token, a feed event) and keeps the history; an expired permission ends its grants and is
//! asked for again.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::domain::clients::ClientSpec;
use idp::protocol::acr::Level;
use idp::store::events;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";
const SECRET: &str = "perm-client-secret-0123456789";
const LOGIN: &str = "+79001110001";

/// The ESIA permission request the tests send: `minutes` of validity.
fn permissions(minutes: i64, purpose: &str) -> String {
    let v = json!([{
        "sysname": "SFR_PENSION_ACCOUNT",
        "expire": minutes,
        "actions": [{ "sysname": "ALL_ACTIONS_TO_DATA" }],
        "purposes": [{ "sysname": purpose }],
        "scopes": [{ "sysname": "fullname" }, { "sysname": "birthdate" }],
    }]);
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Registers client `id` (with a back-channel logout endpoint if given).
async fn client(app: &TestApp, id: &str, backchannel: Option<String>) {
    app.client_spec(ClientSpec {
        id: id.into(),
        name: format!("Фонд {id}"),
        secret: Some(SECRET.into()),
        redirect_uris: vec![CB.into()],
        scopes: "openid fullname birthdate".into(),
        backchannel_logout_uri: backchannel,
        ..ClientSpec::default()
    })
    .await;
}

async fn authorize(b: &Browser, client_id: &str, perms: Option<&str>) -> Outcome {
    let mut params = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid fullname birthdate"),
        ("redirect_uri", CB),
        ("state", "st"),
    ];
    if let Some(p) = perms {
        params.push(("permissions", p));
    }
    b.authorize(&params).await
}

/// Logs in if asked; returns what follows (the consent page or the way back).
async fn past_login(b: &Browser, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Page {
            ref url, ref html, ..
        } if url.contains("/login") => b.submit_login(html, LOGIN, PASSWORD, false).await,
        other => other,
    }
}

async fn post(app: &TestApp, client_id: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(app.url(path))
        .basic_auth(client_id, Some(SECRET))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Exchanges the code of `back`; returns (access token, refresh token).
async fn tokens(app: &TestApp, client_id: &str, back: &url::Url) -> (String, String) {
    let code = param(back, "code").expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
    ];
    let (status, body) = post(app, client_id, "/token", &form).await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().expect("at").to_owned(),
        body["refresh_token"].as_str().expect("rt").to_owned(),
    )
}

async fn refresh(app: &TestApp, client_id: &str, rt: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", rt)];
    post(app, client_id, "/token", &form).await
}

async fn userinfo(app: &TestApp, at: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .expect("userinfo")
        .status()
}

async fn introspect(app: &TestApp, client_id: &str, token: &str) -> Value {
    let (status, body) = post(app, client_id, "/introspect", &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The permissions API of the browser's person.
async fn api_list(app: &TestApp, b: &Browser) -> Value {
    let resp = b
        .http
        .get(app.url("/api/permissions"))
        .send()
        .await
        .expect("api");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("JSON")
}

/// The HTML of one status section of the permissions page.
fn section<'a>(html: &'a str, status: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{status}\""))
        .unwrap_or_else(|| panic!("no section {status}"));
    let rest = &html[start..];
    let end = rest[1..].find("<h2").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

async fn logout_listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/backchannel",
        post(
            move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/backchannel",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, rx)
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("claims")
}

on_both_backends! {
    async fn a_permission_request_is_shown_stored_and_revoked_at_once(app: TestApp) {
        let (uri, mut received) = logout_listener().await;
        client(&app, "sfr", Some(uri)).await;
        let sub = app.user(LOGIN, Level::Standard).await;
        let b = app.browser();
        let perms = permissions(43_200, "IDENTIFICATION");

        // The consent page names the purpose, the actions and the validity.
        let consent = past_login(&b, authorize(&b, "sfr", Some(&perms)).await).await;
        let (url, _, html) = consent.page();
        assert!(url.contains("/consent"), "{url}");
        assert!(html.contains("Идентификация личности"), "{html}");
        assert!(html.contains("Любые действия с данными"), "{html}");
        assert!(html.contains("30 дн."), "{html}");
        let back = b.submit_consent(&html, "allow").await.left();
        let (at, rt) = tokens(&app, "sfr", &back).await;
        assert_eq!(userinfo(&app, &at).await, StatusCode::OK);

        // Stored: the API and the page list it as active with purpose and expiry.
        let list = api_list(&app, &b).await;
        let p = &list["elements"][0];
        assert_eq!(p["client_id"], "sfr");
        assert_eq!(p["status"], "active");
        assert_eq!(p["purposes"][0]["sysname"], "IDENTIFICATION");
        assert_eq!(p["actions"], json!(["ALL_ACTIONS_TO_DATA"]));
        let expires = p["expires_at"].as_i64().expect("expires_at");
        assert!((expires - app.clock.now() - 43_200 * 60).abs() < 60, "{p}");
        assert!(p["items"].as_array().is_some_and(|i| i.iter().any(|x| x == "Дата рождения")), "{p}");

        // The same request again needs no new consent.
        let again = authorize(&b, "sfr", Some(&perms)).await.left();
        assert!(param(&again, "code").is_some(), "{again}");

        let (_, status, html) = b.visit(&app.url("/profile/permissions")).await.page();
        assert_eq!(status, 200);
        assert!(section(&html, "active").contains("Фонд sfr"), "{html}");
        assert!(section(&html, "active").contains("Идентификация личности"));
        assert!(!section(&html, "revoked").contains("Фонд sfr"));

        // "Отозвать": a plain form; a wrong csrf changes nothing.
        let csrf = hidden(&html, "csrf");
        let (_, status, _) = b
            .post_form("/profile/permissions", &[("csrf", "wrong"), ("client_id", "sfr")])
            .await
            .page();
        assert_eq!(status, 403);
        assert_eq!(userinfo(&app, &at).await, StatusCode::OK);
        let (url, status, html) = b
            .post_form("/profile/permissions", &[("csrf", &csrf), ("client_id", "sfr")])
            .await
            .page();
        assert_eq!(status, 200);
        assert!(url.contains("done=revoked"), "{url}");
        assert!(html.contains("Разрешение отозвано"), "{html}");
        assert!(section(&html, "revoked").contains("Фонд sfr"), "{html}");
        assert!(!section(&html, "active").contains("Фонд sfr"));

        // Access ends at once.
        let (status, body) = refresh(&app, "sfr", &rt).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        assert_eq!(userinfo(&app, &at).await, StatusCode::UNAUTHORIZED);
        assert_eq!(introspect(&app, "sfr", &at).await, json!({ "active": false }));

        // The client hears of it by back-channel logout.
        let token = tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .expect("a logout token within 5 s")
            .expect("listener open");
        let c = claims(&token);
        assert_eq!(c["sub"], sub.as_str());
        assert!(c["aud"] == "sfr" || c["aud"] == json!(["sfr"]), "{c}");
        assert!(c["sid"].as_str().is_some_and(|s| !s.is_empty()), "{c}");

        // The feed and the history keep it.
        let feed = events::list(&app.state.db, &sub, Some("permissions"), 10).await.expect("feed");
        assert!(feed.iter().any(|e| e.summary == "Отозвано разрешение для «Фонд sfr»"), "{feed:?}");
        assert!(feed.iter().any(|e| e.summary == "Выдано разрешение для «Фонд sfr»"), "{feed:?}");
        let list = api_list(&app, &b).await;
        assert_eq!(list["elements"][0]["status"], "revoked");
        // Newest first; both may fall in the same second, so compare as a set.
        let mut actions: Vec<&str> = list["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|h| h["action"].as_str())
            .collect();
        actions.sort_unstable();
        assert_eq!(actions, ["granted", "revoked"]);

        // The next authorization asks again.
        let next = past_login(&b, authorize(&b, "sfr", Some(&perms)).await).await;
        assert!(next.is_page_at("/consent"), "{next:?}");
    }

    async fn the_api_revokes_with_csrf_and_says_when_there_is_nothing(app: TestApp) {
        client(&app, "sfr", None).await;
        app.user(LOGIN, Level::Standard).await;
        let b = app.browser();
        let back = b.complete(authorize(&b, "sfr", None).await, LOGIN, PASSWORD).await;
        let (at, _) = tokens(&app, "sfr", &back).await;
        let (_, _, html) = b.visit(&app.url("/profile/permissions")).await.page();
        let csrf = hidden(&html, "csrf");
        let list = api_list(&app, &b).await;
        assert_eq!(list["elements"][0]["status"], "active");
        assert_eq!(list["elements"][0]["expires_at"], Value::Null);

        let url = app.url("/api/permissions/sfr/revoke");
        let refused = b.http.post(&url).send().await.expect("api");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let ok = b.http.post(&url).header("X-CSRF-Token", &csrf).send().await.expect("api");
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(userinfo(&app, &at).await, StatusCode::UNAUTHORIZED);
        let again = b.http.post(&url).header("X-CSRF-Token", &csrf).send().await.expect("api");
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        let body: Value = again.json().await.expect("JSON");
        assert_eq!(body["error"], "not_found");

        let anonymous = reqwest::Client::new().get(app.url("/api/permissions")).send().await.expect("api");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    async fn a_malformed_permission_request_goes_back_as_invalid_request(app: TestApp) {
        client(&app, "sfr", None).await;
        let b = app.browser();
        let not_json = URL_SAFE_NO_PAD.encode("not json");
        let bad = [
            "***".to_string(),
            not_json,
            permissions(0, "IDENTIFICATION"),
            permissions(60, "ADVERTISING"),
            "A".repeat(5000),
        ];
        for p in &bad {
            let back = authorize(&b, "sfr", Some(p)).await.left();
            assert!(back.as_str().starts_with(CB), "{back}");
            assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"), "{p}");
            assert_eq!(param(&back, "state").as_deref(), Some("st"));
            assert!(param(&back, "error_description").is_some_and(|d| d.contains("permissions")));
        }
    }

    async fn an_expired_permission_ends_its_grants_and_is_asked_again(app: TestApp) {
        client(&app, "sfr", None).await;
        let sub = app.user(LOGIN, Level::Standard).await;
        let b = app.browser();
        let perms = permissions(60, "VERIFY_USER");
        let consent = past_login(&b, authorize(&b, "sfr", Some(&perms)).await).await;
        let (_, _, html) = consent.page();
        assert!(html.contains("1 ч"), "{html}");
        let back = b.submit_consent(&html, "allow").await.left();
        let (_, rt) = tokens(&app, "sfr", &back).await;
        let (status, body) = refresh(&app, "sfr", &rt).await;
        assert_eq!(status, 200, "{body}");
        let rt = body["refresh_token"].as_str().expect("rt").to_owned();

        app.clock.advance(3601);
        let (status, body) = refresh(&app, "sfr", &rt).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        assert_eq!(introspect(&app, "sfr", &rt).await["active"], false);

        let next = past_login(&b, authorize(&b, "sfr", Some(&perms)).await).await;
        assert!(next.is_page_at("/consent"), "{next:?}");
        let (_, status, html) = b.visit(&app.url("/profile/permissions")).await.page();
        assert_eq!(status, 200);
        assert!(section(&html, "expired").contains("Фонд sfr"), "{html}");
        assert!(!section(&html, "active").contains("Фонд sfr"));

        // A new purpose is a new request: asked again even while the old one is active.
        let back = b.submit_consent(&next.page().2, "allow").await.left();
        assert!(param(&back, "code").is_some());
        let other = authorize(&b, "sfr", Some(&permissions(60, "CREDIT"))).await;
        assert!(other.is_page_at("/consent"), "{other:?}");
        let rows = idp::store::consents::history(&app.state.db, &sub, 10).await.expect("history");
        assert_eq!(rows.iter().filter(|h| h.action == "granted").count(), 2);
    }
}
