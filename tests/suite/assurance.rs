//! Assurance (issue 4): `acr_values` and the client's `auth_policy` asking for a second
//! factor (a step-up asks only the missing step), the account level too low (a page, then
//! `unmet_authentication_requirements`), re-authentication with the strongest method the
//! session used, remembered devices, discovery, and a step-up seen by an `openidconnect`
//! relying party.

use idp::domain::clients::ClientSpec;
use idp::protocol::acr::Level;
use idp::store::login_settings::{self, LoginSettings};
use idp::store::users::{self, NewUser};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, RedirectUrl, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp, oidc};

const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79005550301";
const MFA: &str = "urn:esia:acr:mfa";

fn request<'a>(client_id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut r = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
        ("nonce", "n-0S6"),
    ];
    r.extend_from_slice(extra);
    r
}

/// The newest login code of the second step sent to `recipient`.
async fn code_sent(app: &TestApp, recipient: &str) -> String {
    app.code_sent(recipient, "login_code").await
}

fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

/// The second-step page this outcome must be; returns its HTML.
fn second_page(o: Outcome) -> String {
    let (url, status, html) = o.page();
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(
        html.contains("name=\"pending\""),
        "no second step at {url}: {html}"
    );
    assert!(
        !html.contains("name=\"password\""),
        "the password is not asked again"
    );
    html
}

/// Answers the second step by SMS: asks for the code, reads it from the outbox, types it.
async fn by_sms(app: &TestApp, b: &Browser, html: &str) -> Outcome {
    let (pending, csrf) = (hidden(html, "pending"), hidden(html, "csrf"));
    let (_, status, sent) = b
        .post_form(
            "/login/second",
            &[
                ("pending", &pending),
                ("csrf", &csrf),
                ("action", "send_sms"),
            ],
        )
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    assert!(sent.contains("value=\"sms\""), "{sent}");
    assert!(
        sent.contains("+7 *** ***-03-01"),
        "the masked phone: {sent}"
    );
    let code = code_sent(app, PHONE).await;
    b.post_form(
        "/login/second",
        &[
            ("pending", &pending),
            ("csrf", &csrf),
            ("method", "sms"),
            ("code", &code),
        ],
    )
    .await
}

/// A password-only session in a fresh browser.
async fn password_session(app: &TestApp, client_id: &str) -> Browser {
    let b = app.browser();
    let back = b.sign_in(&request(client_id, &[]), PHONE, PASSWORD).await;
    assert!(param(&back, "code").is_some(), "{back}");
    b
}

/// Turns two-step login on by SMS with `always`.
async fn two_step_by_sms(app: &TestApp, sub: &str, always: bool) {
    two_step(app, sub, "sms", always).await
}

/// Turns two-step login on with `preferred` first.
async fn two_step(app: &TestApp, sub: &str, preferred: &str, always: bool) {
    let settings = LoginSettings {
        always,
        preferred: Some(preferred.into()),
    };
    login_settings::put(&app.state.db, sub, &settings, app.clock.now())
        .await
        .expect("settings");
}

/// A detached CMS signature (base64 DER) of `data` by the development CA's citizen
/// certificate, made by the openssl command.
fn openssl_sign(data: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/dev-ca");
    let mut child = std::process::Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
        ])
        .arg("-signer")
        .arg(dir.join("citizen-rsa.pem"))
        .arg("-inkey")
        .arg(dir.join("citizen-rsa.key"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("openssl cms");
    assert!(out.status.success(), "openssl cms -sign failed");
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

/// Signs the challenge of the signature page `html` and posts it.
async fn sign(b: &Browser, html: &str) -> Outcome {
    let (tx, csrf, challenge) = (
        hidden(html, "tx"),
        hidden(html, "csrf"),
        hidden(html, "challenge"),
    );
    let signature = openssl_sign(&challenge);
    b.post_form(
        "/login/signature",
        &[
            ("tx", &tx),
            ("csrf", &csrf),
            ("challenge", &challenge),
            ("signature", &signature),
        ],
    )
    .await
}

on_both_backends! {
    async fn signature_is_a_second_factor_and_reauthentication_asks_it_again(app: TestApp) {
        let client = app.client("rp", "openid").await;
        // The development citizen certificate names this account's SNILS (phone ending in 2).
        let phone = "+79005550312";
        let sub = app.user(phone, Level::Standard).await;
        two_step(&app, &sub, "signature", true).await;
        let b = app.browser();
        let (_, _, login) = b.authorize(&request(&client.0, &[])).await.page();
        let (_, status, html) = b.submit_login(&login, phone, PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::OK);
        // The preferred factor comes first.
        let link = html.find("/login/signature?tx=").expect("signature link");
        assert!(html.find("send_sms").is_some_and(|sms| link < sms), "{html}");
        let href = &html[link..link + html[link..].find('"').expect("end")].replace("&amp;", "&");
        let (_, _, sig_page) = b.visit(&format!("{}{}", b.base, href)).await.page();
        let back = sign(&b, &sig_page).await.left();
        let claims = app.id_claims(&client, &back).await;
        assert_eq!(claims["sub"].as_str(), Some(sub.as_str()));
        assert_eq!(amr(&claims), ["pwd", "ds", "mfa"]);
        // max_age=0 re-authenticates with the strongest method used: the signature page.
        let (url, _, html) = b.authorize(&request(&client.0, &[("max_age", "0")])).await.page();
        assert!(url.contains("/login/signature?tx="), "{url}");
        let back = sign(&b, &html).await.left();
        let again = app.id_claims(&client, &back).await;
        assert_eq!(amr(&again), ["ds"]);
        assert_eq!(again["sid"], claims["sid"]);
    }

    async fn acr_mfa_steps_up_a_password_session_with_only_the_second_step(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let b = password_session(&app, &client.0).await;
        // acr_values=mfa: only the second step is asked (the session stays the same person).
        let html = second_page(b.authorize(&request(&client.0, &[("acr_values", MFA)])).await);
        assert!(html.contains("Подтверждение входа"));
        // A wrong SMS code is refused and counted.
        let (pending, csrf) = (hidden(&html, "pending"), hidden(&html, "csrf"));
        b.post_form("/login/second", &[("pending", &pending), ("csrf", &csrf), ("action", "send_sms")]).await.page();
        let code = code_sent(&app, PHONE).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let (_, status, again) = b
            .post_form("/login/second", &[("pending", &pending), ("csrf", &csrf), ("method", "sms"), ("code", wrong)])
            .await
            .page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(again.contains("Неверный код. Осталось попыток: 2."), "{again}");
        let back = b
            .post_form("/login/second", &[("pending", &pending), ("csrf", &csrf), ("method", "sms"), ("code", &code)])
            .await
            .left();
        let claims = app.id_claims(&client, &back).await;
        assert_eq!(claims["acr"], MFA);
        assert_eq!(amr(&claims), ["pwd", "sms", "mfa"]);
        // The session is now multi-factor: the same request is silent.
        let back = b.authorize(&request(&client.0, &[("acr_values", MFA), ("prompt", "none")])).await.left();
        assert_eq!(app.id_claims(&client, &back).await["acr"], MFA);
        // prompt=none cannot step up a password-only session.
        let other = password_session(&app, &client.0).await;
        let back = other.authorize(&request(&client.0, &[("acr_values", MFA), ("prompt", "none")])).await.left();
        assert_eq!(param(&back, "error").as_deref(), Some("interaction_required"));
    }

    async fn client_policy_mfa_forces_a_second_step_by_sms(app: TestApp) {
        let secret = app
            .client_spec(ClientSpec {
                id: "bank".into(),
                name: "Банк".into(),
                redirect_uris: vec![CB.into()],
                scopes: "openid".into(),
                auth_policy: Some("mfa".into()),
                ..ClientSpec::default()
            })
            .await
            .expect("secret");
        let client = ("bank".to_string(), secret);
        app.user(PHONE, Level::Standard).await;
        // A fresh login: the password, then the second step although the account has
        // two-step login off.
        let b = app.browser();
        let (_, _, login) = b.authorize(&request(&client.0, &[])).await.page();
        let html = second_page(b.submit_login(&login, PHONE, PASSWORD, false).await);
        let back = by_sms(&app, &b, &html).await.left();
        let claims = app.id_claims(&client, &back).await;
        assert_eq!(claims["acr"], "urn:esia:loa:standard", "no acr_values: the level");
        assert_eq!(amr(&claims), ["pwd", "sms", "mfa"]);
        // An invalid policy is refused at registration.
        let bad = idp::domain::clients::register_in(&app.state, ClientSpec {
            id: "bad".into(),
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            auth_policy: Some("strong".into()),
            ..ClientSpec::default()
        })
        .await;
        assert!(bad.is_err());
    }

    async fn account_without_a_second_factor_gets_unmet_requirements(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let hash = app.state.passwords.hash(PASSWORD).await.expect("hash");
        users::create(&app.state.db, &NewUser {
            surname: "Петров".into(),
            given_name: "Пётр".into(),
            level: Some(Level::Simplified),
            email: Some("petrov@example.ru".into()),
            password_hash: Some(hash),
            ..NewUser::default()
        }, app.clock.now()).await.expect("user");
        let b = app.browser();
        let (_, _, login) = b.authorize(&request(&client.0, &[("acr_values", MFA)])).await.page();
        let back = b.submit_login(&login, "petrov@example.ru", PASSWORD, false).await.left();
        assert_eq!(param(&back, "error").as_deref(), Some("unmet_authentication_requirements"));
        assert!(param(&back, "error_description").unwrap_or_default().contains("second factor"));
        assert_eq!(param(&back, "state").as_deref(), Some("st"));
    }

    async fn level_too_low_explains_and_returns_unmet_requirements(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let wanted = [("acr_values", "urn:esia:loa:confirmed")];
        let (_, _, login) = b.authorize(&request(&client.0, &wanted)).await.page();
        let (url, status, html) = b.submit_login(&login, PHONE, PASSWORD, false).await.page();
        assert!(url.contains("/login/level"), "{url}");
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Нужен более высокий уровень учётной записи"), "{html}");
        assert!(html.contains("«подтверждённая»") && html.contains("«стандартная»"), "{html}");
        for way in ["центре обслуживания", "заказным письмом", "электронной подписью", "через банк"] {
            assert!(html.contains(way), "{way}");
        }
        assert!(html.contains("href=\"/profile/identity?lang=ru\""));
        // English on request.
        let (_, _, en) = b.visit(&format!("{url}&lang=en")).await.page();
        assert!(en.contains("A higher account level is needed"), "{en}");
        // The button goes back to the site with the error.
        let (tx, csrf) = (hidden(&html, "tx"), hidden(&html, "csrf"));
        let back = b.post_form("/login/level", &[("tx", &tx), ("csrf", &csrf)]).await.left();
        assert!(back.as_str().starts_with(CB));
        assert_eq!(param(&back, "error").as_deref(), Some("unmet_authentication_requirements"));
        assert!(param(&back, "error_description").unwrap_or_default().contains("confirmed"));
        // No session was opened for that login. With a session, prompt=none: the error at once.
        let b = password_session(&app, &client.0).await;
        let back = b.authorize(&request(&client.0, &[("acr_values", "urn:esia:loa:confirmed"), ("prompt", "none")])).await.left();
        assert_eq!(param(&back, "error").as_deref(), Some("unmet_authentication_requirements"));
        // A client policy that needs the confirmed level does the same.
        app.client_spec(ClientSpec {
            id: "fns".into(),
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            auth_policy: Some("confirmed".into()),
            ..ClientSpec::default()
        })
        .await;
        let (url, _, html) = b.authorize(&request("fns", &[])).await.page();
        assert!(url.contains("/login/level"), "{url}");
        assert!(html.contains("«подтверждённая»"), "{html}");
    }

    async fn max_age_zero_with_an_mfa_session_asks_both_steps(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(PHONE, Level::Standard).await;
        // Not "always": a remembered device alone would skip the second step.
        two_step_by_sms(&app, &sub, false).await;
        let b = app.browser();
        let (_, _, login) = b.authorize(&request(&client.0, &[])).await.page();
        let html = second_page(b.submit_login(&login, PHONE, PASSWORD, false).await);
        let back = by_sms(&app, &b, &html).await.left();
        let first = app.id_claims(&client, &back).await;
        assert!(amr(&first).contains(&"mfa".to_string()));
        // max_age=0: the password again, then the second step again, although this browser
        // is now a remembered device.
        app.clock.advance(61);
        let (url, _, login) = b.authorize(&request(&client.0, &[("max_age", "0")])).await.page();
        assert!(url.contains("/login?tx="), "{url}");
        assert!(login.contains("name=\"password\""));
        let html = second_page(b.submit_login(&login, PHONE, PASSWORD, false).await);
        let back = by_sms(&app, &b, &html).await.left();
        let again = app.id_claims(&client, &back).await;
        assert!(amr(&again).contains(&"mfa".to_string()));
        assert!(again["auth_time"].as_i64() > first["auth_time"].as_i64());
        assert_eq!(again["sid"], first["sid"], "the same session, re-authenticated");
    }

    async fn remembered_device_skips_the_second_step_when_not_always(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(PHONE, Level::Standard).await;
        two_step_by_sms(&app, &sub, false).await;
        // The first login on this browser asks for the second step and remembers the device.
        let b = app.browser();
        let (_, _, login) = b.authorize(&request(&client.0, &[])).await.page();
        let html = second_page(b.submit_login(&login, PHONE, PASSWORD, false).await);
        let back = by_sms(&app, &b, &html).await.left();
        let sid = app.id_claims(&client, &back).await["sid"].as_str().expect("sid").to_string();
        let devices = idp::store::devices::list(&app.state.db, &sub).await.expect("devices");
        assert_eq!(devices.len(), 1);
        // The session ends; the next login on this browser is the password alone.
        idp::domain::login::end_session(&app.state, &sid).await.expect("end");
        let (_, _, login) = b.authorize(&request(&client.0, &[])).await.page();
        let back = b.submit_login(&login, PHONE, PASSWORD, false).await.left();
        assert_eq!(amr(&app.id_claims(&client, &back).await), ["pwd"]);
        // A new browser is asked.
        let c = app.browser();
        let (_, _, login) = c.authorize(&request(&client.0, &[])).await.page();
        second_page(c.submit_login(&login, PHONE, PASSWORD, false).await);
        // "Someone else's computer" is not remembered.
        let d = app.browser();
        let (_, _, login) = d.authorize(&request(&client.0, &[])).await.page();
        let html = second_page(d.submit_login(&login, PHONE, PASSWORD, true).await);
        app.clock.advance(61);
        by_sms(&app, &d, &html).await.left();
        assert_eq!(idp::store::devices::list(&app.state.db, &sub).await.expect("devices").len(), 1);
        // With "always", even the remembered device is asked.
        two_step_by_sms(&app, &sub, true).await;
        let (_, _, login) = b.authorize(&request(&client.0, &[("prompt", "login")])).await.page();
        second_page(b.submit_login(&login, PHONE, PASSWORD, false).await);
    }

    async fn admin_api_registers_and_shows_the_auth_policy(app: TestApp) {
        let (_, token) = idp::store::admins::create(&app.state.db, &app.state.secrets, "Интеграция", app.clock.now()).await.expect("admin");
        let http = reqwest::Client::new();
        let body = json!({"client_id": "pfr", "redirect_uris": [CB], "scope": "openid", "auth_policy": "confirmed,mfa"});
        let resp = http.post(app.url("/api/admin/clients")).bearer_auth(&token).json(&body).send().await.expect("POST");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let doc: Value = resp.json().await.expect("JSON");
        assert_eq!(doc["auth_policy"], "mfa confirmed");
        let shown: Value = http.get(app.url("/api/admin/clients/pfr")).bearer_auth(&token).send().await.expect("GET").json().await.expect("JSON");
        assert_eq!(shown["auth_policy"], "mfa confirmed");
        let bad = json!({"client_id": "x", "redirect_uris": [CB], "scope": "openid", "auth_policy": "strong"});
        let resp = http.post(app.url("/api/admin/clients")).bearer_auth(&token).json(&bad).send().await.expect("POST");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let err: Value = resp.json().await.expect("JSON");
        assert!(err["message"].as_str().unwrap_or_default().contains("auth_policy"), "{err}");
        // Without a policy: any.
        let plain = json!({"client_id": "plain", "redirect_uris": [CB], "scope": "openid"});
        let doc: Value = http.post(app.url("/api/admin/clients")).bearer_auth(&token).json(&plain).send().await.expect("POST").json().await.expect("JSON");
        assert_eq!(doc["auth_policy"], "any");
    }

    async fn discovery_lists_acr_and_amr_values(app: TestApp) {
        let d: Value = reqwest::get(app.url("/.well-known/openid-configuration")).await.expect("GET").json().await.expect("JSON");
        let acr = d["acr_values_supported"].as_array().expect("acr");
        for v in ["urn:esia:loa:simplified", "urn:esia:loa:standard", "urn:esia:loa:confirmed", MFA] {
            assert!(acr.contains(&json!(v)), "{v}");
        }
        let amr = d["amr_values_supported"].as_array().expect("amr");
        for v in ["pwd", "otp", "sms", "hwk", "swk", "mfa", "user", "ds"] {
            assert!(amr.contains(&json!(v)), "{v}");
        }
    }

    async fn step_up_through_an_openidconnect_relying_party(app: TestApp) {
        let (id, secret) = app.client("tax", "openid").await;
        let sub = app.user(PHONE, Level::Standard).await;
        let b = password_session(&app, &id).await;
        let http = oidc::http_client();
        let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).expect("issuer"), &http).await.expect("discovery");
        let client = CoreClient::from_provider_metadata(metadata, ClientId::new(id.clone()), Some(ClientSecret::new(secret)))
            .set_redirect_uri(RedirectUrl::new(CB.into()).expect("redirect"));
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, csrf, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_auth_context_value(AuthenticationContextClass::new(MFA.into()))
            .set_pkce_challenge(challenge)
            .url();
        let html = second_page(b.visit(auth_url.as_str()).await);
        let back = by_sms(&app, &b, &html).await.left();
        assert_eq!(param(&back, "state").as_deref(), Some(csrf.secret().as_str()));
        let tokens = client
            .exchange_code(AuthorizationCode::new(param(&back, "code").expect("code")))
            .expect("exchange")
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("token exchange");
        let claims = tokens.id_token().expect("id_token").claims(&client.id_token_verifier(), &nonce).expect("verifies");
        assert_eq!(claims.subject().as_str(), sub);
        assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some(MFA));
        let methods: Vec<String> = claims.auth_method_refs().expect("amr").iter().map(|m| m.as_str().to_string()).collect();
        assert!(methods.contains(&"mfa".to_string()) && methods.contains(&"sms".to_string()), "{methods:?}");
    }
}
