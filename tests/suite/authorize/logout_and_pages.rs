//! RP-initiated logout, the security headers of the pages, and clean error descriptions.

use super::*;

on_both_backends! {
    async fn logout_refuses_bad_hints_and_unregistered_uris(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.client("rp2", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let t = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;

        // An ID token with our issuer, signed by a key that is not ours.
        let der = jose::SigningKey::generate_pkcs8(jose::Alg::RS256).expect("key");
        let stranger = jose::SigningKey::from_pkcs8("x".into(), jose::Alg::RS256, &der).expect("key");
        let forged = stranger.sign("JWT", &t.id);
        let mut tampered = t.id_token.clone();
        tampered.push('A');
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![("id_token_hint", "not-a-jwt"), ("post_logout_redirect_uri", BYE)],
            vec![("id_token_hint", &forged), ("post_logout_redirect_uri", BYE)],
            vec![("id_token_hint", &tampered), ("post_logout_redirect_uri", BYE)],
            vec![("id_token_hint", &t.id_token), ("post_logout_redirect_uri", "https://evil.example/bye")],
            vec![("id_token_hint", &t.id_token), ("post_logout_redirect_uri", "https://rp.example/bye?x=1")],
            vec![("id_token_hint", &t.id_token), ("post_logout_redirect_uri", "https://rp.example/bye/")],
            vec![("id_token_hint", &t.id_token), ("post_logout_redirect_uri", CB)],
            vec![("id_token_hint", &t.id_token), ("client_id", "rp2"), ("post_logout_redirect_uri", BYE)],
            vec![("client_id", "rp"), ("post_logout_redirect_uri", "https://evil.example/")],
        ];
        for mut case in cases {
            case.push(("state", "bye-1"));
            let url = Url::parse_with_params(&app.url("/logout"), &case).expect("url");
            let html = assert_error_page(raw_get(&b, url.as_str()).await).await;
            assert!(html.contains("Не удалось выполнить выход"), "{case:?}: {html}");
        }
        // None of that ended the session.
        code_of(&silent(&b, &client.0, &[]).await);
    }

    async fn logout_with_a_valid_hint_redirects_with_state(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let t = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        let url = Url::parse_with_params(&app.url("/logout"), &[
            ("id_token_hint", t.id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "bye-1"),
        ]).expect("url");
        let resp = raw_get(&b, url.as_str()).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()["location"], "https://rp.example/bye?state=bye-1");
        assert_error(&app, &silent(&b, &client.0, &[]).await, "login_required", Some(STATE));
    }

    async fn logout_without_hint_asks_for_confirmation(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        b.sign_in(&request(&id, &[]), STD_PHONE, PASSWORD).await;
        let (_, status, html) = b.visit(&app.url("/logout")).await.page();
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Выйти из учётной записи"), "{html}");
        // Showing the page ends nothing (a cross-site GET cannot log people out).
        code_of(&silent(&b, &id, &[]).await);
        // Confirming without the CSRF token ends nothing either.
        let (_, _, again) = b.post_form("/logout", &[("confirm", "yes")]).await.page();
        assert!(again.contains("Выйти из учётной записи"), "{again}");
        code_of(&silent(&b, &id, &[]).await);

        let csrf = hidden(&html, "csrf");
        let (_, status, done) = b.post_form("/logout", &[("csrf", csrf.as_str()), ("confirm", "yes")]).await.page();
        assert_eq!(status, StatusCode::OK);
        assert!(!done.contains("Выйти из учётной записи"), "{done}");
        assert_error(&app, &silent(&b, &id, &[]).await, "login_required", Some(STATE));
    }

    async fn pages_send_security_headers(app: TestApp) {
        let (id, _) = app.client("rp", "openid fullname").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[("scope", "openid fullname")])).await);
        let consent_url = match b.submit_login(&html, STD_PHONE, PASSWORD, false).await {
            Outcome::Page { url, .. } => url,
            other => panic!("expected the consent page, got {other:?}"),
        };
        let tx = hidden(&html, "tx");
        let pages = [
            app.url(&format!("/login?tx={tx}")),
            consent_url,
            app.url("/logout"),
            authorize_url(&app, &request(&id, &[("redirect_uri", "https://evil.example/")])),
            app.url("/login?tx=expired"),
        ];
        for page in pages {
            let resp = raw_get(&b, &page).await;
            let h = resp.headers();
            let csp = h.get("content-security-policy").map(|v| v.to_str().expect("ASCII"));
            let csp = csp.unwrap_or_else(|| panic!("no CSP on {page}"));
            assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{page}: {csp}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{page}");
            assert!(h.get("referrer-policy").is_some(), "{page}");
        }
    }

    async fn error_descriptions_have_no_control_characters(app: TestApp) {
        let (id, _) = app.client("rp", "openid fullname").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let nasty_state = "a\r\nb\tc";
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[("response_type", "co\r\nde")], "unsupported_response_type"),
            (&[("max_age", "1\r\n0")], "invalid_request"),
            (&[("prompt", "none login")], "invalid_request"),
            (&[("response_mode", "fragment\n")], "invalid_request"),
            (&[("scope", "openid snils")], "invalid_scope"),
            (&[("code_challenge", "short\r\n"), ("code_challenge_method", "S256")], "invalid_request"),
            (&[("prompt", "none")], "login_required"),
        ];
        for (extra, code) in cases {
            let mut params = request(&id, extra);
            params.retain(|(k, _)| *k != "state");
            params.push(("state", nasty_state));
            let resp = raw_get(&b, &authorize_url(&app, &params)).await;
            let raw = resp.headers()["location"].to_str().expect("ASCII").to_owned();
            assert!(!raw.contains(['\r', '\n', '\t', ' ']), "{raw}");
            assert_error(&app, &location(&resp), code, Some(nasty_state));
        }
        let back = b.sign_in(&request(&id, &[("acr_values", "urn:esia:loa:confirmed")]), STD_PHONE, PASSWORD).await;
        assert_error(&app, &back, "unmet_authentication_requirements", Some(STATE));
    }
}
