//! Passkeys (issue 4) over real HTTP with a software authenticator (`tests::webauthn`):
//! registering several named passkeys through the cabinet API, the list and the page,
//! passwordless login from /authorize to the client's code with `amr` in the ID token,
//! refused ceremonies (forged challenge, replay, another browser, no user verification),
//! a cloned authenticator's counter refused with a clear message and a security event, a
//! passkey of another person refused as the second step, and removal after the password.

use idp::protocol::acr::Level;
use idp::store::events;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::{Outcome, hidden};
use tests::webauthn::SoftAuthenticator;
use tests::{Backend, Browser, PASSWORD, TestApp};
use url::Url;

const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79005550301";
const OTHER_PHONE: &str = "+79005550302";

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

/// The origin a browser at the dev address uses for passkeys (RP ID `localhost`).
fn origin(app: &TestApp) -> String {
    let port = Url::parse(&app.base).expect("base").port().expect("port");
    format!("http://localhost:{port}")
}

/// A browser logged in by password, and the CSRF token for the API.
async fn logged_in(app: &TestApp, client_id: &str, phone: &str) -> (Browser, String) {
    let b = app.browser();
    b.sign_in(&request(client_id), phone, PASSWORD).await;
    let (_, _, home) = b.visit(&app.url("/")).await.page();
    let csrf = hidden(&home, "csrf");
    (b, csrf)
}

async fn post_json(
    b: &Browser,
    url: &str,
    csrf: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = b.http.post(url).json(body);
    if let Some(c) = csrf {
        req = req.header("X-CSRF-Token", c);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Registers a passkey held by `auth` under `name`; returns the answer.
async fn register(
    app: &TestApp,
    b: &Browser,
    csrf: &str,
    auth: &mut SoftAuthenticator,
    name: &str,
) -> (StatusCode, Value) {
    let (status, options) = post_json(
        b,
        &app.url("/api/security/passkeys/options"),
        Some(csrf),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let credential = auth.create(&options);
    post_json(
        b,
        &app.url("/api/security/passkeys"),
        Some(csrf),
        &json!({ "name": name, "credential": credential }),
    )
    .await
}

async fn list(app: &TestApp, b: &Browser) -> Vec<Value> {
    let resp = b
        .http
        .get(app.url("/api/security/passkeys"))
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("JSON");
    body["passkeys"].as_array().expect("passkeys").clone()
}

/// A fresh browser at the login page of a new authorization: (browser, tx, csrf, page).
async fn login_page(app: &TestApp, client_id: &str) -> (Browser, String, String, String) {
    let b = app.browser();
    let (url, status, html) = b.authorize(&request(client_id)).await.page();
    assert_eq!(status, StatusCode::OK);
    assert!(url.contains("/login"), "{url}");
    let (tx, csrf) = (hidden(&html, "tx"), hidden(&html, "csrf"));
    (b, tx, csrf, html)
}

async fn login_options(app: &TestApp, b: &Browser, tx: &str, csrf: &str) -> Value {
    let (status, options) = post_json(
        b,
        &app.url("/login/passkey/options"),
        None,
        &json!({ "tx": tx, "csrf": csrf }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{options}");
    options
}

async fn login_finish(
    app: &TestApp,
    b: &Browser,
    tx: &str,
    csrf: &str,
    credential: &Value,
) -> (StatusCode, Value) {
    post_json(
        b,
        &app.url("/login/passkey"),
        None,
        &json!({ "tx": tx, "csrf": csrf, "credential": credential }),
    )
    .await
}

/// Follows the `redirect` of a passkey login to the client (answering a consent page).
async fn to_client(app: &TestApp, b: &Browser, answer: &Value) -> Url {
    let target = answer["redirect"].as_str().expect("redirect");
    if target.starts_with(CB) {
        return Url::parse(target).expect("url");
    }
    let outcome = b.visit(&app.url(target)).await;
    b.back_to_client(outcome).await
}

fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

async fn security_events(app: &TestApp, user_id: &str) -> Vec<events::Event> {
    events::list(&app.state.db, user_id, Some("security"), 50)
        .await
        .expect("events")
}

on_both_backends! {
    async fn passkey_registration_and_passwordless_login(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let user_id = app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        // The API needs the CSRF header.
        let (status, _) = post_json(&me, &app.url("/api/security/passkeys/options"), None, &json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Two passkeys with names.
        let mut phone = SoftAuthenticator::new(&origin(&app));
        let mut laptop = SoftAuthenticator::new(&origin(&app));
        let (status, first) = register(&app, &me, &csrf, &mut phone, "Телефон").await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let (status, second) = register(&app, &me, &csrf, &mut laptop, "Ноутбук").await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        // The same authenticator again: refused (it is excluded in the options).
        let (status, again) = register(&app, &me, &csrf, &mut phone.clone_device(), "Копия").await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        let keys = list(&app, &me).await;
        let mut names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().expect("name")).collect();
        names.sort_unstable();
        assert_eq!(names, ["Ноутбук", "Телефон"]);
        assert!(keys.iter().all(|k| k["created_at"].as_i64().is_some() && k["last_used_at"].is_null()));
        assert!(idp::domain::passkeys::has_passkeys(&app.state, &user_id).await.expect("has"));
        // The cabinet page lists them with their dates.
        let (_, status, html) = me.visit(&app.url("/profile/security/passkeys")).await.page();
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Телефон") && html.contains("Ноутбук"), "{html}");
        assert!(html.contains("ещё не использовался"));
        assert!(html.contains("/assets/passkeys.js"));
        let (_, status, html) = me.visit(&app.url("/profile/security/passkeys?lang=en")).await.page();
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Add a passkey") && html.contains("not used yet"), "{html}");
        // Registration is in the feed.
        let feed = security_events(&app, &user_id).await;
        assert!(feed.iter().any(|e| e.summary == "Добавлен ключ доступа «Телефон»"), "{feed:?}");

        // Passwordless login: the login page offers it (button and autofill).
        let (b, tx, login_csrf, html) = login_page(&app, &client.0).await;
        assert!(html.contains("data-passkey-login"));
        assert!(html.contains("autocomplete=\"username webauthn\""));
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        let allowed = options["publicKey"]["allowCredentials"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(allowed, 0, "discoverable: {options}");
        assert_eq!(options["publicKey"]["userVerification"], "required");
        let credential = laptop.get(&options);
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &credential).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let redirect = to_client(&app, &b, &answer).await;
        let claims = app.id_claims(&client, &redirect).await;
        assert!(claims["sub"].as_str().is_some());
        assert_eq!(amr(&claims), ["hwk", "user", "mfa"]);
        // The session is open in that browser, and the passkey's last use is recorded.
        let keys = list(&app, &b).await;
        for k in &keys {
            let used = k["last_used_at"].as_i64().is_some();
            assert_eq!(used, k["name"] == "Ноутбук", "{k}");
        }
    }

    async fn replayed_or_foreign_ceremonies_are_refused(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        let mut key = SoftAuthenticator::new(&origin(&app));
        let (status, _) = register(&app, &me, &csrf, &mut key, "Ключ").await;
        assert_eq!(status, StatusCode::CREATED);

        let (b, tx, login_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        // A challenge the server never issued.
        let forged = key.assert_with("bm90LWEtY2hhbGxlbmdl", "localhost");
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"], "ceremony_expired");
        // The issued challenge answered for another RP ID: refused.
        let wrong_rp = key.assert_with(options["publicKey"]["challenge"].as_str().expect("challenge"), "evil.example");
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &wrong_rp).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"], "passkey_refused");
        // That consumed the ceremony: the right answer to it is now a replay.
        let late = key.get(&options);
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &late).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

        // A good login, then the same answer again: refused.
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        let good = key.get(&options);
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &good).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // (An attacker who captured it replays it in a login of their own.)
        let (c, tx_c, csrf_c, _) = login_page(&app, &client.0).await;
        let (status, answer) = login_finish(&app, &c, &tx_c, &csrf_c, &good).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"], "ceremony_expired");
        assert!(answer["message"].as_str().expect("message").contains("уже использован"));

        // A ceremony belongs to its browser: another browser cannot finish it.
        let (owner, tx1, csrf1, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &owner, &tx1, &csrf1).await;
        let stolen = key.get(&options);
        let (thief, tx2, csrf2, _) = login_page(&app, &client.0).await;
        let (status, _) = login_finish(&app, &thief, &tx2, &csrf2, &stolen).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Without the page's CSRF token nothing starts.
        let (status, answer) = post_json(&owner, &app.url("/login/passkey/options"), None, &json!({ "tx": tx1, "csrf": "x" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");

        // Passwordless login needs user verification.
        let (b, tx, login_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        key.user_verified = false;
        let unverified = key.get(&options);
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &unverified).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        let resp = b.http.get(app.url("/api/security/passkeys")).send().await.expect("list");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no session was opened");

        // A registration answer cannot be replayed either.
        let mut other = SoftAuthenticator::new(&origin(&app));
        let (_, options) = post_json(&me, &app.url("/api/security/passkeys/options"), Some(&csrf), &json!({})).await;
        let credential = other.create(&options);
        let body = json!({ "name": "Второй", "credential": credential });
        let (status, _) = post_json(&me, &app.url("/api/security/passkeys"), Some(&csrf), &body).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, answer) = post_json(&me, &app.url("/api/security/passkeys"), Some(&csrf), &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }

    async fn cloned_authenticator_counter_is_refused(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let user_id = app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        let mut key = SoftAuthenticator::new(&origin(&app));
        let (status, _) = register(&app, &me, &csrf, &mut key, "Аппаратный ключ").await;
        assert_eq!(status, StatusCode::CREATED);
        // Someone copies the key; the owner logs in (counter 2), then the copy (also 2).
        let mut copy = key.clone_device();
        let (b, tx, login_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &key.get(&options)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let (thief, tx, thief_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &thief, &tx, &thief_csrf).await;
        let (status, answer) = login_finish(&app, &thief, &tx, &thief_csrf, &copy.get(&options)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!(answer["error"], "passkey_cloned");
        let message = answer["message"].as_str().expect("message");
        assert!(message.starts_with("Ключ доступа мог быть скопирован"), "{message}");
        // No session for the copy, and the owner sees a security event.
        let resp = thief.http.get(app.url("/api/security/passkeys")).send().await.expect("list");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let feed = security_events(&app, &user_id).await;
        assert!(
            feed.iter().any(|e| e.status == "failure" && e.summary.contains("Аппаратный ключ") && e.summary.contains("скопирован")),
            "{feed:?}"
        );
        // A counter that goes backwards is refused too; the real key still works.
        copy.counter = 0;
        let options = login_options(&app, &thief, &tx, &thief_csrf).await;
        let (status, _) = login_finish(&app, &thief, &tx, &thief_csrf, &copy.get(&options)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let options = login_options(&app, &thief, &tx, &thief_csrf).await;
        let (status, answer) = login_finish(&app, &thief, &tx, &thief_csrf, &key.get(&options)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    async fn passkey_of_another_person_is_refused_as_second_step(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        app.user(OTHER_PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        let mut mine = SoftAuthenticator::new(&origin(&app));
        let (status, _) = register(&app, &me, &csrf, &mut mine, "Мой ключ").await;
        assert_eq!(status, StatusCode::CREATED);
        enable_totp(&app, &me, &csrf).await;
        let (other, other_csrf) = logged_in(&app, &client.0, OTHER_PHONE).await;
        let mut theirs = SoftAuthenticator::new(&origin(&app));
        let (status, _) = register(&app, &other, &other_csrf, &mut theirs, "Чужой ключ").await;
        assert_eq!(status, StatusCode::CREATED);

        // The password, then the second step with a passkey.
        let b = app.browser();
        let (_, _, html) = b.authorize(&request(&client.0)).await.page();
        let (url, status, second) = b.submit_login(&html, PHONE, PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::OK, "{url}");
        let pending = hidden(&second, "pending");
        let page_csrf = hidden(&second, "csrf");
        let start = json!({ "pending": pending, "csrf": page_csrf });
        let (status, options) = post_json(&b, &app.url("/login/second/passkey/options"), None, &start).await;
        assert_eq!(status, StatusCode::OK, "{options}");
        let allowed = options["publicKey"]["allowCredentials"].as_array().expect("allowCredentials");
        assert_eq!(allowed.len(), 1, "only the person's own passkeys: {options}");
        // Another person's passkey answering this challenge is refused.
        let foreign = theirs.get(&options);
        let body = json!({ "pending": pending, "csrf": page_csrf, "credential": foreign });
        let (status, answer) = post_json(&b, &app.url("/login/second/passkey"), None, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"], "unknown_passkey");
        // The person's own passkey completes the login.
        let (_, options) = post_json(&b, &app.url("/login/second/passkey/options"), None, &start).await;
        let body = json!({ "pending": pending, "csrf": page_csrf, "credential": mine.get(&options) });
        let (status, answer) = post_json(&b, &app.url("/login/second/passkey"), None, &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let redirect = to_client(&app, &b, &answer).await;
        let methods = amr(&app.id_claims(&client, &redirect).await);
        assert_eq!(methods, ["pwd", "hwk", "mfa"]);
        // The pending login is used up.
        let (status, _) = post_json(&b, &app.url("/login/second/passkey/options"), None, &start).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn locked_accounts_cannot_use_a_passkey(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        let mut key = SoftAuthenticator::new(&origin(&app));
        let (status, _) = register(&app, &me, &csrf, &mut key, "Ключ").await;
        assert_eq!(status, StatusCode::CREATED);
        // Wrong passwords lock the account.
        let attacker = app.browser();
        for _ in 0..=app.state.config.login.max_failures {
            let (_, _, html) = attacker.authorize(&request(&client.0)).await.page();
            attacker.submit_login(&html, PHONE, "Wrong-passw0rd!", false).await;
        }
        let (b, tx, login_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &key.get(&options)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
        assert_eq!(answer["error"], "locked");
    }

    async fn removal_needs_the_password(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let user_id = app.user(PHONE, Level::Standard).await;
        let (me, csrf) = logged_in(&app, &client.0, PHONE).await;
        let mut a = SoftAuthenticator::new(&origin(&app));
        let mut b_key = SoftAuthenticator::new(&origin(&app));
        let (_, first) = register(&app, &me, &csrf, &mut a, "Первый").await;
        let (_, second) = register(&app, &me, &csrf, &mut b_key, "Второй").await;
        let first_id = first["id"].as_str().expect("id").to_string();
        let second_id = second["id"].as_str().expect("id").to_string();
        // Renaming.
        let resp = me.http.patch(app.url(&format!("/api/security/passkeys/{first_id}")))
            .header("X-CSRF-Token", &csrf).json(&json!({ "name": "Рабочий" })).send().await.expect("PATCH");
        assert_eq!(resp.status(), StatusCode::OK);
        // A wrong password removes nothing.
        let url = app.url(&format!("/api/security/passkeys/{first_id}"));
        let resp = me.http.delete(&url).header("X-CSRF-Token", &csrf)
            .json(&json!({ "password": "Wrong-passw0rd!" })).send().await.expect("DELETE");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.json::<Value>().await.expect("JSON")["message"], "Неверный пароль.");
        assert_eq!(list(&app, &me).await.len(), 2);
        // The right one does, and it is in the feed.
        let resp = me.http.delete(&url).header("X-CSRF-Token", &csrf)
            .json(&json!({ "password": PASSWORD })).send().await.expect("DELETE");
        assert_eq!(resp.status(), StatusCode::OK);
        let keys = list(&app, &me).await;
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["name"], "Второй");
        let feed = security_events(&app, &user_id).await;
        assert!(feed.iter().any(|e| e.summary == "Удалён ключ доступа «Рабочий»"), "{feed:?}");
        // The removed passkey no longer logs in.
        let (b, tx, login_csrf, _) = login_page(&app, &client.0).await;
        let options = login_options(&app, &b, &tx, &login_csrf).await;
        let (status, answer) = login_finish(&app, &b, &tx, &login_csrf, &a.get(&options)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"], "unknown_passkey");
        // The page's form (no JavaScript) removes after the password too.
        let (_, _, html) = me.visit(&app.url("/profile/security/passkeys")).await.page();
        let page_csrf = hidden(&html, "csrf");
        let form = |password: &'static str| {
            vec![
                ("csrf", page_csrf.clone()),
                ("lang", "ru".to_string()),
                ("action", "remove".to_string()),
                ("id", second_id.clone()),
                ("password", password.to_string()),
            ]
        };
        let wrong = form("Wrong-passw0rd!");
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, status, html) = page_of(me.post_form("/profile/security/passkeys", &wrong).await);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("Неверный пароль."), "{html}");
        let right = form(PASSWORD);
        let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, status, html) = page_of(me.post_form("/profile/security/passkeys", &right).await);
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Ключ доступа удалён."), "{html}");
        assert!(list(&app, &me).await.is_empty());
    }
}

fn page_of(o: Outcome) -> (String, StatusCode, String) {
    o.page()
}

/// Turns on two-step login with an authenticator app (the code computed from the secret).
async fn enable_totp(app: &TestApp, b: &Browser, csrf: &str) {
    let (status, enrol) =
        post_json(b, &app.url("/api/security/totp"), Some(csrf), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{enrol}");
    let secret = idp::domain::totp::base32_decode(enrol["secret"].as_str().expect("secret"))
        .expect("base32");
    let code = idp::domain::totp::code_at(&secret, app.clock.now());
    let (status, answer) = post_json(
        b,
        &app.url("/api/security/totp/confirm"),
        Some(csrf),
        &json!({ "code": code }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}
