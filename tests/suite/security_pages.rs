//! The cabinet's security pages (issues 4 and 5) over real HTTP with the cookie-keeping
//! browser: two-step login enrolled on the page (the secret read from the page, the first
//! code computed by an independent TOTP implementation, Python `pyotp` via
//! `tests/tools/totp.sh`), ten recovery codes, disabling after the password, the login
//! settings, the password change that ends other sessions, the secret question, and the
//! certificates of signature logins.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use idp::protocol::acr::Level;
use idp::store::{events, login_settings};
use reqwest::StatusCode;
use tests::browser::{Outcome, hidden};
use tests::{Backend, Browser, PASSWORD, TestApp, pyotp};

const CB: &str = "https://rp.example/cb";
const TWO_STEP: &str = "/profile/security/two-step";
const NEW_PASSWORD: &str = "Zebra-Lamp-73!";

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

/// The inner text of the element with `id` (up to its first closing tag).
fn by_id(html: &str, id: &str) -> String {
    let needle = format!("id=\"{id}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no #{id} in page: {html}"));
    let rest = &html[at..];
    let start = rest.find('>').expect("tag end") + 1;
    let end = rest[start..].find("</").expect("closing tag") + start;
    rest[start..end].trim().to_string()
}

/// A browser logged in as `phone` with `password`.
async fn logged_in(app: &TestApp, client_id: &str, phone: &str, password: &str) -> Browser {
    let b = app.browser();
    b.sign_in(&request(client_id), phone, password).await;
    b
}

async fn open(b: &Browser, path: &str) -> (StatusCode, String) {
    let (_, status, html) = b.visit(&format!("{}{path}", b.base)).await.page();
    (status, html)
}

/// Posts a form of the page `html` (its csrf) to `path` with `fields`.
async fn post(
    b: &Browser,
    path: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> (String, StatusCode, String) {
    let csrf = hidden(html, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post_form(path, &form).await.page()
}

/// A password login in `b`: the page after the password (second step, error or consent).
async fn login_page_after_password(
    b: &Browser,
    client_id: &str,
    phone: &str,
    password: &str,
) -> Outcome {
    let (_, _, html) = b.authorize(&request(client_id)).await.page();
    b.submit_login(&html, phone, password, false).await
}

/// Checks that `svg` is a well-formed XML element tree (balanced tags, quoted attributes)
/// with no `style` attribute.
fn assert_well_formed_svg(svg: &str) {
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
    assert!(!svg.contains("style="), "inline style in {svg}");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("tag name");
            stack.push(name.to_string());
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
}

fn dev_ca(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../keys/dev-ca")
        .join(file)
}

/// A detached CMS signature (base64 DER) of `data` by `keys/dev-ca/{name}.pem`, by openssl.
fn openssl_sign(data: &str, name: &str) -> String {
    let mut child = std::process::Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
        ])
        .arg("-signer")
        .arg(dev_ca(&format!("{name}.pem")))
        .arg("-inkey")
        .arg(dev_ca(&format!("{name}.key")))
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

on_both_backends! {
    async fn totp_enrolment_on_the_page_with_qr_recovery_codes_and_disabling(app: TestApp) {
        let client = app.client("sec-rp", "openid").await;
        let phone = "+79003330101";
        app.user(phone, Level::Standard).await;
        let b = logged_in(&app, &client.0, phone, PASSWORD).await;
        let (status, html) = open(&b, TWO_STEP).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(by_id(&html, "totp-status"), "<strong>не подключено");
        assert!(html.contains("Подключить приложение"));
        // A form without the page's CSRF token is refused.
        let (_, status, _) = b.post_form(TWO_STEP, &[("csrf", "forged"), ("action", "enrol")]).await.page();
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (url, status, html) = post(&b, TWO_STEP, &html, &[("action", "enrol")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=started"), "{url}");
        let secret: String = by_id(&html, "totp-secret").split_whitespace().collect();
        assert_eq!(secret.len(), 32, "{secret}");
        // The otpauth link carries the same secret.
        let needle = "id=\"totp-uri\" href=\"";
        let at = html.find(needle).expect("otpauth link") + needle.len();
        let uri = html[at..at + html[at..].find('"').expect("end")].replace("&#38;", "&").replace("&amp;", "&");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}&")), "{uri}");
        // The QR code is inline SVG drawn by the server, without inline styles.
        let qr_at = html.find("id=\"totp-qr\"").expect("QR block");
        let svg_start = html[qr_at..].find("<svg").expect("svg") + qr_at;
        let svg_end = html[svg_start..].find("</svg>").expect("svg end") + svg_start + 6;
        assert_well_formed_svg(&html[svg_start..svg_end]);
        assert!(html[svg_start..svg_end].contains("<path fill=\"#000000\" d=\"M"));

        // A wrong first code does not confirm; the enrolment stays on the page.
        let now = app.clock.now();
        let good = pyotp(&secret, now);
        let wrong = if good == "000000" { "111111" } else { "000000" };
        let (_, status, html) = post(&b, TWO_STEP, &html, &[("action", "confirm"), ("code", wrong)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(alert(&html), "<p class=\"alert__line\">Неверный код. Введите текущий код из приложения.</p>");
        let again: String = by_id(&html, "totp-secret").split_whitespace().collect();
        assert_eq!(again, secret);
        // The right code shows ten recovery codes, once.
        let (_, status, html) = post(&b, TWO_STEP, &html, &[("action", "confirm"), ("code", &good)]).await;
        assert_eq!(status, StatusCode::OK);
        let list_at = html.find("id=\"recovery-codes\"").expect("recovery codes");
        let list = &html[list_at..list_at + html[list_at..].find("</ol>").expect("list end")];
        assert_eq!(list.matches("<code class=\"profile-code\">").count(), 10, "{list}");
        let (_, html) = open(&b, TWO_STEP).await;
        assert!(!html.contains("id=\"recovery-codes\""));
        assert_eq!(by_id(&html, "totp-status"), "<strong>подключено");
        assert_eq!(by_id(&html, "recovery-left"), "10");

        // A new login now asks for the second step.
        let other = app.browser();
        let (_, _, second) = login_page_after_password(&other, &client.0, phone, PASSWORD).await.page();
        assert!(second.contains("name=\"pending\""), "{second}");

        // Disabling: a wrong password is refused, the right one turns it off.
        let (_, status, html) = post(&b, TWO_STEP, &html, &[("action", "disable"), ("password", "Wrong-passw0rd!")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(alert(&html).contains("Неверный пароль."), "{}", alert(&html));
        assert_eq!(by_id(&html, "totp-status"), "<strong>подключено");
        let (url, status, html) = post(&b, TWO_STEP, &html, &[("action", "disable"), ("password", PASSWORD)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=disabled"), "{url}");
        assert_eq!(by_id(&html, "totp-status"), "<strong>не подключено");
        assert!(html.contains("Вход с кодом из приложения отключён."));
        app.browser().sign_in(&request(&client.0), phone, PASSWORD).await;
    }

    async fn login_settings_are_stored_and_unavailable_methods_refused(app: TestApp) {
        let client = app.client("sec-rp", "openid").await;
        let phone = "+79003330201";
        let sub = app.user(phone, Level::Standard).await;
        let b = logged_in(&app, &client.0, phone, PASSWORD).await;
        let (_, html) = open(&b, TWO_STEP).await;
        for (method, message) in [
            ("totp", "Приложение-аутентификатор не подключено"),
            ("passkey", "Ключей доступа нет"),
            ("signature", "Вы ещё не входили по электронной подписи"),
        ] {
            let (_, status, page) = post(&b, TWO_STEP, &html, &[("action", "settings"), ("always", "0"), ("preferred", method)]).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method}");
            assert!(alert(&page).contains(message), "{method}: {}", alert(&page));
        }
        let (_, status, _) = post(&b, TWO_STEP, &html, &[("action", "settings"), ("always", "1"), ("preferred", "carrier-pigeon")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let unchanged = login_settings::get(&app.state.db, &sub).await.expect("settings");
        assert_eq!(unchanged, login_settings::LoginSettings::default());
        // The phone is confirmed, so SMS can be preferred.
        let (url, status, html) = post(&b, TWO_STEP, &html, &[("action", "settings"), ("always", "0"), ("preferred", "sms")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=settings"), "{url}");
        assert!(html.contains("Настройки входа сохранены."));
        let stored = login_settings::get(&app.state.db, &sub).await.expect("settings");
        assert!(!stored.always);
        assert_eq!(stored.preferred.as_deref(), Some("sms"));
        assert!(html.contains("name=\"always\" value=\"0\" checked"), "{html}");
        assert!(html.contains("<option value=\"sms\" selected>"), "{html}");
        let feed = events::list(&app.state.db, &sub, Some("security"), 50).await.expect("events");
        assert!(feed.iter().any(|e| e.summary == "Изменены настройки двухэтапного входа"));
        // The page in English.
        let (status, html) = open(&b, "/profile/security/two-step?lang=en").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Two-step login") && html.contains("Connect an app"), "{html}");
        assert!(html.contains("<option value=\"sms\" selected>A code by SMS</option>"), "{html}");
    }

    async fn password_change_ends_other_sessions(app: TestApp) {
        let client = app.client("sec-rp", "openid").await;
        let phone = "+79003330301";
        let sub = app.user(phone, Level::Standard).await;
        let me = logged_in(&app, &client.0, phone, PASSWORD).await;
        let other = logged_in(&app, &client.0, phone, PASSWORD).await;
        let path = "/profile/security/password";
        let (status, html) = open(&me, path).await;
        assert_eq!(status, StatusCode::OK);
        // A wrong current password, then a new password that breaks the policy.
        let (_, status, page) = post(&me, path, &html, &[("current", "Wrong-passw0rd!"), ("password", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(alert(&page).contains("Неверный текущий пароль."), "{}", alert(&page));
        let (_, status, page) = post(&me, path, &html, &[("current", PASSWORD), ("password", "abcdefgh"), ("again", "abcdefgh1")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        for m in ["Добавьте заглавную латинскую букву", "Добавьте цифру", "Пароли не совпадают"] {
            assert!(alert(&page).contains(m), "{m}: {}", alert(&page));
        }
        // Nothing changed so far: the other browser is still in.
        assert_eq!(open(&other, "/profile/security").await.0, StatusCode::OK);
        let (url, status, page) = post(&me, path, &html, &[("current", PASSWORD), ("password", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=password"), "{url}");
        assert!(page.contains("Пароль изменён. Все другие сеансы входа завершены."));
        // This session stays, the other one has ended.
        assert_eq!(open(&me, "/profile/security").await.0, StatusCode::OK);
        assert_eq!(open(&other, "/profile/security").await.0, StatusCode::UNAUTHORIZED);
        // The old password no longer works; the new one does.
        let refused = login_page_after_password(&app.browser(), &client.0, phone, PASSWORD).await;
        let (url, _, page) = refused.page();
        assert!(url.contains("/login"), "{url}");
        assert!(!alert(&page).is_empty(), "no error on a wrong password");
        app.browser().sign_in(&request(&client.0), phone, NEW_PASSWORD).await;
        let feed = events::list(&app.state.db, &sub, Some("security"), 50).await.expect("events");
        assert!(feed.iter().any(|e| e.summary == "Пароль изменён, другие сеансы завершены"));
    }

    async fn secret_question_needs_the_password(app: TestApp) {
        let client = app.client("sec-rp", "openid").await;
        let phone = "+79003330401";
        app.user(phone, Level::Standard).await;
        let b = logged_in(&app, &client.0, phone, PASSWORD).await;
        let path = "/profile/security/question";
        let (status, html) = open(&b, path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(by_id(&html, "current-question"), "не задан");
        let question = "Кличка первого питомца?";
        let (_, status, page) = post(&b, path, &html, &[("action", "set"), ("question", question), ("answer", "Шарик"), ("password", "Wrong-passw0rd!")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(alert(&page).contains("Неверный пароль."));
        assert!(page.contains(&format!("value=\"{question}\"")), "the question as typed is kept");
        let (_, status, page) = post(&b, path, &html, &[("action", "set"), ("question", question), ("answer", "Ш"), ("password", PASSWORD)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(alert(&page).contains("Ответ должен быть не короче"), "{}", alert(&page));
        let (url, status, page) = post(&b, path, &html, &[("action", "set"), ("question", question), ("answer", "Шарик"), ("password", PASSWORD)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=question_set"), "{url}");
        assert_eq!(by_id(&page, "current-question"), question);
        let (url, status, page) = post(&b, path, &page, &[("action", "clear"), ("password", PASSWORD)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(url.contains("done=question_cleared"), "{url}");
        assert_eq!(by_id(&page, "current-question"), "не задан");
    }

    async fn signature_logins_list_their_certificates(app: TestApp) {
        let client = app.client("sec-rp", "openid").await;
        // A phone ending in 2 gives the test account the SNILS of the dev certificates.
        let phone = "+79003330502";
        let sub = app.user(phone, Level::Standard).await;
        let b = logged_in(&app, &client.0, phone, PASSWORD).await;
        let path = "/profile/security/signature";
        let (status, html) = open(&b, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("id=\"no-certificates\""));
        assert!(html.contains("href=\"/login/signature?lang=ru\""));
        // A login by electronic signature in another browser.
        let s = app.browser();
        let (_, _, login) = s.authorize(&request(&client.0)).await.page();
        let tx = hidden(&login, "tx");
        let (_, _, sig_page) = s.visit(&format!("{}/login/signature?tx={tx}", s.base)).await.page();
        let challenge = hidden(&sig_page, "challenge");
        let signature = openssl_sign(&challenge, "citizen-rsa");
        let csrf = hidden(&sig_page, "csrf");
        let outcome = s.post_form("/login/signature", &[("tx", tx.as_str()), ("csrf", csrf.as_str()), ("challenge", challenge.as_str()), ("signature", signature.as_str())]).await;
        let redirect = s.back_to_client(outcome).await;
        assert_eq!(app.id_claims(&client, &redirect).await["sub"].as_str(), Some(sub.as_str()));
        let (_, html) = open(&b, path).await;
        assert!(!html.contains("id=\"no-certificates\""));
        let list_at = html.find("id=\"certificates\"").expect("list");
        let list = &html[list_at..];
        assert_eq!(list.matches("class=\"profile-item\"").count(), 1, "{list}");
        assert!(list.contains("Серийный номер:"), "{list}");
        // Now the signature can be the preferred second factor.
        let (_, page) = open(&b, TWO_STEP).await;
        let (_, status, _) = post(&b, TWO_STEP, &page, &[("action", "settings"), ("always", "1"), ("preferred", "signature")]).await;
        assert_eq!(status, StatusCode::OK);
        let stored = login_settings::get(&app.state.db, &sub).await.expect("settings");
        assert_eq!(stored.preferred.as_deref(), Some("signature"));
    }
}
