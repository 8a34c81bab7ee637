//! ESIA client systems (issue 8): registering certificates (store functions the CLI uses, and
//! `/api/admin/clients/{id}/esia-certificates`), and `client_secret` verification against the
//! registered certificates with secrets made only by `openssl` (RSA and GOST CMS detached
//! signatures for the legacy endpoints, raw GOST signatures by `openssl dgst` for v2/v3).
//! Keys: keys/esia/systems (made by its make.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use idp::esia::certificate::certificate_hash;
use idp::esia::client_secret::{self, Flavour, SecretCheck, is_uuid};
use idp::esia::errors::EsiaCode;
use idp::esia::systems::{self, SystemError};
use idp::store::admins;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp};

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys/esia/systems")
}

fn key(name: &str) -> String {
    keys().join(name).to_str().expect("utf-8 path").to_owned()
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!("esia-sys-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl`, insists on success, returns stdout.
fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command is required");
    assert!(
        out.status.success(),
        "openssl {args:?} failed (is libengine-gost-openssl installed?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(keys().join(name)).expect("test certificate (keys/esia/systems/make.sh)")
}

fn der(name: &str) -> Vec<u8> {
    openssl(&["x509", "-in", &key(name), "-outform", "DER"])
}

/// The legacy secret: a DER CMS detached signature over `text`, base64url (padded, as Java's
/// `Base64.getUrlEncoder()` writes it).
fn cms_secret(text: &str, cert: &str, private: &str, gost: bool) -> String {
    let dir = Scratch::new("cms");
    let data = dir.file("data.txt", text.as_bytes());
    let out = dir.path("sig.p7s");
    let mut args = vec!["cms", "-sign", "-binary", "-nosmimecap", "-outform", "DER"];
    if gost {
        args.extend(["-engine", "gost"]);
    } else {
        args.extend(["-md", "sha256"]);
    }
    let (c, k) = (key(cert), key(private));
    args.extend(["-in", &data, "-signer", &c, "-inkey", &k, "-out", &out]);
    openssl(&args);
    URL_SAFE.encode(std::fs::read(&out).unwrap())
}

/// The v2/v3 secret: the raw GOST signature `openssl dgst -md_gost12_256 -sign` writes.
fn raw_signature(text: &str, private: &str) -> Vec<u8> {
    let dir = Scratch::new("raw");
    let data = dir.file("data.txt", text.as_bytes());
    let out = dir.path("sig.bin");
    openssl(&[
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-sign",
        &key(private),
        "-out",
        &out,
        &data,
    ]);
    std::fs::read(&out).unwrap()
}

/// `yyyy.MM.dd HH:mm:ss +0300` for `secs`, by the `date` command (Moscow time, UTC+3).
fn esia_time(secs: i64) -> String {
    let out = Command::new("date")
        .env("TZ", "UTC-3")
        .args(["-d", &format!("@{secs}"), "+%Y.%m.%d %H:%M:%S %z"])
        .output()
        .expect("date");
    let text = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(text.ends_with("+0300"), "{text}");
    text
}

const STATE: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const SCOPE: &str = "openid fullname";
const CB: &str = "https://is.example/cb";

/// A client system with the GOST and RSA certificates registered (not `is-gost2`).
async fn system(app: &TestApp, id: &str) {
    app.client(id, "openid fullname email").await;
    systems::add_certificate(&app.state, id, &pem("is-gost.pem"))
        .await
        .expect("add GOST certificate");
    systems::add_certificate(&app.state, id, &der("is-rsa.pem"))
        .await
        .expect("add RSA certificate");
}

async fn admin_token(app: &TestApp) -> String {
    admins::create(&app.state.db, &app.state.secrets, "ИС", app.clock.now())
        .await
        .expect("create admin")
        .1
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((ct, b)) = body {
        req = req.header("content-type", ct).body(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

on_both_backends! {
    async fn esia_certificates_register_rotate_and_refuse(app: TestApp) {
        system(&app, "is-store").await;
        // Oldest first; within one second, by id: sort by kind to compare.
        let mut certs = systems::certificates(&app.state, "is-store").await.unwrap();
        certs.sort_by(|a, b| a.kind.cmp(&b.kind));
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].kind, "gost");
        assert_eq!(certs[0].hash, certificate_hash(&der("is-gost.pem")));
        assert_eq!(certs[0].id, certs[0].hash[..16].to_lowercase());
        assert_eq!(certs[1].kind, "rsa");
        assert_eq!(certs[1].der, der("is-rsa.pem"));
        // A system has RS256 tokens until told otherwise.
        assert_eq!(systems::token_alg(&app.state, "is-store").await.unwrap(), "RS256");
        systems::set_token_alg(&app.state, "is-store", "GOST3410_2012_256").await.unwrap();
        assert_eq!(systems::token_alg(&app.state, "is-store").await.unwrap(), "GOST3410_2012_256");
        assert!(matches!(
            systems::set_token_alg(&app.state, "is-store", "HS256").await,
            Err(SystemError::BadTokenAlg(_))
        ));
        // The same certificate twice, garbage, an unknown client.
        assert!(matches!(
            systems::add_certificate(&app.state, "is-store", &der("is-gost.pem")).await,
            Err(SystemError::Duplicate)
        ));
        assert!(matches!(
            systems::add_certificate(&app.state, "is-store", b"not a certificate").await,
            Err(SystemError::Unreadable)
        ));
        assert!(matches!(
            systems::add_certificate(&app.state, "nobody", &pem("is-gost2.pem")).await,
            Err(SystemError::NoClient(_))
        ));
        // Expired: the same certificate judged after its end.
        let after = certs[0].not_after + 1;
        assert!(matches!(
            systems::parse_certificate(&pem("is-gost.pem"), after),
            Err(SystemError::Expired)
        ));
        // Rotation: add the new one, remove the old one by its hash (any case).
        systems::add_certificate(&app.state, "is-store", &pem("is-gost2.pem")).await.unwrap();
        let old = certs[0].hash.to_lowercase();
        assert!(systems::remove_certificate(&app.state, "is-store", &old).await.unwrap());
        assert!(!systems::remove_certificate(&app.state, "is-store", &old).await.unwrap());
        let mut hashes: Vec<String> = systems::certificates(&app.state, "is-store").await.unwrap()
            .into_iter().map(|c| c.hash).collect();
        hashes.sort();
        let mut expected = vec![certificate_hash(&der("is-rsa.pem")), certificate_hash(&der("is-gost2.pem"))];
        expected.sort();
        assert_eq!(hashes, expected);
        // Deleting the client deletes its certificates.
        idp::store::clients::delete(&app.state.db, "is-store").await.unwrap();
        assert!(systems::certificates(&app.state, "is-store").await.unwrap().is_empty());
    }

    async fn esia_cli_registers_certificates(app: TestApp) {
        use clap::Parser;
        let action = |args: &[&str]| {
            let mut all = vec!["idp", "clients"];
            all.extend_from_slice(args);
            match idp::cli::Cli::try_parse_from(all).expect("parse").command {
                idp::cli::Command::Clients { action, .. } => action,
                _ => panic!("not a clients command"),
            }
        };
        let (gost, rsa, gost2) = (key("is-gost.pem"), key("is-rsa.pem"), key("is-gost2.pem"));
        idp::cli::admin::clients(&app.state, action(&[
            "create", "--id", "is-cli", "--redirect-uri", CB,
            "--esia-certificate", &gost, "--esia-certificate", &rsa,
            "--esia-token-alg", "GOST3410_2012_256",
        ])).await.expect("create");
        let certs = systems::certificates(&app.state, "is-cli").await.unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(systems::token_alg(&app.state, "is-cli").await.unwrap(), "GOST3410_2012_256");
        // An unreadable certificate stops the creation before anything is stored.
        let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let err = idp::cli::admin::clients(&app.state, action(&[
            "create", "--id", "is-cli-bad", "--esia-certificate", readme.to_str().unwrap(),
        ])).await.unwrap_err();
        assert!(err.contains("не читается"), "{err}");
        assert!(idp::store::clients::by_id(&app.state.db, "is-cli-bad").await.unwrap().is_none());
        let err = idp::cli::admin::clients(&app.state, action(&[
            "create", "--id", "is-cli-bad", "--esia-token-alg", "HS256",
        ])).await.unwrap_err();
        assert!(err.contains("HS256"), "{err}");
        // Rotation by the sub-commands.
        idp::cli::admin::clients(&app.state, action(&["esia-certificate", "add", "is-cli", &gost2]))
            .await.expect("add");
        let hash = certificate_hash(&der("is-gost.pem"));
        idp::cli::admin::clients(&app.state, action(&["esia-certificate", "remove", "is-cli", &hash]))
            .await.expect("remove");
        assert!(idp::cli::admin::clients(&app.state, action(&["esia-certificate", "remove", "is-cli", &hash]))
            .await.is_err());
        let mut left: Vec<String> = systems::certificates(&app.state, "is-cli").await.unwrap()
            .into_iter().map(|c| c.kind).collect();
        left.sort();
        assert_eq!(left, vec!["gost", "rsa"]);
        assert!(systems::certificates(&app.state, "is-cli").await.unwrap().iter()
            .all(|c| c.hash != hash));
    }

    async fn esia_admin_api_manages_certificates(app: TestApp) {
        let token = admin_token(&app).await;
        app.client("is-admin", "openid").await;
        let path = "/api/admin/clients/is-admin/esia-certificates";
        let (status, _) = call(&app, reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let body = serde_json::to_vec(&json!({
            "certificate": String::from_utf8(pem("is-gost.pem")).unwrap(),
            "token_alg": "GOST3410_2012_256",
        })).unwrap();
        let (status, doc) = call(&app, reqwest::Method::POST, path, Some(&token), Some(("application/json", body.clone()))).await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        let gost_hash = certificate_hash(&der("is-gost.pem"));
        assert_eq!(doc["client_certificate_hash"], gost_hash);
        assert_eq!(doc["kind"], "gost");
        let (status, doc) = call(&app, reqwest::Method::POST, path, Some(&token), Some(("application/json", body))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{doc}");

        let (status, doc) = call(&app, reqwest::Method::POST, path, Some(&token), Some(("application/pkix-cert", der("is-rsa.pem")))).await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        assert_eq!(doc["kind"], "rsa");
        let rsa_id = doc["id"].as_str().unwrap().to_owned();

        let (status, doc) = call(&app, reqwest::Method::POST, path, Some(&token), Some(("application/x-pem-file", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(doc["error"], "invalid_certificate");
        assert!(doc["message"].as_str().unwrap().contains("не читается"), "{doc}");
        let (status, _) = call(&app, reqwest::Method::POST, "/api/admin/clients/nobody/esia-certificates", Some(&token), Some(("application/pkix-cert", der("is-rsa.pem")))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, doc) = call(&app, reqwest::Method::GET, path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["token_alg"], "GOST3410_2012_256");
        let mut hashes: Vec<&str> = doc["certificates"].as_array().unwrap().iter()
            .map(|c| c["client_certificate_hash"].as_str().unwrap()).collect();
        hashes.sort();
        let rsa_hash = certificate_hash(&der("is-rsa.pem"));
        let mut expected = vec![gost_hash.as_str(), rsa_hash.as_str()];
        expected.sort();
        assert_eq!(hashes, expected);

        let (status, _) = call(&app, reqwest::Method::DELETE, &format!("{path}/{rsa_id}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, reqwest::Method::DELETE, &format!("{path}/{rsa_id}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&app, reqwest::Method::DELETE, &format!("{path}?id={gost_hash}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, doc) = call(&app, reqwest::Method::GET, path, Some(&token), None).await;
        assert_eq!(doc["certificates"], json!([]));
    }

    async fn esia_legacy_cms_secrets_verify(app: TestApp) {
        system(&app, "is-legacy").await;
        let ts = esia_time(app.clock.now());
        let signed = format!("{SCOPE}{ts}is-legacy{STATE}");
        let check = |secret: &str, variants: Vec<String>| {
            let ts = ts.clone();
            let secret = secret.to_owned();
            let app = &app;
            async move {
                client_secret::verify(&app.state, &SecretCheck {
                    flavour: Flavour::Legacy,
                    client_id: "is-legacy",
                    signed: variants,
                    client_secret: &secret,
                    certificate_hash: None,
                    timestamp: &ts,
                }).await.map_err(|e| e.code)
            }
        };
        let rsa = cms_secret(&signed, "is-rsa.pem", "is-rsa.key", false);
        let gost = cms_secret(&signed, "is-gost.pem", "is-gost.key", true);
        assert_eq!(check(&rsa, vec![signed.clone()]).await, Ok(()));
        assert_eq!(check(&gost, vec![signed.clone()]).await, Ok(()));
        // Unpadded base64url and standard base64 too; any variant verifying is enough.
        assert_eq!(check(rsa.trim_end_matches('='), vec!["other".into(), signed.clone()]).await, Ok(()));
        let std = STANDARD.encode(URL_SAFE.decode(&gost).unwrap());
        assert_eq!(check(&std, vec!["other".into(), signed.clone()]).await, Ok(()));
        // A different string, garbage.
        let wrong = format!("{SCOPE} email{ts}is-legacy{STATE}");
        assert_eq!(check(&rsa, vec![wrong.clone()]).await, Err(EsiaCode::WrongSecret));
        assert_eq!(check(&gost, vec![wrong]).await, Err(EsiaCode::WrongSecret));
        assert_eq!(check("bm90IGEgc2lnbmF0dXJl", vec![signed.clone()]).await, Err(EsiaCode::WrongSecret));
        // Signed by a certificate that is not the system's.
        let stranger = cms_secret(&signed, "is-gost2.pem", "is-gost2.key", true);
        assert_eq!(check(&stranger, vec![signed.clone()]).await, Err(EsiaCode::CertificateMismatch));
        // A system without certificates.
        app.client("is-bare", "openid").await;
        let bare = client_secret::verify(&app.state, &SecretCheck {
            flavour: Flavour::Legacy,
            client_id: "is-bare",
            signed: vec![signed.clone()],
            client_secret: &rsa,
            certificate_hash: None,
            timestamp: &ts,
        }).await;
        assert_eq!(bare.map_err(|e| e.code), Err(EsiaCode::CertificateMismatch));
    }

    async fn esia_v2_raw_gost_secrets_verify(app: TestApp) {
        system(&app, "is-current").await;
        let gost_hash = certificate_hash(&der("is-gost.pem"));
        let other_hash = certificate_hash(&der("is-gost2.pem"));
        let now = app.clock.now();
        let check = |secret: String, hash: String, ts: String, variants: Vec<String>| {
            let app = &app;
            async move {
                client_secret::verify(&app.state, &SecretCheck {
                    flavour: Flavour::Current,
                    client_id: "is-current",
                    signed: variants,
                    client_secret: &secret,
                    certificate_hash: Some(&hash),
                    timestamp: &ts,
                }).await.map_err(|e| e.code)
            }
        };
        let ts = esia_time(now);
        // v2 /ac: client_id + scope + scope_org + timestamp + state + redirect_uri.
        let signed = format!("is-current{SCOPE}{ts}{STATE}{CB}");
        let sig = raw_signature(&signed, "is-gost.key");
        assert_eq!(sig.len(), 64);
        let b64u = URL_SAFE_NO_PAD.encode(&sig);
        assert_eq!(check(b64u.clone(), gost_hash.clone(), ts.clone(), vec![signed.clone()]).await, Ok(()));
        assert_eq!(check(STANDARD.encode(&sig), gost_hash.to_lowercase(), ts.clone(), vec![signed.clone()]).await, Ok(()));
        assert_eq!(check(URL_SAFE.encode(&sig), gost_hash.clone(), ts.clone(), vec![signed.clone()]).await, Ok(()));
        // CryptoPro's byte-reversed order.
        let mut reversed = sig.clone();
        reversed.reverse();
        assert_eq!(check(URL_SAFE_NO_PAD.encode(&reversed), gost_hash.clone(), ts.clone(), vec![signed.clone()]).await, Ok(()));
        // v3 refresh: either library's string.
        let refresh_a = format!("is-current{SCOPE}{ts}{STATE}{CB}");
        let refresh_b = format!("is-current{SCOPE}{ts}{STATE}some-refresh-token");
        let sig_b = URL_SAFE_NO_PAD.encode(raw_signature(&refresh_b, "is-gost.key"));
        assert_eq!(check(sig_b, gost_hash.clone(), ts.clone(), vec![refresh_a, refresh_b]).await, Ok(()));

        // Wrong string, wrong key, a hash that is not the system's, no hash.
        let wrong = format!("is-current{SCOPE}{ts}{STATE}https://evil.example/cb");
        assert_eq!(check(b64u.clone(), gost_hash.clone(), ts.clone(), vec![wrong]).await, Err(EsiaCode::WrongSecret));
        let by_other = URL_SAFE_NO_PAD.encode(raw_signature(&signed, "is-gost2.key"));
        assert_eq!(check(by_other.clone(), gost_hash.clone(), ts.clone(), vec![signed.clone()]).await, Err(EsiaCode::WrongSecret));
        assert_eq!(check(by_other, other_hash, ts.clone(), vec![signed.clone()]).await, Err(EsiaCode::CertificateMismatch));
        let rsa_hash = certificate_hash(&der("is-rsa.pem"));
        assert_eq!(check(b64u.clone(), rsa_hash, ts.clone(), vec![signed.clone()]).await, Err(EsiaCode::CertificateMismatch));
        assert_eq!(check(b64u.clone(), String::new(), ts.clone(), vec![signed.clone()]).await, Err(EsiaCode::MissingParameter));
        assert_eq!(check("AAAA".into(), gost_hash.clone(), ts.clone(), vec![signed.clone()]).await, Err(EsiaCode::WrongSecret));

        // Time: skewed either way beyond the window (300 s), missing, unreadable.
        for skew in [-301, 400, 3600] {
            let skewed = esia_time(now + skew);
            let text = format!("is-current{SCOPE}{skewed}{STATE}{CB}");
            let sig = URL_SAFE_NO_PAD.encode(raw_signature(&text, "is-gost.key"));
            assert_eq!(check(sig, gost_hash.clone(), skewed, vec![text]).await, Err(EsiaCode::WrongTime), "skew {skew}");
        }
        let near = esia_time(now - 200);
        let text = format!("is-current{SCOPE}{near}{STATE}{CB}");
        let sig = URL_SAFE_NO_PAD.encode(raw_signature(&text, "is-gost.key"));
        assert_eq!(check(sig, gost_hash.clone(), near, vec![text]).await, Ok(()));
        assert_eq!(check(b64u.clone(), gost_hash.clone(), String::new(), vec![signed.clone()]).await, Err(EsiaCode::MissingParameter));
        let iso = "2025-09-02T13:00:29+03:00".to_owned();
        assert_eq!(check(b64u, gost_hash, iso, vec![signed]).await, Err(EsiaCode::Unreadable));

        // ESIA's state is a UUID.
        assert!(is_uuid(STATE) && is_uuid(&STATE.to_uppercase()));
        assert!(!is_uuid("state-123") && !is_uuid(&STATE.replace('-', "")));
    }
}
