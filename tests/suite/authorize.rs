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

mod discovery_and_basics;
mod login_page;
mod logout_and_pages;
mod reauthentication;
mod requests_and_consent;
