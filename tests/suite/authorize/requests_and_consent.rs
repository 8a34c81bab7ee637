//! Unregistered redirect URIs and clients, POST to the authorization endpoint, request objects, and consent.

use super::*;

on_both_backends! {
    async fn unregistered_redirect_uris_get_an_error_page(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let b = app.browser();
        for bad in [
            "https://evil.example/cb",
            "https://rp.example/cb/",
            "https://rp.example/cb?x=1",
            "https://rp.example/cb#frag",
            "http://rp.example/cb",
        ] {
            for extra in [("prompt", "login"), ("prompt", "none"), ("response_type", "token")] {
                let params = request(&id, &[("redirect_uri", bad), extra]);
                let html = assert_error_page(raw_get(&b, &authorize_url(&app, &params)).await).await;
                assert!(html.contains("Адрес возврата не зарегистрирован"), "{html}");
            }
        }
    }

    async fn unknown_client_gets_an_error_page(app: TestApp) {
        let b = app.browser();
        let unknown = request("no-such-client", &[]);
        let html = assert_error_page(raw_get(&b, &authorize_url(&app, &unknown)).await).await;
        assert!(html.contains("не зарегистрирован в системе"), "{html}");
        let missing = without(request("x", &[]), "client_id");
        assert_error_page(raw_get(&b, &authorize_url(&app, &missing)).await).await;
    }

    async fn authorization_endpoint_by_post_works_like_get(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = b.post_form("/authorize", &request(&client.0, &[])).await;
        let back = b.complete(first, STD_PHONE, PASSWORD).await;
        assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()));
        let t = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(t.id["sub"], sub.as_str());
        assert_eq!(t.id["nonce"], NONCE);

        let err = b.post_form("/authorize", &request(&client.0, &[("response_type", "token")])).await.left();
        assert_error(&app, &err, "unsupported_response_type", Some(STATE));
        let evil = request(&client.0, &[("redirect_uri", "https://evil.example/")]);
        let resp = b.http.post(app.url("/authorize")).form(&evil).send().await.expect("request");
        assert_error_page(resp).await;
    }

    async fn request_objects_are_rejected_not_ignored(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let b = app.browser();
        let object = "eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6IngifQ.";
        let back = b.authorize(&request(&id, &[("request", object)])).await.left();
        assert_error(&app, &back, "request_not_supported", Some(STATE));
        let back = b.authorize(&request(&id, &[("request_uri", "https://rp.example/req.jwt")])).await.left();
        assert_error(&app, &back, "request_uri_not_supported", Some(STATE));
    }

    async fn consent_is_remembered_and_asked_again_for_new_scopes(app: TestApp) {
        let client = app.client("rp", "openid fullname snils").await;
        app.user(STD_PHONE, Level::Standard).await;
        let fullname = [("scope", "openid fullname")];

        let b = app.browser();
        let html = login_page(b.authorize(&request(&client.0, &fullname)).await);
        let html = consent_page(b.submit_login(&html, STD_PHONE, PASSWORD, false).await);
        assert!(html.contains("Сайт rp"), "the consent page names the client: {html}");
        assert!(html.contains("ФИО"), "{html}");
        assert!(!html.contains("СНИЛС"), "only what is asked is listed");
        code_of(&b.submit_consent(&html, "allow").await.left());

        // Same browser, same scopes: straight back with a code.
        code_of(&b.authorize(&request(&client.0, &fullname)).await.left());
        // New browser, same person: login, then no consent.
        let other = app.browser();
        let html = login_page(other.authorize(&request(&client.0, &fullname)).await);
        code_of(&other.submit_login(&html, STD_PHONE, PASSWORD, false).await.left());

        // A new scope: asked again, naming it.
        let more = [("scope", "openid fullname snils")];
        let html = consent_page(b.authorize(&request(&client.0, &more)).await);
        assert!(html.contains("СНИЛС"), "{html}");
        code_of(&b.submit_consent(&html, "allow").await.left());
        code_of(&b.authorize(&request(&client.0, &more)).await.left());

        // prompt=none cannot ask: a new scope on another client is consent_required.
        let client2 = app.client("rp2", "openid fullname").await;
        let back = silent(&b, &client2.0, &[("scope", "openid fullname")]).await;
        assert_error(&app, &back, "consent_required", Some(STATE));
    }

    async fn prompt_consent_always_asks_and_deny_is_access_denied(app: TestApp) {
        let client = app.client("rp", "openid fullname").await;
        app.user(STD_PHONE, Level::Standard).await;
        let scope = [("scope", "openid fullname")];
        let b = app.browser();
        code_for(&b, &request(&client.0, &scope), STD_PHONE).await;

        let asked = [("scope", "openid fullname"), ("prompt", "consent")];
        let html = consent_page(b.authorize(&request(&client.0, &asked)).await);
        assert!(html.contains("ФИО"));
        code_of(&b.submit_consent(&html, "allow").await.left());

        let html = consent_page(b.authorize(&request(&client.0, &asked)).await);
        // A consent form posted from another site (no CSRF cookie) is refused.
        let form = [("tx", hidden(&html, "tx")), ("csrf", hidden(&html, "csrf")), ("decision", "allow".into())];
        let forged = app.browser().http.post(app.url("/consent")).form(&form).send().await.expect("request");
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers().get("location").is_none());
        let back = b.submit_consent(&html, "deny").await.left();
        assert_error(&app, &back, "access_denied", Some(STATE));
    }
}
