//! Login by electronic signature (issue 4): CMS detached signatures made by the `openssl cms`
//! command with the development certification centre's RSA and EC certificates
//! (`keys/dev-ca/`), the `ds` method in `amr`, a standard account confirmed by its first
//! signature, and each refusal (expired, unknown CA, wrong challenge, replayed challenge,
//! revoked, no matching account) with its message. GOST R 34.10-2012 (256-bit) signatures
//! made by `openssl cms -sign -engine gost` with the GOST dev CA's certificates
//! (`keys/dev-ca/gost-*`; Debian's libengine-gost-openssl) log in the same way.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use idp::protocol::acr::Level;
use idp::store::users;
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::{Outcome, hidden};
use tests::{Backend, Browser, TestApp};

const CB: &str = "https://rp.example/cb";
const PHONE: &str = "+79005550202";

fn dev_ca(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../keys/dev-ca")
        .join(file)
}

/// A detached CMS signature (DER) of `data` by `keys/dev-ca/{name}.pem` with `{name}.key`,
/// made by the openssl command.
fn openssl_sign(data: &str, name: &str) -> Vec<u8> {
    let mut child = std::process::Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
        ])
        .arg("-signer")
        .arg(dev_ca(&format!("{name}.pem")))
        .arg("-inkey")
        .arg(dev_ca(&format!("{name}.key")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("openssl cms");
    assert!(out.status.success(), "openssl cms -sign failed");
    out.stdout
}

/// A detached CMS signature (DER) of `data` by `keys/dev-ca/{name}.pem` with a GOST
/// R 34.10-2012 key, made by `openssl cms -sign -engine gost -binary -nosmimecap -outform DER`
/// (digest Streebog-256, the engine's default for the key).
fn openssl_sign_gost(data: &str, name: &str) -> Vec<u8> {
    let mut child = std::process::Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-engine",
            "gost",
            "-binary",
            "-nosmimecap",
            "-outform",
            "DER",
        ])
        .arg("-signer")
        .arg(dev_ca(&format!("{name}.pem")))
        .arg("-inkey")
        .arg(dev_ca(&format!("{name}.key")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("openssl cms");
    assert!(
        out.status.success(),
        "openssl cms -sign -engine gost failed (is libengine-gost-openssl installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// The text of the page's alert (error), or "".
fn alert(html: &str) -> String {
    html.find("role=\"alert\"")
        .map(|at| {
            let rest = &html[at..];
            let start = rest.find('>').map(|i| i + 1).unwrap_or(0);
            let end = rest.find("</div>").unwrap_or(rest.len());
            rest[start..end].trim().to_string()
        })
        .unwrap_or_default()
}

/// Starts an authorization and opens the signature page; returns its HTML.
async fn signature_page(b: &Browser, client_id: &str) -> String {
    let first = b
        .authorize(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", CB),
            ("state", "st"),
            ("nonce", "n-0S6"),
        ])
        .await;
    let (url, _, html) = first.page();
    assert!(url.contains("/login"), "{url}");
    let tx = hidden(&html, "tx");
    let (_, status, html) = b
        .visit(&format!("{}/login/signature?tx={tx}", b.base))
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-signature-challenge"), "{html}");
    html
}

/// Posts a pasted base64 signature for the page's challenge.
async fn submit(b: &Browser, html: &str, challenge: &str, signature: &str) -> Outcome {
    let (tx, csrf) = (hidden(html, "tx"), hidden(html, "csrf"));
    b.post_form(
        "/login/signature",
        &[
            ("tx", tx.as_str()),
            ("csrf", csrf.as_str()),
            ("challenge", challenge),
            ("signature", signature),
        ],
    )
    .await
}

async fn level_of(app: &TestApp, id: &str) -> Level {
    users::by_id(&app.state.db, id)
        .await
        .expect("db")
        .expect("user")
        .level
}

/// A refusal: the page again (401), the message, no redirect to the client.
fn refused(outcome: Outcome, message: &str) {
    let (url, status, html) = outcome.page();
    assert!(url.contains("/login/signature"), "{url}");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert!(alert(&html).contains(message), "{}", alert(&html));
}

on_both_backends! {
    async fn rsa_signature_logs_in_and_confirms_a_standard_account(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        let id = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let sig = b64(&openssl_sign(&challenge, "citizen-rsa"));
        let redirect = b.back_to_client(submit(&b, &html, &challenge, &sig).await).await;
        let claims = app.id_claims(&client, &redirect).await;
        assert_eq!(claims["sub"].as_str(), Some(id.as_str()));
        let amr: Vec<&str> = claims["amr"].as_array().expect("amr").iter().filter_map(Value::as_str).collect();
        assert_eq!(amr, ["ds"]);
        assert_eq!(level_of(&app, &id).await, Level::Confirmed);
        assert_eq!(claims["acr"].as_str(), Some(Level::Confirmed.acr()));
    }

    async fn ec_signature_uploaded_as_a_der_file_logs_in(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        let id = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let der = openssl_sign(&challenge, "citizen-ec");
        // multipart/form-data with the signature as a file (binary DER), as the page sends it.
        let boundary = "sigBoundary7MA4YWxk";
        let mut body = Vec::new();
        for (name, value) in [("tx", hidden(&html, "tx")), ("csrf", hidden(&html, "csrf")), ("challenge", challenge.clone()), ("signature", String::new())] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"signature_file\"; filename=\"login.p7s\"\r\nContent-Type: application/pkcs7-signature\r\n\r\n").as_bytes());
        body.extend_from_slice(&der);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = b.http.post(app.url("/login/signature"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send().await.expect("post");
        assert!(resp.status().is_redirection(), "{}", resp.text().await.unwrap_or_default());
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let next = url::Url::parse(&app.url("/login/signature")).unwrap().join(&location).unwrap();
        let outcome = if next.as_str().starts_with(&app.base) { b.visit(next.as_str()).await } else { Outcome::Left(next) };
        let redirect = b.back_to_client(outcome).await;
        let claims = app.id_claims(&client, &redirect).await;
        assert_eq!(claims["sub"].as_str(), Some(id.as_str()));
        assert!(claims["amr"].as_array().expect("amr").iter().any(|a| a == "ds"));
    }

    async fn bad_signatures_are_refused_with_a_clear_message(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        let id = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let cases = [
            ("expired", "Срок действия сертификата истёк"),
            ("foreign", "не доверенным"),
            ("revoked", "Сертификат отозван"),
            ("stranger", "Не найдена учётная запись"),
        ];
        for (cert, message) in cases {
            let html = signature_page(&b, &client.0).await;
            let challenge = hidden(&html, "challenge");
            let sig = b64(&openssl_sign(&challenge, cert));
            refused(submit(&b, &html, &challenge, &sig).await, message);
        }
        // A signature over other data than the challenge.
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let sig = b64(&openssl_sign("gosuslugi-id-login:0:something-else", "citizen-rsa"));
        refused(submit(&b, &html, &challenge, &sig).await, "Подписан не тот текст");
        // A challenge that was never issued.
        let html = signature_page(&b, &client.0).await;
        let forged = "gosuslugi-id-login:0:forged";
        let sig = b64(&openssl_sign(forged, "citizen-rsa"));
        refused(submit(&b, &html, forged, &sig).await, "уже использована");
        // Garbage.
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        refused(submit(&b, &html, &challenge, "bm90IGEgc2lnbmF0dXJl").await, "Подпись не распознана");
        // Nothing changed.
        assert_eq!(level_of(&app, &id).await, Level::Standard);
    }

    async fn a_replayed_challenge_is_refused(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let sig = b64(&openssl_sign(&challenge, "citizen-ec"));
        b.back_to_client(submit(&b, &html, &challenge, &sig).await).await;
        // The same challenge and signature again, in another browser with its own login.
        let other = app.browser();
        let html = signature_page(&other, &client.0).await;
        refused(submit(&other, &html, &challenge, &sig).await, "уже использована");
    }

    async fn gost_signature_logs_the_demo_citizen_in(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        let id = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let sig = b64(&openssl_sign_gost(&challenge, "gost-citizen"));
        let redirect = b.back_to_client(submit(&b, &html, &challenge, &sig).await).await;
        let claims = app.id_claims(&client, &redirect).await;
        assert_eq!(claims["sub"].as_str(), Some(id.as_str()));
        let amr: Vec<&str> = claims["amr"].as_array().expect("amr").iter().filter_map(Value::as_str).collect();
        assert_eq!(amr, ["ds"]);
        // The SNILS in the GOST certificate confirms the standard account, as with RSA.
        assert_eq!(level_of(&app, &id).await, Level::Confirmed);
        assert_eq!(claims["acr"].as_str(), Some(Level::Confirmed.acr()));
    }

    async fn bad_gost_signatures_are_refused_with_a_clear_message(app: TestApp) {
        let client = app.client("sig-rp", "openid").await;
        let id = app.user(PHONE, Level::Standard).await;
        let b = app.browser();
        // Revoked by the GOST CA's (GOST-signed) CRL; issued by a GOST CA nobody trusts.
        for (cert, message) in [("gost-revoked", "Сертификат отозван"), ("gost-foreign", "не доверенным")] {
            let html = signature_page(&b, &client.0).await;
            let challenge = hidden(&html, "challenge");
            let sig = b64(&openssl_sign_gost(&challenge, cert));
            refused(submit(&b, &html, &challenge, &sig).await, message);
        }
        // A tampered challenge: the signature is over the shown text with one character changed.
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let mut tampered = challenge.clone();
        let last = tampered.pop().expect("challenge");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let sig = b64(&openssl_sign_gost(&tampered, "gost-citizen"));
        refused(submit(&b, &html, &challenge, &sig).await, "Подписан не тот текст");
        // A signature value changed after signing (the last byte of the DER is in the value).
        let html = signature_page(&b, &client.0).await;
        let challenge = hidden(&html, "challenge");
        let mut der = openssl_sign_gost(&challenge, "gost-citizen");
        let n = der.len();
        der[n - 1] ^= 1;
        refused(submit(&b, &html, &challenge, &b64(&der)).await, "Подпись неверна");
        // Nothing changed.
        assert_eq!(level_of(&app, &id).await, Level::Standard);
    }
}
