//! The cabinet's sessions and devices, login history, event feed (filters, paging, CSV) and
//! notification settings, over HTTP on both backends, with several cookie-keeping browsers
//! that present different User-Agent strings.

use idp::protocol::acr::Level;
use idp::store::{grants, login_history, outbox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::browser::{hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp, pyotp};

const CB: &str = "https://rp.example/cb";
const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX_ANDROID: &str =
    "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0";

/// A browser presenting `ua`.
fn browser_as(app: &TestApp, ua: &str) -> Browser {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(ua)
        .build()
        .expect("client");
    Browser {
        http,
        base: app.base.clone(),
    }
}

/// An authorization request that always asks for the password (a real login each time).
fn params() -> [(&'static str, &'static str); 6] {
    [
        ("prompt", "login"),
        ("client_id", "cab"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "s"),
    ]
}

/// Logs `phone` in on `b` through an authorization request (not "someone else's computer").
async fn sign_in(b: &Browser, phone: &str) {
    let back = b.sign_in(&params(), phone, PASSWORD).await;
    assert!(param(&back, "code").is_some(), "{back}");
}

/// A page as (status, html).
async fn page(app: &TestApp, b: &Browser, path: &str) -> (StatusCode, String) {
    let (_, status, html) = b.visit(&app.url(path)).await.page();
    (status, html)
}

/// A JSON API call with the CSRF token of the page the browser last saw.
async fn api(
    b: &Browser,
    method: Method,
    path: &str,
    csrf: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = b
        .http
        .request(method, format!("{}{path}", b.base))
        .header("X-CSRF-Token", csrf);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_json(b: &Browser, path: &str) -> (u16, Value) {
    api(b, Method::GET, path, "", None).await
}

/// The CSRF token of a cabinet page.
async fn csrf(app: &TestApp, b: &Browser) -> String {
    let (status, html) = page(app, b, "/profile/sessions").await;
    assert_eq!(status, 200, "{html}");
    hidden(&html, "csrf")
}

on_both_backends! {
    async fn sessions_listed_and_ended(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110001";
        app.user(phone, Level::Simplified).await;
        let me = browser_as(&app, CHROME_WINDOWS);
        let other = browser_as(&app, FIREFOX_ANDROID);
        sign_in(&me, phone).await;
        sign_in(&other, phone).await;

        // Both sessions, with parsed devices and the place; this one marked.
        let (status, html) = page(&app, &me, "/profile/sessions").await;
        assert_eq!(status, 200);
        assert!(html.contains("Chrome 120, Windows (компьютер)"), "{html}");
        assert!(html.contains("Firefox 121, Android 14 (телефон)"), "{html}");
        assert!(html.contains("127.0.0.1"));
        assert_eq!(html.matches("Текущий сеанс").count(), 1);
        assert_eq!(html.matches("value=\"end\"").count(), 1, "only the other one can be ended here");
        let (s, list) = get_json(&me, "/api/sessions").await;
        assert_eq!(s, 200, "{list}");
        let sessions = list["sessions"].as_array().expect("sessions").clone();
        assert_eq!(sessions.len(), 2, "{list}");
        let mine = sessions.iter().find(|s| s["current"] == true).expect("current");
        assert_eq!(mine["device"], "Chrome 120, Windows (компьютер)");
        assert_eq!(mine["amr"], json!(["pwd"]));
        let theirs = sessions.iter().find(|s| s["current"] == false).expect("other");
        let their_sid = theirs["sid"].as_str().expect("sid").to_string();
        assert_eq!(theirs["ip"], "127.0.0.1");

        // End the other one from the page: that browser is logged out, its grants revoked.
        let token = hidden(&html, "csrf");
        let (url, status, html) = me
            .post_form("/profile/sessions", &[("csrf", &token), ("action", "end"), ("id", &their_sid)])
            .await
            .page();
        assert_eq!(status, 200, "{html}");
        assert!(url.contains("done=ended") && html.contains("Сеанс завершён."), "{url} {html}");
        assert_eq!(html.matches("value=\"end\"").count(), 0, "{html}");
        let (_, list) = get_json(&me, "/api/sessions").await;
        assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1), "{list}");
        let (status, html) = page(&app, &other, "/profile").await;
        assert_eq!(status, 401);
        assert!(html.contains("Войдите"), "{html}");
        let their_grants = grants::by_sid(&app.state.db, &their_sid).await.expect("grants");
        assert!(their_grants.iter().all(|g| g.revoked_at.is_some()), "{their_grants:?}");
        // Ending it again, or a session of nobody: not found, and nothing else changes.
        let (s, body) = api(&me, Method::DELETE, &format!("/api/sessions/{their_sid}"), &token, None).await;
        assert_eq!((s, body["error"].as_str()), (404, Some("not_found")), "{body}");
        // A change without the CSRF header is refused.
        let (s, body) = api(&me, Method::POST, "/api/sessions/end-others", "", None).await;
        assert_eq!((s, body["error"].as_str()), (403, Some("csrf_failed")), "{body}");

        // "End all others": two more browsers, one click, both out; this one stays.
        let third = app.browser();
        sign_in(&other, phone).await;
        sign_in(&third, phone).await;
        let (_, html) = page(&app, &me, "/profile/sessions").await;
        assert_eq!(html.matches("value=\"end\"").count(), 2, "{html}");
        let (_, status, html) = me
            .post_form("/profile/sessions", &[("csrf", &token), ("action", "end_others")])
            .await
            .page();
        assert_eq!(status, 200);
        assert!(html.contains("Все другие сеансы завершены."), "{html}");
        assert_eq!(page(&app, &other, "/profile").await.0, 401);
        assert_eq!(page(&app, &third, "/profile").await.0, 401);
        let (_, list) = get_json(&me, "/api/sessions").await;
        assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1), "{list}");

        // The API ends one too.
        sign_in(&other, phone).await;
        let (_, list) = get_json(&me, "/api/sessions").await;
        let sid = list["sessions"].as_array().and_then(|a| a.iter().find(|s| s["current"] == false)).expect("other")["sid"].as_str().expect("sid").to_string();
        let (s, body) = api(&me, Method::DELETE, &format!("/api/sessions/{sid}"), &token, None).await;
        assert_eq!((s, &body["ended"]), (200, &json!(true)), "{body}");
        assert_eq!(page(&app, &other, "/profile").await.0, 401);
        // And the feed says what happened.
        let (_, feed) = get_json(&me, "/api/feed?type=security").await;
        let summaries: Vec<&str> = feed["items"].as_array().expect("items").iter().filter_map(|e| e["summary"].as_str()).collect();
        assert!(summaries.contains(&"Завершён сеанс") && summaries.contains(&"Завершены другие сеансы"), "{feed}");
    }

    async fn devices_listed_and_unbound(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110002";
        app.user(phone, Level::Simplified).await;
        let me = browser_as(&app, CHROME_WINDOWS);
        sign_in(&me, phone).await;
        // "Someone else's computer": no device remembered.
        let foreign = browser_as(&app, FIREFOX_ANDROID);
        let login = foreign.authorize(&params()).await;
        let (_, _, html) = login.page();
        let after = foreign.submit_login(&html, phone, PASSWORD, true).await;
        foreign.back_to_client(after).await;

        let (_, list) = get_json(&me, "/api/sessions").await;
        let devices = list["devices"].as_array().expect("devices").clone();
        assert_eq!(devices.len(), 1, "{list}");
        assert_eq!(devices[0]["device"], "Chrome 120, Windows (компьютер)");
        let (_, html) = page(&app, &me, "/profile/sessions").await;
        assert!(html.contains("Запомненные устройства") && html.contains("value=\"unbind\""), "{html}");
        let token = hidden(&html, "csrf");
        let id = devices[0]["id"].as_str().expect("id").to_string();
        // Security events by e-mail.
        let (s, _) = api(
            &me,
            Method::PUT,
            "/api/notifications",
            &token,
            Some(json!({"events": ["security"], "email": true})),
        )
        .await;
        assert_eq!(s, 200);

        // Someone else's id is not found; the right one is unbound.
        let (_, status, html) = me
            .post_form("/profile/sessions", &[("csrf", &token), ("action", "unbind"), ("id", "nope")])
            .await
            .page();
        assert_eq!(status, 404);
        assert!(html.contains("не найдены") && html.contains("role=\"alert\""), "{html}");
        let (_, status, html) = me
            .post_form("/profile/sessions", &[("csrf", "wrong"), ("action", "unbind"), ("id", &id)])
            .await
            .page();
        assert_eq!(status, 403, "{html}");
        let (_, status, html) = me
            .post_form("/profile/sessions", &[("csrf", &token), ("action", "unbind"), ("id", &id)])
            .await
            .page();
        assert_eq!(status, 200);
        assert!(html.contains("Устройство отвязано.") && html.contains("Нет запомненных устройств."), "{html}");
        let (s, body) = api(&me, Method::DELETE, &format!("/api/devices/{id}"), &token, None).await;
        assert_eq!((s, body["error"].as_str()), (404, Some("not_found")), "{body}");
        let mail = outbox::list(&app.state.db, Some("79001110002@example.ru"), 10)
            .await
            .expect("outbox");
        assert_eq!(mail.len(), 1, "{mail:?}");
        assert!(mail[0].body.contains("отвязано запомненное устройство"), "{}", mail[0].body);
    }

    async fn login_history_has_failures_and_successes(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110003";
        let user_id = app.user(phone, Level::Simplified).await;
        let b = browser_as(&app, CHROME_WINDOWS);
        let (_, _, html) = b.authorize(&params()).await.page();
        let (url, status, html) = b.submit_login(&html, phone, "wrong-password", false).await.page();
        assert!(url.contains("/login") && status == 401, "{url} {status}");
        // Rows of the same second have no defined order; a second apart they do.
        app.clock.advance(1);
        let after = b.submit_login(&html, phone, PASSWORD, false).await;
        b.back_to_client(after).await;

        let (s, list) = get_json(&b, "/api/logins").await;
        assert_eq!(s, 200, "{list}");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{list}");
        assert_eq!(items[0]["outcome"], "success");
        assert_eq!(items[0]["amr"], json!(["pwd"]));
        assert_eq!(items[0]["ip"], "127.0.0.1");
        assert_eq!(items[0]["device"], "Chrome 120, Windows (компьютер)");
        assert_eq!(items[1]["outcome"], "failure");
        assert_eq!(items[1]["reason"], "wrong_password");
        assert_eq!(items[1]["ip"], "127.0.0.1");
        assert_eq!(list["has_more"], false);

        let (status, html) = page(&app, &b, "/profile/logins").await;
        assert_eq!(status, 200);
        assert!(html.contains("Неудачно: неверный пароль") && html.contains("Успешно"), "{html}");
        assert!(html.contains("пароль") && html.contains("127.0.0.1") && html.contains("Chrome 120"), "{html}");
        let (_, html) = page(&app, &b, "/profile/logins?lang=en").await;
        assert!(html.contains("Failure: wrong password"), "{html}");

        // Paging: 25 more logins make two pages.
        for _ in 0..25 {
            sign_in(&b, phone).await;
        }
        let (_, html) = page(&app, &b, "/profile/logins").await;
        assert!(html.contains("page=2") && !html.contains("rel=\"prev\""), "{html}");
        let (_, html) = page(&app, &b, "/profile/logins?page=2").await;
        assert!(html.contains("rel=\"prev\"") && !html.contains("rel=\"next\"") && html.contains("неверный пароль"), "{html}");
        let (_, list) = get_json(&b, "/api/logins?page=2&per_page=20").await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(7), "{list}");

        // Kept for the configured period, then purged.
        app.clock.advance(181 * 86_400);
        let purged = idp::domain::login_history::purge(&app.state).await.expect("purge");
        assert_eq!(purged, 27);
        assert!(login_history::list(&app.state.db, &user_id, 10, 0).await.expect("list").is_empty());
    }

    async fn login_notice_only_when_enabled(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110004";
        let email = "79001110004@example.ru";
        app.user(phone, Level::Simplified).await;
        let b = browser_as(&app, CHROME_WINDOWS);
        sign_in(&b, phone).await;
        let notices = |list: Vec<outbox::OutboxMessage>| list.into_iter().filter(|m| m.template == "login_notice").collect::<Vec<_>>();
        assert!(notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox")).is_empty());

        // Turn on e-mail (and SMS with quiet hours around now, Moscow time).
        let token = csrf(&app, &b).await;
        let now_msk = (app.clock.now() + 3 * 3600).rem_euclid(86_400) / 60;
        let hhmm = |m: i64| { let m = m.rem_euclid(1440); format!("{:02}:{:02}", m / 60, m % 60) };
        let (from, to) = (hhmm(now_msk - 60), hhmm(now_msk + 60));
        let (url, status, html) = b
            .post_form("/profile/notifications", &[("csrf", &token), ("kind_login", "1"), ("kind_security", "1"), ("email", "1"), ("sms", "1"), ("quiet_from", &from), ("quiet_to", &to)])
            .await
            .page();
        assert_eq!(status, 200, "{html}");
        assert!(url.contains("done=saved") && html.contains("Настройки сохранены."), "{html}");
        assert!(html.contains(&format!("value=\"{from}\"")), "{html}");

        let other = browser_as(&app, FIREFOX_ANDROID);
        sign_in(&other, phone).await;
        let mail = notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox"));
        assert_eq!(mail.len(), 1, "{mail:?}");
        assert_eq!(mail[0].channel, "email");
        assert!(mail[0].body.contains("Firefox 121, Android 14 (телефон)") && mail[0].body.contains("127.0.0.1"), "{}", mail[0].body);
        // Quiet hours: no SMS now.
        assert!(notices(outbox::list(&app.state.db, Some(phone), 10).await.expect("outbox")).is_empty());

        // Quiet hours elsewhere in the day: the SMS comes too.
        let (s, body) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["login"], "email": false, "sms": true, "quiet_from": hhmm(now_msk + 120), "quiet_to": hhmm(now_msk + 180)}))).await;
        assert_eq!(s, 200, "{body}");
        sign_in(&other, phone).await;
        let sms = notices(outbox::list(&app.state.db, Some(phone), 10).await.expect("outbox"));
        assert_eq!(sms.len(), 1, "{sms:?}");
        assert_eq!(sms[0].channel, "sms");
        assert_eq!(notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox")).len(), 1, "e-mail now off");

        // Logins off: nothing more.
        let (s, _) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["security"], "email": true, "sms": true}))).await;
        assert_eq!(s, 200);
        sign_in(&other, phone).await;
        assert_eq!(notices(outbox::list(&app.state.db, Some(phone), 10).await.expect("outbox")).len(), 1);
        assert_eq!(notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox")).len(), 1);
    }

    async fn notification_settings_saved_and_validated(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110005";
        app.user(phone, Level::Simplified).await;
        let b = app.browser();
        sign_in(&b, phone).await;
        let (s, body) = get_json(&b, "/api/notifications").await;
        assert_eq!(s, 200);
        assert_eq!(body, json!({"events": [], "email": false, "sms": false, "quiet_from": null, "quiet_to": null}));
        let (status, html) = page(&app, &b, "/profile/notifications").await;
        assert_eq!(status, 200);
        for id in ["kind_login", "kind_verification", "channel_email", "channel_sms", "quiet_from", "quiet_to"] {
            assert!(html.contains(&format!("for=\"{id}\"")), "a label for {id}");
        }
        let token = hidden(&html, "csrf");

        let (_, status, html) = b.post_form("/profile/notifications", &[("csrf", &token), ("kind_login", "1"), ("email", "1"), ("quiet_from", "25:00"), ("quiet_to", "07:00")]).await.page();
        assert_eq!(status, 422);
        assert!(html.contains("ЧЧ:ММ") && html.contains("role=\"alert\"") && html.contains("value=\"25:00\""), "{html}");
        let (_, status, html) = b.post_form("/profile/notifications", &[("csrf", &token), ("kind_login", "1"), ("quiet_from", "22:00")]).await.page();
        assert_eq!(status, 422);
        assert!(html.contains("и начало, и конец"), "{html}");
        let (_, status, _) = b.post_form("/profile/notifications", &[("csrf", "forged"), ("kind_login", "1")]).await.page();
        assert_eq!(status, 403);
        let (_, body) = get_json(&b, "/api/notifications").await;
        assert_eq!(body["events"], json!([]), "nothing saved by refusals");

        let (_, status, html) = b.post_form("/profile/notifications?lang=en", &[("csrf", &token), ("lang", "en"), ("kind_login", "1"), ("kind_profile", "1"), ("sms", "1"), ("quiet_from", "22:00"), ("quiet_to", "7:30")]).await.page();
        assert_eq!(status, 200);
        assert!(html.contains("Settings saved."), "{html}");
        let (_, body) = get_json(&b, "/api/notifications").await;
        assert_eq!(body, json!({"events": ["login", "profile"], "email": false, "sms": true, "quiet_from": "22:00", "quiet_to": "07:30"}));

        let (s, body) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["weather"]}))).await;
        assert_eq!((s, body["error"].as_str()), (422, Some("invalid_data")), "{body}");
        let (s, body) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["login"], "quiet_from": "7", "quiet_to": "8"}))).await;
        assert_eq!(s, 422, "{body}");
        assert!(body["message"].as_str().unwrap_or("").contains("ЧЧ:ММ"), "{body}");
    }

    async fn feed_filters_paging_and_csv(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110006";
        app.user(phone, Level::Simplified).await;
        let b = app.browser();
        // Day 0: a failed and a successful login, a vehicle whose name has quotes.
        let (_, _, html) = b.authorize(&params()).await.page();
        let (_, _, html) = b.submit_login(&html, phone, "wrong-password", false).await.page();
        app.clock.advance(1);
        let after = b.submit_login(&html, phone, PASSWORD, false).await;
        b.back_to_client(after).await;
        let day0 = app.clock.now();
        let profile: Value = b.http.get(app.url("/api/profile")).send().await.expect("GET").json().await.expect("json");
        let token = profile["csrf_token"].as_str().expect("csrf").to_string();
        let (s, body) = api(&b, Method::POST, "/api/profile/vehicles", &token, Some(json!({"name": "Лада \"Нива\"", "number_plate": "Х001ХХ99"}))).await;
        assert_eq!(s, 201, "{body}");
        // Three days later: another login and a settings change.
        app.clock.advance(3 * 86_400);
        let day3 = app.clock.now();
        sign_in(&b, phone).await;
        let token = csrf(&app, &b).await;
        let (s, _) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["login"], "email": true}))).await;
        assert_eq!(s, 200);

        let date = idp::domain::login_history::utc_date;
        let count = |v: &Value| v["items"].as_array().map(Vec::len).unwrap_or(0);
        let (_, all) = get_json(&b, "/api/feed").await;
        assert_eq!(count(&all), 5, "{all}");
        let (_, v) = get_json(&b, "/api/feed?type=login").await;
        assert_eq!(count(&v), 3, "{v}");
        let (_, v) = get_json(&b, "/api/feed?type=login&status=failure").await;
        assert_eq!(count(&v), 1, "{v}");
        assert_eq!(v["items"][0]["summary"], "Неудачная попытка входа");
        let (_, v) = get_json(&b, "/api/feed?type=profile").await;
        assert_eq!(count(&v), 1, "{v}");
        let (_, v) = get_json(&b, &format!("/api/feed?from={}", date(day3))).await;
        assert_eq!(count(&v), 2, "{v}");
        let (_, v) = get_json(&b, &format!("/api/feed?to={}", date(day0))).await;
        assert_eq!(count(&v), 3, "{v}");
        let (_, v) = get_json(&b, &format!("/api/feed?type=login&from={}&to={}", date(day3), date(day3))).await;
        assert_eq!(count(&v), 1, "{v}");
        let (_, v) = get_json(&b, "/api/feed?per_page=2&page=3").await;
        assert_eq!((count(&v), &v["has_more"]), (1, &json!(false)), "{v}");
        let (_, v) = get_json(&b, "/api/feed?per_page=2&page=1").await;
        assert_eq!(v["has_more"], true);
        let (s, v) = get_json(&b, "/api/feed?from=31.12.2026").await;
        assert_eq!((s, v["error"].as_str()), (422, Some("invalid_data")), "{v}");
        let (s, _) = get_json(&b, "/api/feed?type=weather").await;
        assert_eq!(s, 422);

        // The page with the same filter, its paging and the CSV link.
        let (status, html) = page(&app, &b, "/profile/history?type=login&status=failure").await;
        assert_eq!(status, 200);
        assert!(html.contains("Неудачная попытка входа") && !html.contains("Вход в учётную запись"), "{html}");
        assert!(html.contains("/profile/history.csv?lang=ru&#38;from=&#38;to=&#38;type=login&#38;status=failure"), "{html}");
        let (status, html) = page(&app, &b, "/profile/history?from=2026-02-31").await;
        assert_eq!(status, 400);
        assert!(html.contains("ГГГГ-ММ-ДД"), "{html}");

        let resp = b.http.get(app.url("/profile/history.csv?type=login")).send().await.expect("GET");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(resp.headers()["content-disposition"].to_str().unwrap_or("").starts_with("attachment"));
        let text = resp.text().await.expect("body");
        assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "\"Время (UTC)\";\"Тип\";\"Результат\";\"Событие\";\"Подробности\";\"Источник\"");
        assert!(lines[1..].iter().all(|l| l.starts_with('"') && l.split("\";\"").count() == 6), "{text}");
        assert!(lines[3].contains("\"Неудачно\";\"Неудачная попытка входа\""), "{text}");
        let csv = b.http.get(app.url("/profile/history.csv?type=profile")).send().await.expect("GET").text().await.expect("body");
        assert!(csv.contains("Лада \"\"Нива\"\", Х001ХХ99"), "quotes doubled: {csv}");
        // Signed out: the "log in first" page, not the data.
        let anon = app.browser();
        let resp = anon.http.get(app.url("/profile/history.csv")).send().await.expect("GET");
        assert_eq!(resp.status(), 401);
    }

    async fn security_changes_are_notified_when_asked(app: TestApp) {
        app.client("cab", "openid").await;
        let phone = "+79001110009";
        let email = "79001110009@example.ru";
        app.user(phone, Level::Simplified).await;
        let b = app.browser();
        sign_in(&b, phone).await;
        let token = csrf(&app, &b).await;
        let notices = |list: Vec<outbox::OutboxMessage>| list.into_iter().filter(|m| m.template == "notice").collect::<Vec<_>>();
        let enrol_and_confirm = || async {
            let (s, body) = api(&b, Method::POST, "/api/security/totp", &token, None).await;
            assert_eq!(s, 200, "{body}");
            let secret = body["secret"].as_str().expect("secret").to_string();
            let code = pyotp(&secret, app.clock.now());
            let (s, body) = api(&b, Method::POST, "/api/security/totp/confirm", &token, Some(json!({"code": code}))).await;
            assert_eq!(s, 200, "{body}");
        };
        let disable = || async {
            let (s, body) = api(&b, Method::DELETE, "/api/security/totp", &token, Some(json!({"password": PASSWORD}))).await;
            assert_eq!(s, 200, "{body}");
        };

        // Nothing asked: the change is in the feed, no message.
        enrol_and_confirm().await;
        assert!(notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox")).is_empty());

        // Security events by e-mail: disabling is told, naming the change.
        let (s, body) = api(&b, Method::PUT, "/api/notifications", &token, Some(json!({"events": ["security"], "email": true, "sms": false}))).await;
        assert_eq!(s, 200, "{body}");
        disable().await;
        let mail = notices(outbox::list(&app.state.db, Some(email), 10).await.expect("outbox"));
        assert_eq!(mail.len(), 1, "{mail:?}");
        assert!(mail[0].body.contains("Отключён вход с подтверждением кодом из приложения"), "{}", mail[0].body);
    }
}
