//! Conformance of the back-channel endpoints: token (codes, PKCE, refresh rotation, client
//! credentials), client authentication (secrets and RFC 7523 assertions), userinfo,
//! introspection (RFC 7662), revocation (RFC 7009), key rotation and back-channel logout.
//! Every check asserts the exact protocol answer: status, `error`, and the headers the RFCs ask.
//! JWTs are verified here with `ring` directly against `/jwks`, not with the server's own code.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::domain::clients::ClientSpec;
use idp::jose::Alg;
use idp::protocol::acr::Level;
use reqwest::header::HeaderMap;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use tests::browser::param;
use tests::jwt::{decode, verify};
use tests::{Backend, Browser, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A confidential client's credentials.
struct Rp {
    id: String,
    secret: String,
}

async fn rp(app: &TestApp, id: &str, scopes: &str) -> Rp {
    let (id, secret) = app.client(id, scopes).await;
    Rp { id, secret }
}

/// A JSON answer from an OAuth endpoint.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    async fn read(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// The body of a 200 answer.
    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.body);
        &self.body
    }

    /// Checks an OAuth error answer: status, `error`, `Cache-Control: no-store`, and an
    /// `error_description` free of CR, LF and TAB.
    fn error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.body["error"].as_str()),
            (status, Some(code)),
            "unexpected answer: {}",
            self.body
        );
        assert_eq!(self.header("cache-control"), Some("no-store"));
        let desc = self.body["error_description"].as_str().unwrap_or("");
        assert!(
            !desc.contains(['\r', '\n', '\t']),
            "error_description with control characters: {desc:?}"
        );
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn str(&self, name: &str) -> String {
        self.ok()[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            .to_owned()
    }
}

/// POSTs a form to `path`, with Basic client authentication when `basic` is given.
async fn post(app: &TestApp, path: &str, basic: Option<&Rp>, form: &[(&str, &str)]) -> Reply {
    let mut req = reqwest::Client::new().post(app.url(path)).form(form);
    if let Some(c) = basic {
        req = req.basic_auth(&c.id, Some(&c.secret));
    }
    Reply::read(req.send().await.expect("request")).await
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).expect("random");
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

/// Runs the front channel for `client_id` (logging in as `login` when asked) and returns the
/// redirect back to the client.
async fn authorize(
    browser: &Browser,
    client_id: &str,
    scope: &str,
    login: &str,
    extra: &[(&str, &str)],
) -> url::Url {
    let mut params = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", scope),
        ("redirect_uri", CB),
        ("state", "st-1"),
    ];
    params.extend_from_slice(extra);
    let back = browser.sign_in(&params, login, PASSWORD).await;
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
    back
}

/// A fresh code with PKCE; returns (code, verifier).
async fn code_with_pkce(
    browser: &Browser,
    client_id: &str,
    scope: &str,
    login: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("nonce", "n-1"),
    ];
    let back = authorize(browser, client_id, scope, login, &extra).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    (code, verifier)
}

/// Redeems a code at the token endpoint with Basic authentication.
async fn exchange(app: &TestApp, rp: &Rp, code: &str, verifier: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    post(app, "/token", Some(rp), &form).await
}

/// Signs in (as a new browser) and returns the token response.
async fn tokens(app: &TestApp, rp: &Rp, scope: &str, login: &str) -> Value {
    let browser = app.browser();
    let (code, verifier) = code_with_pkce(&browser, &rp.id, scope, login).await;
    exchange(app, rp, &code, Some(&verifier)).await.ok().clone()
}

async fn refresh(app: &TestApp, rp: &Rp, refresh_token: &str, scope: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    post(app, "/token", Some(rp), &form).await
}

async fn client_credentials(app: &TestApp, rp: &Rp, scope: Option<&str>) -> Reply {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    post(app, "/token", Some(rp), &form).await
}

/// GET /userinfo with a bearer token.
async fn userinfo(app: &TestApp, access_token: &str) -> Reply {
    let resp = reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request");
    Reply::read(resp).await
}

async fn introspect(app: &TestApp, caller: &Rp, token: &str) -> Value {
    post(app, "/introspect", Some(caller), &[("token", token)])
        .await
        .ok()
        .clone()
}

async fn revoke(app: &TestApp, caller: &Rp, token: &str) {
    let r = post(app, "/revoke", Some(caller), &[("token", token)]).await;
    assert_eq!(r.status, 200, "revocation: {}", r.body);
}

async fn jwks(app: &TestApp) -> Value {
    let resp = reqwest::get(app.url("/jwks")).await.expect("jwks");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("jwks json")
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// A client key pair for `private_key_jwt`.
struct ClientKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl ClientKey {
    fn generate(kid: &str) -> ClientKey {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let der = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("generate");
        let pair = EcdsaKeyPair::from_pkcs8(alg, der.as_ref(), &rng).expect("load");
        ClientKey {
            pair,
            kid: kid.into(),
        }
    }

    fn public_jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "ES256", "kid": self.kid, "typ": "JWT" });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

fn random_jti() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).expect("random");
    URL_SAFE_NO_PAD.encode(b)
}

/// A client_credentials request authenticated by `assertion` alone.
async fn with_assertion(app: &TestApp, assertion: &str) -> Reply {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    post(app, "/token", None, &form).await
}

/// Starts an HTTP listener that forwards every POSTed `logout_token`; returns its URL.
async fn logout_listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/backchannel",
        post(
            move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/backchannel",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, rx)
}

on_both_backends! {
    async fn code_reuse_revokes_the_tokens_of_the_first_redemption(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid profile").await;
        app.user("+79001110001", Level::Standard).await;
        let browser = app.browser();
        let (code, verifier) = code_with_pkce(&browser, &rp.id, "openid profile", "+79001110001").await;
        let first = exchange(&app, &rp, &code, Some(&verifier)).await;
        assert_eq!(first.header("cache-control"), Some("no-store"));
        let (at, rt) = (first.str("access_token"), first.str("refresh_token"));
        assert_eq!(userinfo(&app, &at).await.status, 200);

        exchange(&app, &rp, &code, Some(&verifier)).await.error(400, "invalid_grant");
        assert_eq!(userinfo(&app, &at).await.status, 401);
        refresh(&app, &rp, &rt, None).await.error(400, "invalid_grant");
        assert_eq!(introspect(&app, &rp, &at).await, json!({ "active": false }));
    }

    async fn codes_expire_and_are_bound_to_client_and_redirect_uri(app: TestApp) {
        let a = rp(&app, "rp-a", "openid").await;
        let b = rp(&app, "rp-b", "openid").await;
        app.user("+79001110001", Level::Standard).await;
        let browser = app.browser();
        let login = "+79001110001";

        let (code, verifier) = code_with_pkce(&browser, &a.id, "openid", login).await;
        app.clock.advance(61);
        exchange(&app, &a, &code, Some(&verifier)).await.error(400, "invalid_grant");

        let (code, verifier) = code_with_pkce(&browser, &a.id, "openid", login).await;
        exchange(&app, &b, &code, Some(&verifier)).await.error(400, "invalid_grant");

        let (code, verifier) = code_with_pkce(&browser, &a.id, "openid", login).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://rp.example/other"),
            ("code_verifier", verifier.as_str()),
        ];
        post(&app, "/token", Some(&a), &form).await.error(400, "invalid_grant");
    }

    async fn pkce_is_s256_only_and_checked(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid").await;
        app.user("+79001110001", Level::Standard).await;
        let browser = app.browser();
        let login = "+79001110001";

        let (code, verifier) = code_with_pkce(&browser, &rp.id, "openid", login).await;
        exchange(&app, &rp, &code, Some(&verifier)).await.ok();

        let (_, challenge) = pkce();
        for method in [Some("plain"), None] {
            let mut params = vec![
                ("client_id", rp.id.as_str()), ("response_type", "code"), ("scope", "openid"),
                ("redirect_uri", CB), ("state", "s"), ("code_challenge", challenge.as_str()),
            ];
            params.extend(method.map(|m| ("code_challenge_method", m)));
            let back = browser.authorize(&params).await.left();
            assert!(back.as_str().starts_with(CB), "{back}");
            assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"), "method {method:?}");
            assert_eq!(param(&back, "state").as_deref(), Some("s"));
        }

        let (code, _) = code_with_pkce(&browser, &rp.id, "openid", login).await;
        let (other_verifier, _) = pkce();
        exchange(&app, &rp, &code, Some(&other_verifier)).await.error(400, "invalid_grant");

        let back = authorize(&browser, &rp.id, "openid", login, &[]).await;
        let code = param(&back, "code").expect("code");
        exchange(&app, &rp, &code, Some(&other_verifier)).await.error(400, "invalid_grant");
    }

    async fn public_clients_need_pkce_and_use_client_id_alone(app: TestApp) {
        let spa = ClientSpec {
            id: "spa".into(),
            name: "SPA".into(),
            public: true,
            redirect_uris: vec![CB.into()],
            scopes: "openid profile".into(),
            ..ClientSpec::default()
        };
        assert_eq!(app.client_spec(spa).await, None, "a public client has no secret");
        app.user("+79001110001", Level::Standard).await;
        let browser = app.browser();

        let back = browser.authorize(&[
            ("client_id", "spa"), ("response_type", "code"), ("scope", "openid"),
            ("redirect_uri", CB), ("state", "s"),
        ]).await.left();
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));

        let (code, verifier) = code_with_pkce(&browser, "spa", "openid profile", "+79001110001").await;
        let form = [
            ("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CB),
            ("code_verifier", verifier.as_str()), ("client_id", "spa"),
        ];
        let reply = post(&app, "/token", None, &form).await;
        let body = reply.ok();
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["id_token"].is_string() && body["access_token"].is_string(), "{body}");
        assert_eq!(userinfo(&app, &reply.str("access_token")).await.status, 200);
    }

    async fn refresh_tokens_rotate_and_a_replay_revokes_the_family(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid profile").await;
        app.user("+79001110001", Level::Standard).await;
        let t = tokens(&app, &rp, "openid profile", "+79001110001").await;
        let rt0 = t["refresh_token"].as_str().expect("refresh_token").to_owned();

        let r1 = refresh(&app, &rp, &rt0, None).await;
        assert_eq!(r1.header("cache-control"), Some("no-store"));
        let rt1 = r1.str("refresh_token");
        let r2 = refresh(&app, &rp, &rt1, None).await;
        let (rt2, at2) = (r2.str("refresh_token"), r2.str("access_token"));
        assert_eq!(HashSet::from([&rt0, &rt1, &rt2]).len(), 3, "a new refresh token each time");
        assert_eq!(userinfo(&app, &at2).await.status, 200);

        refresh(&app, &rp, &rt1, None).await.error(400, "invalid_grant");
        refresh(&app, &rp, &rt2, None).await.error(400, "invalid_grant");
        assert_eq!(userinfo(&app, &at2).await.status, 401);
    }

    async fn refresh_is_bound_to_client_scope_and_idle_time(app: TestApp) {
        let a = rp(&app, "rp-a", "openid profile email").await;
        let b = rp(&app, "rp-b", "openid profile").await;
        app.user("+79001110001", Level::Standard).await;
        let ta = tokens(&app, &a, "openid profile", "+79001110001").await;
        let tb = tokens(&app, &b, "openid profile", "+79001110001").await;
        let rt_b = tb["refresh_token"].as_str().expect("refresh_token");
        refresh(&app, &a, rt_b, None).await.error(400, "invalid_grant");
        refresh(&app, &b, rt_b, None).await.ok();

        let rt = ta["refresh_token"].as_str().expect("refresh_token");
        refresh(&app, &a, rt, Some("openid email")).await.error(400, "invalid_scope");
        // A refused request does not spend the token.
        let narrowed = refresh(&app, &a, rt, Some("openid")).await;
        assert_eq!(narrowed.ok()["scope"], "openid");
        let (_, claims) = decode(&narrowed.str("access_token"));
        assert_eq!(claims["scope"], "openid");
        let rt = narrowed.str("refresh_token");

        app.clock.advance(app.state.config.tokens.refresh_idle_ttl + 1);
        refresh(&app, &a, &rt, None).await.error(400, "invalid_grant");
    }

    async fn client_secret_authentication(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid").await;
        let wrong = Rp { id: rp.id.clone(), secret: "not-the-secret".into() };
        let reply = client_credentials(&app, &wrong, None).await;
        reply.error(401, "invalid_client");
        assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Basic")), "{:?}", reply.headers);

        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", rp.id.as_str()),
            ("client_secret", rp.secret.as_str()),
        ];
        post(&app, "/token", None, &form).await.ok();
        post(&app, "/token", Some(&rp), &form).await.error(400, "invalid_request");

        let unknown = Rp { id: "nobody".into(), secret: "x".into() };
        client_credentials(&app, &unknown, None).await.error(401, "invalid_client");
        let form = [("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x")];
        post(&app, "/token", None, &form).await.error(401, "invalid_client");
    }

    async fn private_key_jwt_authentication(app: TestApp) {
        let key = ClientKey::generate("rp-key-1");
        let spec = ClientSpec {
            id: "rp-jwt".into(),
            name: "JWT client".into(),
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            jwks: Some(json!({ "keys": [key.public_jwk()] })),
            ..ClientSpec::default()
        };
        assert_eq!(app.client_spec(spec).await, None, "no secret for private_key_jwt");
        let now = app.clock.now();
        let claims = |aud: &str, exp: i64| json!({
            "iss": "rp-jwt", "sub": "rp-jwt", "aud": aud, "exp": exp, "iat": now, "jti": random_jti(),
        });
        let token_url = app.url("/token");

        let assertion = key.sign(&claims(&token_url, now + 60));
        let body = with_assertion(&app, &assertion).await.ok().clone();
        assert_eq!(decode(body["access_token"].as_str().expect("access_token")).1["sub"], "rp-jwt");
        with_assertion(&app, &assertion).await.error(401, "invalid_client");

        let wrong_aud = key.sign(&claims("https://other.example/token", now + 60));
        with_assertion(&app, &wrong_aud).await.error(401, "invalid_client");
        let expired = key.sign(&claims(&token_url, now - 10));
        with_assertion(&app, &expired).await.error(401, "invalid_client");
        let foreign = ClientKey::generate("rp-key-1").sign(&claims(&token_url, now + 60));
        with_assertion(&app, &foreign).await.error(401, "invalid_client");
    }

    async fn client_credentials_issue_rfc9068_access_tokens(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid profile").await;
        let reply = client_credentials(&app, &rp, Some("profile")).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let body = reply.ok();
        assert_eq!(body["token_type"], "Bearer");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none(), "{body}");
        let (header, claims) = verify(&app, &reply.str("access_token")).await;
        assert_eq!((header["typ"].as_str(), header["alg"].as_str()), (Some("at+jwt"), Some("ES256")));
        assert_eq!(claims["iss"], app.base.as_str());
        assert_eq!(claims["sub"], "rp-a");
        assert_eq!(claims["client_id"], "rp-a");
        assert!(claims["aud"].is_string() || claims["aud"].is_array(), "{claims}");
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        let (iat, exp) = (claims["iat"].as_i64().expect("iat"), claims["exp"].as_i64().expect("exp"));
        assert!(iat <= app.clock.now() && exp > app.clock.now(), "{claims}");

        let rsa = ClientSpec {
            id: "rp-rsa".into(),
            name: "RSA".into(),
            secret: Some("rsa-client-secret-0123456789".into()),
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            access_token_alg: Some(Alg::RS256),
            ..ClientSpec::default()
        };
        app.client_spec(rsa).await;
        let rsa = Rp { id: "rp-rsa".into(), secret: "rsa-client-secret-0123456789".into() };
        let token = client_credentials(&app, &rsa, None).await.str("access_token");
        let (header, _) = verify(&app, &token).await;
        assert_eq!((header["typ"].as_str(), header["alg"].as_str()), (Some("at+jwt"), Some("RS256")));

        client_credentials(&app, &rp, Some("email")).await.error(400, "invalid_scope");
        post(&app, "/token", Some(&rp), &[("grant_type", "password"), ("username", "u"), ("password", "p")])
            .await
            .error(400, "unsupported_grant_type");

        let spa = ClientSpec {
            id: "spa".into(),
            public: true,
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            ..ClientSpec::default()
        };
        app.client_spec(spa).await;
        post(&app, "/token", None, &[("grant_type", "client_credentials"), ("client_id", "spa")])
            .await
            .error(401, "invalid_client");
    }

    async fn id_token_algorithm_is_chosen_per_client(app: TestApp) {
        let ec = ClientSpec {
            id: "rp-ec".into(),
            name: "EC".into(),
            secret: Some("ec-client-secret-0123456789".into()),
            redirect_uris: vec![CB.into()],
            scopes: "openid".into(),
            id_token_alg: Some(Alg::ES256),
            ..ClientSpec::default()
        };
        app.client_spec(ec).await;
        let ec = Rp { id: "rp-ec".into(), secret: "ec-client-secret-0123456789".into() };
        let plain = rp(&app, "rp-default", "openid").await;
        app.user("+79001110001", Level::Standard).await;

        let t = tokens(&app, &ec, "openid", "+79001110001").await;
        let (header, claims) = verify(&app, t["id_token"].as_str().expect("id_token")).await;
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims["aud"], "rp-ec");
        assert_eq!(claims["nonce"], "n-1");

        let t = tokens(&app, &plain, "openid", "+79001110001").await;
        let (header, _) = verify(&app, t["id_token"].as_str().expect("id_token")).await;
        assert_eq!(header["alg"], "RS256", "RS256 stays the default");
    }

    async fn userinfo_accepts_user_access_tokens_only(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid profile").await;
        let sub = app.user("+79001110001", Level::Standard).await;
        let t = tokens(&app, &rp, "openid profile", "+79001110001").await;
        let at = t["access_token"].as_str().expect("access_token");
        let id_token = t["id_token"].as_str().expect("id_token");
        assert_eq!(decode(id_token).1["sub"], sub.as_str());

        let http = reqwest::Client::new();
        let url = app.url("/userinfo");
        let answers = [
            http.get(&url).bearer_auth(at).send().await,
            http.post(&url).bearer_auth(at).send().await,
            http.post(&url).form(&[("access_token", at)]).send().await,
        ];
        for resp in answers {
            let r = Reply::read(resp.expect("request")).await;
            assert_eq!(r.ok()["sub"], sub.as_str());
            assert_eq!(r.header("cache-control"), Some("no-store"));
        }

        let none = Reply::read(http.get(&url).send().await.expect("request")).await;
        assert_eq!(none.status, 401, "{}", none.body);
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));

        let garbage = userinfo(&app, "not-a-token").await;
        garbage.error(401, "invalid_token");
        assert!(garbage.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer") && v.contains(r#"error="invalid_token""#)));
        userinfo(&app, id_token).await.error(401, "invalid_token");
        let cc = client_credentials(&app, &rp, None).await.str("access_token");
        userinfo(&app, &cc).await.error(401, "invalid_token");

        app.clock.advance(app.state.config.tokens.access_token_ttl + 1);
        userinfo(&app, at).await.error(401, "invalid_token");
    }

    async fn introspection_follows_rfc7662(app: TestApp) {
        let a = rp(&app, "rp-a", "openid profile").await;
        let b = rp(&app, "rp-b", "openid").await;
        let sub = app.user("+79001110001", Level::Standard).await;
        let t = tokens(&app, &a, "openid profile", "+79001110001").await;
        let (at, rt) = (t["access_token"].as_str().expect("at"), t["refresh_token"].as_str().expect("rt"));

        post(&app, "/introspect", None, &[("token", at)]).await.error(401, "invalid_client");

        let info = introspect(&app, &a, at).await;
        assert_eq!(info["active"], true);
        assert_eq!(info["scope"], "openid profile");
        assert_eq!(info["client_id"], "rp-a");
        assert_eq!(info["sub"], sub.as_str());
        assert!(info["exp"].as_i64().is_some_and(|e| e > app.clock.now()), "{info}");

        assert_eq!(introspect(&app, &a, rt).await["active"], true);
        assert_eq!(introspect(&app, &b, rt).await, json!({ "active": false }));
        assert_eq!(introspect(&app, &a, "garbage").await, json!({ "active": false }));
        assert_eq!(introspect(&app, &a, "a.b.c").await, json!({ "active": false }));

        revoke(&app, &a, at).await;
        assert_eq!(introspect(&app, &a, at).await, json!({ "active": false }));
        revoke(&app, &a, rt).await;
        assert_eq!(introspect(&app, &a, rt).await, json!({ "active": false }));
    }

    async fn revocation_follows_rfc7009(app: TestApp) {
        let a = rp(&app, "rp-a", "openid").await;
        let b = rp(&app, "rp-b", "openid").await;
        app.user("+79001110001", Level::Standard).await;
        revoke(&app, &a, "never-issued").await;

        let t = tokens(&app, &a, "openid", "+79001110001").await;
        let (at, rt) = (t["access_token"].as_str().expect("at"), t["refresh_token"].as_str().expect("rt"));
        revoke(&app, &a, at).await;
        userinfo(&app, at).await.error(401, "invalid_token");
        assert_eq!(introspect(&app, &a, at).await["active"], false);
        let fresh = refresh(&app, &a, rt, None).await;
        let (at2, rt2) = (fresh.str("access_token"), fresh.str("refresh_token"));
        assert_eq!(userinfo(&app, &at2).await.status, 200);

        revoke(&app, &a, &rt2).await;
        refresh(&app, &a, &rt2, None).await.error(400, "invalid_grant");
        userinfo(&app, &at2).await.error(401, "invalid_token");

        let tb = tokens(&app, &b, "openid", "+79001110001").await;
        let (at_b, rt_b) = (tb["access_token"].as_str().expect("at"), tb["refresh_token"].as_str().expect("rt"));
        revoke(&app, &a, at_b).await;
        revoke(&app, &a, rt_b).await;
        assert_eq!(userinfo(&app, at_b).await.status, 200);
        assert_eq!(introspect(&app, &b, at_b).await["active"], true);
        refresh(&app, &b, rt_b, None).await.ok();
    }

    async fn key_rotation_keeps_old_tokens_verifiable_during_the_overlap(app: TestApp) {
        let rp = rp(&app, "rp-a", "openid").await;
        app.user("+79001110001", Level::Standard).await;
        let t = tokens(&app, &rp, "openid", "+79001110001").await;
        let old_at = t["access_token"].as_str().expect("at");
        let old_kids = kids(&jwks(&app).await);

        let now = app.clock.now();
        let overlap = 3600;
        let new_kids = idp::domain::keyring::rotate(&app.state.db, &app.state.secrets, now, now, overlap)
            .await
            .expect("rotate");
        app.state.keys.reload(&app.state.db, now).await.expect("reload");
        let both = kids(&jwks(&app).await);
        assert_eq!(both.iter().collect::<HashSet<_>>().len(), both.len(), "distinct kids: {both:?}");
        assert!(old_kids.iter().chain(&new_kids).all(|k| both.contains(k)), "{both:?}");
        assert!(new_kids.iter().all(|k| !old_kids.contains(k)));

        let fresh = refresh(&app, &rp, t["refresh_token"].as_str().expect("rt"), None).await;
        // A refresh answers without an ID token (OIDC Core 12.2); a new login gets one.
        assert!(fresh.ok().get("id_token").is_none(), "{}", fresh.body);
        let relogin = tokens(&app, &rp, "openid", "+79001110001").await;
        let new_id_token = relogin["id_token"].as_str().expect("id_token").to_owned();
        for token in [fresh.str("access_token"), new_id_token] {
            let (header, _) = verify(&app, &token).await;
            let kid = header["kid"].as_str().expect("kid").to_owned();
            assert!(new_kids.contains(&kid), "{kid} is not a new key");
        }
        assert_eq!(userinfo(&app, old_at).await.status, 200);
        verify(&app, old_at).await;

        app.clock.advance(overlap + 1);
        app.state.keys.reload(&app.state.db, app.clock.now()).await.expect("reload");
        let after = kids(&jwks(&app).await);
        assert!(old_kids.iter().all(|k| !after.contains(k)), "old keys still published: {after:?}");
        assert!(new_kids.iter().all(|k| after.contains(k)));
    }

    async fn backchannel_logout_sends_a_logout_token(app: TestApp) {
        let (uri, mut received) = logout_listener().await;
        let spec = ClientSpec {
            id: "rp-bcl".into(),
            name: "BCL".into(),
            secret: Some("bcl-client-secret-0123456789".into()),
            redirect_uris: vec![CB.into()],
            scopes: "openid profile".into(),
            backchannel_logout_uri: Some(uri),
            ..ClientSpec::default()
        };
        app.client_spec(spec).await;
        let rp = Rp { id: "rp-bcl".into(), secret: "bcl-client-secret-0123456789".into() };
        let sub = app.user("+79001110001", Level::Standard).await;
        let browser = app.browser();
        let (code, verifier) = code_with_pkce(&browser, &rp.id, "openid profile", "+79001110001").await;
        let t = exchange(&app, &rp, &code, Some(&verifier)).await.ok().clone();
        let id_token = t["id_token"].as_str().expect("id_token");
        let sid = decode(id_token).1["sid"].as_str().expect("sid in the ID token").to_owned();

        let logout = url::Url::parse_with_params(&app.url("/logout"), &[("id_token_hint", id_token)]).expect("url");
        let (_, status, _) = browser.visit(logout.as_str()).await.page();
        assert_eq!(status, 200);

        let token = tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .expect("a logout token within 5 s")
            .expect("listener open");
        let (header, claims) = verify(&app, &token).await;
        assert_eq!(header["typ"], "logout+jwt");
        assert_eq!(claims["iss"], app.base.as_str());
        assert!(claims["aud"] == "rp-bcl" || claims["aud"] == json!(["rp-bcl"]), "{claims}");
        assert!(claims["iat"].as_i64().is_some_and(|t| t <= app.clock.now()), "{claims}");
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()), "{claims}");
        assert_eq!(claims["sid"], sid.as_str());
        assert_eq!(claims["sub"], sub.as_str());
        assert_eq!(claims["events"], json!({ BCL_EVENT: {} }));
        assert!(claims.get("nonce").is_none(), "{claims}");

        refresh(&app, &rp, t["refresh_token"].as_str().expect("rt"), None).await.error(400, "invalid_grant");
    }
}
