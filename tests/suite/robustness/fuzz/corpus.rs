//! What the fuzzer starts from: real values (a client, a user's tokens, live login and
//! consent forms), one valid request per endpoint, and a vocabulary of hostile keys and values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::protocol::acr::Level;
use tests::browser::{hidden, param};
use tests::{PASSWORD, TestApp};

use super::super::http;

/// A valid request to start from: (method, path, parameters).
pub type Template = (&'static str, &'static str, Vec<(String, String)>);

/// Real values the mutations start from: a client, a user's tokens, live login and consent forms.
pub struct Corpus {
    pub browser: tests::Browser,
    pub client_id: String,
    pub secret: String,
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    pub code: String,
    pub challenge: String,
    pub login_tx: String,
    pub login_csrf: String,
    pub consent_tx: String,
    pub consent_csrf: String,
}

const VERIFIER: &str = "fuzz-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

impl Corpus {
    pub async fn prepare(app: &TestApp) -> Corpus {
        let (client_id, secret) = app
            .client("fuzz", "openid profile fullname email mobile")
            .await;
        app.user("+79005550123", Level::Standard).await;
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            VERIFIER.as_bytes(),
        ));
        let browser = app.browser();
        let base = |scope: &'static str, extra: Option<(&'static str, &'static str)>| {
            let mut p = vec![
                ("client_id", client_id.clone()),
                ("response_type", "code".to_string()),
                ("scope", scope.to_string()),
                ("redirect_uri", "https://rp.example/cb".to_string()),
                ("state", "st".to_string()),
                ("nonce", "nn".to_string()),
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "S256".to_string()),
            ];
            p.extend(extra.map(|(k, v)| (k, v.to_string())));
            p
        };
        let params = base("openid profile", None);
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let back = browser.sign_in(&borrowed, "+79005550123", PASSWORD).await;
        let first_code = param(&back, "code").expect("code");
        let tokens: serde_json::Value = http()
            .post(format!("{}/token", app.base))
            .basic_auth(&client_id, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", first_code.as_str()),
                ("redirect_uri", "https://rp.example/cb"),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let text = |name: &str| {
            tokens[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {tokens}"))
                .to_string()
        };
        // A second code, left unredeemed for the mutations to play with.
        let back = browser.sign_in(&borrowed, "+79005550123", PASSWORD).await;
        let code = param(&back, "code").expect("code");
        // A live login form (prompt=login) and a live consent form (a scope not consented yet).
        let params = base("openid profile", Some(("prompt", "login")));
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (url, _, login_html) = browser.authorize(&borrowed).await.page();
        assert!(url.contains("/login"), "{url}");
        let params = base("openid email", None);
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (url, _, consent_html) = browser.authorize(&borrowed).await.page();
        assert!(url.contains("/consent"), "{url}");
        Corpus {
            access_token: text("access_token"),
            refresh_token: text("refresh_token"),
            id_token: text("id_token"),
            code,
            challenge,
            login_tx: hidden(&login_html, "tx"),
            login_csrf: hidden(&login_html, "csrf"),
            consent_tx: hidden(&consent_html, "tx"),
            consent_csrf: hidden(&consent_html, "csrf"),
            browser,
            client_id,
            secret,
        }
    }

    /// Valid requests, one per endpoint and variant: (method, path, parameters).
    pub fn templates(&self) -> Vec<Template> {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let authorize = p(&[
            ("client_id", &self.client_id),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("redirect_uri", "https://rp.example/cb"),
            ("state", "st"),
            ("nonce", "nn"),
            ("code_challenge", &self.challenge),
            ("code_challenge_method", "S256"),
        ]);
        vec![
            ("GET", "/authorize", authorize.clone()),
            ("POST", "/authorize", authorize),
            (
                "POST",
                "/token",
                p(&[
                    ("grant_type", "authorization_code"),
                    ("code", &self.code),
                    ("redirect_uri", "https://rp.example/cb"),
                    ("code_verifier", VERIFIER),
                ]),
            ),
            (
                "POST",
                "/token",
                p(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &self.refresh_token),
                    ("scope", "openid"),
                ]),
            ),
            (
                "POST",
                "/token",
                p(&[("grant_type", "client_credentials"), ("scope", "profile")]),
            ),
            ("GET", "/userinfo", Vec::new()),
            (
                "POST",
                "/userinfo",
                p(&[("access_token", &self.access_token)]),
            ),
            (
                "POST",
                "/introspect",
                p(&[
                    ("token", &self.access_token),
                    ("token_type_hint", "access_token"),
                ]),
            ),
            ("POST", "/introspect", p(&[("token", &self.refresh_token)])),
            ("POST", "/revoke", p(&[("token", &self.access_token)])),
            (
                "GET",
                "/logout",
                p(&[
                    ("id_token_hint", &self.id_token),
                    ("post_logout_redirect_uri", "https://rp.example/bye"),
                    ("state", "bye"),
                ]),
            ),
            (
                "POST",
                "/logout",
                p(&[
                    ("client_id", &self.client_id),
                    ("confirm", "no"),
                    ("csrf", &self.login_csrf),
                ]),
            ),
            (
                "GET",
                "/login",
                p(&[("tx", &self.login_tx), ("lang", "en")]),
            ),
            (
                "POST",
                "/login",
                p(&[
                    ("tx", &self.login_tx),
                    ("csrf", &self.login_csrf),
                    ("login", "8 (900) 555-01-23"),
                    ("password", PASSWORD),
                ]),
            ),
            ("GET", "/consent", p(&[("tx", &self.consent_tx)])),
            (
                "POST",
                "/consent",
                p(&[
                    ("tx", &self.consent_tx),
                    ("csrf", &self.consent_csrf),
                    ("decision", "allow"),
                ]),
            ),
            ("GET", "/", p(&[("lang", "ru")])),
            ("GET", "/jwks", Vec::new()),
            ("GET", "/.well-known/openid-configuration", Vec::new()),
            ("GET", "/health/ready", Vec::new()),
            ("GET", "/assets/style.css", Vec::new()),
        ]
    }
}

#[rustfmt::skip]
pub const KEYS: &[&str] = &[
    "client_id", "client_secret", "redirect_uri", "response_type", "response_mode", "scope",
    "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age",
    "id_token_hint", "login_hint", "ui_locales", "acr_values", "claims", "request",
    "request_uri", "grant_type", "code", "code_verifier", "refresh_token", "token",
    "token_type_hint", "access_token", "client_assertion", "client_assertion_type", "tx",
    "csrf", "login", "password", "decision", "foreign_computer", "lang", "confirm",
    "post_logout_redirect_uri", "", "%", "\u{0}", "ключ",
];

#[rustfmt::skip]
pub const VALUES: &[&str] = &[
    "", " ", "0", "-1", "99999999999999999999999999", "1e309", "NaN", "true", "null", "[]",
    "{}", "code", "token", "id_token code", "none", "login", "consent", "select_account",
    "none login", "openid", "openid profile fullname snils inn", "openid offline_access",
    "S256", "plain", "authorization_code", "refresh_token", "client_credentials", "password",
    "urn:esia:loa:simplified urn:esia:loa:confirmed", "query", "fragment", "form_post",
    "https://rp.example/cb", "https://rp.example/cb?x=1", "https://evil.example/",
    "javascript:alert(1)", "//evil.example", "https://rp.example/bye", "allow", "deny",
    "+79005550123", "8 (900) 555-01-23", "112-233-445 95", "a@b.c", "Иванов Иван",
    "<script>alert(1)</script>", "' OR '1'='1", "\"; DROP TABLE users; --", "../../etc/passwd",
    "%00", "%%", "\u{0}", "\r\n", "\t", "\u{202e}", "🦀", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "ru", "en", "ru-RU en;q=0.5",
    "{\"userinfo\":{\"name\":{\"essential\":true}}}", "yes", "1",
];

#[rustfmt::skip]
pub const CONTENT_TYPES: &[&str] = &[
    "application/json", "text/plain", "multipart/form-data; boundary=zz",
    "application/x-www-form-urlencoded; charset=koi8-r", "*/*",
    "application/x-www-form-urlencoded;;;",
];

#[rustfmt::skip]
pub const PATHS: &[&str] = &[
    "/authorize/", "/token/", "/nope", "/.well-known/", "/assets/x.js", "/login/../consent",
    "/%2e%2e/%2e%2e/etc/passwd", "/userinfo%00", "/jwks.json", "//token",
];
