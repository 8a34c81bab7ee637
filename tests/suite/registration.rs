//! Registration to the simplified level over HTTP, on both backends: by phone (SMS code read
//! from the outbox), by e-mail (the link), by both, and from an authorization request (ends
//! with a code at the client). Every bad input gets a clear Russian message and changes
//! nothing: wrong, expired and exhausted codes, resend too soon, the daily and per-address
//! caps, taken or recently reused contacts (one neutral message), malformed contacts, and
//! each password rule.

use idp::domain::registration::UNAVAILABLE_RU;
use idp::protocol::acr::Level;
use idp::store::{events, outbox, released, users};
use reqwest::StatusCode;
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, TestApp};

pub(crate) const GOOD_PASSWORD: &str = "Registr-2026!x";
const CB: &str = "https://rp.example/cb";

/// The fields of the registration form; empty ones are sent empty.
#[derive(Clone, Copy, Default)]
pub(crate) struct Person<'a> {
    pub surname: &'a str,
    pub given_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
}

pub(crate) fn person<'a>(phone: &'a str, email: &'a str) -> Person<'a> {
    Person {
        surname: "Петров",
        given_name: "Пётр",
        phone,
        email,
    }
}

/// Opens `/register` (with `tx` when given) and submits the form.
pub(crate) async fn start(app: &TestApp, b: &Browser, p: Person<'_>, tx: &str) -> Outcome {
    let path = if tx.is_empty() {
        "/register".to_string()
    } else {
        format!("/register?tx={tx}")
    };
    let (_, status, html) = b.visit(&app.url(&path)).await.page();
    assert_eq!(status, StatusCode::OK, "{html}");
    let csrf = hidden(&html, "csrf");
    b.post_form(
        "/register",
        &[
            ("tx", tx),
            ("csrf", csrf.as_str()),
            ("surname", p.surname),
            ("given_name", p.given_name),
            ("middle_name", ""),
            ("phone", p.phone),
            ("email", p.email),
        ],
    )
    .await
}

/// The newest message to `recipient` in the outbox.
pub(crate) async fn last_message(app: &TestApp, recipient: &str) -> outbox::OutboxMessage {
    outbox::list(&app.state.db, Some(recipient), 1)
        .await
        .expect("outbox")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no message to {recipient}"))
}

/// The six-digit code in the newest message to `recipient`.
pub(crate) async fn last_code(app: &TestApp, recipient: &str) -> String {
    let body = last_message(app, recipient).await.body;
    let at = body.find(": ").expect("code in body") + 2;
    let code: String = body[at..].chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{body}");
    code
}

/// The confirmation link in the newest e-mail to `address`.
pub(crate) fn link_in(body: &str) -> String {
    let at = body.find("http").expect("link in body");
    body[at..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string()
}

/// Submits the code page shown as `html`.
pub(crate) async fn submit_code(b: &Browser, html: &str, code: &str) -> Outcome {
    let reg = hidden(html, "reg");
    let csrf = hidden(html, "csrf");
    b.post_form(
        "/register/code",
        &[
            ("reg", reg.as_str()),
            ("csrf", csrf.as_str()),
            ("code", code),
            ("action", "confirm"),
        ],
    )
    .await
}

async fn resend(b: &Browser, html: &str) -> Outcome {
    let reg = hidden(html, "reg");
    let csrf = hidden(html, "csrf");
    b.post_form(
        "/register/code",
        &[
            ("reg", reg.as_str()),
            ("csrf", csrf.as_str()),
            ("action", "resend"),
        ],
    )
    .await
}

/// Submits the password page shown as `html`.
pub(crate) async fn submit_password(
    b: &Browser,
    html: &str,
    password: &str,
    again: &str,
) -> Outcome {
    let reg = hidden(html, "reg");
    let csrf = hidden(html, "csrf");
    b.post_form(
        "/register/password",
        &[
            ("reg", reg.as_str()),
            ("csrf", csrf.as_str()),
            ("password", password),
            ("password_again", again),
            ("action", "submit"),
        ],
    )
    .await
}

/// Opens an e-mail confirmation link and presses its button; the page that follows.
pub(crate) async fn open_link(b: &Browser, link: &str) -> Outcome {
    let (url, status, html) = b.visit(link).await.page();
    assert_eq!(status, StatusCode::OK, "{url}: {html}");
    let form = [
        ("address", hidden(&html, "address")),
        ("token", hidden(&html, "token")),
        ("csrf", hidden(&html, "csrf")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form("/register/email", &form).await
}

/// Registers by phone end to end; returns the final outcome (done page or client redirect).
pub(crate) async fn register_by_phone(
    app: &TestApp,
    b: &Browser,
    phone: &str,
    tx: &str,
) -> Outcome {
    let (url, _, html) = start(app, b, person(phone, ""), tx).await.page();
    assert!(url.contains("/register/code"), "{url}: {html}");
    let code = last_code(app, phone).await;
    let (url, _, html) = submit_code(b, &html, &code).await.page();
    assert!(url.contains("/register/password"), "{url}: {html}");
    submit_password(b, &html, GOOD_PASSWORD, GOOD_PASSWORD).await
}

pub(crate) async fn user_count(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(app.state.db.read())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

fn alert(html: &str) -> &str {
    let at = html.find("role=\"alert\"").expect("an alert");
    let end = at + html[at..].find("</div>").expect("alert end");
    &html[at..end]
}

async fn user_by_phone(app: &TestApp, phone: &str) -> users::User {
    users::by_login(
        &app.state.db,
        &idp::domain::identifiers::Login::Phone(phone.into()),
    )
    .await
    .expect("lookup")
    .expect("user exists")
}

on_both_backends! {
    async fn register_by_phone_then_log_in(app: TestApp) {
        let b = app.browser();
        let before = user_count(&app).await;
        let (url, status, html) = register_by_phone(&app, &b, "+79005550101", "").await.page();
        assert_eq!(status, StatusCode::OK, "{url}: {html}");
        assert!(html.contains("Регистрация завершена"), "{html}");
        assert!(html.contains("Петров Пётр"), "{html}");
        assert_eq!(user_count(&app).await, before + 1);

        let user = user_by_phone(&app, "+79005550101").await;
        assert_eq!(user.level, Level::Simplified);
        assert!(user.person.phone_verified);
        assert_eq!(user.person.email, None);
        let feed = events::list(&app.state.db, &user.id, Some("profile"), 10).await.expect("events");
        assert!(feed.iter().any(|e| e.summary.contains("Регистрация")), "{feed:?}");

        // The registration logged the person in.
        let (_, _, home) = b.visit(&app.url("/")).await.page();
        assert!(home.contains("Петров Пётр"), "{home}");

        // A new browser logs in with the new password at /login.
        let (id, _) = app.client("rp-reg", "openid").await;
        let other = app.browser();
        let back = other
            .sign_in(&[("client_id", &id), ("response_type", "code"), ("scope", "openid"), ("redirect_uri", CB), ("state", "s1")],
                "8 (900) 555-01-01", GOOD_PASSWORD)
            .await;
        assert!(param(&back, "code").is_some(), "{back}");
        assert_eq!(param(&back, "state").as_deref(), Some("s1"));
    }

    async fn register_by_email_via_link(app: TestApp) {
        let b = app.browser();
        let (url, status, html) = start(&app, &b, person("", "Petrov.Reg@Example.RU"), "").await.page();
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Проверьте почту") && html.contains("petrov.reg@example.ru"), "{url}: {html}");
        let mail = last_message(&app, "petrov.reg@example.ru").await;
        assert_eq!(mail.template, "email_link");
        let link = link_in(&mail.body);
        assert!(link.starts_with(&app.url("/register/email?")), "{link}");

        // The link may be opened in another browser (another device).
        let phone_browser = app.browser();
        let (url, _, html) = open_link(&phone_browser, &link).await.page();
        assert!(url.contains("/register/password"), "{url}: {html}");
        let (_, status, html) = submit_password(&phone_browser, &html, GOOD_PASSWORD, GOOD_PASSWORD).await.page();
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Регистрация завершена"));
        let user = users::by_login(&app.state.db, &idp::domain::identifiers::Login::Email("petrov.reg@example.ru".into()))
            .await.expect("lookup").expect("user");
        assert!(user.person.email_verified);
        assert_eq!(user.person.phone, None);

        // The link is single use.
        let (_, status, html) = open_link(&app.browser(), &link).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("Ссылка недействительна"), "{html}");
    }

    async fn register_with_phone_and_email_confirms_both(app: TestApp) {
        let b = app.browser();
        let (_, _, html) = start(&app, &b, person("+79005550102", "both@example.ru"), "").await.page();
        let sms = last_code(&app, "+79005550102").await;
        let (url, _, html) = submit_code(&b, &html, &sms).await.page();
        assert!(url.contains("/register/code") && html.contains("Подтверждение почты"), "{url}: {html}");
        let mailed = last_code(&app, "both@example.ru").await;
        let (url, _, html) = submit_code(&b, &html, &mailed).await.page();
        assert!(url.contains("/register/password"), "{url}");
        let (_, status, _) = submit_password(&b, &html, GOOD_PASSWORD, GOOD_PASSWORD).await.page();
        assert_eq!(status, StatusCode::OK);
        let user = user_by_phone(&app, "+79005550102").await;
        assert!(user.person.phone_verified && user.person.email_verified);
        assert_eq!(user.person.email.as_deref(), Some("both@example.ru"));
    }

    async fn registration_started_from_authorize_ends_with_a_code(app: TestApp) {
        let (id, _) = app.client("rp-start", "openid fullname").await;
        let b = app.browser();
        let (url, _, login) = b
            .authorize(&[("client_id", &id), ("response_type", "code"), ("scope", "openid fullname"), ("redirect_uri", CB), ("state", "st-9"), ("nonce", "n")])
            .await
            .page();
        assert!(url.contains("/login"), "{url}");
        let tx = hidden(&login, "tx");
        assert!(login.contains(&format!("href=\"/register?tx={tx}")), "the login page links to registration: {login}");
        let (_, _, reg_page) = b.visit(&app.url(&format!("/register?tx={tx}"))).await.page();
        assert!(reg_page.contains("Сайт rp-start"), "the client is named: {reg_page}");

        let outcome = register_by_phone(&app, &b, "+79005550103", &tx).await;
        let (url, _, consent) = outcome.page();
        assert!(url.contains("/consent"), "continues to consent: {url}");
        let back = b.submit_consent(&consent, "allow").await.left();
        assert!(back.as_str().starts_with(CB), "{back}");
        assert!(param(&back, "code").is_some(), "{back}");
        assert_eq!(param(&back, "state").as_deref(), Some("st-9"));
        assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()));
    }

    async fn wrong_expired_and_exhausted_codes(app: TestApp) {
        let b = app.browser();
        let phone = "+79005550104";
        let (_, _, html) = start(&app, &b, person(phone, ""), "").await.page();
        let code = last_code(&app, phone).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };

        let (_, status, page) = submit_code(&b, &html, wrong).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&page).contains("Неверный код. Осталось попыток: 2."), "{page}");

        // Expired: five minutes and a second later the right code is refused.
        app.clock.advance(301);
        let (_, status, page) = submit_code(&b, &html, &code).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&page).contains("Срок действия кода истёк"), "{page}");

        // A new code; three wrong tries spend it, then even the right one is refused.
        let (_, status, page) = resend(&b, &html).await.page();
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Новый код отправлен"));
        let code = last_code(&app, phone).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for expected in ["Осталось попыток: 2.", "Осталось попыток: 1.", "Попытки исчерпаны"] {
            let (_, _, page) = submit_code(&b, &html, wrong).await.page();
            assert!(alert(&page).contains(expected), "{expected}: {page}");
        }
        let (_, status, page) = submit_code(&b, &html, &code).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&page).contains("Попытки исчерпаны: запросите новый код"), "{page}");
        assert_eq!(user_count(&app).await, 0, "nothing created");

        // A new code is needed, and works.
        app.clock.advance(61);
        resend(&b, &html).await.page();
        let code = last_code(&app, phone).await;
        let (url, _, _) = submit_code(&b, &html, &code).await.page();
        assert!(url.contains("/register/password"), "{url}");
    }

    async fn resend_cool_down_and_daily_cap(app: TestApp) {
        let b = app.browser();
        let phone = "+79005550105";
        let (_, _, html) = start(&app, &b, person(phone, ""), "").await.page();
        let (_, status, page) = resend(&b, &html).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let text = alert(&page);
        let at = text.find("Новый код можно запросить через ").expect(text) + "Новый код можно запросить через ".len();
        let wait: i64 = text[at..].split(' ').next().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(outbox::list(&app.state.db, Some(phone), 50).await.unwrap().len(), 1, "no second SMS");

        // 10 codes a day per phone: the first plus nine resends, then the cap.
        for _ in 0..9 {
            app.clock.advance(61);
            let (_, status, page) = resend(&b, &html).await.page();
            assert_eq!(status, StatusCode::OK, "{page}");
        }
        app.clock.advance(61);
        let (_, status, page) = resend(&b, &html).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(alert(&page).contains("Превышено число кодов на сегодня"), "{page}");
        assert_eq!(outbox::list(&app.state.db, Some(phone), 50).await.unwrap().len(), 10);
        // A day later the phone can get codes again.
        app.clock.advance(86_400);
        let (_, status, _) = resend(&b, &html).await.page();
        assert_eq!(status, StatusCode::OK);
    }

    async fn per_address_cap_on_codes(app: TestApp) {
        let b = app.browser();
        for i in 0..idp::domain::registration::CODES_PER_ADDRESS_PER_HOUR {
            let phone = format!("+7900556{i:04}");
            let (url, _, _) = start(&app, &b, person(&phone, ""), "").await.page();
            assert!(url.contains("/register/code"), "{i}: {url}");
        }
        let (_, status, page) = start(&app, &b, person("+79005569999", ""), "").await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(alert(&page).contains("Слишком много запросов с вашего адреса"), "{page}");
        assert!(outbox::list(&app.state.db, Some("+79005569999"), 5).await.unwrap().is_empty());
    }

    async fn taken_contacts_are_refused_neutrally(app: TestApp) {
        // `TestApp::user` binds the phone and the e-mail 79005550106@example.ru.
        app.user("+79005550106", Level::Simplified).await;
        let before = user_count(&app).await;
        let b = app.browser();
        let mut refusals = Vec::new();
        for p in [
            person("+79005550106", ""),
            person("8 900 555-01-06", ""),
            person("", "79005550106@example.ru"),
            person("", "79005550106@EXAMPLE.ru"),
            person("+79005550199", "79005550106@example.ru"),
        ] {
            let (url, status, page) = start(&app, &b, p, "").await.page();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
            assert!(url.ends_with("/register"), "stays on the form: {url}");
            refusals.push(alert(&page).to_string());
        }
        assert!(refusals[0].contains(UNAVAILABLE_RU), "{}", refusals[0]);
        assert!(refusals.iter().all(|r| r == &refusals[0]), "one neutral message for every case: {refusals:?}");
        assert!(!refusals[0].contains("Иванов") && !refusals[0].contains("79005550106"));
        assert_eq!(user_count(&app).await, before, "nothing created");
        assert!(outbox::list(&app.state.db, Some("+79005550199"), 5).await.unwrap().is_empty(), "no SMS sent");
        assert_eq!(outbox::list(&app.state.db, Some("+79005550106"), 5).await.unwrap().len(), 0);
    }

    async fn a_freed_phone_is_reused_at_most_once_a_month(app: TestApp) {
        let phone = "+79005550107";
        let now = app.clock.now();
        // An account held the number and was deleted: the number was released.
        released::release_identifier(app.state.db.write(), "phone", phone, now).await.expect("release");
        // The first reuse is allowed at once.
        let (_, status, _) = register_by_phone(&app, &app.browser(), phone, "").await.page();
        assert_eq!(status, StatusCode::OK);
        let user = user_by_phone(&app, phone).await;
        // That account is deleted too; a third account within 30 days is refused, neutrally.
        sqlx::query("DELETE FROM users WHERE id = $1").bind(&user.id).execute(app.state.db.write()).await.expect("delete");
        released::release_identifier(app.state.db.write(), "phone", phone, app.clock.now()).await.expect("release");
        app.clock.advance(10 * 86_400);
        let (_, status, page) = start(&app, &app.browser(), person(phone, ""), "").await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(alert(&page).contains(UNAVAILABLE_RU));
        // A month after the reuse it may be bound again.
        app.clock.advance(20 * 86_400);
        let (_, status, _) = register_by_phone(&app, &app.browser(), phone, "").await.page();
        assert_eq!(status, StatusCode::OK);
    }

    async fn weak_passwords_refused_in_russian(app: TestApp) {
        let b = app.browser();
        let phone = "+79005550108";
        let (_, _, html) = start(&app, &b, person(phone, ""), "").await.page();
        let code = last_code(&app, phone).await;
        let (_, _, html) = submit_code(&b, &html, &code).await.page();
        let long = format!("Aa1!{}", "x".repeat(125));
        let cases: Vec<(&str, &str, &str)> = vec![
            ("Ab1!", "Ab1!", "Пароль должен быть не короче 8 символов"),
            (&long, &long, "Пароль должен быть не длиннее 128 символов"),
            ("abcdefgh1!", "abcdefgh1!", "Добавьте заглавную латинскую букву"),
            ("ABCDEFGH1!", "ABCDEFGH1!", "Добавьте строчную латинскую букву"),
            ("Abcdefgh!!", "Abcdefgh!!", "Добавьте цифру"),
            ("Abcdefgh11", "Abcdefgh11", "Добавьте знак препинания"),
            ("Пароль-2026Ab", "Пароль-2026Ab", "Используйте только латинские буквы"),
            ("Mzxc-2026!r", "Mzxc-2026!r", "Уберите простую последовательность клавиш «zxc»"),
            ("Password1!", "Password1!", "слишком распространён"),
            ("Xx!9005550108", "Xx!9005550108", "не должен содержать ваше имя, телефон или почту"),
            (GOOD_PASSWORD, "Registr-2026!y", "Пароли не совпадают"),
        ];
        for (password, again, message) in cases {
            let (url, status, page) = submit_password(&b, &html, password, again).await.page();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{password}");
            assert!(url.contains("/register/password"));
            assert!(alert(&page).contains(message), "{password}: {message}: {}", alert(&page));
            assert!(page.contains("class=\"strength strength--"), "meter shown after an attempt");
            assert!(!page.contains("aria-live=\"polite\" hidden"), "the meter is visible");
            assert_eq!(user_count(&app).await, 0, "nothing created for {password}");
        }
        // Every problem at once.
        let (_, _, page) = submit_password(&b, &html, "abc", "abd").await.page();
        let text = alert(&page);
        for m in ["не короче 8", "заглавную", "цифру", "знак препинания", "не совпадают"] {
            assert!(text.contains(m), "{m}: {text}");
        }
        // The draft survives the refusals.
        let (_, status, page) = submit_password(&b, &html, GOOD_PASSWORD, GOOD_PASSWORD).await.page();
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(user_count(&app).await, 1);
    }

    async fn generate_button_prefills_a_compliant_password(app: TestApp) {
        let b = app.browser();
        let phone = "+79005550109";
        let (_, _, html) = start(&app, &b, person(phone, ""), "").await.page();
        let code = last_code(&app, phone).await;
        let (_, _, html) = submit_code(&b, &html, &code).await.page();
        let reg = hidden(&html, "reg");
        let csrf = hidden(&html, "csrf");
        let (_, status, page) = b
            .post_form("/register/password", &[("reg", reg.as_str()), ("csrf", csrf.as_str()), ("password", ""), ("password_again", ""), ("action", "generate")])
            .await
            .page();
        assert_eq!(status, StatusCode::OK);
        let at = page.find("class=\"generated-password\">").expect("shown") + "class=\"generated-password\">".len();
        let generated = &page[at..at + page[at..].find('<').unwrap()];
        let generated = generated.replace("&#33;", "!").replace("&#35;", "#").replace("&#37;", "%").replace("&#43;", "+").replace("&#61;", "=");
        assert!(idp::domain::password_policy::check(&generated, &generated, &[]).is_empty(), "{generated}");
        assert_eq!(hidden(&page, "password"), hidden(&page, "password_again"), "pre-filled twice");
        assert!(page.contains("Высокая"), "the meter says strong");
        assert_eq!(user_count(&app).await, 0, "generating creates nothing");
        let (_, status, done) = submit_password(&b, &page, &generated, &generated).await.page();
        assert_eq!(status, StatusCode::OK, "{done}");
        // And the generated password logs in.
        let user = user_by_phone(&app, phone).await;
        let checked = idp::domain::login::check_password(&app.state, phone, &generated).await.expect("login");
        assert_eq!(checked.id, user.id);
    }

    async fn malformed_contacts_and_names_refused_clearly(app: TestApp) {
        let b = app.browser();
        let cases = [
            (person("12345", ""), "Номер мобильного телефона указан неверно"),
            (person("+7 495 123-45-67", ""), "Номер мобильного телефона указан неверно"),
            (person("", "ivan@"), "Адрес электронной почты указан неверно"),
            (person("", "ivan example.ru"), "Адрес электронной почты указан неверно"),
            (person("", ""), "Укажите мобильный телефон или адрес электронной почты"),
            (Person { surname: "", ..person("+79005550110", "") }, "Укажите фамилию"),
            (Person { given_name: "Пётр1", ..person("+79005550110", "") }, "Имя: используйте только буквы"),
        ];
        for (p, message) in cases {
            let (url, status, page) = start(&app, &b, p, "").await.page();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
            assert!(url.ends_with("/register"));
            assert!(alert(&page).contains(message), "{message}: {}", alert(&page));
            assert!(page.contains("aria-invalid=\"true\""));
        }
        assert!(outbox::list(&app.state.db, None, 10).await.unwrap().is_empty(), "nothing sent");
        assert_eq!(user_count(&app).await, 0);
    }

    async fn forms_need_the_csrf_token_and_a_live_draft(app: TestApp) {
        let b = app.browser();
        b.visit(&app.url("/register")).await.page();
        let (_, status, page) = b
            .post_form("/register", &[("csrf", "forged"), ("surname", "Петров"), ("given_name", "Пётр"), ("phone", "+79005550111")])
            .await
            .page();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("Форма устарела"));
        assert!(outbox::list(&app.state.db, Some("+79005550111"), 5).await.unwrap().is_empty());
        let (_, status, page) = b.visit(&app.url("/register/password?reg=nope")).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Время на регистрацию истекло"));
        // English on request.
        let (_, _, en) = b.visit(&app.url("/register?lang=en")).await.page();
        assert!(en.contains("Registration") && en.contains("Mobile phone"));
    }
}
