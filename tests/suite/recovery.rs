//! Password recovery ("Не знаю пароль") over HTTP: by phone, e-mail, SNILS and INN, with the
//! code read from the outbox; every other session ends and its tokens die; unknown
//! identifiers look exactly like known ones; wrong, expired and exhausted codes, the secret
//! question and weak passwords are refused in Russian and change nothing. The lockout and
//! the unlock by code are in [`lockout`].

mod lockout;

use std::net::IpAddr;

use idp::protocol::acr::Level;
use idp::store::{events, outbox};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp};

pub(crate) const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79005550001";
/// `TestApp::user` gives a standard account with a phone ending in 2 the SNILS 112-233-445 95.
const SNILS_PHONE: &str = "+79001112232";
const NEW_PASSWORD: &str = "Nov-Parol-2026!";

/// A minimal authorization request for `client_id`.
pub(crate) fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
    ]
}

/// A browser (own cookie jar) whose connections come from `ip` (any 127.0.0.0/8 address).
pub(crate) fn browser_from(app: &TestApp, ip: &str) -> Browser {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client");
    Browser {
        http,
        base: app.base.clone(),
    }
}

/// GETs a provider page: status and body.
pub(crate) async fn get(b: &Browser, path: &str) -> (StatusCode, String) {
    let resp = b
        .http
        .get(format!("{}{path}", b.base))
        .send()
        .await
        .expect("GET");
    (resp.status(), resp.text().await.expect("body"))
}

/// POSTs a form: status and body (never followed).
pub(crate) async fn post(b: &Browser, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let resp = b
        .http
        .post(format!("{}{path}", b.base))
        .form(form)
        .send()
        .await
        .expect("POST");
    (resp.status(), resp.text().await.expect("body"))
}

/// The text of a recovery page's error alert ("" when there is none).
pub(crate) fn alert(html: &str) -> String {
    let Some(at) = html.find("id=\"recovery-error\">") else {
        return String::new();
    };
    let rest = &html[at..];
    let end = rest.find("</div>").expect("alert end");
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest[20..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Opens `base` ("/recover" or "/unlock") and names `identifier`: the code page.
pub(crate) async fn start(b: &Browser, base: &str, identifier: &str) -> (StatusCode, String) {
    let (status, html) = get(b, base).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (tx, csrf) = (hidden(&html, "tx"), hidden(&html, "csrf"));
    post(
        b,
        base,
        &[("tx", &tx), ("csrf", &csrf), ("login", identifier)],
    )
    .await
}

/// Submits `code` on the code page `html` of `base`.
pub(crate) async fn submit_code(
    b: &Browser,
    base: &str,
    html: &str,
    code: &str,
) -> (StatusCode, String) {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    let path = format!("{base}/code");
    post(
        b,
        &path,
        &[
            ("flow", &flow),
            ("csrf", &csrf),
            ("code", code),
            ("action", "confirm"),
        ],
    )
    .await
}

/// Asks for a new code on the code page `html` of `base`.
pub(crate) async fn resend(b: &Browser, base: &str, html: &str) -> (StatusCode, String) {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    let path = format!("{base}/code");
    post(
        b,
        &path,
        &[("flow", &flow), ("csrf", &csrf), ("action", "resend")],
    )
    .await
}

async fn submit_password(
    b: &Browser,
    html: &str,
    password: &str,
    again: &str,
) -> (StatusCode, String) {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    post(
        b,
        "/recover/password",
        &[
            ("flow", &flow),
            ("csrf", &csrf),
            ("password", password),
            ("password_again", again),
        ],
    )
    .await
}

async fn submit_answer(b: &Browser, html: &str, answer: &str) -> (StatusCode, String) {
    let (flow, csrf) = (hidden(html, "flow"), hidden(html, "csrf"));
    post(
        b,
        "/recover/answer",
        &[("flow", &flow), ("csrf", &csrf), ("answer", answer)],
    )
    .await
}

/// The newest code of `template` ("recovery_code", "unlock_code") sent to `recipient`.
pub(crate) async fn code_sent(app: &TestApp, recipient: &str, template: &str) -> String {
    app.code_sent(recipient, template).await
}

/// How many messages of `template` went to `recipient`.
pub(crate) async fn sent_count(app: &TestApp, recipient: &str, template: &str) -> usize {
    let messages = outbox::list(&app.state.db, Some(recipient), 100)
        .await
        .expect("outbox");
    messages.iter().filter(|m| m.template == template).count()
}

/// Recovery from start to finish without a secret question; returns the last page.
async fn recover(
    app: &TestApp,
    b: &Browser,
    identifier: &str,
    recipient: &str,
    new: &str,
) -> String {
    let (status, html) = start(b, "/recover", identifier).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let code = code_sent(app, recipient, "recovery_code").await;
    let (status, html) = submit_code(b, "/recover", &html, &code).await;
    assert_eq!(status, StatusCode::OK, "{}", alert(&html));
    assert!(
        html.contains("name=\"password_again\""),
        "the new password page"
    );
    let (status, html) = submit_password(b, &html, new, new).await;
    assert_eq!(status, StatusCode::OK, "{}", alert(&html));
    assert!(html.contains("Пароль изменён"), "{html}");
    html
}

/// Whether `login` + `password` logs in (in a fresh browser), as the login page answers.
pub(crate) async fn logs_in(
    b: &Browser,
    client_id: &str,
    login: &str,
    password: &str,
) -> StatusCode {
    let first = b.authorize(&request(client_id)).await;
    let (url, _, html) = first.page();
    assert!(url.contains("/login"), "{url}");
    match b.submit_login(&html, login, password, false).await {
        Outcome::Left(back) => {
            assert!(param(&back, "code").is_some(), "{back}");
            StatusCode::FOUND
        }
        Outcome::Page { status, .. } => status,
    }
}

async fn exchange(app: &TestApp, client: &(String, String), code: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("token JSON")
}

async fn status_of(req: reqwest::RequestBuilder) -> StatusCode {
    req.send().await.expect("request").status()
}

on_both_backends! {
    async fn recovery_by_phone_ends_every_other_session(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(PHONE, Level::Standard).await;
        // Another browser is logged in, and its website holds tokens.
        let other = app.browser();
        let back = other.sign_in(&request(&client.0), PHONE, PASSWORD).await;
        let tokens = exchange(&app, &client, &param(&back, "code").expect("code")).await;
        let access = tokens["access_token"].as_str().expect("access").to_string();
        let refresh = tokens["refresh_token"].as_str().expect("refresh").to_string();
        let userinfo = || reqwest::Client::new().get(app.url("/userinfo")).bearer_auth(&access);
        assert_eq!(status_of(userinfo()).await, StatusCode::OK);

        recover(&app, &app.browser(), "8 (900) 555-00-01", PHONE, NEW_PASSWORD).await;

        assert_eq!(logs_in(&app.browser(), &client.0, PHONE, PASSWORD).await, StatusCode::UNAUTHORIZED);
        assert_eq!(logs_in(&app.browser(), &client.0, PHONE, NEW_PASSWORD).await, StatusCode::FOUND);
        // The other browser's session is over: no silent login.
        let mut silent = request(&client.0);
        silent.push(("prompt", "none"));
        let back = other.authorize(&silent).await.left();
        assert_eq!(param(&back, "error").as_deref(), Some("login_required"), "{back}");
        // ... and its tokens are revoked.
        assert_eq!(status_of(userinfo()).await, StatusCode::UNAUTHORIZED);
        let refreshed = reqwest::Client::new()
            .post(app.url("/token"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
            .send()
            .await
            .expect("refresh");
        assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
        let body: Value = refreshed.json().await.expect("JSON");
        assert_eq!(body["error"], "invalid_grant");
        // A notice went to the phone and the feed records the change.
        let notices = outbox::list(&app.state.db, Some(PHONE), 20).await.expect("outbox");
        assert!(notices.iter().any(|m| m.template == "notice" && m.body.contains("Пароль")), "{notices:?}");
        let feed = events::list(&app.state.db, &sub, Some("security"), 20).await.expect("events");
        assert!(feed.iter().any(|e| e.summary.contains("Пароль восстановлен")), "{feed:?}");
    }

    async fn recovery_by_email_returns_to_the_login_of_the_website(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Simplified).await;
        let email = "79005550001@example.ru";
        let b = app.browser();
        let (_, _, login_html) = b.authorize(&request(&client.0)).await.page();
        // The login page links "Не знаю пароль" with the login transaction.
        let tx = hidden(&login_html, "tx");
        let link = format!("/recover?tx={tx}&amp;lang=ru");
        assert!(login_html.contains(&link) && login_html.contains("Не знаю пароль"), "{login_html}");
        let (status, page) = get(&b, &format!("/recover?tx={tx}&lang=ru")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hidden(&page, "tx"), tx);
        let csrf = hidden(&page, "csrf");
        let (status, html) = post(&b, "/recover", &[("tx", &tx), ("csrf", &csrf), ("login", "79005550001@EXAMPLE.ru")]).await;
        assert_eq!(status, StatusCode::OK);
        // Named by e-mail, the code goes to that e-mail (not to the phone).
        let code = code_sent(&app, email, "recovery_code").await;
        assert_eq!(sent_count(&app, PHONE, "recovery_code").await, 0);
        let (_, html) = submit_code(&b, "/recover", &html, &code).await;
        let (status, done) = submit_password(&b, &html, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        // "Войти" leads back to the login page of the same authorization.
        let continue_url = format!("/login?tx={tx}&#38;lang=ru");
        assert!(done.contains(&continue_url), "{done}");
        let (_, _, login_again) = b.visit(&app.url(&format!("/login?tx={tx}&lang=ru"))).await.page();
        let back = b.submit_login(&login_again, email, NEW_PASSWORD, false).await.left();
        assert!(param(&back, "code").is_some(), "{back}");
    }

    async fn recovery_by_snils_and_by_inn(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(SNILS_PHONE, Level::Standard).await;
        recover(&app, &app.browser(), "112-233-445 95", SNILS_PHONE, NEW_PASSWORD).await;
        assert_eq!(logs_in(&app.browser(), &client.0, SNILS_PHONE, NEW_PASSWORD).await, StatusCode::FOUND);
        // The only account with INN 500100732259 (TestApp::user gives every account this INN).
        app.clock.advance(61);
        recover(&app, &app.browser(), "500100732259", SNILS_PHONE, "Vtoroi-Kluch-58?").await;
        assert_eq!(logs_in(&app.browser(), &client.0, SNILS_PHONE, NEW_PASSWORD).await, StatusCode::UNAUTHORIZED);
        assert_eq!(logs_in(&app.browser(), &client.0, SNILS_PHONE, "Vtoroi-Kluch-58?").await, StatusCode::FOUND);
    }

    async fn unknown_identifiers_look_exactly_like_known_ones(app: TestApp) {
        app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let unknown = "+79005559999";
        let began = std::time::Instant::now();
        let (known_status, known_page) = start(&b, "/recover", PHONE).await;
        let known_time = began.elapsed();
        let began = std::time::Instant::now();
        let (unknown_status, unknown_page) = start(&b, "/recover", unknown).await;
        let unknown_time = began.elapsed();
        assert_eq!(known_status, StatusCode::OK);
        assert_eq!(unknown_status, known_status);
        let neutral = |html: &str| html.replace(&hidden(html, "flow"), "FLOW");
        assert_eq!(neutral(&unknown_page), neutral(&known_page));
        assert!(known_page.contains("Если такая учётная запись существует"));
        // Both take at least the floor, so the database work does not show.
        let floor = idp::domain::recovery::START_FLOOR;
        assert!(known_time >= floor && unknown_time >= floor);
        assert_eq!(sent_count(&app, PHONE, "recovery_code").await, 1);
        let all = outbox::list(&app.state.db, None, 100).await.expect("outbox");
        assert_eq!(all.len(), 1, "nothing is sent for the unknown phone: {all:?}");
        // A wrong code is refused the same way on both.
        let (s1, p1) = submit_code(&b, "/recover", &known_page, "000000").await;
        let (s2, p2) = submit_code(&b, "/recover", &unknown_page, "000000").await;
        assert_eq!((s1, alert(&p1)), (s2, alert(&p2)));
        assert_eq!(s1, StatusCode::BAD_REQUEST);
        // Other kinds of identifiers that name nobody behave the same; a passport too.
        for other in ["nobody@example.ru", "123-456-789 64", "4508 123456"] {
            let (status, page) = start(&b, "/recover", other).await;
            assert_eq!((status, neutral(&page)), (StatusCode::OK, neutral(&known_page)), "{other}");
        }
        assert_eq!(outbox::list(&app.state.db, None, 100).await.expect("outbox").len(), 1);
        // Something that is no identifier at all is refused (format only, says nothing of accounts).
        let (status, page) = start(&b, "/recover", "не знаю").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&page), "Введите телефон, адрес электронной почты, СНИЛС или ИНН.");
    }

    async fn wrong_expired_and_exhausted_codes_change_nothing(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let (_, page) = start(&b, "/recover", PHONE).await;
        let code = code_sent(&app, PHONE, "recovery_code").await;
        let wrong = if code == "111111" { "222222" } else { "111111" };
        let (status, html) = submit_code(&b, "/recover", &page, wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&html), "Неверный код. Осталось попыток: 2.");
        submit_code(&b, "/recover", &html, wrong).await;
        let (_, html) = submit_code(&b, "/recover", &html, wrong).await;
        assert_eq!(alert(&html), "Неверный код. Попытки закончились: запросите новый код.");
        // Even the right code is refused now.
        let (status, html) = submit_code(&b, "/recover", &html, &code).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&html), "Попытки ввода этого кода закончились. Запросите новый код.");
        // A new code only after the cool-down.
        let (_, soon) = resend(&b, "/recover", &html).await;
        assert!(soon.contains("Код уже отправлен. Новый можно запросить через"), "{soon}");
        app.clock.advance(61);
        let (status, html) = resend(&b, "/recover", &html).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Новый код отправлен."));
        let fresh = code_sent(&app, PHONE, "recovery_code").await;
        // It expires after 5 minutes.
        app.clock.advance(301);
        let (status, html) = submit_code(&b, "/recover", &html, &fresh).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&html), "Срок действия кода истёк. Запросите новый код.");
        // Nothing changed: the old password still works.
        assert_eq!(logs_in(&app.browser(), &client.0, PHONE, PASSWORD).await, StatusCode::FOUND);
        // A flow cannot jump to the password step.
        let (status, html) = submit_password(&b, &html, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&html).contains("Начните заново"), "{html}");
        assert_eq!(logs_in(&app.browser(), &client.0, PHONE, NEW_PASSWORD).await, StatusCode::UNAUTHORIZED);
    }

    async fn secret_question_is_asked_and_weak_passwords_refused(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let me = app.browser();
        me.sign_in(&request(&client.0), PHONE, PASSWORD).await;
        let (_, home) = get(&me, "/").await;
        let csrf = hidden(&home, "csrf");
        let api = app.url("/api/security/secret-question");
        let set = json!({ "password": PASSWORD, "question": "Девичья фамилия матери?", "answer": "Петрова" });
        // No CSRF header, a wrong password, no session: refused in Russian, nothing set.
        let resp = me.http.put(&api).json(&set).send().await.expect("PUT");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["error"], "csrf_failed");
        let wrong = json!({ "password": "Wrong-passw0rd!", "question": "Вопрос?", "answer": "ответ" });
        let resp = me.http.put(&api).header("X-CSRF-Token", &csrf).json(&wrong).send().await.expect("PUT");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.json::<Value>().await.expect("JSON")["message"], "Неверный пароль.");
        let anonymous = reqwest::Client::new().get(&api).send().await.expect("GET");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        let got: Value = me.http.get(&api).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(got["question"], Value::Null);
        let resp = me.http.put(&api).header("X-CSRF-Token", &csrf).json(&set).send().await.expect("PUT");
        assert_eq!(resp.status(), StatusCode::OK);
        let got: Value = me.http.get(&api).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(got["question"], "Девичья фамилия матери?");

        // Recovery now asks it after the code.
        let b = app.browser();
        let (_, page) = start(&b, "/recover", PHONE).await;
        let code = code_sent(&app, PHONE, "recovery_code").await;
        let (status, html) = submit_code(&b, "/recover", &page, &code).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Девичья фамилия матери?"), "{html}");
        let (status, html) = submit_answer(&b, &html, "Иванова").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&html), "Неверный ответ на контрольный вопрос. Осталось попыток: 2.");
        let (status, html) = submit_answer(&b, &html, "  пЕТРОВА ").await;
        assert_eq!(status, StatusCode::OK, "case-insensitive: {}", alert(&html));
        // Weak or mismatched new passwords are refused with the reasons.
        let (status, weak) = submit_password(&b, &html, "qwerty", "qwerty").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let reasons = alert(&weak);
        assert!(reasons.contains("не короче 8 символов") && reasons.contains("заглавную"), "{reasons}");
        let (_, mismatch) = submit_password(&b, &weak, NEW_PASSWORD, "Nov-Parol-2027!").await;
        assert_eq!(alert(&mismatch), "Пароли не совпадают");
        assert_eq!(logs_in(&app.browser(), &client.0, PHONE, PASSWORD).await, StatusCode::FOUND);
        let (status, done) = submit_password(&b, &mismatch, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        assert!(done.contains("Пароль изменён"));

        // Three wrong answers end the flow.
        app.clock.advance(61);
        let (_, page) = start(&b, "/recover", PHONE).await;
        let code = code_sent(&app, PHONE, "recovery_code").await;
        let (_, mut html) = submit_code(&b, "/recover", &page, &code).await;
        for _ in 0..2 {
            html = submit_answer(&b, &html, "Сидорова").await.1;
        }
        let (status, last) = submit_answer(&b, &html, "Сидорова").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&last).starts_with("Слишком много неверных ответов"), "{last}");
        assert!(last.contains("name=\"login\""), "back to the first step");
        let (status, _) = submit_answer(&b, &html, "Петрова").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the flow is over");

        // Clearing the question needs the password too.
        let clear = json!({ "password": NEW_PASSWORD, "question": null });
        let me = app.browser();
        me.sign_in(&request(&client.0), PHONE, NEW_PASSWORD).await;
        let (_, home) = get(&me, "/").await;
        let resp = me.http.put(&api).header("X-CSRF-Token", hidden(&home, "csrf")).json(&clear).send().await.expect("PUT");
        assert_eq!(resp.status(), StatusCode::OK);
        let got: Value = me.http.get(&api).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(got["question"], Value::Null);
    }

    async fn malformed_requests_get_pages_not_500(app: TestApp) {
        app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let (_, page) = get(&b, "/recover").await;
        let csrf = hidden(&page, "csrf");
        let long = "9".repeat(5000);
        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("/recover", vec![]),
            ("/recover", vec![("login", PHONE), ("csrf", "forged")]),
            ("/recover", vec![("login", PHONE), ("csrf", &csrf), ("login", PHONE)]),
            ("/recover", vec![("login", &long), ("csrf", &csrf)]),
            ("/recover/code", vec![("flow", "nope"), ("csrf", &csrf), ("code", "123456")]),
            ("/recover/code", vec![("flow", ""), ("csrf", &csrf), ("action", "resend")]),
            ("/recover/answer", vec![("flow", "nope"), ("csrf", &csrf), ("answer", "x")]),
            ("/recover/password", vec![("flow", "nope"), ("csrf", &csrf), ("password", "x"), ("password_again", "x")]),
            ("/unlock", vec![("csrf", &csrf)]),
            ("/unlock/code", vec![("flow", "nope"), ("csrf", "forged")]),
        ];
        for (path, form) in cases {
            let (status, html) = post(&b, path, &form).await;
            assert!(status.is_client_error(), "{path} {form:?}: {status} {html}");
            assert!(html.contains("<html"), "a page: {path}");
        }
        // The last one prefills 300 three-byte characters: cut to 256 characters, not bytes.
        let long_prefill = format!("/recover?login={}", "%E2%82%AC".repeat(300));
        for path in ["/recover?tx=a&tx=b", "/unlock?lang=xx&login=%3Cscript%3E", "/recover?tx=%22%3E%3Cimg", long_prefill.as_str()] {
            let (status, html) = get(&b, path).await;
            assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{path}: {status}");
            assert!(!html.contains("<img") && !html.contains("<script>"), "{path}");
        }
        let api = app.url("/api/security/secret-question");
        let resp = b.http.put(&api).body("{").send().await.expect("PUT");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
}
