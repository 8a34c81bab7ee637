//! A bounded property test: a few hundred requests built from valid ones by dropping,
//! repeating, replacing and corrupting parameters, headers and bodies, sent to every endpoint
//! by a signed-in browser and by a stranger. No answer may be a 5xx other than 503, and the
//! server must still be alive afterwards. The generator is seeded, so a failure replays.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use idp::protocol::acr::Level;
use tests::PASSWORD;
use tests::browser::{hidden, param};

use super::{FORM, http, unsigned_jwt};
use tests::{Backend, TestApp};

const REQUESTS: usize = 300;
/// Override with `ROBUSTNESS_SEED=<number>` to explore other sequences.
const DEFAULT_SEED: u64 = 0x5EED_1D9_2026;

on_both_backends! {
    async fn random_requests_never_earn_a_server_error(app: TestApp) {
        let corpus = Corpus::prepare(&app).await;
        let seed = std::env::var("ROBUSTNESS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
        let mut rng = Rng(seed);
        let stranger = http();
        let mut failures = Vec::new();
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        for i in 0..REQUESTS {
            let request = FuzzRequest::generate(&mut rng, &corpus);
            let client = if rng.chance(50) { &corpus.browser.http } else { &stranger };
            match request.send(client, &app.base).await {
                Ok(status) => {
                    *statuses.entry(status).or_default() += 1;
                    if status >= 500 && status != 503 {
                        failures.push(format!("#{i}: {status} for {request}"));
                    }
                }
                Err(e) => failures.push(format!("#{i}: no answer ({e}) for {request}")),
            }
        }
        assert!(
            failures.is_empty(),
            "seed {seed}: {} of {REQUESTS} requests failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        eprintln!("statuses for seed {seed}: {statuses:?}");
        // The sample must have reached past the parsers, not only bounced off them.
        let ok = statuses.range(200..400).map(|(_, n)| n).sum::<usize>();
        assert!(ok >= REQUESTS / 10, "too few requests succeeded: {statuses:?}");
        let live = http().get(app.url("/health/live")).send().await.expect("alive");
        assert_eq!(live.status(), 200);
        let ready = http().get(app.url("/health/ready")).send().await.expect("ready");
        assert_eq!(ready.status(), 200);
    }
}

/// SplitMix64: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Real values the mutations start from: a client, a user's tokens, live login and consent forms.
struct Corpus {
    browser: tests::Browser,
    client_id: String,
    secret: String,
    access_token: String,
    refresh_token: String,
    id_token: String,
    code: String,
    challenge: String,
    login_tx: String,
    login_csrf: String,
    consent_tx: String,
    consent_csrf: String,
}

const VERIFIER: &str = "fuzz-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

impl Corpus {
    async fn prepare(app: &TestApp) -> Corpus {
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
    fn templates(&self) -> Vec<(&'static str, &'static str, Vec<(String, String)>)> {
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

const KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "acr_values",
    "claims",
    "request",
    "request_uri",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "token_type_hint",
    "access_token",
    "client_assertion",
    "client_assertion_type",
    "tx",
    "csrf",
    "login",
    "password",
    "decision",
    "foreign_computer",
    "lang",
    "confirm",
    "post_logout_redirect_uri",
    "",
    "%",
    "\u{0}",
    "ключ",
];

const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "code",
    "token",
    "id_token code",
    "none",
    "login",
    "consent",
    "select_account",
    "none login",
    "openid",
    "openid profile fullname snils inn",
    "openid offline_access",
    "S256",
    "plain",
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:esia:loa:simplified urn:esia:loa:confirmed",
    "query",
    "fragment",
    "form_post",
    "https://rp.example/cb",
    "https://rp.example/cb?x=1",
    "https://evil.example/",
    "javascript:alert(1)",
    "//evil.example",
    "https://rp.example/bye",
    "allow",
    "deny",
    "+79005550123",
    "8 (900) 555-01-23",
    "112-233-445 95",
    "a@b.c",
    "Иванов Иван",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "\"; DROP TABLE users; --",
    "../../etc/passwd",
    "%00",
    "%%",
    "\u{0}",
    "\r\n",
    "\t",
    "\u{202e}",
    "🦀",
    "a.b.c",
    "eyJhbGciOiJub25lIn0.e30.",
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "ru",
    "en",
    "ru-RU en;q=0.5",
    "{\"userinfo\":{\"name\":{\"essential\":true}}}",
    "yes",
    "1",
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=zz",
    "application/x-www-form-urlencoded; charset=koi8-r",
    "*/*",
    "application/x-www-form-urlencoded;;;",
];

const PATHS: &[&str] = &[
    "/authorize/",
    "/token/",
    "/nope",
    "/.well-known/",
    "/assets/x.js",
    "/login/../consent",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/userinfo%00",
    "/jwks.json",
    "//token",
];

/// One generated request, kept printable so a failure can be read and replayed.
struct FuzzRequest {
    method: &'static str,
    path: String,
    query: String,
    content_type: Option<String>,
    body: Vec<u8>,
    authorization: Option<Vec<u8>>,
}

impl FuzzRequest {
    fn generate(rng: &mut Rng, c: &Corpus) -> FuzzRequest {
        let templates = c.templates();
        let (method, path, params) = rng.pick(&templates).clone();
        let path = if rng.chance(4) {
            rng.pick(PATHS).to_string()
        } else {
            path.to_string()
        };
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for (k, v) in params {
            match rng.below(100) {
                0..60 => pairs.push((k.into_bytes(), v.into_bytes())),
                60..75 => pairs.push((k.into_bytes(), random_value(rng, c))),
                75..83 => {}
                83..90 => {
                    let again = if rng.chance(50) {
                        v.clone().into_bytes()
                    } else {
                        random_value(rng, c)
                    };
                    pairs.push((k.clone().into_bytes(), v.into_bytes()));
                    pairs.push((k.into_bytes(), again));
                }
                90..95 => pairs.push((k.into_bytes(), corrupt(rng, v.into_bytes()))),
                _ => pairs.push((rng.pick(KEYS).as_bytes().to_vec(), v.into_bytes())),
            }
        }
        for _ in 0..rng.below(3) {
            pairs.push((rng.pick(KEYS).as_bytes().to_vec(), random_value(rng, c)));
        }
        let mut encoded = encode(&pairs);
        // HTTP clients refuse URLs near 64 KiB; cutting may split an escape, which is fine.
        if method == "GET" {
            encoded.truncate(60_000);
        }
        let (query, mut body) = if method == "GET" {
            (encoded, Vec::new())
        } else {
            (String::new(), encoded.into_bytes())
        };
        if method == "POST" && rng.chance(5) {
            body = raw_body(rng, &pairs);
        }
        let content_type = match (method, rng.below(100)) {
            ("GET", _) => None,
            (_, 0..82) => Some(FORM.to_string()),
            (_, 82..87) => None,
            (_, _) => Some(rng.pick(CONTENT_TYPES).to_string()),
        };
        FuzzRequest {
            method,
            path,
            query,
            content_type,
            body,
            authorization: authorization(rng, c),
        }
    }

    async fn send(&self, client: &reqwest::Client, base: &str) -> Result<u16, reqwest::Error> {
        let url = if self.query.is_empty() {
            format!("{base}{}", self.path)
        } else {
            format!("{base}{}?{}", self.path, self.query)
        };
        let mut req = client.request(self.method.parse().expect("method"), url);
        if let Some(ct) = &self.content_type {
            req = req.header("content-type", ct.as_str());
        }
        if let Some(a) = &self.authorization {
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(a) {
                req = req.header("authorization", v);
            }
        }
        if self.method == "POST" {
            req = req.body(self.body.clone());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        resp.bytes().await?;
        Ok(status)
    }
}

impl fmt::Display for FuzzRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = |s: String| match s.char_indices().nth(300) {
            Some((end, _)) => format!("{}… ({} bytes)", &s[..end], s.len()),
            None => s,
        };
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", cut(self.query.clone()))?;
        }
        if let Some(ct) = &self.content_type {
            write!(f, " [content-type: {ct}]")?;
        }
        if let Some(a) = &self.authorization {
            write!(
                f,
                " [authorization: {}]",
                cut(String::from_utf8_lossy(a).into_owned())
            )?;
        }
        if !self.body.is_empty() {
            write!(
                f,
                " body {:?}",
                cut(String::from_utf8_lossy(&self.body).into_owned())
            )?;
        }
        Ok(())
    }
}

fn random_value(rng: &mut Rng, c: &Corpus) -> Vec<u8> {
    match rng.below(10) {
        0..4 => rng.pick(VALUES).as_bytes().to_vec(),
        4 => {
            let n = rng.below(40);
            rng.bytes(n)
        }
        5 => {
            let unit = *rng.pick(&["a", "Я", "%", "&", "=", "\u{0}", "🦀"]);
            unit.repeat(1 + rng.below(4_000)).into_bytes()
        }
        6 => (rng.next() as i64).to_string().into_bytes(),
        _ => {
            let real = [
                &c.access_token,
                &c.refresh_token,
                &c.id_token,
                &c.code,
                &c.client_id,
                &c.secret,
                &c.login_tx,
                &c.consent_tx,
                &c.login_csrf,
            ];
            let v = rng.pick(&real).as_bytes().to_vec();
            if rng.chance(50) { corrupt(rng, v) } else { v }
        }
    }
}

/// Flips, truncates, or splices bytes of a value.
fn corrupt(rng: &mut Rng, mut v: Vec<u8>) -> Vec<u8> {
    match rng.below(4) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let n = rng.below(v.len());
            v.truncate(n);
        }
        2 => {
            let n = 1 + rng.below(8);
            v.extend(rng.bytes(n));
        }
        _ => v.reverse(),
    }
    v
}

/// `application/x-www-form-urlencoded` with every byte outside the unreserved set escaped.
fn encode(pairs: &[(Vec<u8>, Vec<u8>)]) -> String {
    let esc = |b: &[u8]| -> String {
        b.iter()
            .map(|&c| {
                if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A body with raw, unescaped bytes (or complete garbage).
fn raw_body(rng: &mut Rng, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    if rng.chance(30) {
        let n = rng.below(2_000);
        return rng.bytes(n);
    }
    let mut out = Vec::new();
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
        out.push(b'&');
    }
    out
}

fn authorization(rng: &mut Rng, c: &Corpus) -> Option<Vec<u8>> {
    let basic = |id: &[u8], secret: &[u8]| {
        let mut raw = id.to_vec();
        raw.push(b':');
        raw.extend_from_slice(secret);
        format!("Basic {}", STANDARD.encode(raw)).into_bytes()
    };
    match rng.below(100) {
        0..40 => None,
        40..60 => Some(basic(c.client_id.as_bytes(), c.secret.as_bytes())),
        60..68 => {
            let (id, secret) = (random_value(rng, c), random_value(rng, c));
            Some(basic(&id, &secret))
        }
        68..83 => Some(format!("Bearer {}", c.access_token).into_bytes()),
        83..90 => {
            let token = if rng.chance(50) {
                unsigned_jwt("http://127.0.0.1").into_bytes()
            } else {
                random_value(rng, c)
            };
            let mut v = b"Bearer ".to_vec();
            v.extend(token);
            Some(v)
        }
        _ => {
            let n = rng.below(64);
            Some(rng.bytes(n))
        }
    }
}
