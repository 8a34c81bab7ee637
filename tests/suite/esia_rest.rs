//! ESIA's person API over HTTP, on both backends: `/rs/prns/{oid}` field by field (esia.md
//! §4 "REST shapes"), the collections `/ctts`, `/addrs`, `/docs`, `/kids`, `/vhls`, `/orgs`,
//! `/roles` as envelopes of URLs or (`embed=(elements)`) of objects, single elements, the
//! person with embedded sub-collections, `/rs/orgs/{oid}`, scope filtering (403), other
//! people's data (403), missing or bad tokens (401), and `ETag`/`If-None-Match` (304).
//! The person's records are seeded through the store; the bearer token is a real access token
//! from a code flow (the person API accepts the provider's OIDC access tokens besides ESIA's).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::domain::documents::{CivilDate, Document, DocumentKind};
use idp::protocol::acr::Level;
use idp::protocol::claims::profile::{Address, Contact, Kid, OrgRole, Vehicle};
use idp::store::{documents, profile};
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::param;
use tests::{Backend, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";
const ALL: &str = "openid fullname birthdate gender birthplace snils inn id_doc contacts addresses vehicles kid_fullname kid_birthdate kid_gender kid_snils usr_org mobile email";
const ORG_OID: i64 = 1_000_000_777;

/// A confirmed person (with SNILS: the harness gives one to phones ending in 2) with a home
/// phone, two addresses, a passport, a vehicle, a child and an organisation.
async fn seed(app: &TestApp, phone: &str) -> String {
    let oid = app.user(phone, Level::Confirmed).await;
    let now = app.clock.now();
    let mut conn = app.state.db.write().acquire().await.expect("connection");
    let c = &mut *conn;
    profile::add_contact(
        c,
        &oid,
        &Contact {
            id: "c1".into(),
            kind: "PHN".into(),
            value: "+74951234567".into(),
            verified: false,
        },
        now,
    )
    .await
    .expect("contact");
    for (id, kind, city, flat) in [
        ("a1", "PRG", "Москва", Some("2")),
        ("a2", "PLV", "Химки", None),
    ] {
        profile::put_address(
            c,
            &oid,
            &Address {
                id: id.into(),
                kind: kind.into(),
                address_str: format!("101000, {city}, ул. Мясницкая, д. 1"),
                zip_code: Some("101000".into()),
                region: "Москва".into(),
                city: Some(city.into()),
                street: Some("ул. Мясницкая".into()),
                house: Some("1".into()),
                flat: flat.map(str::to_string),
                fias_code: None,
            },
            now,
        )
        .await
        .expect("address");
    }
    profile::add_vehicle(
        c,
        &oid,
        &Vehicle {
            id: "v1".into(),
            name: "Лада Веста".into(),
            number_plate: "А123ВС77".into(),
            reg_series: Some("77УВ".into()),
            reg_number: Some("123456".into()),
        },
        now,
    )
    .await
    .expect("vehicle");
    profile::kids::add_record(
        c,
        &oid,
        &Kid {
            id: "k1".into(),
            surname: "Иванова".into(),
            given_name: "Мария".into(),
            middle_name: Some("Ивановна".into()),
            birthdate: Some("2015-06-01".into()),
            gender: Some("F".into()),
            snils: Some("11223344595".into()),
            inn: None,
            linked: false,
            verified_ids: true,
        },
        now,
    )
    .await
    .expect("kid");
    profile::orgs::register(
        c,
        &oid,
        &OrgRole {
            oid: ORG_OID,
            full_name: "Общество с ограниченной ответственностью «Ромашка»".into(),
            short_name: "ООО «Ромашка»".into(),
            ogrn: "1027739609391".into(),
            inn: "7707083893".into(),
            kind: "LEGAL".into(),
            role: "chief".into(),
        },
        now,
    )
    .await
    .expect("org");
    drop(conn);
    for (kind, series, number, issued_by, code, verification) in [
        (
            DocumentKind::RfPassport,
            Some("4508"),
            "123456",
            Some("ОВД Тверского района"),
            Some("690-001"),
            documents::VERIFIED,
        ),
        (
            DocumentKind::DrivingLicense,
            Some("7701"),
            "654321",
            None,
            None,
            documents::VERIFIED,
        ),
    ] {
        documents::insert(
            app.state.db.write(),
            &oid,
            &Document {
                kind,
                series: series.map(str::to_string),
                number: number.into(),
                issue_date: CivilDate::parse("2010-05-01"),
                issued_by: issued_by.map(str::to_string),
                issuer_code: code.map(str::to_string),
                expiry_date: None,
            },
            verification,
            now,
        )
        .await
        .expect("document");
    }
    oid
}

/// An access token for `scope` through a real code flow with PKCE.
async fn token(app: &TestApp, client: &(String, String), login: &str, scope: &str) -> String {
    let verifier = URL_SAFE_NO_PAD.encode(idp::crypto::random_bytes(32));
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let b = app.browser();
    let params = [
        ("client_id", client.0.as_str()),
        ("response_type", "code"),
        ("scope", scope),
        ("redirect_uri", CB),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let back = b.sign_in(&params, login, PASSWORD).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let resp = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// An ESIA access token through ESIA's legacy flow (`/aas/oauth2/ac` + `/te`, the
/// `client_secret` a detached CMS signature made by `openssl cms` with the test system's RSA
/// key from `keys/esia/systems`).
async fn esia_token(app: &TestApp, login: &str, scope: &str) -> String {
    const ESIA_CB: &str = "https://is.example/esia/cb";
    let keys = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/esia/systems");
    app.client_spec(idp::domain::clients::ClientSpec {
        id: "RESTIS".into(),
        name: "ИС RESTIS".into(),
        redirect_uris: vec![ESIA_CB.into()],
        scopes: ALL.into(),
        ..Default::default()
    })
    .await;
    let pem = std::fs::read(keys.join("is-rsa.pem")).expect("certificate");
    idp::esia::systems::add_certificate(&app.state, "RESTIS", &pem)
        .await
        .expect("add certificate");
    let sign = |message: &str| -> String {
        let dir = std::env::temp_dir().join(format!(
            "esia-rest-{}-{}",
            std::process::id(),
            idp::crypto::random_token(6)
        ));
        std::fs::create_dir_all(&dir).expect("scratch");
        let (msg, sig) = (dir.join("msg"), dir.join("sig"));
        std::fs::write(&msg, message).expect("message");
        let out = std::process::Command::new("openssl")
            .args([
                "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER", "-in",
            ])
            .arg(&msg)
            .arg("-signer")
            .arg(keys.join("is-rsa.pem"))
            .arg("-inkey")
            .arg(keys.join("is-rsa.key"))
            .arg("-out")
            .arg(&sig)
            .output()
            .expect("the openssl command is required");
        assert!(
            out.status.success(),
            "openssl cms: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let der = std::fs::read(&sig).expect("signature");
        let _ = std::fs::remove_dir_all(&dir);
        URL_SAFE_NO_PAD.encode(der)
    };
    // `yyyy.MM.dd HH:mm:ss +0000` and a random UUID, as ESIA clients send them.
    let ts = || {
        let d = CivilDate::from_unix(app.clock.now());
        let secs = app.clock.now().rem_euclid(86_400);
        format!(
            "{:04}.{:02}.{:02} {:02}:{:02}:{:02} +0000",
            d.year,
            d.month,
            d.day,
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    };
    let uuid = || {
        let h = idp::crypto::hex(&idp::crypto::random_bytes(16));
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    };
    let (t, st) = (ts(), uuid());
    let secret = sign(&format!("{scope}{t}RESTIS{st}"));
    let ac = url::Url::parse_with_params(
        &app.url("/aas/oauth2/ac"),
        [
            ("client_id", "RESTIS"),
            ("scope", scope),
            ("timestamp", &t),
            ("state", &st),
            ("redirect_uri", ESIA_CB),
            ("response_type", "code"),
            ("access_type", "online"),
            ("client_secret", &secret),
        ],
    )
    .expect("url");
    let b = app.browser();
    let first = b.visit(ac.as_str()).await;
    let back = b.complete(first, login, PASSWORD).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (t, st) = (ts(), uuid());
    let secret = sign(&format!("{scope}{t}RESTIS{st}"));
    let resp = reqwest::Client::new()
        .post(app.url("/aas/oauth2/te"))
        .form(&[
            ("client_id", "RESTIS"),
            ("code", &code),
            ("grant_type", "authorization_code"),
            ("client_secret", &secret),
            ("state", &st),
            ("redirect_uri", ESIA_CB),
            ("scope", scope),
            ("timestamp", &t),
            ("token_type", "Bearer"),
        ])
        .send()
        .await
        .expect("te");
    let status = resp.status();
    let body: Value = resp.json().await.expect("te json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

struct Got {
    status: StatusCode,
    etag: Option<String>,
    challenge: Option<String>,
    body: Value,
}

async fn get(app: &TestApp, path: &str, bearer: Option<&str>, if_none_match: Option<&str>) -> Got {
    let mut req = reqwest::Client::new().get(app.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header("etag");
    let challenge = header("www-authenticate");
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text}"))
    };
    Got {
        status,
        etag,
        challenge,
        body,
    }
}

/// 200 with an `ETag` equal to the body's `eTag`; returns the body.
async fn ok(app: &TestApp, path: &str, bearer: &str) -> Value {
    let g = get(app, path, Some(bearer), None).await;
    assert_eq!(g.status, StatusCode::OK, "{path}: {}", g.body);
    let tag = g.body["eTag"]
        .as_str()
        .unwrap_or_else(|| panic!("eTag in {}", g.body));
    assert_eq!(
        g.etag.as_deref(),
        Some(format!("\"{tag}\"").as_str()),
        "{path}"
    );
    g.body
}

fn refused(g: &Got, status: StatusCode, code: &str) {
    assert_eq!(g.status, status, "{}", g.body);
    assert_eq!(g.body["error"], code, "{}", g.body);
    let message = g.body["message"].as_str().unwrap_or("");
    assert!(
        message.chars().any(|c| ('а'..='я').contains(&c)),
        "a Russian message: {message}"
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_else(|| panic!("URL: {x}")).to_string())
        .collect()
}

fn envelope(v: &Value, size: usize) {
    assert_eq!(v["stateFacts"], serde_json::json!(["hasSize"]), "{v}");
    assert_eq!(v["size"], size, "{v}");
    assert_eq!(v["elements"].as_array().map(Vec::len), Some(size), "{v}");
    assert!(v["eTag"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
}

on_both_backends! {
    async fn person_and_collections_in_esia_shapes(app: TestApp) {
        let client = app.client("rp", ALL).await;
        let oid = seed(&app, "+79001231002").await;
        let t = token(&app, &client, "+79001231002", ALL).await;
        let p = ok(&app, &format!("/rs/prns/{oid}"), &t).await;
        assert_eq!(p["firstName"], "Иван");
        assert_eq!(p["lastName"], "Иванов");
        assert_eq!(p["middleName"], "Иванович");
        assert_eq!(p["birthDate"], "02.01.1980");
        assert_eq!(p["birthPlace"], "г. Тверь");
        assert_eq!(p["gender"], "M");
        assert_eq!(p["snils"], "112-233-445 95");
        assert_eq!(p["inn"], "500100732259");
        assert_eq!(p["citizenship"], "RUS");
        assert_eq!(p["trusted"], true);
        assert_eq!(p["verifying"], false);
        assert_eq!(p["status"], "REGISTERED");
        assert!(p["updatedOn"].as_i64().is_some_and(|t| t > 0), "{p}");
        let passport_id = p["rIdDoc"].as_str().expect("rIdDoc").to_string();

        let base = app.url("");
        let ctts = ok(&app, &format!("/rs/prns/{oid}/ctts"), &t).await;
        envelope(&ctts, 3);
        assert_eq!(
            strings(&ctts["elements"]),
            ["MBT", "EML", "c1"].map(|id| format!("{base}/rs/prns/{oid}/ctts/{id}"))
        );
        let ctts = ok(&app, &format!("/rs/prns/{oid}/ctts?embed=(elements)"), &t).await;
        envelope(&ctts, 3);
        let mbt = &ctts["elements"][0];
        assert_eq!((mbt["type"].as_str(), mbt["vrfStu"].as_str(), mbt["value"].as_str()), (Some("MBT"), Some("VERIFIED"), Some("+79001231002")));
        assert_eq!(ctts["elements"][1]["type"], "EML");
        assert_eq!(ctts["elements"][1]["value"], "79001231002@example.ru");
        assert_eq!(ctts["elements"][2]["type"], "PHN");
        assert_eq!(ctts["elements"][2]["vrfStu"], "NOT_VERIFIED");
        assert!(ctts["elements"][2]["eTag"].is_string());
        let phn = ok(&app, &format!("/rs/prns/{oid}/ctts/c1"), &t).await;
        assert_eq!((phn["id"].as_str(), phn["value"].as_str()), (Some("c1"), Some("+74951234567")));

        let addrs = ok(&app, &format!("/rs/prns/{oid}/addrs?embed=(elements)"), &t).await;
        envelope(&addrs, 2);
        let prg = &addrs["elements"][0];
        assert_eq!(prg["type"], "PRG");
        assert_eq!(prg["addressStr"], "101000, Москва, ул. Мясницкая, д. 1");
        assert_eq!(prg["countryId"], "RUS");
        assert_eq!(prg["stateFacts"], serde_json::json!(["Identifiable"]), "{prg}");
        assert_eq!(prg["zipCode"], "101000");
        assert_eq!(prg["region"], "Москва");
        assert_eq!(prg["city"], "Москва");
        assert_eq!(prg["street"], "ул. Мясницкая");
        assert_eq!(prg["house"], "1");
        assert_eq!(prg["flat"], "2");
        assert_eq!(addrs["elements"][1]["type"], "PLV");
        assert!(addrs["elements"][1].get("flat").is_none());
        let a2 = ok(&app, &format!("/rs/prns/{oid}/addrs/a2"), &t).await;
        assert_eq!(a2["city"], "Химки");

        // id_doc only: the passport, not the driving licence (no drivers_licence_doc scope).
        let docs = ok(&app, &format!("/rs/prns/{oid}/docs"), &t).await;
        envelope(&docs, 1);
        assert_eq!(strings(&docs["elements"]), [format!("{base}/rs/prns/{oid}/docs/{passport_id}")]);
        let d = ok(&app, &format!("/rs/prns/{oid}/docs/{passport_id}"), &t).await;
        assert_eq!(d["type"], "RF_PASSPORT");
        assert_eq!(d["vrfStu"], "VERIFIED");
        assert_eq!(d["series"], "4508");
        assert_eq!(d["number"], "123456");
        assert_eq!(d["issueDate"], "01.05.2010");
        assert_eq!(d["issueId"], "690-001");
        assert_eq!(d["issuedBy"], "ОВД Тверского района");

        let vhls = ok(&app, &format!("/rs/prns/{oid}/vhls?embed=(elements)"), &t).await;
        envelope(&vhls, 1);
        let v = &vhls["elements"][0];
        assert_eq!((v["id"].as_str(), v["name"].as_str(), v["numberPlate"].as_str()), (Some("v1"), Some("Лада Веста"), Some("А123ВС77")));
        assert_eq!(v["regCertificate"]["series"], "77УВ");
        assert_eq!(v["regCertificate"]["number"], "123456");

        let kids = ok(&app, &format!("/rs/prns/{oid}/kids?embed=(elements)"), &t).await;
        envelope(&kids, 1);
        let k = &kids["elements"][0];
        assert_eq!((k["firstName"].as_str(), k["lastName"].as_str(), k["middleName"].as_str()), (Some("Мария"), Some("Иванова"), Some("Ивановна")));
        assert_eq!(k["birthDate"], "01.06.2015");
        assert_eq!(k["gender"], "F");
        assert_eq!(k["snils"], "112-233-445 95");
        assert!(k.get("inn").is_none());
        assert_eq!(ok(&app, &format!("/rs/prns/{oid}/kids/k1"), &t).await["firstName"], "Мария");

        let orgs = ok(&app, &format!("/rs/prns/{oid}/orgs"), &t).await;
        envelope(&orgs, 1);
        assert_eq!(strings(&orgs["elements"]), [format!("{base}/rs/orgs/{ORG_OID}")]);
        let org = ok(&app, &format!("/rs/orgs/{ORG_OID}"), &t).await;
        assert_eq!(org["oid"], ORG_OID);
        assert_eq!(org["ogrn"], "1027739609391");
        assert_eq!(org["inn"], "7707083893");
        assert_eq!(org["shortName"], "ООО «Ромашка»");
        assert_eq!(org["type"], "LEGAL");
        refused(&get(&app, "/rs/orgs/1000000778", Some(&t), None).await, StatusCode::NOT_FOUND, "not_found");
        let roles = ok(&app, &format!("/rs/prns/{oid}/roles"), &t).await;
        envelope(&roles, 1);
        let r = &roles["elements"][0];
        assert_eq!(r["oid"], ORG_OID);
        assert_eq!(r["fullName"], "Общество с ограниченной ответственностью «Ромашка»");
        assert_eq!(r["ogrn"], "1027739609391");
        assert_eq!((r["chief"].as_bool(), r["admin"].as_bool(), r["active"].as_bool()), (Some(true), Some(true), Some(true)));

        refused(&get(&app, &format!("/rs/prns/{oid}/ctts/nope"), Some(&t), None).await, StatusCode::NOT_FOUND, "not_found");
        refused(&get(&app, &format!("/rs/prns/{oid}/nope"), Some(&t), None).await, StatusCode::NOT_FOUND, "not_found");
    }

    async fn person_embeds_its_collections(app: TestApp) {
        let client = app.client("rp", ALL).await;
        let oid = seed(&app, "+79001231012").await;
        let t = token(&app, &client, "+79001231012", ALL).await;
        let path = format!("/rs/prns/{oid}?embed=(contacts.elements,addresses.elements,documents.elements,vehicles.elements,organizations.elements)");
        let p = ok(&app, &path, &t).await;
        assert_eq!(p["firstName"], "Иван");
        envelope(&p["contacts"], 3);
        assert_eq!(p["contacts"]["elements"][2]["value"], "+74951234567");
        envelope(&p["addresses"], 2);
        assert_eq!(p["addresses"]["elements"][0]["type"], "PRG");
        envelope(&p["documents"], 1);
        assert_eq!(p["documents"]["elements"][0]["id"], p["rIdDoc"]);
        envelope(&p["vehicles"], 1);
        assert_eq!(p["vehicles"]["elements"][0]["numberPlate"], "А123ВС77");
        envelope(&p["organizations"], 1);
        assert_eq!(p["organizations"]["elements"][0]["oid"], ORG_OID);
        assert!(p.get("kids").is_none(), "not asked for");
        let plain = ok(&app, &format!("/rs/prns/{oid}"), &t).await;
        assert!(plain.get("contacts").is_none());
        assert_ne!(plain["eTag"], p["eTag"]);

        // Without the scopes, asked-for sub-collections are left out.
        let narrow = token(&app, &client, "+79001231012", "openid fullname").await;
        let p = ok(&app, &path, &narrow).await;
        for k in ["contacts", "addresses", "documents", "vehicles", "organizations", "birthDate", "snils", "rIdDoc"] {
            assert!(p.get(k).is_none(), "{k} in {p}");
        }
        assert_eq!(p["lastName"], "Иванов");
    }

    async fn scopes_tokens_and_other_people(app: TestApp) {
        let client = app.client("rp", &format!("{ALL} drivers_licence_doc")).await;
        let oid = seed(&app, "+79001231022").await;
        let other = app.user("+79001231033", Level::Confirmed).await;

        // No token, a garbage token: 401 with a Bearer challenge.
        let g = get(&app, &format!("/rs/prns/{oid}"), None, None).await;
        refused(&g, StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(g.challenge.as_deref().is_some_and(|c| c.starts_with("Bearer")), "{:?}", g.challenge);
        refused(&get(&app, &format!("/rs/prns/{oid}/ctts"), Some("not.a.token"), None).await, StatusCode::UNAUTHORIZED, "invalid_token");

        // Mobile only: the person without personal fields, only the mobile among contacts,
        // 403 for every other collection.
        let t = token(&app, &client, "+79001231022", "openid mobile").await;
        let p = ok(&app, &format!("/rs/prns/{oid}"), &t).await;
        for k in ["firstName", "lastName", "birthDate", "gender", "snils", "inn", "citizenship", "rIdDoc"] {
            assert!(p.get(k).is_none(), "{k} in {p}");
        }
        assert_eq!(p["status"], "REGISTERED");
        let ctts = ok(&app, &format!("/rs/prns/{oid}/ctts?embed=(elements)"), &t).await;
        envelope(&ctts, 1);
        assert_eq!(ctts["elements"][0]["type"], "MBT");
        refused(&get(&app, &format!("/rs/prns/{oid}/ctts/c1"), Some(&t), None).await, StatusCode::NOT_FOUND, "not_found");
        for coll in ["addrs", "docs", "kids", "vhls", "orgs", "roles"] {
            let g = get(&app, &format!("/rs/prns/{oid}/{coll}"), Some(&t), None).await;
            refused(&g, StatusCode::FORBIDDEN, "insufficient_scope");
            assert!(g.challenge.as_deref().is_some_and(|c| c.contains("insufficient_scope")));
        }
        refused(&get(&app, "/rs/prns/x/vhls/v1", Some(&t), None).await, StatusCode::FORBIDDEN, "access_denied");
        refused(&get(&app, &format!("/rs/prns/{oid}/vhls/v1"), Some(&t), None).await, StatusCode::FORBIDDEN, "insufficient_scope");
        refused(&get(&app, &format!("/rs/orgs/{ORG_OID}"), Some(&t), None).await, StatusCode::FORBIDDEN, "insufficient_scope");

        // A document scope releases its own type only.
        let t = token(&app, &client, "+79001231022", "openid drivers_licence_doc").await;
        let docs = ok(&app, &format!("/rs/prns/{oid}/docs?embed=(elements)"), &t).await;
        envelope(&docs, 1);
        assert_eq!(docs["elements"][0]["type"], "RF_DRIVING_LICENSE");
        assert_eq!(docs["elements"][0]["series"], "7701");
        assert_eq!(docs["elements"][0]["number"], "654321");
        assert_eq!(docs["elements"][0]["vrfStu"], "VERIFIED");
        assert!(ok(&app, &format!("/rs/prns/{oid}"), &t).await.get("rIdDoc").is_none());

        // Another person's data: 403, whatever the scopes.
        let full = token(&app, &client, "+79001231022", ALL).await;
        for path in [format!("/rs/prns/{other}"), format!("/rs/prns/{other}/ctts"), format!("/rs/prns/{other}/vhls/v1")] {
            refused(&get(&app, &path, Some(&full), None).await, StatusCode::FORBIDDEN, "access_denied");
        }

        // A revoked grant ends the token.
        let resp = reqwest::Client::new()
            .post(app.url("/revoke"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[("token", full.as_str()), ("token_type_hint", "access_token")])
            .send()
            .await
            .expect("revoke");
        assert_eq!(resp.status(), StatusCode::OK);
        refused(&get(&app, &format!("/rs/prns/{oid}"), Some(&full), None).await, StatusCode::UNAUTHORIZED, "invalid_token");
    }

    async fn esia_access_tokens_read_the_person(app: TestApp) {
        let oid = seed(&app, "+79001231052").await;
        let t = esia_token(&app, "+79001231052", "openid fullname birthdate vehicles").await;
        let p = ok(&app, &format!("/rs/prns/{oid}?embed=(vehicles.elements,contacts.elements)"), &t).await;
        assert_eq!(p["lastName"], "Иванов");
        assert_eq!(p["birthDate"], "02.01.1980");
        assert!(p.get("snils").is_none() && p.get("contacts").is_none(), "{p}");
        envelope(&p["vehicles"], 1);
        assert_eq!(p["vehicles"]["elements"][0]["numberPlate"], "А123ВС77");
        refused(&get(&app, &format!("/rs/prns/{oid}/ctts"), Some(&t), None).await, StatusCode::FORBIDDEN, "insufficient_scope");
        let other = app.user("+79001231053", Level::Simplified).await;
        refused(&get(&app, &format!("/rs/prns/{other}"), Some(&t), None).await, StatusCode::FORBIDDEN, "access_denied");
    }

    async fn etags_and_if_none_match(app: TestApp) {
        let client = app.client("rp", ALL).await;
        let oid = seed(&app, "+79001231042").await;
        let t = token(&app, &client, "+79001231042", ALL).await;
        for path in [
            format!("/rs/prns/{oid}"),
            format!("/rs/prns/{oid}/ctts"),
            format!("/rs/prns/{oid}/vhls?embed=(elements)"),
            format!("/rs/prns/{oid}/vhls/v1"),
            format!("/rs/orgs/{ORG_OID}"),
        ] {
            let first = get(&app, &path, Some(&t), None).await;
            assert_eq!(first.status, StatusCode::OK, "{path}");
            let tag = first.etag.clone().expect("ETag");
            let again = get(&app, &path, Some(&t), Some(&tag)).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
            assert_eq!(again.etag.as_deref(), Some(tag.as_str()));
            assert_eq!(again.body, Value::Null);
            let stale = get(&app, &path, Some(&t), Some("\"0000\"")).await;
            assert_eq!(stale.status, StatusCode::OK, "{path}");
            assert_eq!(stale.body, first.body, "{path}: stable content, stable body");
            // Without a token, no 304: the token is checked first.
            assert_eq!(get(&app, &path, None, Some(&tag)).await.status, StatusCode::UNAUTHORIZED);
        }
        // A change gives a new tag.
        let before = get(&app, &format!("/rs/prns/{oid}/vhls"), Some(&t), None).await.etag;
        let mut conn = app.state.db.write().acquire().await.expect("connection");
        profile::add_vehicle(
            &mut conn,
            &oid,
            &Vehicle { id: "v2".into(), name: "УАЗ".into(), number_plate: "В456ОР99".into(), reg_series: None, reg_number: None },
            app.clock.now(),
        )
        .await
        .expect("vehicle");
        drop(conn);
        let after = get(&app, &format!("/rs/prns/{oid}/vhls"), Some(&t), before.as_deref()).await;
        assert_eq!(after.status, StatusCode::OK);
        assert_ne!(after.etag, before);
        envelope(&after.body, 2);
    }
}
