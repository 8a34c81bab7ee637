//! The login page: one message for every failure, lockout, CSRF, identifiers, and the session cookie.

use super::*;

on_both_backends! {
    async fn wrong_password_and_unknown_login_get_the_same_message(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[])).await);
        let (_, status, wrong) = b.submit_login(&html, STD_PHONE, "Wrong-passw0rd!", false).await.page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, status2, unknown) = b.submit_login(&wrong, "+79009999999", PASSWORD, false).await.page();
        assert_eq!(status2, status);
        assert_eq!(login_error(&wrong), "Неверный логин или пароль");
        assert_eq!(login_error(&unknown), login_error(&wrong));
        // Still on the same transaction: the right password now works.
        code_of(&b.submit_login(&unknown, STD_PHONE, PASSWORD, false).await.left());
    }

    async fn the_account_locks_after_max_failures(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let max = app.state.config.login.max_failures;
        assert_eq!(max, 5);
        let b = app.browser();
        let mut html = login_page(b.authorize(&request(&id, &[])).await);
        for _ in 0..max {
            let (_, status, page) = b.submit_login(&html, STD_PHONE, "Wrong-passw0rd!", false).await.page();
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            html = page;
        }
        // The same account, typed differently, with the right password: still locked.
        let (_, status, page) = b.submit_login(&html, "8 (900) 111-22-32", PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(login_error(&page).contains("Слишком много неудачных попыток"), "{page}");
        let back = silent(&b, &id, &[]).await;
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn login_form_without_csrf_is_refused(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[])).await);
        let (tx, csrf) = (hidden(&html, "tx"), hidden(&html, "csrf"));

        // Another browser (no CSRF cookie) replays the form, token included.
        let attacker = app.browser();
        let form = [("tx", tx.as_str()), ("csrf", csrf.as_str()), ("login", STD_PHONE), ("password", PASSWORD)];
        let resp = attacker.http.post(app.url("/login")).form(&form).send().await.expect("request");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(session_cookie(&resp).is_none(), "no session for a forged form");
        assert!(resp.text().await.expect("body").contains("Форма устарела"));

        // The right browser without the form token (or with a wrong one).
        for token in ["", "forged-token"] {
            let form = [("tx", tx.as_str()), ("csrf", token), ("login", STD_PHONE), ("password", PASSWORD)];
            let resp = b.http.post(app.url("/login")).form(&form).send().await.expect("request");
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
            assert!(session_cookie(&resp).is_none());
        }
        assert_error(&app, &silent(&b, &id, &[]).await, "login_required", Some(STATE));
        assert_error(&app, &silent(&attacker, &id, &[]).await, "login_required", Some(STATE));
    }

    async fn login_by_phone_formats_email_and_snils(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        for login in [
            "8 (900) 111-22-32",
            "+7 900 1112232",
            "89001112232",
            "79001112232@EXAMPLE.RU",
            " 79001112232@example.ru ",
            "112-233-445 95",
        ] {
            let b = app.browser();
            let code = code_for(&b, &request(&client.0, &[]), login).await;
            let t = exchange(&app, &client, &code).await;
            assert_eq!(t.id["sub"], sub.as_str(), "login as {login:?}");
        }
    }

    async fn snils_login_fails_for_a_simplified_account(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        simplified_with_snils(&app, "+79005556601", "12345678964").await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[])).await);
        let (_, status, page) = b.submit_login(&html, "123-456-789 64", PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(login_error(&page), "Неверный логин или пароль");
        // The same account by phone logs in.
        code_of(&b.submit_login(&page, "+79005556601", PASSWORD, false).await.left());
    }

    async fn session_cookie_is_httponly_samesite_and_rotated(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[])).await);
        let resp = post_login_raw(&b, &html, STD_PHONE, false).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let first = session_cookie(&resp).expect("session cookie");
        let lower = first.to_ascii_lowercase();
        assert!(lower.contains("; httponly"), "{first}");
        assert!(lower.contains("; samesite=lax") || lower.contains("; samesite=strict"), "{first}");
        assert!(lower.contains("; max-age="), "a remembered device keeps the session: {first}");
        assert!(cookie_value(&first).len() >= 22, "at least 128 bits: {first}");

        let html = login_page(b.authorize(&request(&id, &[("prompt", "login")])).await);
        let resp = post_login_raw(&b, &html, STD_PHONE, false).await;
        let second = session_cookie(&resp).expect("session cookie");
        assert_ne!(cookie_value(&second), cookie_value(&first), "rotated at login");

        // The old value no longer opens the session.
        let stale = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let url = authorize_url(&app, &request(&id, &[("prompt", "none")]));
        let old = format!("idp_session={}", cookie_value(&first));
        let resp = stale.get(&url).header("cookie", old).send().await.expect("request");
        let back = location(&resp);
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn foreign_computer_gives_a_browser_session_cookie(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[])).await);
        let resp = post_login_raw(&b, &html, STD_PHONE, true).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let cookie = session_cookie(&resp).expect("session cookie").to_ascii_lowercase();
        assert!(cookie.contains("; httponly"), "{cookie}");
        assert!(!cookie.contains("max-age") && !cookie.contains("expires"), "{cookie}");
        // The session still works while the browser is open.
        code_of(&silent(&b, &id, &[]).await);
    }
}
