//! The administrator's API for relying parties (`/api/admin/clients`): bearer-token access,
//! registration with a secret shown once, list/show/delete, and that a registered client can
//! run a whole code flow while a deleted one is refused at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::protocol::acr::Level;
use idp::store::admins;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::param;
use tests::{Backend, Browser, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79001234562";

/// Creates an administrator through the store and returns the bearer token.
async fn admin_token(app: &TestApp) -> String {
    let (admin, token) = admins::create(
        &app.state.db,
        &app.state.secrets,
        " Отдел интеграции ",
        app.clock.now(),
    )
    .await
    .expect("create admin");
    assert_eq!(admin.name, "Отдел интеграции");
    let listed = admins::list(&app.state.db).await.expect("list admins");
    assert_eq!(listed, vec![admin]);
    token
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Sends a request to the admin API with `token` (if any); returns status, headers and JSON body.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = http().request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, headers, json)
}

fn registration(id: &str) -> Value {
    json!({
        "client_id": id,
        "client_name": "Портал ФНС",
        "redirect_uris": [CB],
        "post_logout_redirect_uris": ["https://rp.example/bye"],
        "scope": "openid fullname email",
        "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": "ES256",
    })
}

/// Signs in through the front channel with PKCE; returns (code, verifier).
async fn code_for(browser: &Browser, client_id: &str) -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(idp::crypto::random_token(32));
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let params = [
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid fullname"),
        ("redirect_uri", CB),
        ("state", "st-admin"),
        ("nonce", "n-admin"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let back = browser.sign_in(&params, PHONE, PASSWORD).await;
    assert_eq!(param(&back, "state").as_deref(), Some("st-admin"));
    (
        param(&back, "code").unwrap_or_else(|| panic!("no code in {back}")),
        verifier,
    )
}

async fn exchange(
    app: &TestApp,
    id: &str,
    secret: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let resp = http()
        .post(app.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token request");
    let status = resp.status();
    (status, resp.json().await.expect("token JSON"))
}

on_both_backends! {
    async fn registered_client_runs_a_code_flow_and_is_refused_once_deleted(app: TestApp) {
        use reqwest::Method;
        let token = admin_token(&app).await;
        let sub = app.user(PHONE, Level::Standard).await;

        let (status, headers, reg) = call(&app, Method::POST, "/api/admin/clients", Some(&token), Some(&registration("fns-portal"))).await;
        assert_eq!(status, StatusCode::CREATED, "{reg}");
        assert_eq!(headers["location"], "/api/admin/clients/fns-portal");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(reg["client_id"], "fns-portal");
        assert_eq!(reg["client_name"], "Портал ФНС");
        assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(reg["scope"], "email fullname openid", "scopes come back sorted");
        assert_eq!(reg["redirect_uris"], json!([CB]));
        assert_eq!(reg["id_token_signed_response_alg"], "ES256");
        let secret = reg["client_secret"].as_str().expect("client_secret shown once").to_owned();
        assert!(secret.len() >= 32, "{secret}");

        // The secret is never shown again.
        let (status, _, shown) = call(&app, Method::GET, "/api/admin/clients/fns-portal", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(shown["client_id"], "fns-portal");
        assert_eq!(shown["post_logout_redirect_uris"], json!(["https://rp.example/bye"]));
        assert!(shown.get("client_secret").is_none(), "{shown}");
        assert!(!shown.to_string().contains(&secret));

        // A whole code flow with the returned secret.
        let browser = app.browser();
        let (code, verifier) = code_for(&browser, "fns-portal").await;
        let (status, tokens) = exchange(&app, "fns-portal", &secret, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert!(tokens["id_token"].is_string() && tokens["access_token"].is_string(), "{tokens}");
        let info = http().get(app.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(info.status(), StatusCode::OK);
        assert_eq!(info.json::<Value>().await.unwrap()["sub"], sub.as_str());
        // A wrong secret does not work.
        let (code2, verifier2) = code_for(&browser, "fns-portal").await;
        let (status, err) = exchange(&app, "fns-portal", "not-the-secret", &code2, &verifier2).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
        assert_eq!(err["error"], "invalid_client");

        // The list holds it (and the secret's hash is not in it).
        let (status, _, list) = call(&app, Method::GET, "/api/admin/clients", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = list["clients"].as_array().expect("clients").iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert!(ids.contains(&"fns-portal"), "{list}");
        assert!(!list.to_string().contains("secret_hash"));

        // A code issued before the delete is worthless afterwards, and /authorize no longer
        // knows the client: the node's client cache forgot it at once.
        let (code3, verifier3) = code_for(&browser, "fns-portal").await;
        let (status, _, body) = call(&app, Method::DELETE, "/api/admin/clients/fns-portal", Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, err) = exchange(&app, "fns-portal", &secret, &code3, &verifier3).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
        assert_eq!(err["error"], "invalid_client");
        let page = browser.authorize(&[("client_id", "fns-portal"), ("response_type", "code"), ("scope", "openid"), ("redirect_uri", CB), ("state", "s")]).await;
        let (_, status, html) = page.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("не зарегистрирован в системе"), "{html}");

        // Gone from show, list and a second delete.
        let (status, _, err) = call(&app, Method::GET, "/api/admin/clients/fns-portal", Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(err["error"], "not_found");
        let (status, _, err) = call(&app, Method::DELETE, "/api/admin/clients/fns-portal", Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(err["message"].as_str().unwrap().contains("fns-portal"), "{err}");
        let (_, _, list) = call(&app, Method::GET, "/api/admin/clients", Some(&token), None).await;
        assert!(!list.to_string().contains("fns-portal"), "{list}");
    }

    async fn bad_registrations_are_refused_with_a_clear_message(app: TestApp) {
        use reqwest::Method;
        let token = admin_token(&app).await;
        let post = |body: Value| {
            let (app, token) = (&app, token.clone());
            async move { call(app, Method::POST, "/api/admin/clients", Some(&token), Some(&body)).await }
        };

        let mut bad_uri = registration("rp-1");
        bad_uri["redirect_uris"] = json!(["https://rp.example/cb#frag"]);
        let (status, _, err) = post(bad_uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"], "invalid_request");
        assert!(err["message"].as_str().unwrap().contains("https://rp.example/cb#frag"), "{err}");

        let mut bad_id = registration("has space");
        bad_id["client_id"] = json!("has space");
        let (status, _, err) = post(bad_id).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err["message"].as_str().unwrap().contains("client id"), "{err}");

        let mut contradictory = registration("rp-2");
        contradictory["token_endpoint_auth_method"] = json!("private_key_jwt");
        let (status, _, err) = post(contradictory).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err["message"].as_str().unwrap().contains("jwks"), "{err}");

        let mut typo = registration("rp-3");
        typo["redirect_uri"] = json!(CB);
        let (status, _, err) = post(typo).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err["message"].as_str().unwrap().contains("redirect_uri"), "{err}");

        // None of the refused ones was stored.
        let (_, _, list) = call(&app, Method::GET, "/api/admin/clients", Some(&token), None).await;
        assert_eq!(list["clients"], json!([]), "{list}");

        // A public client with a chosen id: no secret; the same id again is a clear 400.
        let public = json!({ "client_id": "mobile-app", "redirect_uris": ["ru.gosuslugi.app:/cb"], "public": true, "scope": "openid" });
        let (status, _, reg) = post(public.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{reg}");
        assert_eq!(reg["token_endpoint_auth_method"], "none");
        assert!(reg.get("client_secret").is_none(), "{reg}");
        let (status, _, err) = post(public).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err["message"].as_str().unwrap().contains("already exists"), "{err}");

        // Not JSON at all.
        let resp = http().post(app.url("/api/admin/clients")).bearer_auth(&token).body("client_id=x").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    async fn the_admin_api_needs_an_admin_token(app: TestApp) {
        use reqwest::Method;
        let token = admin_token(&app).await;
        app.client("existing", "openid").await;
        // An operator's token is not an admin's.
        let (_, op_token) = idp::domain::verification::confirm::create_operator(&app.state, "Оператор").await.expect("operator");
        for bad in [None, Some("adm_wrong"), Some(op_token.as_str()), Some("")] {
            for (method, path, body) in [
                (Method::GET, "/api/admin/clients", None),
                (Method::POST, "/api/admin/clients", Some(registration("sneaky"))),
                (Method::GET, "/api/admin/clients/existing", None),
                (Method::DELETE, "/api/admin/clients/existing", None),
            ] {
                let (status, headers, err) = call(&app, method.clone(), path, bad, body.as_ref()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {bad:?}");
                assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"), "{headers:?}");
                assert_eq!(err["error"], "unauthenticated");
            }
        }
        // Nothing changed: the existing client is still there, the sneaky one was not made.
        let (status, _, list) = call(&app, Method::GET, "/api/admin/clients", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = list["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec!["existing"]);
    }
}
