//! Conformance of the front channel: discovery and JWKS, the authorization endpoint (errors,
//! prompt, max_age, id_token_hint, acr_values, request objects, POST), consent, the login
//! page (identifiers, lockout, CSRF), the session cookie, RP-initiated logout and the
//! security headers of the pages. Each row of `shared/conformance.md` it covers is asserted
//! with the exact protocol behaviour a certified relying party expects.

use idp::jose::{self, VerifyingKey};
use idp::protocol::acr::Level;
use idp::store::users::{self, NewUser};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tests::browser::{Outcome, hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp};
use url::Url;

/// The redirect URI `TestApp::client` registers.
const CB: &str = "https://rp.example/cb";
/// The post-logout redirect URI `TestApp::client` registers.
const BYE: &str = "https://rp.example/bye";
/// A standard account with this phone gets SNILS `112-233-445 95` from `TestApp::user`.
const STD_PHONE: &str = "+79001112232";
const STATE: &str = "st-1";
const NONCE: &str = "n-1";

/// The base authorization request (`scope=openid`, state, nonce), with `extra` overriding
/// or adding parameters.
fn request<'a>(client_id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", STATE),
        ("nonce", NONCE),
    ];
    for &(k, v) in extra {
        match params.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => params.push((k, v)),
        }
    }
    params
}

/// The request without parameter `name`.
fn without<'a>(mut params: Vec<(&'a str, &'a str)>, name: &str) -> Vec<(&'a str, &'a str)> {
    params.retain(|(k, _)| *k != name);
    params
}

/// Signs in (login and consent as needed) and returns the authorization code.
async fn code_for(b: &Browser, params: &[(&str, &str)], login: &str) -> String {
    let back = b.sign_in(params, login, PASSWORD).await;
    code_of(&back)
}

/// The code of a successful authorization response, after checking `state` and `iss`.
fn code_of(back: &Url) -> String {
    assert!(back.as_str().starts_with(CB), "{back}");
    assert_eq!(param(back, "error"), None, "{back}");
    assert_eq!(param(back, "state").as_deref(), Some(STATE), "state echoed");
    param(back, "code").expect("code")
}

/// Checks an error response at the client: error code, `state`, `iss` (RFC 9207), and an
/// `error_description` free of CR, LF and TAB.
fn assert_error(app: &TestApp, back: &Url, code: &str, state: Option<&str>) {
    assert!(back.as_str().starts_with(CB), "{back}");
    assert_eq!(param(back, "error").as_deref(), Some(code), "{back}");
    assert_eq!(param(back, "code"), None);
    assert_eq!(param(back, "state").as_deref(), state);
    assert_eq!(param(back, "iss").as_deref(), Some(app.base.as_str()));
    let desc = param(back, "error_description").expect("error_description");
    assert!(!desc.is_empty());
    assert!(
        !desc.contains(['\r', '\n', '\t']),
        "control characters in {desc:?}"
    );
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy)]
enum Auth {
    Basic,
    Post,
}

/// What a token exchange returned, with the ID token's signature checked against the JWKS.
struct Tokens {
    access: String,
    id_token: String,
    id: Map<String, Value>,
}

/// Redeems `code` (client_secret_basic) and checks the ID token.
async fn exchange(app: &TestApp, client: &(String, String), code: &str) -> Tokens {
    exchange_with(app, client, code, Auth::Basic).await
}

/// Redeems `code` and checks what every ID token must satisfy: signature (JWKS), `iss`,
/// `aud`, `exp`, `iat`, `auth_time`, `sub`, `at_hash`.
async fn exchange_with(app: &TestApp, client: &(String, String), code: &str, auth: Auth) -> Tokens {
    let (id, secret) = client;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    let http = reqwest::Client::new().post(app.url("/token"));
    let http = match auth {
        Auth::Basic => http.basic_auth(id, Some(secret)),
        Auth::Post => {
            form.extend([
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]);
            http
        }
    };
    let resp = http.form(&form).send().await.expect("token request");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("token JSON");
    let access = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let id_token = body["id_token"].as_str().expect("id_token").to_owned();
    let claims = verified_id_token(app, &id_token).await;
    let now = app.clock.now();
    assert_eq!(claims["iss"], app.base.as_str());
    let aud_has_client = match &claims["aud"] {
        Value::String(a) => a == id,
        Value::Array(a) => a.iter().any(|v| v == id.as_str()),
        _ => false,
    };
    assert!(aud_has_client, "aud {:?}", claims["aud"]);
    let (exp, iat) = (int(&claims, "exp"), int(&claims, "iat"));
    assert!(
        exp > now && iat <= now && exp > iat,
        "exp {exp}, iat {iat}, now {now}"
    );
    let auth_time = int(&claims, "auth_time");
    assert!(auth_time > 0 && auth_time <= iat);
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(claims["at_hash"], jose::half_hash(&access).as_str());
    Tokens {
        access,
        id_token,
        id: claims,
    }
}

fn int(claims: &Map<String, Value>, name: &str) -> i64 {
    claims[name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} missing"))
}

/// Verifies `token` with the keys the provider publishes at `/jwks`.
async fn verified_id_token(app: &TestApp, token: &str) -> Map<String, Value> {
    let jwks = get_json(&app.url("/jwks")).await;
    let keys: Vec<VerifyingKey> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| VerifyingKey::from_jwk(k).expect("JWK"))
        .collect();
    jose::verify_with_any(token, &keys).expect("the ID token verifies against the JWKS")
}

/// The userinfo response for an access token (GET, bearer header).
async fn userinfo(app: &TestApp, access: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("userinfo JSON")
}

/// The login page this outcome must be; returns its HTML.
fn login_page(outcome: Outcome) -> String {
    let (url, status, html) = outcome.page();
    assert!(url.contains("/login"), "expected the login page, got {url}");
    assert_eq!(status, StatusCode::OK);
    html
}

/// The consent page this outcome must be; returns its HTML.
fn consent_page(outcome: Outcome) -> String {
    let (url, status, html) = outcome.page();
    assert!(
        url.contains("/consent"),
        "expected the consent page, got {url}"
    );
    assert_eq!(status, StatusCode::OK);
    html
}

/// The text of the login page's error alert.
fn login_error(html: &str) -> &str {
    let start = html.find("id=\"login-error\">").expect("an error alert") + 17;
    &html[start..start + html[start..].find('<').expect("alert end")]
}

/// A `prompt=none` request on this browser: the response at the client.
async fn silent(b: &Browser, client_id: &str, extra: &[(&str, &str)]) -> Url {
    let mut params = request(client_id, extra);
    params.push(("prompt", "none"));
    b.authorize(&params).await.left()
}

/// Posts the login form of `html` without following the response.
async fn post_login_raw(b: &Browser, html: &str, login: &str, foreign: bool) -> reqwest::Response {
    let (tx, csrf) = (hidden(html, "tx"), hidden(html, "csrf"));
    let mut form = vec![
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", login),
        ("password", PASSWORD),
    ];
    if foreign {
        form.push(("foreign_computer", "1"));
    }
    b.http
        .post(format!("{}/login", b.base))
        .form(&form)
        .send()
        .await
        .expect("login POST")
}

/// The `Set-Cookie` line that sets the session cookie, if any.
fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("idp_session=") && !v.starts_with("idp_session=;"))
        .map(str::to_owned)
}

/// The value of a `name=value; attributes` cookie line.
fn cookie_value(line: &str) -> &str {
    let pair = line.split(';').next().unwrap_or("");
    pair.split_once('=').map(|(_, v)| v).unwrap_or("")
}

/// GETs a JSON document (status 200).
async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url).await.expect("request");
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    resp.json().await.expect("JSON")
}

/// The absolute `Location` of a redirect.
fn location(resp: &reqwest::Response) -> Url {
    let raw = resp.headers().get("location").expect("a redirect");
    Url::parse(raw.to_str().expect("ASCII")).expect("an absolute URL")
}

/// GETs `url` without following redirects.
async fn raw_get(b: &Browser, url: &str) -> reqwest::Response {
    b.http.get(url).send().await.expect("request")
}

/// Asserts an HTML error page: status 400, no `Location`, and no code handed out.
async fn assert_error_page(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.headers().get("location").is_none(),
        "must not redirect"
    );
    let ct = resp.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    resp.text().await.expect("body")
}

/// A simplified account that nevertheless has a SNILS on file (typed in, not yet checked).
async fn simplified_with_snils(app: &TestApp, phone: &str, snils: &str) -> String {
    let hash = app.state.passwords.hash(PASSWORD).await.expect("hash");
    let user = NewUser {
        surname: "Петров".into(),
        given_name: "Пётр".into(),
        level: Some(Level::Simplified),
        phone: Some(phone.into()),
        email: Some(format!("{}@example.ru", phone.trim_start_matches('+'))),
        snils: Some(snils.into()),
        password_hash: Some(hash),
        ..NewUser::default()
    };
    users::create(&app.state.db, &user, app.clock.now())
        .await
        .expect("create user")
        .id
}

/// The authorization URL for `params` (for raw requests).
fn authorize_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    Url::parse_with_params(&app.url("/authorize"), params)
        .expect("url")
        .to_string()
}

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
            json!(["urn:esia:loa:simplified", "urn:esia:loa:standard", "urn:esia:loa:confirmed"])
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

    async fn prompt_login_reauthenticates_with_a_later_auth_time(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        app.clock.advance(30);
        let html = login_page(b.authorize(&request(&client.0, &[("prompt", "login")])).await);
        let back = b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left();
        let second = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(second.id["sub"], first.id["sub"]);
        assert!(
            int(&second.id, "auth_time") >= int(&first.id, "auth_time") + 30,
            "auth_time must move forward"
        );
    }

    async fn prompt_none_without_session_is_login_required(app: TestApp) {
        let (id, _) = app.client("rp", "openid").await;
        let back = silent(&app.browser(), &id, &[]).await;
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn prompt_none_with_session_is_silent_with_the_same_sub(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let sub = app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        let back = silent(&b, &client.0, &[]).await;
        let again = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(again.id["sub"], sub.as_str());
        assert_eq!(again.id["auth_time"], first.id["auth_time"]);
    }

    async fn max_age_forces_or_skips_reauthentication(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user(STD_PHONE, Level::Standard).await;
        let b = app.browser();
        let first = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), STD_PHONE).await).await;
        let t1 = int(&first.id, "auth_time");
        app.clock.advance(5);

        let long = b.authorize(&request(&client.0, &[("max_age", "10000")])).await.left();
        let kept = exchange(&app, &client, &code_of(&long)).await;
        assert_eq!(int(&kept.id, "auth_time"), t1, "max_age=10000: no new login");

        let html = login_page(b.authorize(&request(&client.0, &[("max_age", "1")])).await);
        let back = b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left();
        let fresh = exchange(&app, &client, &code_of(&back)).await;
        assert!(int(&fresh.id, "auth_time") >= t1 + 5, "max_age=1: a new login");

        // max_age=0 is prompt=login, even right after a login (same second).
        let html = login_page(b.authorize(&request(&client.0, &[("max_age", "0")])).await);
        code_of(&b.submit_login(&html, STD_PHONE, PASSWORD, false).await.left());
    }

    async fn id_token_hint_with_prompt_none(app: TestApp) {
        let client = app.client("rp", "openid").await;
        let alice = app.user(STD_PHONE, Level::Standard).await;
        app.user("+79003334401", Level::Simplified).await;
        let a = app.browser();
        let alice_token = exchange(&app, &client, &code_for(&a, &request(&client.0, &[]), STD_PHONE).await).await;
        let b = app.browser();
        let bob_token = exchange(&app, &client, &code_for(&b, &request(&client.0, &[]), "+79003334401").await).await;

        let back = silent(&a, &client.0, &[("id_token_hint", &alice_token.id_token)]).await;
        let t = exchange(&app, &client, &code_of(&back)).await;
        assert_eq!(t.id["sub"], alice.as_str());

        let back = silent(&a, &client.0, &[("id_token_hint", &bob_token.id_token)]).await;
        assert_error(&app, &back, "login_required", Some(STATE));
    }

    async fn acr_values_met_and_unmet(app: TestApp) {
        let client = app.client("rp", "openid").await;
        app.user("+79007778801", Level::Confirmed).await;
        app.user(STD_PHONE, Level::Standard).await;

        let b = app.browser();
        let wanted = [("acr_values", "urn:esia:loa:standard")];
        let t = exchange(&app, &client, &code_for(&b, &request(&client.0, &wanted), "+79007778801").await).await;
        assert_eq!(t.id["acr"], "urn:esia:loa:standard");

        let b = app.browser();
        let wanted = [("acr_values", "urn:esia:loa:confirmed")];
        let back = b.sign_in(&request(&client.0, &wanted), STD_PHONE, PASSWORD).await;
        assert_error(&app, &back, "unmet_authentication_requirements", Some(STATE));
    }

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
