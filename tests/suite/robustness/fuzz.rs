//! A bounded property test: a few hundred requests built from valid ones by dropping,
//! repeating, replacing and corrupting parameters, headers and bodies, sent to every endpoint
//! by a signed-in browser and by a stranger. No answer may be a 5xx other than 503, and the
//! server must still be alive afterwards. The generator is seeded, so a failure replays.

use std::fmt;

mod corpus;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use corpus::{CONTENT_TYPES, Corpus, KEYS, PATHS, VALUES};
use tests::{Backend, TestApp};

use super::{FORM, http, unsigned_jwt};

const REQUESTS: usize = 300;
/// Override with `ROBUSTNESS_SEED=<number>` to explore other sequences.
const DEFAULT_SEED: u64 = 0x05EE_D1D9_2026;

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
        let authorization = self.authorization.as_deref();
        if let Some(v) =
            authorization.and_then(|a| reqwest::header::HeaderValue::from_bytes(a).ok())
        {
            req = req.header("authorization", v);
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
