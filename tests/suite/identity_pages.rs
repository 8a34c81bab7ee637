//! The identity pages of the personal account as a browser without JavaScript uses them, on
//! both backends with the job worker off (checks run by `run_due_jobs`): the identity form
//! puts the data on check and, once checked, the page shows the standard level; a malformed
//! SNILS is refused in Russian and changes nothing; the letter page orders a letter and takes
//! its code; and a verified RF passport names the account for password recovery (an
//! unverified one names nobody).

use idp::domain::jobs::run_due_jobs;
use idp::domain::verification::confirm;
use idp::protocol::acr::Level;
use idp::store::{documents, identity};
use reqwest::StatusCode;
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, Options, PASSWORD, TestApp};

use crate::recovery::{alert, code_sent, logs_in, sent_count, start as recover_start, submit_code};

const CB: &str = "https://rp.example/cb";
const SNILS: &str = "112-233-445 95";

async fn start(backend: Backend) -> TestApp {
    let app = TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(|c| c.verification.worker = false)),
    })
    .await;
    app.client("rp", "openid").await;
    app
}

/// A person at `level`, signed in to the provider in a fresh browser; returns the `sub` too.
async fn signed_in(app: &TestApp, phone: &str, level: Level) -> (Browser, String) {
    let sub = app.user(phone, level).await;
    let b = app.browser();
    let params = [
        ("client_id", "rp"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "s"),
    ];
    let back = b.sign_in(&params, phone, PASSWORD).await;
    assert!(param(&back, "code").is_some(), "{back}");
    (b, sub)
}

/// A page of the provider (redirects inside it followed): final URL, status, body.
async fn open(app: &TestApp, b: &Browser, path: &str) -> (String, StatusCode, String) {
    match b.visit(&app.url(path)).await {
        Outcome::Page { url, status, html } => (url, status, html),
        Outcome::Left(url) => panic!("left the provider for {url}"),
    }
}

/// POSTs a form as a browser does (redirects inside the provider followed).
async fn submit(b: &Browser, path: &str, form: &[(&str, &str)]) -> (String, StatusCode, String) {
    match b.post_form(path, form).await {
        Outcome::Page { url, status, html } => (url, status, html),
        Outcome::Left(url) => panic!("left the provider for {url}"),
    }
}

/// The identity form as a person fills it in.
fn identity_form<'a>(csrf: &'a str, snils: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("lang", "ru"),
        ("series", "4508"),
        ("number", "123456"),
        ("issue_date", "2010-05-01"),
        ("issued_by", "ОВД Тверского района"),
        ("issuer_code", "690-001"),
        ("birthdate", "1980-01-02"),
        ("birthplace", "г. Тверь"),
        ("gender", "M"),
        ("citizenship", "RUS"),
        ("snils", snils),
        ("inn", ""),
    ]
}

/// The text of the element with `id` (tags stripped, spaces collapsed).
fn text_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let start = rest.find('>').expect("tag end") + 1;
    let end = rest[start..].find("</").expect("closing tag") + start;
    rest[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Takes a signed-in simplified person to the standard level through the identity page.
async fn verify_through_page(app: &TestApp, b: &Browser) {
    let (_, status, html) = open(app, b, "/profile/identity").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csrf = hidden(&html, "csrf");
    let (url, status, html) = submit(b, "/profile/identity", &identity_form(&csrf, SNILS)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(url.contains("done=submitted"), "{url}");
    assert_eq!(run_due_jobs(&app.state).await.expect("job round"), 1);
}

// Each test runs on both backends, with the job worker off.
on_both_backends! {
    start = start;
    async fn the_identity_form_puts_data_on_check_and_raises_to_standard(app: TestApp) {
        let (b, sub) = signed_in(&app, "+79006660001", Level::Simplified).await;
        let (_, _, profile) = open(&app, &b, "/profile").await;
        assert!(profile.contains("href=\"/profile/identity?lang=ru\"") && profile.contains("href=\"/profile/identity/letter?lang=ru\""));
        let (_, status, html) = open(&app, &b, "/profile/identity").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text_of(&html, "account-level"), "упрощённая");
        assert_eq!(text_of(&html, "verification-status"), "данные не отправлялись");
        assert!(!html.contains("<script>") && !html.contains("style=\""));
        let csrf = hidden(&html, "csrf");

        // Without the CSRF token nothing happens.
        let (_, status, refused) = submit(&b, "/profile/identity", &identity_form("forged", SNILS)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(refused.contains("id=\"form-errors\""));
        assert!(documents::for_user(&app.state.db, &sub).await.expect("docs").is_empty());

        let (url, status, html) = submit(&b, "/profile/identity", &identity_form(&csrf, SNILS)).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(url.contains("/profile/identity?lang=ru&done=submitted"), "{url}");
        assert!(html.contains("Данные отправлены на проверку"), "{html}");
        assert_eq!(text_of(&html, "verification-status"), "на проверке");
        assert!(html.contains("4508 123456") && html.contains("(на проверке)"), "the passport, on check");
        // Sending the same data again while they are checked is refused in Russian.
        let (_, status, again) = submit(&b, "/profile/identity", &identity_form(&csrf, SNILS)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(again.contains("Данные уже на проверке"), "{again}");

        assert_eq!(run_due_jobs(&app.state).await.expect("job round"), 1);
        let (_, _, html) = open(&app, &b, "/profile/identity").await;
        assert_eq!(text_of(&html, "account-level"), "стандартная");
        assert_eq!(text_of(&html, "verification-status"), "проверено");
        assert!(html.contains("4508 123456") && html.contains("(проверено)"));
        let (_, _, en) = open(&app, &b, "/profile/identity?lang=en").await;
        assert!(en.contains("lang=\"en\""));
        assert_eq!(text_of(&en, "account-level"), "standard");
        assert_eq!(text_of(&en, "verification-status"), "verified");
    }

    async fn a_malformed_snils_is_refused_in_russian_and_changes_nothing(app: TestApp) {
        let (b, sub) = signed_in(&app, "+79006660002", Level::Simplified).await;
        let (_, _, html) = open(&app, &b, "/profile/identity").await;
        let csrf = hidden(&html, "csrf");
        let (url, status, html) = submit(&b, "/profile/identity", &identity_form(&csrf, "123-456-789 65")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(url.ends_with("/profile/identity"), "no redirect: {url}");
        assert!(html.contains("СНИЛС указан с ошибкой: нужно 11 цифр (XXX-XXX-XXX YY) с верным контрольным числом."), "{html}");
        assert_eq!(hidden(&html, "snils"), "123-456-789 65", "what was typed is kept");
        assert_eq!(text_of(&html, "account-level"), "упрощённая");
        assert!(documents::for_user(&app.state.db, &sub).await.expect("docs").is_empty());
        let account = identity::of_user(&app.state.db, &sub).await.expect("account").expect("exists");
        assert_eq!((account.level, account.verification_status), (Level::Simplified, None));
        assert_eq!(run_due_jobs(&app.state).await.expect("job round"), 0, "nothing was queued");
    }

    async fn the_letter_page_orders_a_letter_and_takes_its_code(app: TestApp) {
        let (b, sub) = signed_in(&app, "+79006660003", Level::Simplified).await;
        let (_, status, html) = open(&app, &b, "/profile/identity/letter").await;
        assert_eq!(status, StatusCode::OK);
        let csrf = hidden(&html, "csrf");
        let order = [("csrf", csrf.as_str()), ("lang", "ru"), ("action", "order"), ("address", "170100, г. Тверь, ул. Советская, д. 1")];
        // A simplified account cannot order a letter.
        let (_, status, html) = submit(&b, "/profile/identity/letter", &order).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(html.contains("Подтвердить можно только стандартную учётную запись"), "{html}");
        assert!(confirm::printable_letters(&app.state, 10).await.expect("letters").is_empty());

        verify_through_page(&app, &b).await;
        let (url, status, html) = submit(&b, "/profile/identity/letter", &order).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(url.contains("done=ordered"), "{url}");
        assert!(html.contains("Письмо с кодом подтверждения будет отправлено заказной почтой"));
        assert!(html.contains("170100, г. Тверь, ул. Советская, д. 1") && html.contains("готовится к отправке"));
        let letters = confirm::printable_letters(&app.state, 10).await.expect("letters");
        let code = letters[0].code.clone().expect("code to print");

        let wrong = if code == "00000000" { "11111111" } else { "00000000" };
        let (_, status, html) = submit(&b, "/profile/identity/letter", &[("csrf", &csrf), ("lang", "ru"), ("action", "confirm"), ("code", wrong)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("Неверный код подтверждения. Осталось попыток:"), "{html}");
        assert_eq!(text_of(&html, "account-level"), "стандартная");

        let (url, status, html) = submit(&b, "/profile/identity/letter", &[("csrf", &csrf), ("lang", "ru"), ("action", "confirm"), ("code", &code)]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(url.contains("done=confirmed"), "{url}");
        assert!(html.contains("Личность подтверждена"));
        assert_eq!(text_of(&html, "account-level"), "подтверждённая");
        let account = identity::of_user(&app.state.db, &sub).await.expect("account").expect("exists");
        assert_eq!(account.level, Level::Confirmed);
    }

    async fn a_verified_passport_recovers_the_password(app: TestApp) {
        let phone = "+79006660004";
        let (b, _) = signed_in(&app, phone, Level::Simplified).await;
        let (_, _, html) = open(&app, &b, "/profile/identity").await;
        let csrf = hidden(&html, "csrf");
        let (_, status, _) = submit(&b, "/profile/identity", &identity_form(&csrf, SNILS)).await;
        assert_eq!(status, StatusCode::OK);

        // While the passport is unchecked it names nobody: the neutral page, no code sent.
        let stranger = app.browser();
        let (status, neutral) = recover_start(&stranger, "/recover", "4508 123456").await;
        assert_eq!(status, StatusCode::OK, "{}", alert(&neutral));
        assert!(neutral.contains("Если такая учётная запись существует"));
        assert_eq!(sent_count(&app, phone, "recovery_code").await, 0);

        assert_eq!(run_due_jobs(&app.state).await.expect("job round"), 1);
        app.clock.advance(61);
        let r = app.browser();
        let (status, html) = recover_start(&r, "/recover", "4508 123456").await;
        assert_eq!(status, StatusCode::OK, "{}", alert(&html));
        let plain = |h: &str| h.replace(&hidden(h, "flow"), "F").replace(&hidden(h, "csrf"), "C");
        assert_eq!(plain(&html), plain(&neutral), "the same page either way");
        let code = code_sent(&app, phone, "recovery_code").await;
        let (status, html) = submit_code(&r, "/recover", &html, &code).await;
        assert_eq!(status, StatusCode::OK, "{}", alert(&html));
        let new = "Pasport-Vosst-2026!";
        let (flow, csrf) = (hidden(&html, "flow"), hidden(&html, "csrf"));
        let (_, status, done) = submit(&r, "/recover/password", &[("flow", &flow), ("csrf", &csrf), ("password", new), ("password_again", new)]).await;
        assert_eq!(status, StatusCode::OK, "{}", alert(&done));
        assert!(done.contains("Пароль изменён"), "{done}");
        assert_eq!(logs_in(&app.browser(), "rp", phone, PASSWORD).await, StatusCode::UNAUTHORIZED);
        assert_eq!(logs_in(&app.browser(), "rp", phone, new).await, StatusCode::FOUND);
    }

    async fn demo_citizens_have_verified_passports_released_as_id_doc(app: TestApp) {
        idp::domain::demo::seed(&app.state).await.expect("seed");
        idp::domain::demo::seed(&app.state).await.expect("seeding again changes nothing");
        for (phone, passports) in [("+79000000001", 0), ("+79000000002", 1), ("+79000000003", 1)] {
            let user = idp::store::users::by_login(&app.state.db, &idp::domain::identifiers::Login::Phone(phone.into()))
                .await
                .expect("lookup")
                .expect("seeded");
            let docs = documents::for_user(&app.state.db, &user.id).await.expect("docs");
            let verified = docs.iter().filter(|d| d.verification == documents::VERIFIED && d.document.kind.as_str() == "RF_PASSPORT").count();
            assert_eq!((docs.len(), verified), (passports, passports), "{phone}");
        }
        for id in ["fns-lk", "sfr-pension"] {
            let client = idp::store::clients::by_id(&app.state.db, id).await.expect("client").expect("seeded");
            assert!(client.scopes.contains("id_doc"), "{id}");
        }
        // The standard citizen's passport reaches a demo client as the id_doc claim.
        let b = app.browser();
        let redirect = "http://127.0.0.1:8081/callback";
        let params = [
            ("client_id", "fns-lk"),
            ("response_type", "code"),
            ("scope", "openid id_doc"),
            ("redirect_uri", redirect),
            ("state", "s"),
        ];
        let back = b.sign_in(&params, "+79000000002", idp::domain::demo::DEMO_PASSWORD).await;
        let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
        let tokens: serde_json::Value = reqwest::Client::new()
            .post(app.url("/token"))
            .basic_auth("fns-lk", Some("fns-demo-secret"))
            .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", redirect)])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let info: serde_json::Value = reqwest::Client::new()
            .get(app.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}")))
            .send()
            .await
            .expect("userinfo")
            .json()
            .await
            .expect("userinfo json");
        assert_eq!((info["id_doc"]["series"].as_str(), info["id_doc"]["number"].as_str()), (Some("4505"), Some("654321")), "{info}");
        assert_eq!(info["id_doc"]["vrfStu"], "VERIFIED");
    }
}
