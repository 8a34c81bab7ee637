//! ESIA's own OAuth dialect end to end over HTTP, on both backends (issue 8, esia.md §4):
//! the legacy `/aas/oauth2/ac` + `/te` with an RSA CMS `client_secret` made by `openssl cms`,
//! and `/aas/oauth2/v2/ac` + `/v3/te` with raw GOST signatures made by `openssl dgst -engine
//! gost`; the person logs in and consents on the provider's own pages; the tokens are
//! checked field by field and their signatures verified by openssl against the certificates
//! the provider publishes; refresh with `access_type=offline`; `/idp/ext/Logout`; the
//! ESIA-0070xx errors on the redirect and in the JSON body.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::protocol::acr::Level;
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::{Outcome, param};
use tests::esia::{cms_secret, keys, openssl, s, scratch, timestamp, uuid};
use tests::{Backend, PASSWORD, TestApp};

const CB: &str = "https://is.example/esia/cb";
const SCOPES: &str = "openid fullname email mobile offline_access";

/// `client_secret` of v2/v3: the raw GOST signature by `openssl dgst -engine gost`.
fn gost_secret(message: &str, key: &str) -> String {
    let (msg, sig) = (scratch("msg"), scratch("sig"));
    std::fs::write(&msg, message).unwrap();
    openssl(&[
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-sign",
        s(&keys(key)),
        "-out",
        s(&sig),
        s(&msg),
    ]);
    let raw = std::fs::read(&sig).unwrap();
    let _ = (std::fs::remove_file(&msg), std::fs::remove_file(&sig));
    assert_eq!(raw.len(), 64);
    URL_SAFE_NO_PAD.encode(raw)
}

/// `client_certificate_hash`: Streebog-256 of the DER certificate, upper-case hex, by openssl.
fn gost_hash(cert_pem: &str) -> String {
    let der = scratch("cert.der");
    openssl(&[
        "x509",
        "-engine",
        "gost",
        "-in",
        s(&keys(cert_pem)),
        "-outform",
        "DER",
        "-out",
        s(&der),
    ]);
    let out = openssl(&["dgst", "-engine", "gost", "-md_gost12_256", "-r", s(&der)]);
    let _ = std::fs::remove_file(&der);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_ascii_uppercase()
}

/// Request parameters in order, and a change to them before signing.
type Form = Vec<(String, String)>;
type Tweak<'a> = dyn Fn(&mut Form) + 'a;

/// A client system `id` with redirect [`CB`], a certificate and a token algorithm.
async fn system(app: &TestApp, id: &str, cert: &str, alg: &str) {
    app.client_spec(idp::domain::clients::ClientSpec {
        id: id.into(),
        name: format!("ИС {id}"),
        redirect_uris: vec![CB.into()],
        post_logout_redirect_uris: vec!["https://is.example/bye".into()],
        scopes: SCOPES.into(),
        ..Default::default()
    })
    .await;
    let pem = std::fs::read(keys(cert)).unwrap();
    idp::esia::systems::add_certificate(&app.state, id, &pem)
        .await
        .expect("certificate");
    idp::esia::systems::set_token_alg(&app.state, id, alg)
        .await
        .expect("token alg");
}

/// The parameters of a legacy `/aas/oauth2/ac` request, signed; `tweak` changes them first.
fn legacy_ac(app: &TestApp, cid: &str, scope: &str, tweak: &Tweak<'_>) -> Vec<(String, String)> {
    let ts = timestamp(app.clock.now());
    let st = uuid();
    let mut p: Vec<(String, String)> = vec![
        ("client_id".into(), cid.into()),
        ("scope".into(), scope.into()),
        ("timestamp".into(), ts),
        ("state".into(), st),
        ("redirect_uri".into(), CB.into()),
        ("response_type".into(), "code".into()),
        ("access_type".into(), "offline".into()),
    ];
    tweak(&mut p);
    let get = |k: &str| {
        p.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let signed = format!(
        "{}{}{}{}",
        get("scope"),
        get("timestamp"),
        get("client_id"),
        get("state")
    );
    p.push(("client_secret".into(), cms_secret(&signed)));
    p
}

/// The parameters of a v2 `/aas/oauth2/v2/ac` request, signed with `key`.
fn v2_ac(
    app: &TestApp,
    cid: &str,
    scope: &str,
    key: &str,
    hash: &str,
    tweak: &Tweak<'_>,
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("client_id".into(), cid.into()),
        ("scope".into(), scope.into()),
        ("timestamp".into(), timestamp(app.clock.now())),
        ("state".into(), uuid()),
        ("redirect_uri".into(), CB.into()),
        ("response_type".into(), "code".into()),
        ("access_type".into(), "offline".into()),
        ("client_certificate_hash".into(), hash.into()),
    ];
    tweak(&mut p);
    let get = |k: &str| {
        p.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let signed = format!(
        "{}{}{}{}{}{}",
        get("client_id"),
        get("scope"),
        get("scope_org"),
        get("timestamp"),
        get("state"),
        get("redirect_uri")
    );
    p.push(("client_secret".into(), gost_secret(&signed, key)));
    p
}

fn url_with(app: &TestApp, path: &str, params: &[(String, String)]) -> String {
    url::Url::parse_with_params(&app.url(path), params)
        .unwrap()
        .to_string()
}

/// Logs in with the provider's own pages and consents; the redirect back to the system.
async fn front(b: &tests::Browser, url: &str, phone: &str) -> url::Url {
    let first = b.visit(url).await;
    assert!(first.is_page_at("/login"), "{first:?}");
    b.complete(first, phone, PASSWORD).await
}

fn jwt_parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let h = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let p = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&h).unwrap(),
        serde_json::from_slice(&p).unwrap(),
    )
}

/// Verifies a JWT's signature with openssl and the certificate the provider publishes at
/// `/esia/certificates/{rsa,gost}.cer`.
async fn openssl_verifies_jwt(app: &TestApp, token: &str, gost: bool) -> bool {
    let name = if gost { "gost.cer" } else { "rsa.cer" };
    let resp = reqwest::get(app.url(&format!("/esia/certificates/{name}")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pkix-cert");
    let cert = scratch(name);
    std::fs::write(&cert, resp.bytes().await.unwrap()).unwrap();
    let mut x509 = vec!["x509"];
    if gost {
        x509.extend(["-engine", "gost"]);
    }
    x509.extend(["-inform", "DER", "-in", s(&cert), "-pubkey", "-noout"]);
    let public = scratch("pub.pem");
    std::fs::write(&public, openssl(&x509).stdout).unwrap();
    let dot = token.rfind('.').unwrap();
    let (msg, sig) = (scratch("jwt.msg"), scratch("jwt.sig"));
    std::fs::write(&msg, &token[..dot]).unwrap();
    std::fs::write(&sig, URL_SAFE_NO_PAD.decode(&token[dot + 1..]).unwrap()).unwrap();
    let mut dgst = vec!["dgst"];
    if gost {
        dgst.extend(["-engine", "gost", "-md_gost12_256"]);
    } else {
        dgst.push("-sha256");
    }
    dgst.extend(["-verify", s(&public), "-signature", s(&sig), s(&msg)]);
    let out = Command::new("openssl").args(&dgst).output().unwrap();
    for f in [&cert, &public, &msg, &sig] {
        let _ = std::fs::remove_file(f);
    }
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

async fn post(app: &TestApp, path: &str, form: &[(String, String)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A legacy `/te` request (authorization code or refresh), signed with CMS.
fn legacy_te(app: &TestApp, cid: &str, scope: &str, grant: (&str, &str)) -> Vec<(String, String)> {
    let ts = timestamp(app.clock.now());
    let st = uuid();
    let secret = cms_secret(&format!("{scope}{ts}{cid}{st}"));
    let (grant_type, value_name) = match grant.0 {
        "code" => ("authorization_code", "code"),
        _ => ("refresh_token", "refresh_token"),
    };
    vec![
        ("client_id".into(), cid.into()),
        (value_name.into(), grant.1.into()),
        ("grant_type".into(), grant_type.into()),
        ("client_secret".into(), secret),
        ("state".into(), st),
        ("redirect_uri".into(), CB.into()),
        ("scope".into(), scope.into()),
        ("timestamp".into(), ts),
        ("token_type".into(), "Bearer".into()),
    ]
}

fn val<'a>(form: &'a [(String, String)], k: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

fn is_uuid(s: &str) -> bool {
    idp::esia::client_secret::is_uuid(s)
}

on_both_backends! {
    async fn legacy_flow_with_rsa_cms_and_rs256_tokens(app: TestApp) {
        system(&app, "TESTIS", "is-rsa.pem", "RS256").await;
        let oid = app.user("+79001110012", Level::Confirmed).await;
        let scope = "openid fullname email";
        let params = legacy_ac(&app, "TESTIS", scope, &|_| {});
        let b = app.browser();
        let back = front(&b, &url_with(&app, "/aas/oauth2/ac", &params), "+79001110012").await;
        assert!(back.as_str().starts_with(CB), "{back}");
        assert_eq!(param(&back, "state").as_deref(), Some(val(&params, "state")));
        assert_eq!(param(&back, "iss"), None, "ESIA sends no iss");
        let code = param(&back, "code").expect("code");

        let form = legacy_te(&app, "TESTIS", scope, ("code", &code));
        let (status, body) = post(&app, "/aas/oauth2/te", &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], val(&form, "state"));
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let refresh = body["refresh_token"].as_str().expect("offline gives a refresh token");
        assert!(is_uuid(refresh), "{refresh}");

        let id_token = body["id_token"].as_str().unwrap();
        let access = body["access_token"].as_str().unwrap();
        assert!(openssl_verifies_jwt(&app, id_token, false).await);
        assert!(openssl_verifies_jwt(&app, access, false).await);
        let mut forged = access.to_owned();
        forged.truncate(forged.len() - 4);
        forged.push_str("AAAA");
        assert!(!openssl_verifies_jwt(&app, &forged, false).await);

        let (h, c) = jwt_parts(id_token);
        assert_eq!(h["alg"], "RS256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["sbt"], "id");
        assert_eq!(h["ver"], 1);
        let now = app.clock.now();
        assert_eq!(c["aud"], "TESTIS");
        assert_eq!(c["sub"].to_string(), oid);
        assert_eq!(c["iss"], "http://esia.gosuslugi.ru/");
        assert_eq!(c["exp"].as_i64().unwrap(), c["iat"].as_i64().unwrap() + 3600);
        assert!((c["iat"].as_i64().unwrap() - now).abs() < 60);
        assert_eq!(c["nbf"], c["iat"]);
        assert!(c["auth_time"].as_i64().unwrap() <= now);
        assert_eq!(c["amr"], serde_json::json!(["PWD"]));
        assert_eq!(c["urn:esia:amd"], "PWD");
        let sbj = &c["urn:esia:sbj"];
        assert_eq!(sbj["urn:esia:sbj:typ"], "P");
        assert_eq!(sbj["urn:esia:sbj:is_tru"], true);
        assert_eq!(sbj["urn:esia:sbj:oid"].to_string(), oid);
        assert_eq!(sbj["urn:esia:sbj:nam"], format!("OID.{oid}"));
        let sid = c["urn:esia:sid"].as_str().unwrap().to_owned();

        let (h, a) = jwt_parts(access);
        assert_eq!(h["sbt"], "access");
        assert_eq!(h["ver"], 1);
        assert_eq!(a["iss"], "http://esia.gosuslugi.ru/");
        assert_eq!(a["client_id"], "TESTIS");
        assert_eq!(a["urn:esia:sbj_id"].to_string(), oid);
        assert!(a["urn:esia:sbj_id"].is_number());
        assert_eq!(a["urn:esia:sid"], sid.as_str());
        assert_eq!(a["exp"].as_i64().unwrap(), a["iat"].as_i64().unwrap() + 3600);
        assert_eq!(
            a["scope"],
            format!("email?oid={oid} fullname?oid={oid} openid")
        );
        let granted = idp::esia::access::verify_access(&app.state, access).await.expect("valid");
        assert_eq!(granted.oid, oid);
        assert_eq!(granted.client_id, "TESTIS");
        assert_eq!(granted.scopes, vec!["email", "fullname", "openid"]);
        // The person API takes the token.
        let person = reqwest::Client::new()
            .get(app.url(&format!("/rs/prns/{oid}")))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(person.status(), StatusCode::OK);
        let person: Value = person.json().await.unwrap();
        assert_eq!(person["firstName"], "Иван");

        // The code is single use; a replay is ESIA-007011 and revokes the grant.
        let replay = legacy_te(&app, "TESTIS", scope, ("code", &code));
        let (status, err) = post(&app, "/aas/oauth2/te", &replay).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err["error_description"].as_str().unwrap().starts_with("ESIA-007011"), "{err}");
        assert_eq!(err["state"], val(&replay, "state"));
        assert!(idp::esia::access::verify_access(&app.state, access).await.is_err());
    }

    async fn refresh_and_logout(app: TestApp) {
        system(&app, "TESTIS", "is-rsa.pem", "RS256").await;
        app.user("+79001110022", Level::Standard).await;
        let scope = "openid fullname";
        let params = legacy_ac(&app, "TESTIS", scope, &|_| {});
        let b = app.browser();
        let back = front(&b, &url_with(&app, "/aas/oauth2/ac", &params), "+79001110022").await;
        let code = param(&back, "code").unwrap();
        let (_, body) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "TESTIS", scope, ("code", &code))).await;
        let (_, id) = jwt_parts(body["id_token"].as_str().unwrap());
        assert!(id["urn:esia:sbj"].get("urn:esia:sbj:is_tru").is_none(), "only confirmed accounts are trusted");
        let rt = body["refresh_token"].as_str().unwrap().to_owned();

        let form = legacy_te(&app, "TESTIS", scope, ("refresh", &rt));
        let (status, fresh) = post(&app, "/aas/oauth2/te", &form).await;
        assert_eq!(status, StatusCode::OK, "{fresh}");
        assert_eq!(fresh["state"], val(&form, "state"));
        let rt2 = fresh["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(rt, rt2);
        let access = fresh["access_token"].as_str().unwrap().to_owned();
        assert!(idp::esia::access::verify_access(&app.state, &access).await.is_ok());

        // The spent refresh token is refused.
        let (status, err) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "TESTIS", scope, ("refresh", &rt))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err["error_description"].as_str().unwrap().starts_with("ESIA-007011"), "{err}");

        // A fresh online grant for the logout check (an offline grant outlives the session,
        // as offline_access does on the OpenID Connect side).
        let params = legacy_ac(&app, "TESTIS", scope, &|p| p[6].1 = "online".into());
        let again = b.visit(&url_with(&app, "/aas/oauth2/ac", &params)).await;
        let back = match again {
            Outcome::Left(u) => u,
            other => b.complete(other, "+79001110022", PASSWORD).await,
        };
        let code = param(&back, "code").expect("SSO: straight back with a code");
        let (_, body) = post(&app, "/aas/oauth2/te", &legacy_te(&app, "TESTIS", scope, ("code", &code))).await;
        assert!(body.get("refresh_token").is_none(), "online access has no refresh token");
        let access = body["access_token"].as_str().unwrap().to_owned();
        assert!(idp::esia::access::verify_access(&app.state, &access).await.is_ok());

        // An unregistered redirect_url: logged out, but no redirect there.
        let out = b.visit(&app.url("/idp/ext/Logout?client_id=TESTIS&redirect_url=https%3A%2F%2Fevil.example%2F")).await;
        let (_, status, _) = out.page();
        assert_eq!(status, StatusCode::OK);
        assert!(idp::esia::access::verify_access(&app.state, &access).await.is_err(), "logout ends the grants");
        let params = legacy_ac(&app, "TESTIS", scope, &|_| {});
        assert!(b.visit(&url_with(&app, "/aas/oauth2/ac", &params)).await.is_page_at("/login"));
        // A registered one is followed.
        let out = b.visit(&app.url("/idp/ext/Logout?client_id=TESTIS&redirect_url=https%3A%2F%2Fis.example%2Fbye")).await;
        assert_eq!(out.left().as_str(), "https://is.example/bye");
    }

    async fn current_flow_with_gost_signatures_and_gost_tokens(app: TestApp) {
        system(&app, "GOSTIS", "is-gost.pem", "GOST3410_2012_256").await;
        let oid = app.user("+79001110032", Level::Confirmed).await;
        let hash = gost_hash("is-gost.pem");
        let scope = "openid fullname mobile";
        let verifier = format!("{}{}", uuid(), uuid());
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
        let params = v2_ac(&app, "GOSTIS", scope, "is-gost.key", &hash, &|p| {
            p.push(("code_challenge".into(), challenge.clone()));
            p.push(("code_challenge_method".into(), "S256".into()));
        });
        let b = app.browser();
        let back = front(&b, &url_with(&app, "/aas/oauth2/v2/ac", &params), "+79001110032").await;
        assert_eq!(param(&back, "state").as_deref(), Some(val(&params, "state")));
        assert_eq!(param(&back, "iss"), None);
        let code = param(&back, "code").unwrap();

        let ts = timestamp(app.clock.now());
        let st = uuid();
        let signed = format!("GOSTIS{scope}{ts}{st}{CB}{code}");
        let form: Vec<(String, String)> = vec![
            ("client_id".into(), "GOSTIS".into()),
            ("code".into(), code.clone()),
            ("grant_type".into(), "authorization_code".into()),
            ("client_secret".into(), gost_secret(&signed, "is-gost.key")),
            ("state".into(), st.clone()),
            ("redirect_uri".into(), CB.into()),
            ("scope".into(), scope.into()),
            ("timestamp".into(), ts),
            ("token_type".into(), "Bearer".into()),
            ("client_certificate_hash".into(), hash.clone()),
            ("code_verifier".into(), verifier.clone()),
        ];
        let (status, body) = post(&app, "/aas/oauth2/v3/te", &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], st.as_str());
        let id_token = body["id_token"].as_str().unwrap();
        let access = body["access_token"].as_str().unwrap();
        let (h, c) = jwt_parts(id_token);
        assert_eq!(h["alg"], "GOST3410_2012_256");
        assert_eq!(h["sbt"], "id");
        assert_eq!(c["sub"].to_string(), oid);
        assert!(openssl_verifies_jwt(&app, id_token, true).await);
        assert!(openssl_verifies_jwt(&app, access, true).await);
        assert!(!openssl_verifies_jwt(&app, id_token, false).await, "not an RSA signature");
        let (_, a) = jwt_parts(access);
        assert_eq!(a["scope"], format!("fullname?oid={oid} mobile?oid={oid} openid"));
        let granted = idp::esia::access::verify_access(&app.state, access).await.expect("valid");
        assert_eq!(granted.oid, oid);

        // Refresh on v3 with the second signed-string variant (… + refresh_token).
        let rt = body["refresh_token"].as_str().unwrap();
        let ts = timestamp(app.clock.now());
        let st = uuid();
        let signed = format!("GOSTIS{scope}{ts}{st}{rt}");
        let form: Vec<(String, String)> = vec![
            ("client_id".into(), "GOSTIS".into()),
            ("refresh_token".into(), rt.into()),
            ("grant_type".into(), "refresh_token".into()),
            ("client_secret".into(), gost_secret(&signed, "is-gost.key")),
            ("state".into(), st.clone()),
            ("redirect_uri".into(), CB.into()),
            ("scope".into(), scope.into()),
            ("timestamp".into(), ts),
            ("token_type".into(), "Bearer".into()),
            ("client_certificate_hash".into(), hash.clone()),
        ];
        let (status, fresh) = post(&app, "/aas/oauth2/v3/te", &form).await;
        assert_eq!(status, StatusCode::OK, "{fresh}");
        assert_eq!(fresh["state"], st.as_str());
        assert!(openssl_verifies_jwt(&app, fresh["access_token"].as_str().unwrap(), true).await);
    }

    async fn errors_come_back_as_esia_codes(app: TestApp) {
        system(&app, "GOSTIS", "is-gost.pem", "RS256").await;
        let hash = gost_hash("is-gost.pem");
        let b = app.browser();
        let expect = |outcome: Outcome, code: &str, state: Option<&str>| {
            let u = outcome.left();
            assert!(u.as_str().starts_with(CB), "{u}");
            let d = param(&u, "error_description").unwrap_or_default();
            assert!(d.starts_with(&format!("ESIA-{code}")), "wanted {code}, got {u}");
            assert!(param(&u, "error").is_some());
            assert_eq!(param(&u, "state").as_deref(), state);
            assert_eq!(param(&u, "iss"), None);
        };
        let scope = "openid fullname";
        // A skewed timestamp (an hour old).
        let skewed = timestamp(app.clock.now() - 3600);
        let p = v2_ac(&app, "GOSTIS", scope, "is-gost.key", &hash, &|p| p[2].1 = skewed.clone());
        expect(b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await, "007015", Some(val(&p, "state")));
        // A state that is not a UUID.
        let p = v2_ac(&app, "GOSTIS", scope, "is-gost.key", &hash, &|p| p[3].1 = "not-a-uuid".into());
        expect(b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await, "007003", Some("not-a-uuid"));
        // No openid.
        let p = v2_ac(&app, "GOSTIS", "fullname", "is-gost.key", &hash, &|_| {});
        expect(b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await, "007013", Some(val(&p, "state")));
        // An unknown scope.
        let p = v2_ac(&app, "GOSTIS", "openid no_such_scope", "is-gost.key", &hash, &|_| {});
        expect(b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await, "007006", Some(val(&p, "state")));
        // The hash of a certificate that is not the system's.
        let other = gost_hash("is-gost2.pem");
        let p = v2_ac(&app, "GOSTIS", scope, "is-gost2.key", &other, &|_| {});
        expect(b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await, "007002", Some(val(&p, "state")));
        // A signature over other data (the registered key, another redirect_uri signed).
        let mut p = v2_ac(&app, "GOSTIS", scope, "is-gost.key", &hash, &|p| p[4].1 = "https://is.example/other".into());
        p[4].1 = CB.into();
        let u = b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await.left();
        assert!(param(&u, "error_description").unwrap().starts_with("ESIA-007053"), "{u}");
        assert_eq!(param(&u, "error").as_deref(), Some("access_denied"));
        // An unregistered redirect_uri is a page, never a redirect.
        let p = v2_ac(&app, "GOSTIS", scope, "is-gost.key", &hash, &|p| p[4].1 = "https://evil.example/cb".into());
        let (_, status, _) = b.visit(&url_with(&app, "/aas/oauth2/v2/ac", &p)).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // The same errors in the token endpoint's JSON body, with the POST's state.
        let te = |ts: String, st: String, sign_with: &'static str, h: String| {
            let signed = format!("GOSTIS{scope}{ts}{st}{CB}somecode");
            vec![
                ("client_id".to_owned(), "GOSTIS".to_owned()),
                ("code".into(), "somecode".into()),
                ("grant_type".into(), "authorization_code".into()),
                ("client_secret".into(), gost_secret(&signed, sign_with)),
                ("state".into(), st),
                ("redirect_uri".into(), CB.into()),
                ("scope".into(), scope.into()),
                ("timestamp".into(), ts),
                ("token_type".into(), "Bearer".into()),
                ("client_certificate_hash".into(), h),
            ]
        };
        let now = app.clock.now();
        for (form, code) in [
            (te(timestamp(now - 3600), uuid(), "is-gost.key", hash.clone()), "007015"),
            (te(timestamp(now), "12345".into(), "is-gost.key", hash.clone()), "007003"),
            (te(timestamp(now), uuid(), "is-gost2.key", other.clone()), "007002"),
            (te(timestamp(now), uuid(), "is-gost2.key", hash.clone()), "007053"),
            (te(timestamp(now), uuid(), "is-gost.key", hash.clone()), "007011"),
        ] {
            let (status, body) = post(&app, "/aas/oauth2/v3/te", &form).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {body}");
            let d = body["error_description"].as_str().unwrap();
            assert!(d.starts_with(&format!("ESIA-{code}")), "wanted {code}, got {body}");
            assert_eq!(body["state"], val(&form, "state"));
            assert!(body["error"].is_string());
        }
        let mut missing = te(timestamp(now), uuid(), "is-gost.key", hash.clone());
        missing.retain(|(k, _)| k != "client_secret");
        let (_, body) = post(&app, "/aas/oauth2/v3/te", &missing).await;
        assert!(body["error_description"].as_str().unwrap().starts_with("ESIA-007014"), "{body}");
    }

    async fn a_refused_consent_is_007004(app: TestApp) {
        system(&app, "TESTIS", "is-rsa.pem", "RS256").await;
        app.user("+79001110052", Level::Confirmed).await;
        let params = legacy_ac(&app, "TESTIS", "openid fullname", &|_| {});
        let b = app.browser();
        let first = b.visit(&url_with(&app, "/aas/oauth2/ac", &params)).await;
        let (_, _, html) = first.page();
        let (url, _, html) = b.submit_login(&html, "+79001110052", PASSWORD, false).await.page();
        assert!(url.contains("/consent"), "{url}");
        let u = b.submit_consent(&html, "deny").await.left();
        assert!(u.as_str().starts_with(CB));
        assert_eq!(param(&u, "error").as_deref(), Some("access_denied"));
        assert!(param(&u, "error_description").unwrap().starts_with("ESIA-007004"), "{u}");
        assert_eq!(param(&u, "state").as_deref(), Some(val(&params, "state")));
        assert_eq!(param(&u, "iss"), None);
    }

    async fn confirmed_accounts_only_with_person_filter(app: TestApp) {
        system(&app, "TESTIS", "is-rsa.pem", "RS256").await;
        app.user("+79001110042", Level::Standard).await;
        let filter = base64::engine::general_purpose::STANDARD.encode("conf_acc");
        let params = legacy_ac(&app, "TESTIS", "openid fullname", &|p| {
            p.push(("person_filter".into(), filter.clone()))
        });
        let b = app.browser();
        let first = b.visit(&url_with(&app, "/aas/oauth2/ac", &params)).await;
        let (_, _, html) = first.page();
        let after = b.submit_login(&html, "+79001110042", PASSWORD, false).await;
        // The level page explains; its link goes back to the system with ESIA-007055.
        let (url, _, html) = after.page();
        assert!(url.contains("/login/level"), "{url}");
        let tx = tests::browser::hidden(&html, "tx");
        let csrf = tests::browser::hidden(&html, "csrf");
        let u = b.post_form("/login/level", &[("tx", tx.as_str()), ("csrf", csrf.as_str())]).await.left();
        assert!(param(&u, "error_description").unwrap().starts_with("ESIA-007055"), "{u}");
        assert_eq!(param(&u, "state").as_deref(), Some(val(&params, "state")));
    }
}
