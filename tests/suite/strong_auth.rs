//! Strong authentication (issue 4): login by a one-time code from the outbox (SMS and
//! e-mail), no enumeration, and two-step login with an authenticator app whose codes are
//! computed by an independent implementation (Python `pyotp`, `tests/tools/totp.sh`).

use idp::protocol::acr::Level;
use idp::store::outbox;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp, pyotp};

const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79005550101";
const EMAIL: &str = "79005550101@example.ru";

fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
        ("nonce", "n-0S6"),
    ]
}

fn page(o: Outcome) -> (String, StatusCode, String) {
    o.page()
}

/// The text of the page's alert (error), or "".
fn alert(html: &str) -> String {
    html.find("role=\"alert\"")
        .map(|at| {
            let rest = &html[at..];
            let start = rest.find('>').map(|i| i + 1).unwrap_or(0);
            let end = rest.find("</div>").unwrap_or(rest.len());
            rest[start..end].trim().to_string()
        })
        .unwrap_or_default()
}

/// The newest login code sent to `recipient`.
async fn code_sent(app: &TestApp, recipient: &str) -> String {
    app.code_sent(recipient, "login_code").await
}

async fn login_codes_sent(app: &TestApp, recipient: &str) -> usize {
    outbox::list(&app.state.db, Some(recipient), 100)
        .await
        .expect("outbox")
        .iter()
        .filter(|m| m.template == "login_code")
        .count()
}

/// Opens the code login page from the login page's link and names `login`; returns the
/// code page.
async fn start_code_login(b: &Browser, client_id: &str, login: &str) -> (StatusCode, String) {
    let (_, _, html) = page(b.authorize(&request(client_id)).await);
    let at = html.find("/login/code?tx=").expect("link to code login");
    let href = &html[at..at + html[at..].find('"').expect("end of href")];
    let (_, status, html) = page(
        b.visit(&format!("{}{}", b.base, href.replace("&amp;", "&")))
            .await,
    );
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Вход по коду"), "{html}");
    let form = [
        ("tx", hidden(&html, "tx")),
        ("csrf", hidden(&html, "csrf")),
        ("login", login.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, status, html) = page(b.post_form("/login/code", &form).await);
    (status, html)
}

async fn submit_code(b: &Browser, html: &str, code: &str) -> Outcome {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    b.post_form(
        "/login/code/verify",
        &[
            ("flow", &flow),
            ("csrf", &csrf),
            ("code", code),
            ("action", "confirm"),
        ],
    )
    .await
}

async fn resend(b: &Browser, html: &str) -> (StatusCode, String) {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    let (_, status, html) = page(
        b.post_form(
            "/login/code/verify",
            &[("flow", &flow), ("csrf", &csrf), ("action", "resend")],
        )
        .await,
    );
    (status, html)
}

async fn submit_second(b: &Browser, html: &str, code: &str) -> Outcome {
    let (pending, csrf) = (hidden(html, "pending"), hidden(html, "csrf"));
    b.post_form(
        "/login/second",
        &[("pending", &pending), ("csrf", &csrf), ("code", code)],
    )
    .await
}

fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

/// A logged-in browser and its CSRF token for the API.
async fn logged_in(app: &TestApp, client_id: &str) -> (Browser, String) {
    let b = app.browser();
    b.sign_in(&request(client_id), PHONE, PASSWORD).await;
    let (_, _, home) = page(b.visit(&app.url("/")).await);
    let csrf = hidden(&home, "csrf");
    (b, csrf)
}

/// Enrols an authenticator; returns (secret, recovery codes).
async fn enrol(app: &TestApp, b: &Browser, csrf: &str) -> (String, Vec<String>) {
    let resp = b
        .http
        .post(app.url("/api/security/totp"))
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .expect("enrol");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("JSON");
    let secret = body["secret"].as_str().expect("secret").to_string();
    let uri = body["uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    // A wrong first code does not confirm.
    let now = app.clock.now();
    let wrong = if pyotp(&secret, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let resp = b
        .http
        .post(app.url("/api/security/totp/confirm"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "code": wrong }))
        .send()
        .await
        .expect("confirm");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.expect("JSON")["error"],
        "wrong_code"
    );
    let resp = b
        .http
        .post(app.url("/api/security/totp/confirm"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "code": pyotp(&secret, now) }))
        .send()
        .await
        .expect("confirm");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("JSON");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// A password login that stops at the second page; returns that page.
async fn password_step(b: &Browser, client_id: &str) -> String {
    let (_, _, html) = page(b.authorize(&request(client_id)).await);
    let (url, status, html) = page(b.submit_login(&html, PHONE, PASSWORD, false).await);
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(html.contains("name=\"pending\""), "no second step: {html}");
    assert!(html.contains("Подтверждение входа"), "{html}");
    html
}

on_both_backends! {
    async fn code_login_by_sms_and_email(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        // By phone: the code goes out by SMS; the session's amr is ["sms"].
        let b = app.browser();
        let (status, html) = start_code_login(&b, &client.0, "8 (900) 555-01-01").await;
        assert_eq!(status, StatusCode::OK);
        let code = code_sent(&app, PHONE).await;
        let redirect = b.back_to_client(submit_code(&b, &html, &code).await).await;
        assert_eq!(param(&redirect, "state").as_deref(), Some("st"));
        let claims = app.id_claims(&client, &redirect).await;
        assert_eq!(amr(&claims), ["sms"]);
        // The same code cannot be used again, even from another flow.
        let other = app.browser();
        app.clock.advance(61);
        let (_, html) = start_code_login(&other, &client.0, PHONE).await;
        let (_, status, html) = page(submit_code(&other, &html, &code).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(alert(&html).starts_with("Неверный код"), "{html}");
        // By e-mail: amr ["otp"].
        let b = app.browser();
        app.clock.advance(61);
        let (_, html) = start_code_login(&b, &client.0, EMAIL).await;
        let code = code_sent(&app, EMAIL).await;
        let redirect = b.back_to_client(submit_code(&b, &html, &code).await).await;
        assert_eq!(amr(&app.id_claims(&client, &redirect).await), ["otp"]);
    }

    async fn wrong_expired_and_exhausted_codes_are_refused(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let (_, html) = start_code_login(&b, &client.0, PHONE).await;
        let code = code_sent(&app, PHONE).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let (_, status, page1) = page(submit_code(&b, &html, wrong).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(alert(&page1), "Неверный код. Осталось попыток: 2.");
        // A new code cannot be asked for within a minute; nothing more is sent.
        let (_, notice) = resend(&b, &html).await;
        assert!(notice.contains("Код уже отправлен. Новый можно запросить через"), "{notice}");
        assert_eq!(login_codes_sent(&app, PHONE).await, 1);
        // After 5 minutes the code has expired.
        app.clock.advance(301);
        let (_, status, expired) = page(submit_code(&b, &html, &code).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(alert(&expired), "Срок действия кода истёк. Запросите новый код.");
        // A new code: three wrong attempts exhaust it, then even the right one is refused.
        let (_, notice) = resend(&b, &html).await;
        assert!(notice.contains("Новый код отправлен."), "{notice}");
        assert_eq!(login_codes_sent(&app, PHONE).await, 2);
        let fresh = code_sent(&app, PHONE).await;
        let wrong = if fresh == "000000" { "111111" } else { "000000" };
        for _ in 0..3 {
            let (_, status, _) = page(submit_code(&b, &html, wrong).await);
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (_, status, html2) = page(submit_code(&b, &html, &fresh).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(alert(&html2).contains("закончились"), "{html2}");
        // Every refused code is in the person's login history, as a failed "sms" login.
        let history = idp::store::login_history::list(&app.state.db, &sub, 50, 0)
            .await
            .expect("history");
        let reasons = |r: &str| {
            history
                .iter()
                .filter(|l| l.outcome == "failure" && l.method == "sms")
                .filter(|l| l.reason.as_deref() == Some(r))
                .count()
        };
        assert_eq!(reasons("wrong_code"), 4, "{history:?}");
        assert_eq!(reasons("code_expired"), 1, "{history:?}");
        assert_eq!(reasons("code_exhausted"), 1, "{history:?}");
        // The flow belongs to its browser: another one cannot use it.
        let thief = app.browser();
        let (_, _, login_page) = page(thief.authorize(&request(&client.0)).await);
        let csrf = hidden(&login_page, "csrf");
        let flow = hidden(&html, "flow");
        let (_, status, _) = page(
            thief
                .post_form("/login/code/verify", &[("flow", &flow), ("csrf", &csrf), ("code", &fresh), ("action", "confirm")])
                .await,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn unknown_phone_gets_the_same_pages_and_nothing_is_sent(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let unknown = "+79005550199";
        let b = app.browser();
        let (status_known, known) = start_code_login(&b, &client.0, PHONE).await;
        let (status_unknown, html) = start_code_login(&app.browser(), &client.0, unknown).await;
        assert_eq!(status_known, status_unknown);
        // The same page but for the hidden values and the link back (which names the tx).
        let strip = |h: &str| {
            let h = h.replace(&hidden(h, "flow"), "").replace(&hidden(h, "csrf"), "");
            h[..h.find("recovery__links").unwrap_or(h.len())].to_string()
        };
        assert_eq!(strip(&known), strip(&html));
        assert_eq!(login_codes_sent(&app, unknown).await, 0);
        // Wrong codes count down the same way.
        let b2 = app.browser();
        let (_, html) = start_code_login(&b2, &client.0, unknown).await;
        let (_, status, wrong) = page(submit_code(&b2, &html, "123456").await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(alert(&wrong), "Неверный код. Осталось попыток: 2.");
        // Something that is neither a phone nor an e-mail is refused in Russian.
        let (status, html) = start_code_login(&app.browser(), &client.0, "not a login").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&html), "Введите номер мобильного телефона или адрес электронной почты.");
    }

    async fn totp_two_step_login(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0).await;
        // The API needs the CSRF header and a session.
        let resp = me.http.post(app.url("/api/security/totp")).send().await.expect("enrol");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let resp = reqwest::Client::new().post(app.url("/api/security/totp")).header("X-CSRF-Token", &csrf).send().await.expect("enrol");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let (secret, _) = enrol(&app, &me, &csrf).await;
        // A second enrolment is refused while one is on.
        let resp = me.http.post(app.url("/api/security/totp")).header("X-CSRF-Token", &csrf).send().await.expect("enrol");
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        // The code used to confirm cannot log in (same time step).
        let b = app.browser();
        let second = password_step(&b, &client.0).await;
        let used = pyotp(&secret, app.clock.now());
        let (_, status, second) = page(submit_second(&b, &second, &used).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(alert(&second), "Неверный или уже использованный код. Введите новый код из приложения.");
        // A wrong code is refused; the next step's code is accepted.
        app.clock.advance(30);
        let now = app.clock.now();
        let good = pyotp(&secret, now);
        let wrong = if good == "000000" { "111111" } else { "000000" };
        let (_, status, second) = page(submit_second(&b, &second, wrong).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let redirect = b.back_to_client(submit_second(&b, &second, &good).await).await;
        let claims = app.id_claims(&client, &redirect).await;
        let methods = amr(&claims);
        for m in ["pwd", "otp", "mfa"] {
            assert!(methods.iter().any(|a| a == m), "{methods:?}");
        }
        // The same code again (another browser, same step): refused.
        let other = app.browser();
        let page2 = password_step(&other, &client.0).await;
        let (_, status, _) = page(submit_second(&other, &page2, &good).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // The pending login belongs to its browser.
        let thief = app.browser();
        let (_, _, login_page) = page(thief.authorize(&request(&client.0)).await);
        let csrf_thief = hidden(&login_page, "csrf");
        let pending = hidden(&page2, "pending");
        let next = pyotp(&secret, now + 30);
        let (_, status, _) = page(thief.post_form("/login/second", &[("pending", &pending), ("csrf", &csrf_thief), ("code", &next)]).await);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Code login of an account with two-step login on also asks for the second factor.
        app.clock.advance(61);
        let c = app.browser();
        let (_, html) = start_code_login(&c, &client.0, PHONE).await;
        let code = code_sent(&app, PHONE).await;
        let (_, status, html) = page(submit_code(&c, &html, &code).await);
        assert_eq!(status, StatusCode::OK);
        let redirect = c.back_to_client(submit_second(&c, &html, &pyotp(&secret, app.clock.now())).await).await;
        assert_eq!(amr(&app.id_claims(&client, &redirect).await), ["sms", "otp", "mfa"]);
    }

    async fn second_step_attempts_are_capped(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0).await;
        let (secret, _) = enrol(&app, &me, &csrf).await;
        app.clock.advance(30);
        let good = pyotp(&secret, app.clock.now());
        let wrong = if good == "000000" { "111111" } else { "000000" };
        // Five wrong answers abandon a pending login; the next needs the password again.
        for round in 0..2 {
            let b = app.browser();
            let mut second = password_step(&b, &client.0).await;
            for i in 0..5 {
                let (_, status, html) = page(submit_second(&b, &second, wrong).await);
                if i < 4 {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "round {round}, try {i}");
                    second = html;
                } else {
                    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                    assert_eq!(alert(&html), "Слишком много неверных кодов. Войдите заново.");
                }
            }
            let (_, status, _) = page(submit_second(&b, &second, &good).await);
            assert_eq!(status, StatusCode::BAD_REQUEST, "the abandoned login is gone");
        }
        // Ten wrong answers for the account: even the right code waits.
        let b = app.browser();
        let second = password_step(&b, &client.0).await;
        let (_, status, html) = page(submit_second(&b, &second, &good).await);
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(alert(&html), "Слишком много неудачных попыток. Повторите позже.");
    }

    async fn recovery_codes_work_once_and_disabling_needs_the_password(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0).await;
        let (_, recovery) = enrol(&app, &me, &csrf).await;
        let b = app.browser();
        let second = password_step(&b, &client.0).await;
        let redirect = b.back_to_client(submit_second(&b, &second, &recovery[0].to_uppercase()).await).await;
        assert!(amr(&app.id_claims(&client, &redirect).await).iter().any(|a| a == "mfa"));
        let b = app.browser();
        let second = password_step(&b, &client.0).await;
        let (_, status, _) = page(submit_second(&b, &second, &recovery[0]).await);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Disabling: a wrong password is refused, the right one turns two-step login off.
        let api = app.url("/api/security/totp");
        let resp = me.http.delete(&api).header("X-CSRF-Token", &csrf).json(&json!({ "password": "Wrong-passw0rd!" })).send().await.expect("DELETE");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.json::<Value>().await.expect("JSON")["message"], "Неверный пароль.");
        let b = app.browser();
        password_step(&b, &client.0).await;
        let resp = me.http.delete(&api).header("X-CSRF-Token", &csrf).json(&json!({ "password": PASSWORD })).send().await.expect("DELETE");
        assert_eq!(resp.status(), StatusCode::OK);
        // A password alone logs in again.
        let redirect = app.browser().sign_in(&request(&client.0), PHONE, PASSWORD).await;
        assert_eq!(amr(&app.id_claims(&client, &redirect).await), ["pwd"]);
    }
}
