//! The operator's view of second factors and ESIA tokens: a refused second factor (an
//! authenticator code, an SMS code, a signature) moves `idp_logins_total` and shows in the
//! person's login history and feed like a wrong password; ten wrong authenticator codes lock
//! the second step and move `idp_lockouts_total{kind="second_factor"}`; a token from ESIA's
//! `/aas/oauth2/te` moves `idp_tokens_issued_total{protocol="esia"}` and leaves the `/token`
//! series alone.

use idp::protocol::acr::Level;
use idp::store::login_settings::{self, LoginSettings};
use idp::store::{login_history, users};
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::{Outcome, hidden, param};
use tests::esia::{cms_secret, keys, timestamp, uuid};
use tests::{Backend, Browser, PASSWORD, TestApp, pyotp};

const CB: &str = "https://rp.example/cb";
const ESIA_CB: &str = "https://is.example/esia/cb";

fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
        ("nonce", "n"),
    ]
}

async fn metrics(app: &TestApp) -> String {
    let resp = reqwest::get(app.url("/metrics")).await.expect("metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.expect("text")
}

/// The value of `series` (a metric name with its labels), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .map(|v| v.parse().expect("number"))
        .unwrap_or(0.0)
}

/// How much `series` grew from `before` to `after`.
fn grew(before: &str, after: &str, series: &str) -> f64 {
    sample(after, series) - sample(before, series)
}

fn logins(method: &str, outcome: &str) -> String {
    format!("idp_logins_total{{method=\"{method}\",outcome=\"{outcome}\"}}")
}

/// Turns on the authenticator app for `sub` (through the domain); returns its secret.
async fn enrol_totp(app: &TestApp, sub: &str) -> String {
    let user = users::by_id(&app.state.db, sub)
        .await
        .expect("user")
        .expect("exists");
    let e = idp::domain::mfa::enrol(&app.state, &user)
        .await
        .expect("enrol");
    let code = pyotp(&e.secret, app.clock.now());
    idp::domain::mfa::confirm(&app.state, &user, &code)
        .await
        .expect("confirm");
    // The confirming code's time step is spent: move to the next one.
    app.clock.advance(30);
    e.secret
}

/// A password login that stops at the second step; returns that page.
async fn password_step(b: &Browser, client_id: &str, phone: &str) -> String {
    let (_, _, html) = b.authorize(&request(client_id)).await.page();
    let (url, status, html) = b.submit_login(&html, phone, PASSWORD, false).await.page();
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(html.contains("name=\"pending\""), "no second step: {html}");
    html
}

async fn submit_second(b: &Browser, html: &str, extra: &[(&str, &str)]) -> Outcome {
    let (pending, csrf) = (hidden(html, "pending"), hidden(html, "csrf"));
    let mut form = vec![("pending", pending.as_str()), ("csrf", csrf.as_str())];
    form.extend_from_slice(extra);
    b.post_form("/login/second", &form).await
}

/// The newest login code sent to `recipient`.
async fn code_sent(app: &TestApp, recipient: &str) -> String {
    app.code_sent(recipient, "login_code").await
}

async fn api(b: &Browser, path: &str) -> Value {
    let resp = b
        .http
        .get(format!("{}{path}", b.base))
        .send()
        .await
        .expect(path);
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.expect("json")
}

fn other_than(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

on_both_backends! {
    async fn a_wrong_second_factor_is_counted_and_in_the_login_history(app: TestApp) {
        let client = app.client("ops", "openid").await;
        let phone = "+79008880101";
        let sub = app.user(phone, Level::Standard).await;
        let secret = enrol_totp(&app, &sub).await;
        let before = metrics(&app).await;

        // A wrong authenticator code, then the right one.
        let b = app.browser();
        let second = password_step(&b, &client.0, phone).await;
        let good = pyotp(&secret, app.clock.now());
        let (_, status, second) = submit_second(&b, &second, &[("code", other_than(&good))]).await.page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let back = b.back_to_client(submit_second(&b, &second, &[("code", &good)]).await).await;
        assert!(param(&back, "code").is_some(), "{back}");

        // A wrong SMS code at the second step (another browser).
        let c = app.browser();
        let second = password_step(&c, &client.0, phone).await;
        let (_, status, second) = submit_second(&c, &second, &[("action", "send_sms")]).await.page();
        assert_eq!(status, StatusCode::OK);
        let sms = code_sent(&app, phone).await;
        let (_, status, _) = submit_second(&c, &second, &[("method", "sms"), ("code", other_than(&sms))]).await.page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let after = metrics(&app).await;
        assert_eq!(grew(&before, &after, &logins("pwd+otp+mfa", "wrong_code")), 1.0, "{after}");
        assert_eq!(grew(&before, &after, &logins("pwd+sms+mfa", "wrong_code")), 1.0, "{after}");
        assert_eq!(grew(&before, &after, &logins("pwd+otp+mfa", "success")), 1.0, "{after}");
        // A wrong second factor is not a wrong password.
        assert_eq!(grew(&before, &after, &logins("pwd", "wrong_password")), 0.0, "{after}");

        // The person sees both failures in the cabinet: the login history and the feed.
        let list = api(&b, "/api/logins").await;
        let items = list["items"].as_array().expect("items");
        let failure = |amr: &[&str]| {
            items.iter().find(|l| {
                l["outcome"] == "failure" && l["reason"] == "wrong_code" && l["amr"] == serde_json::json!(amr)
            })
        };
        let totp = failure(&["pwd", "otp", "mfa"]).unwrap_or_else(|| panic!("{list}"));
        assert_eq!(totp["ip"], "127.0.0.1", "{totp}");
        assert!(failure(&["pwd", "sms", "mfa"]).is_some(), "{list}");
        let feed = api(&b, "/api/feed").await;
        let failed = feed["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|e| e["type"] == "login" && e["status"] == "failure")
            .count();
        assert_eq!(failed, 2, "{feed}");
    }

    async fn ten_wrong_codes_lock_the_second_step_and_are_counted(app: TestApp) {
        let client = app.client("ops", "openid").await;
        let phone = "+79008880111";
        let sub = app.user(phone, Level::Standard).await;
        let secret = enrol_totp(&app, &sub).await;
        let good = pyotp(&secret, app.clock.now());
        let wrong = other_than(&good);
        let lockouts = "idp_lockouts_total{kind=\"second_factor\"}";
        let before = metrics(&app).await;
        assert!(before.contains(&format!("{lockouts} 0")), "{before}");
        // Five wrong codes abandon a pending login; two of them make ten for the account.
        for _ in 0..2 {
            let b = app.browser();
            let mut second = password_step(&b, &client.0, phone).await;
            for i in 0..5 {
                let (_, status, html) = submit_second(&b, &second, &[("code", wrong)]).await.page();
                let expected = if i < 4 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS };
                assert_eq!(status, expected, "try {i}");
                second = html;
            }
        }
        let middle = metrics(&app).await;
        assert_eq!(grew(&before, &middle, lockouts), 1.0, "{middle}");
        // Now even the right code waits, and that refusal is counted as `locked`.
        let b = app.browser();
        let second = password_step(&b, &client.0, phone).await;
        let (_, status, _) = submit_second(&b, &second, &[("code", &good)]).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let after = metrics(&app).await;
        assert_eq!(grew(&before, &after, &logins("pwd+otp+mfa", "wrong_code")), 10.0, "{after}");
        assert_eq!(grew(&before, &after, &logins("pwd+otp+mfa", "locked")), 1.0, "{after}");
        assert_eq!(grew(&before, &after, lockouts), 1.0, "one lock, counted once");
        assert_eq!(grew(&before, &after, "idp_lockouts_total{kind=\"account\"}"), 0.0, "{after}");
        let history = login_history::list(&app.state.db, &sub, 50, 0).await.expect("history");
        let locked = history.iter().filter(|l| l.reason.as_deref() == Some("locked")).count();
        assert_eq!(locked, 1, "{history:?}");
        assert_eq!(history.iter().filter(|l| l.outcome == "failure").count(), 11);
    }

    async fn a_refused_signature_at_the_second_step_is_counted(app: TestApp) {
        let client = app.client("ops", "openid").await;
        // A Standard account whose phone ends in 2 has a SNILS: the signature is offered.
        let phone = "+79008880122";
        let sub = app.user(phone, Level::Standard).await;
        let settings = LoginSettings { always: true, preferred: Some("signature".into()) };
        login_settings::put(&app.state.db, &sub, &settings, app.clock.now()).await.expect("settings");
        let before = metrics(&app).await;
        let b = app.browser();
        let second = password_step(&b, &client.0, phone).await;
        let link = second.find("/login/signature?tx=").expect("signature link");
        let href = second[link..link + second[link..].find('"').expect("end")].replace("&amp;", "&");
        let (_, _, page) = b.visit(&format!("{}{href}", b.base)).await.page();
        let form = [
            ("tx", hidden(&page, "tx")),
            ("csrf", hidden(&page, "csrf")),
            ("challenge", hidden(&page, "challenge")),
            ("signature", "MIIBAAAAAAAA".to_string()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, status, _) = b.post_form("/login/signature", &form).await.page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let after = metrics(&app).await;
        assert_eq!(grew(&before, &after, &logins("pwd+ds+mfa", "signature_refused")), 1.0, "{after}");
        let history = login_history::list(&app.state.db, &sub, 10, 0).await.expect("history");
        assert!(
            history.iter().any(|l| l.outcome == "failure" && l.method == "pwd ds mfa"
                && l.reason.as_deref() == Some("signature_refused")),
            "{history:?}"
        );
    }

    async fn an_esia_token_exchange_is_counted(app: TestApp) {
        esia_system(&app, "OPSIS").await;
        let phone = "+79008880132";
        app.user(phone, Level::Confirmed).await;
        let scope = "openid fullname";
        let before = metrics(&app).await;
        let params = legacy_ac(&app, "OPSIS", scope);
        let url = url::Url::parse_with_params(&app.url("/aas/oauth2/ac"), &params).expect("url");
        let b = app.browser();
        let first = b.visit(url.as_str()).await;
        let back = b.complete(first, phone, PASSWORD).await;
        let code = param(&back, "code").expect("code");
        let (status, body) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "OPSIS", scope, ("code", &code))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let refresh = body["refresh_token"].as_str().expect("refresh token").to_owned();
        let (status, body) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "OPSIS", scope, ("refresh", &refresh))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A refused exchange (the code again) is not counted.
        let (status, _) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "OPSIS", scope, ("code", &code))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let after = metrics(&app).await;
        let esia = |g: &str| format!("idp_tokens_issued_total{{grant_type=\"{g}\",protocol=\"esia\"}}");
        assert_eq!(grew(&before, &after, &esia("authorization_code")), 1.0, "{after}");
        assert_eq!(grew(&before, &after, &esia("refresh_token")), 1.0, "{after}");
        // The /token series stays as it was.
        let oidc = "idp_tokens_issued_total{grant_type=\"authorization_code\"}";
        assert_eq!(grew(&before, &after, oidc), 0.0, "{after}");
    }
}

// ----- ESIA's legacy endpoints: RSA CMS client secrets by openssl (tests::esia) -----

/// A client system with redirect [`ESIA_CB`], the RSA certificate and RS256 tokens.
async fn esia_system(app: &TestApp, id: &str) {
    app.client_spec(idp::domain::clients::ClientSpec {
        id: id.into(),
        name: format!("ИС {id}"),
        redirect_uris: vec![ESIA_CB.into()],
        scopes: "openid fullname offline_access".into(),
        ..Default::default()
    })
    .await;
    let pem = std::fs::read(keys("is-rsa.pem")).expect("certificate");
    idp::esia::systems::add_certificate(&app.state, id, &pem)
        .await
        .expect("certificate");
    idp::esia::systems::set_token_alg(&app.state, id, "RS256")
        .await
        .expect("token alg");
}

fn legacy_ac(app: &TestApp, cid: &str, scope: &str) -> Vec<(String, String)> {
    let (ts, st) = (timestamp(app.clock.now()), uuid());
    let secret = cms_secret(&format!("{scope}{ts}{cid}{st}"));
    vec![
        ("client_id".into(), cid.into()),
        ("scope".into(), scope.into()),
        ("timestamp".into(), ts),
        ("state".into(), st),
        ("redirect_uri".into(), ESIA_CB.into()),
        ("response_type".into(), "code".into()),
        ("access_type".into(), "offline".into()),
        ("client_secret".into(), secret),
    ]
}

fn legacy_te(app: &TestApp, cid: &str, scope: &str, grant: (&str, &str)) -> Vec<(String, String)> {
    let (ts, st) = (timestamp(app.clock.now()), uuid());
    let secret = cms_secret(&format!("{scope}{ts}{cid}{st}"));
    let (grant_type, value_name) = match grant.0 {
        "code" => ("authorization_code", "code"),
        _ => ("refresh_token", "refresh_token"),
    };
    vec![
        ("client_id".into(), cid.into()),
        (value_name.into(), grant.1.into()),
        ("grant_type".into(), grant_type.into()),
        ("client_secret".into(), secret),
        ("state".into(), st),
        ("redirect_uri".into(), ESIA_CB.into()),
        ("scope".into(), scope.into()),
        ("timestamp".into(), ts),
        ("token_type".into(), "Bearer".into()),
    ]
}

async fn post(app: &TestApp, path: &str, form: &[(String, String)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("post");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}
