//! Discovery, JWKS, the happy paths with both secret methods, response_type errors, nonce, claims by scope, optional parameters.

use super::*;

on_both_backends! {
    async fn discovery_lists_what_clients_need(app: TestApp) {
        let d = get_json(&app.url("/.well-known/openid-configuration")).await;
        assert_eq!(d["issuer"], app.base.as_str());
        for (field, path) in [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("userinfo_endpoint", "/userinfo"),
            ("jwks_uri", "/jwks"),
            ("end_session_endpoint", "/logout"),
        ] {
            assert_eq!(d[field], app.url(path).as_str(), "{field}");
        }
        assert_eq!(d["response_types_supported"], json!(["code"]));
        assert!(d["subject_types_supported"].as_array().is_some_and(|a| a.contains(&json!("public"))));
        assert!(d["id_token_signing_alg_values_supported"].as_array().expect("algs").contains(&json!("RS256")));
        assert!(d["scopes_supported"].as_array().expect("scopes").contains(&json!("openid")));
        assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
        let grants = d["grant_types_supported"].as_array().expect("grant types");
        assert!(grants.contains(&json!("authorization_code")) && grants.contains(&json!("refresh_token")));
        assert!(!grants.contains(&json!("implicit")) && !grants.contains(&json!("password")));
        let claims = d["claims_supported"].as_array().expect("claims");
        for c in ["sub", "iss", "auth_time", "acr", "name", "email", "snils"] {
            assert!(claims.contains(&json!(c)), "claims_supported lacks {c}");
        }
        assert_eq!(
            d["acr_values_supported"],
            json!([
                "urn:esia:loa:simplified",
                "urn:esia:loa:standard",
                "urn:esia:loa:confirmed",
                "urn:esia:acr:mfa"
            ])
        );
        assert_eq!(d["backchannel_logout_supported"], true);
        assert_eq!(d["backchannel_logout_session_supported"], true);
        assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    }

    async fn jwks_keys_have_distinct_kids_rs256_and_es256(app: TestApp) {
        let jwks = get_json(&app.url("/jwks")).await;
        let keys = jwks["keys"].as_array().expect("keys");
        let mut kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().expect("kid")).collect();
        let total = kids.len();
        kids.sort_unstable();
        kids.dedup();
        assert_eq!(kids.len(), total, "duplicate kid in {jwks}");
        for k in keys {
            assert!(k.get("d").is_none() && k.get("p").is_none(), "private material published");
            VerifyingKey::from_jwk(k).expect("every JWK parses");
        }
        assert!(keys.iter().any(|k| k["kty"] == "RSA" && k["alg"] == "RS256"));
        assert!(keys.iter().any(|k| k["kty"] == "EC" && k["alg"] == "ES256" && k["crv"] == "P-256"));
    }

    async fn happy_path_with_client_secret_basic(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let back = b.sign_in(&request(&client.0, &[]), STD_PHONE, PASSWORD).await;
        assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()), "RFC 9207 iss");
        let t = exchange_with(&app, &client, &code_of(&back), Auth::Basic).await;
        assert_eq!(t.id["sub"], sub.as_str());
        assert_eq!(t.id["nonce"], NONCE);
        assert_eq!(userinfo(&app, &t.access).await["sub"], sub.as_str());
    }

    async fn happy_path_with_client_secret_post(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let back = b.sign_in(&request(&client.0, &[]), STD_PHONE, PASSWORD).await;
        assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()));
        let t = exchange_with(&app, &client, &code_of(&back), Auth::Post).await;
        assert_eq!(t.id["sub"], sub.as_str());
        assert_eq!(t.id["nonce"], NONCE);
    }

    async fn missing_response_type_redirects_invalid_request(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let b = app.browser();
        let back = b.authorize(&without(request(&id, &[]), "response_type")).await.left();
        assert_error(&app, &back, "invalid_request", Some(STATE));
    }

    async fn response_type_token_is_unsupported(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let b = app.browser();
        for rt in ["token", "id_token", "code id_token"] {
            let back = b.authorize(&request(&id, &[("response_type", rt)])).await.left();
            assert_error(&app, &back, "unsupported_response_type", Some(STATE));
        }
    }

    async fn a_flow_without_nonce_succeeds_without_nonce_claim(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let code = code_for(&b, &without(request(&client.0, &[]), "nonce"), STD_PHONE).await;
        let t = exchange(&app, &client, &code).await;
        assert!(t.id.get("nonce").is_none(), "no nonce was sent: {:?}", t.id);
    }

    async fn standard_scopes_release_claims_at_userinfo(app: TestApp) {
        let client = app.client("rp", "openid profile email phone").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let scope = [("scope", "openid profile email phone")];
        let code = code_for(&b, &request(&client.0, &scope), STD_PHONE).await;
        let t = exchange(&app, &client, &code).await;
        let info = userinfo(&app, &t.access).await;
        assert_eq!(info["sub"], sub.as_str());
        assert_eq!(info["sub"], t.id["sub"]);
        assert_eq!(info["family_name"], "Иванов");
        assert_eq!(info["given_name"], "Иван");
        assert_eq!(info["name"], "Иванов Иван Иванович");
        assert_eq!(info["birthdate"], "1980-01-02");
        assert_eq!(info["gender"], "male");
        assert_eq!(info["email"], "79001112232@example.ru");
        assert_eq!(info["phone_number"], STD_PHONE);
        assert!(info.get("snils").is_none(), "snils was not asked for");

        // With only openid, none of it is released.
        let b2 = app.browser();
        let code = code_for(&b2, &request(&client.0, &[]), STD_PHONE).await;
        let bare = userinfo(&app, &exchange(&app, &client, &code).await.access).await;
        for claim in ["family_name", "email", "phone_number", "birthdate"] {
            assert!(bare.get(claim).is_none(), "{claim} released without its scope");
        }
    }

    async fn esia_scopes_release_snils_only_for_verified_accounts(app: TestApp) {
        let client = app.client("rp", "openid fullname snils").await;
        app.user(STD_PHONE, Level::Standard).await;
        simplified_with_snils(&app, "+79005556601", "12345678964").await;
        let scope = [("scope", "openid fullname snils")];

        let b = app.browser();
        let code = code_for(&b, &request(&client.0, &scope), STD_PHONE).await;
        let info = userinfo(&app, &exchange(&app, &client, &code).await.access).await;
        assert_eq!(info["snils"], "112-233-445 95");
        assert_eq!(info["name"], "Иванов Иван Иванович");

        let b = app.browser();
        let code = code_for(&b, &request(&client.0, &scope), "+79005556601").await;
        let info = userinfo(&app, &exchange(&app, &client, &code).await.access).await;
        assert_eq!(info["family_name"], "Петров", "fullname is released at every level");
        assert!(info.get("snils").is_none(), "SNILS of a simplified account is unverified: {info}");
    }

    async fn reordered_unknown_and_optional_parameters_are_accepted(app: TestApp) {
        let client = app.client("rp", "openid profile").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let mut params = request(&client.0, &[
            ("scope", "openid profile"),
            ("display", "popup"),
            ("ui_locales", "en"),
            ("claims_locales", "ru"),
            ("claims", r#"{"id_token":{"name":{"essential":true}},"userinfo":{"email":null}}"#),
            ("login_hint", STD_PHONE),
            ("vendor_extension", "whatever"),
            ("foo", ""),
        ]);
        params.reverse();
        let code = code_for(&b, &params, STD_PHONE).await;
        let t = exchange(&app, &client, &code).await;
        assert_eq!(t.id["sub"], sub.as_str());

        for display in ["page", "touch", "wap"] {
            let b = app.browser();
            let first = b.authorize(&request(&client.0, &[("display", display)])).await;
            login_page(first);
        }
    }

    async fn login_hint_prefills_the_login_page(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let b = app.browser();
        let html = login_page(b.authorize(&request(&id, &[("login_hint", STD_PHONE)])).await);
        assert!(html.contains(&format!("name=\"login\" type=\"text\" value=\"{STD_PHONE}\"")), "{html}");
        // ui_locales=en switches the page's language.
        let en = login_page(b.authorize(&request(&id, &[("ui_locales", "en")])).await);
        assert!(en.contains("Log in"), "{en}");
    }
}
