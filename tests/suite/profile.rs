//! The profile over HTTP, on both backends: contacts (mobile and e-mail only after
//! confirmation, codes read from the outbox; a number bound to another account refused
//! neutrally; home phone without confirmation), addresses, vehicles (plate format), children
//! (link codes: wrong, expired, reused, own), organisations (confirmed persons only, OGRN and
//! INN checksums), the claims each scope releases at userinfo through a real code flow, the
//! history of changes, the pages without JavaScript, and account deletion (wrong password
//! changes nothing; the right one ends everything, tells the clients by back-channel logout,
//! and frees the phone for a new registration).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::domain::clients::ClientSpec;
use idp::protocol::acr::Level;
use idp::store::{events, users};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::browser::{hidden, param};
use tests::{Backend, Browser, PASSWORD, TestApp};

use crate::registration::{last_code, last_message, link_in, register_by_phone};

const CB: &str = "https://rp.example/cb";

/// A browser signed in to the provider, with the CSRF token for API changes.
struct Cabinet {
    b: Browser,
    csrf: String,
    base: String,
}

/// An API answer.
struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    /// Asserts a refusal: status, error code, and a message in Russian.
    fn refused(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.body["error"].as_str()),
            (status, Some(code)),
            "{}",
            self.body
        );
        let message = self.body["message"].as_str().unwrap_or("");
        assert!(
            message
                .chars()
                .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c))),
            "a Russian message: {message}"
        );
        self
    }

    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }
}

impl Cabinet {
    /// Signs `login` in through an authorization request of client `client_id`.
    async fn open(app: &TestApp, client_id: &str, login: &str) -> Cabinet {
        let b = app.browser();
        let params = [
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", CB),
            ("state", "s"),
        ];
        let back = b.sign_in(&params, login, PASSWORD).await;
        assert!(param(&back, "code").is_some(), "{back}");
        let mut cab = Cabinet {
            b,
            csrf: String::new(),
            base: app.base.clone(),
        };
        cab.csrf = cab.get("/api/profile").await.ok(200)["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_string();
        cab
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .b
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// The elements of a collection answer.
    async fn list(&self, path: &str) -> Vec<Value> {
        let r = self.get(path).await;
        let body = r.ok(200);
        assert_eq!(
            body["size"].as_u64(),
            Some(body["elements"].as_array().map_or(0, |a| a.len() as u64))
        );
        body["elements"].as_array().cloned().unwrap_or_default()
    }

    /// The value of the contact of type `kind` (the first one).
    async fn contact(&self, kind: &str) -> Option<Value> {
        self.list("/api/profile/contacts")
            .await
            .into_iter()
            .find(|c| c["type"] == kind)
    }
}

/// The history events' summaries, newest first.
async fn history(cab: &Cabinet) -> Vec<Value> {
    cab.list("/api/profile/history").await
}

/// Sets a person's birth date in the store (the harness creates adults).
async fn set_birthdate(app: &TestApp, sub: &str, date: &str) {
    sqlx::query("UPDATE users SET birthdate = $1 WHERE id = $2")
        .bind(date)
        .bind(sub)
        .execute(app.state.db.write())
        .await
        .expect("update");
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(idp::crypto::random_bytes(32));
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

/// The token response of a code flow for `scope` in `b` (logging in as `login` if asked).
async fn tokens(
    app: &TestApp,
    b: &Browser,
    client: (&str, &str),
    scope: &str,
    login: &str,
) -> Value {
    let (verifier, challenge) = pkce();
    let params = [
        ("client_id", client.0),
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
        .basic_auth(client.0, Some(client.1))
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
    resp.json().await.expect("token json")
}

async fn userinfo(app: &TestApp, access_token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An HTTP listener that forwards every POSTed `logout_token`; returns its URL.
async fn logout_listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/bcl",
        axum::routing::post(
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
    let url = format!("http://{}/bcl", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, rx)
}

/// The claims of a JWT, unverified (the tokens suite checks signatures).
fn claims_of(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

async fn next_logout_token(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Value {
    let token = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a logout token within 5 s")
        .expect("listener open");
    claims_of(&token)
}

on_both_backends! {
    async fn contacts_change_only_after_confirmation(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230001", Level::Standard).await;
        let other = app.user("+79001230002", Level::Simplified).await;
        let cab = Cabinet::open(&app, "cab", "+79001230001").await;

        // Without a session: 401; without the CSRF header: 403; both change nothing.
        let anon = reqwest::Client::new().get(app.url("/api/profile/contacts")).send().await.unwrap();
        assert_eq!(anon.status(), 401);
        let no_csrf = cab.b.http.post(app.url("/api/profile/contacts/mobile")).json(&json!({"value": "+79001230099"})).send().await.unwrap();
        assert_eq!(no_csrf.status(), 403);

        // Mobile: a code to the new number; the change waits for it.
        let sent = cab.post("/api/profile/contacts/mobile", json!({"value": "8 (900) 123-00-99"})).await;
        assert_eq!(sent.ok(202)["sent_to"], "+79001230099");
        assert_eq!(cab.contact("MBT").await.unwrap()["value"], "+79001230001", "not applied before confirmation");
        let code = last_code(&app, "+79001230099").await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = cab.post("/api/profile/contacts/mobile/confirm", json!({"code": wrong})).await;
        r.refused(400, "wrong_code");
        assert!(r.body["message"].as_str().unwrap().contains("Осталось попыток: 2"), "{}", r.body);
        assert_eq!(cab.contact("MBT").await.unwrap()["value"], "+79001230001");
        cab.post("/api/profile/contacts/mobile/confirm", json!({"code": code})).await.ok(200);
        let mbt = cab.contact("MBT").await.unwrap();
        assert_eq!((mbt["value"].as_str(), mbt["vrfStu"].as_str()), (Some("+79001230099"), Some("VERIFIED")));
        assert!(last_message(&app, "+79001230001").await.body.contains("изменён"), "the old number is told");
        // The used code is spent.
        cab.post("/api/profile/contacts/mobile/confirm", json!({"code": code})).await.refused(400, "code_used_up");
        // The new number logs in.
        Cabinet::open(&app, "cab", "+7 900 123 00 99").await;

        // A number bound to another account: the same answer when asked, a neutral refusal
        // after the code proves possession, and nothing changes on either account.
        app.clock.advance(61);
        let taken = cab.post("/api/profile/contacts/mobile", json!({"value": "+79001230002"})).await;
        assert_eq!(taken.ok(202)["sent_to"], "+79001230002");
        let code = last_code(&app, "+79001230002").await;
        let r = cab.post("/api/profile/contacts/mobile/confirm", json!({"code": code})).await;
        r.refused(409, "contact_unavailable");
        let message = r.body["message"].as_str().unwrap();
        assert!(!message.contains("+7900") && !message.contains("занят") && !message.contains("другой учётн"), "{message}");
        assert_eq!(cab.contact("MBT").await.unwrap()["value"], "+79001230099");
        let b_user = users::by_id(&app.state.db, &other).await.unwrap().unwrap();
        assert_eq!(b_user.person.phone.as_deref(), Some("+79001230002"));

        // E-mail by code.
        cab.post("/api/profile/contacts/email", json!({"value": "Ivan.New@Example.RU"})).await.ok(202);
        let code = last_code(&app, "ivan.new@example.ru").await;
        cab.post("/api/profile/contacts/email/confirm", json!({"code": code})).await.ok(200);
        assert_eq!(cab.contact("EML").await.unwrap()["value"], "ivan.new@example.ru");

        // E-mail by link, opened in another browser without a session.
        app.clock.advance(61);
        cab.post("/api/profile/contacts/email", json!({"value": "link@example.ru", "method": "link"})).await.ok(202);
        let link = link_in(&last_message(&app, "link@example.ru").await.body);
        let other_browser = app.browser();
        let (_, status, html) = other_browser.visit(&link).await.page();
        assert_eq!(status, 200, "{html}");
        assert_eq!(cab.contact("EML").await.unwrap()["value"], "ivan.new@example.ru", "opening the link changes nothing");
        let form = [("u", hidden(&html, "u")), ("token", hidden(&html, "token")), ("csrf", hidden(&html, "csrf"))];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, status, html) = other_browser.post_form("/profile/contacts/email-link", &form).await.page();
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("link@example.ru"));
        assert_eq!(cab.contact("EML").await.unwrap()["value"], "link@example.ru");
        let (_, status, html) = other_browser.post_form("/profile/contacts/email-link", &form).await.page();
        assert_eq!(status, 400, "a link works once: {html}");

        // Home phone: no confirmation; a bad number and a mobile via this route are refused.
        let phn = cab.post("/api/profile/contacts", json!({"type": "PHN", "value": "8 (495) 123-45-67"})).await;
        let phn = phn.ok(201).clone();
        assert_eq!((phn["value"].as_str(), phn["vrfStu"].as_str()), (Some("+74951234567"), Some("NOT_VERIFIED")));
        cab.post("/api/profile/contacts", json!({"type": "PHN", "value": "12-34"})).await.refused(422, "invalid_data");
        cab.post("/api/profile/contacts", json!({"type": "MBT", "value": "+79001230077"})).await.refused(422, "invalid_data");
        cab.post("/api/profile/contacts", json!({"type": "PHN", "value": "+74951234567"})).await.refused(409, "duplicate");
        let id = phn["id"].as_str().unwrap();
        cab.send(Method::DELETE, &format!("/api/profile/contacts/{id}"), None).await.ok(200);
        assert!(cab.contact("PHN").await.is_none());
    }

    async fn addresses_and_vehicles(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230011", Level::Simplified).await;
        let cab = Cabinet::open(&app, "cab", "+79001230011").await;
        let prg = json!({"zip_code": "101000", "region": "Москва", "city": "Москва", "street": "ул. Мясницкая", "house": "1", "flat": "2"});
        let a = cab.send(Method::PUT, "/api/profile/addresses/PRG", Some(prg)).await;
        assert_eq!(a.ok(200)["addressStr"], "101000, Москва, ул. Мясницкая, д. 1, кв. 2");
        let plv = json!({"region": "Московская обл.", "city": "Химки", "street": "ул. Ленина", "house": "5", "fias_code": "0C5B2444-70A0-4932-980C-B4DC0D3F02B5"});
        cab.send(Method::PUT, "/api/profile/addresses/plv", Some(plv)).await.ok(200);
        let bad = cab.send(Method::PUT, "/api/profile/addresses/PLV", Some(json!({"zip_code": "1234", "region": ""}))).await;
        bad.refused(422, "invalid_data");
        let fields: Vec<&str> = bad.body["fields"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
        assert_eq!(fields, ["zip_code", "region", "city"]);
        cab.send(Method::PUT, "/api/profile/addresses/XYZ", Some(json!({"region": "Москва", "city": "Москва"}))).await.refused(422, "invalid_data");
        let all = cab.list("/api/profile/addresses").await;
        assert_eq!(all.len(), 2);
        let plv = all.iter().find(|a| a["type"] == "PLV").unwrap();
        assert_eq!(plv["city"], "Химки", "the refused change left the old address");
        assert_eq!(plv["fiasCode"], "0c5b2444-70a0-4932-980c-b4dc0d3f02b5");
        cab.send(Method::DELETE, "/api/profile/addresses/PLV", None).await.ok(200);
        assert_eq!(cab.list("/api/profile/addresses").await.len(), 1);

        // Vehicles: Latin look-alikes become Cyrillic; a bad plate or half a certificate is refused.
        let v = cab.post("/api/profile/vehicles", json!({"name": "Лада Веста", "number_plate": "a123bc 77", "reg_series": "77 ув", "reg_number": "123456"})).await;
        let v = v.ok(201).clone();
        assert_eq!(v["numberPlate"], "А123ВС77");
        assert_eq!(v["regCertificate"], json!({"series": "77УВ", "number": "123456"}));
        for (plate, field) in [("Б123ВС77", "number_plate"), ("А000ВС77", "number_plate"), ("А123ВС7", "number_plate"), ("АВС12377", "number_plate")] {
            let r = cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": plate})).await;
            r.refused(422, "invalid_data");
            assert_eq!(r.body["fields"][0]["field"], field, "{plate}");
            assert!(r.body["message"].as_str().unwrap().contains("Госномер"), "{}", r.body);
        }
        cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": "Х001ХХ799", "reg_series": "77УВ"})).await.refused(422, "invalid_data");
        cab.post("/api/profile/vehicles", json!({"name": "Другая", "number_plate": "А123ВС77"})).await.refused(409, "duplicate");
        assert_eq!(cab.list("/api/profile/vehicles").await.len(), 1, "refusals add nothing");
        let id = v["id"].as_str().unwrap();
        cab.send(Method::DELETE, &format!("/api/profile/vehicles/{id}"), None).await.ok(200);
        cab.send(Method::DELETE, &format!("/api/profile/vehicles/{id}"), None).await.refused(404, "not_found");
        assert!(cab.list("/api/profile/vehicles").await.is_empty());
    }

    async fn children_are_linked_by_a_single_use_code(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230021", Level::Standard).await;
        let child_sub = app.user("+79001230022", Level::Simplified).await;
        let parent = Cabinet::open(&app, "cab", "+79001230021").await;
        let child = Cabinet::open(&app, "cab", "+79001230022").await;

        let code = parent.post("/api/profile/kids/link-code", json!({})).await.ok(201)["code"].as_str().unwrap().to_string();
        // The harness's people are born in 1980: an adult's account is no child's.
        child.post("/api/profile/kids/link", json!({"code": code})).await.refused(400, "cannot_link");
        set_birthdate(&app, &child_sub, "2012-09-01").await;
        let (oid, digits) = code.split_once('-').expect("oid-digits");
        assert_eq!(digits.len(), 6);
        let wrong = format!("{oid}-{}", if digits == "000000" { "111111" } else { "000000" });
        let r = child.post("/api/profile/kids/link", json!({"code": wrong})).await;
        r.refused(400, "wrong_code");
        assert!(r.body["message"].as_str().unwrap().contains("Осталось попыток: 2"));
        child.post("/api/profile/kids/link", json!({"code": "12345"})).await.refused(422, "invalid_data");
        assert!(parent.list("/api/profile/kids").await.is_empty(), "nothing linked by refusals");
        parent.post("/api/profile/kids/link", json!({"code": code})).await.refused(400, "cannot_link");

        child.post("/api/profile/kids/link", json!({"code": code})).await.ok(200);
        let kids = parent.list("/api/profile/kids").await;
        assert_eq!(kids.len(), 1);
        assert_eq!((kids[0]["firstName"].as_str(), kids[0]["hasAccount"].as_bool()), (Some("Иван"), Some(true)));
        // Reused: refused, nothing added.
        child.post("/api/profile/kids/link", json!({"code": code})).await.refused(400, "code_used_up");
        assert_eq!(parent.list("/api/profile/kids").await.len(), 1);

        // A new code too soon is refused; later one is issued, and it expires after 10 minutes.
        parent.post("/api/profile/kids/link-code", json!({})).await.refused(429, "too_soon");
        app.clock.advance(31);
        let code = parent.post("/api/profile/kids/link-code", json!({})).await.ok(201)["code"].as_str().unwrap().to_string();
        app.clock.advance(601);
        child.post("/api/profile/kids/link", json!({"code": code})).await.refused(400, "code_expired");
        // The child's own history says whom it was linked to.
        let h = history(&child).await;
        assert_eq!(h[0]["detail"]["field"], "parents");

        // A child without an account: a record with checked SNILS and INN.
        let bad = parent.post("/api/profile/kids", json!({"surname": "Иванова", "given_name": "Мария", "birthdate": "2015-06-01", "snils": "112-233-445 96"})).await;
        bad.refused(422, "invalid_data");
        assert_eq!(bad.body["fields"][0]["field"], "snils");
        parent.post("/api/profile/kids", json!({"surname": "Иванова", "given_name": "Мария", "birthdate": "1990-06-01"})).await.refused(422, "invalid_data");
        let rec = parent.post("/api/profile/kids", json!({"surname": "Иванова", "given_name": "Мария", "birthdate": "2015-06-01", "gender": "F", "snils": "112-233-445 95"})).await;
        assert_eq!(rec.ok(201)["snils"], "112-233-445 95");
        let kids = parent.list("/api/profile/kids").await;
        assert_eq!(kids.len(), 2);
        // Removing the link leaves the child's account.
        let linked = kids.iter().find(|k| k["hasAccount"] == true).unwrap()["id"].as_str().unwrap().to_string();
        parent.send(Method::DELETE, &format!("/api/profile/kids/{linked}"), None).await.ok(200);
        assert_eq!(parent.list("/api/profile/kids").await.len(), 1);
        assert!(users::by_id(&app.state.db, &child_sub).await.unwrap().is_some());
    }

    async fn organisations_need_a_confirmed_account_and_valid_numbers(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230031", Level::Standard).await;
        app.user("+79001230033", Level::Confirmed).await;
        app.user("+79001230034", Level::Confirmed).await;
        let org = json!({"ogrn": "1027700132195", "inn": "7707083893", "full_name": "ПАО «Сбербанк России»", "short_name": "Сбербанк", "role": "admin"});

        let standard = Cabinet::open(&app, "cab", "+79001230031").await;
        let r = standard.post("/api/profile/orgs", org.clone()).await;
        r.refused(403, "account_not_confirmed");
        assert!(r.body["message"].as_str().unwrap().contains("подтверждённой учётной записью"));
        assert!(standard.list("/api/profile/orgs").await.is_empty());

        let chief = Cabinet::open(&app, "cab", "+79001230033").await;
        let mut bad = org.clone();
        bad["ogrn"] = "1027700132194".into();
        let r = chief.post("/api/profile/orgs", bad).await;
        r.refused(422, "invalid_data");
        assert_eq!(r.body["fields"][0]["field"], "ogrn");
        assert!(r.body["message"].as_str().unwrap().contains("ОГРН"));
        let mut bad = org.clone();
        bad["inn"] = "7707083894".into();
        chief.post("/api/profile/orgs", bad).await.refused(422, "invalid_data");
        let mut bad = org.clone();
        bad["inn"] = "500100732259".into();
        let r = chief.post("/api/profile/orgs", bad).await;
        r.refused(422, "invalid_data");
        assert_eq!(r.body["fields"][0]["field"], "inn", "a person's INN is not an organisation's");
        let mut bad = org.clone();
        bad["role"] = "owner".into();
        chief.post("/api/profile/orgs", bad).await.refused(422, "invalid_data");
        assert!(chief.list("/api/profile/orgs").await.is_empty(), "refusals register nothing");

        let made = chief.post("/api/profile/orgs", org.clone()).await;
        let made = made.ok(201).clone();
        assert_eq!((made["ogrn"].as_str(), made["admin"].as_bool(), made["chief"].as_bool()), (Some("1027700132195"), Some(true), Some(false)));
        let other = Cabinet::open(&app, "cab", "+79001230034").await;
        other.post("/api/profile/orgs", org).await.refused(409, "organization_registered");
        let oid = made["oid"].as_i64().unwrap();
        assert_eq!(chief.list("/api/profile/orgs").await.len(), 1);
        chief.send(Method::DELETE, &format!("/api/profile/orgs/{oid}"), None).await.ok(200);
        assert!(chief.list("/api/profile/orgs").await.is_empty());
    }

    async fn claims_are_released_for_each_scope_at_userinfo(app: TestApp) {
        let all = "openid contacts address addresses vehicles kid_fullname kid_birthdate kid_gender kid_snils kid_inn usr_org org_shortname org_ogrn org_inn";
        let (id, secret) = app.client("rp", all).await;
        app.user("+79001230043", Level::Confirmed).await;
        // A standard child whose account has a SNILS (the harness gives one to phones ending in 2).
        let kid_sub = app.user("+79001230042", Level::Standard).await;
        set_birthdate(&app, &kid_sub, "2010-03-04").await;
        let me = Cabinet::open(&app, "rp", "+79001230043").await;
        let kid = Cabinet::open(&app, "rp", "+79001230042").await;
        me.post("/api/profile/contacts", json!({"type": "PHN", "value": "+74951234567"})).await.ok(201);
        me.send(Method::PUT, "/api/profile/addresses/PRG", Some(json!({"zip_code": "101000", "region": "Москва", "street": "ул. Мясницкая", "house": "1"}))).await.ok(200);
        me.send(Method::PUT, "/api/profile/addresses/PLV", Some(json!({"zip_code": "141400", "region": "Московская обл.", "city": "Химки", "street": "ул. Ленина", "house": "5", "flat": "7"}))).await.ok(200);
        me.post("/api/profile/vehicles", json!({"name": "Лада Веста", "number_plate": "А123ВС77", "reg_series": "77УВ", "reg_number": "123456"})).await.ok(201);
        me.post("/api/profile/kids", json!({"surname": "Иванова", "given_name": "Мария", "birthdate": "2015-06-01", "gender": "F", "snils": "112-233-445 95", "inn": "500100732259"})).await.ok(201);
        app.clock.advance(1); // the linked child comes second in the list
        let code = me.post("/api/profile/kids/link-code", json!({})).await.ok(201)["code"].as_str().unwrap().to_string();
        kid.post("/api/profile/kids/link", json!({"code": code})).await.ok(200);
        me.post("/api/profile/orgs", json!({"ogrn": "1027739609391", "inn": "7707083893", "full_name": "Общество с ограниченной ответственностью «Ромашка»", "short_name": "ООО «Ромашка»", "role": "chief"})).await.ok(201);

        let t = tokens(&app, &me.b, (&id, &secret), all, "+79001230043").await;
        let (status, c) = userinfo(&app, t["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{c}");
        let types: Vec<&str> = c["contacts"].as_array().unwrap().iter().filter_map(|x| x["type"].as_str()).collect();
        assert_eq!(types, ["MBT", "EML", "PHN"]);
        assert_eq!(c["contacts"][0]["vrfStu"], "VERIFIED");
        assert_eq!(c["contacts"][2]["vrfStu"], "NOT_VERIFIED");
        assert_eq!(c["addresses"].as_array().unwrap().len(), 2);
        assert_eq!(c["addresses"][0]["type"], "PRG");
        assert_eq!(c["addresses"][0]["addressStr"], "101000, Москва, ул. Мясницкая, д. 1");
        assert_eq!(c["address"]["locality"], "Химки", "OIDC address: the residence");
        assert_eq!(c["address"]["street_address"], "ул. Ленина, д. 5, кв. 7");
        assert_eq!(c["address"]["postal_code"], "141400");
        assert_eq!(c["vehicles"][0]["numberPlate"], "А123ВС77");
        assert_eq!(c["vehicles"][0]["regCertificate"]["series"], "77УВ");
        let kids = c["kids"].as_array().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0]["lastName"], "Иванова");
        assert_eq!(kids[0]["birthDate"], "01.06.2015");
        assert_eq!(kids[0]["gender"], "F");
        assert_eq!(kids[0]["snils"], "112-233-445 95");
        assert_eq!(kids[0]["inn"], "500100732259");
        assert_eq!(kids[1]["firstName"], "Иван", "the linked child's own account");
        assert_eq!(kids[1]["birthDate"], "04.03.2010");
        assert_eq!(kids[1]["snils"], "112-233-445 95", "a standard child's verified SNILS");
        assert_eq!(c["usr_org"][0]["ogrn"], "1027739609391");
        assert_eq!(c["usr_org"][0]["shortName"], "ООО «Ромашка»");
        assert_eq!((c["usr_org"][0]["chief"].as_bool(), c["usr_org"][0]["admin"].as_bool()), (Some(true), Some(true)));
        assert_eq!(c["organizations"][0]["inn"], "7707083893");
        assert_eq!(c["organizations"][0]["ogrn"], "1027739609391");

        // Each scope releases only its own: one scope, one claim.
        for (scope, claim) in [("vehicles", "vehicles"), ("contacts", "contacts"), ("usr_org", "usr_org"), ("kid_birthdate", "kids")] {
            let t = tokens(&app, &me.b, (&id, &secret), &format!("openid {scope}"), "+79001230043").await;
            let (_, c) = userinfo(&app, t["access_token"].as_str().unwrap()).await;
            for other in ["contacts", "addresses", "address", "vehicles", "kids", "usr_org", "organizations"] {
                assert_eq!(c.get(other).is_some(), other == claim, "scope {scope}: claim {other} in {c}");
            }
            if scope == "kid_birthdate" {
                assert!(c["kids"][0].get("lastName").is_none() && c["kids"][0].get("snils").is_none(), "{c}");
                assert_eq!(c["kids"][0]["birthDate"], "01.06.2015");
            }
        }
    }

    async fn history_lists_every_change_with_time_and_source(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230051", Level::Simplified).await;
        let cab = Cabinet::open(&app, "cab", "+79001230051").await;
        let t0 = app.clock.now();
        cab.send(Method::PUT, "/api/profile/addresses/PRG", Some(json!({"region": "Москва", "city": "Москва"}))).await.ok(200);
        app.clock.advance(10);
        cab.send(Method::PUT, "/api/profile/addresses/PRG", Some(json!({"region": "Тверская обл.", "city": "Тверь"}))).await.ok(200);
        app.clock.advance(10);
        let v = cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": "Х001ХХ99"})).await.ok(201)["id"].as_str().unwrap().to_string();
        app.clock.advance(10);
        cab.send(Method::DELETE, &format!("/api/profile/vehicles/{v}"), None).await.ok(200);
        // A refusal is not a change.
        cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": "bad"})).await.refused(422, "invalid_data");

        let h = history(&cab).await;
        assert_eq!(h.len(), 4, "{h:?}");
        let summaries: Vec<&str> = h.iter().map(|e| e["summary"].as_str().unwrap()).collect();
        assert_eq!(summaries, ["Удалено транспортное средство", "Добавлено транспортное средство", "Изменён адрес регистрации", "Изменён адрес регистрации"]);
        assert_eq!(h[2]["detail"], json!({"field": "registration_address", "old": "Москва", "new": "Тверская обл., Тверь"}));
        assert_eq!(h[3]["detail"]["old"], Value::Null);
        assert_eq!(h[1]["detail"]["new"]["numberPlate"], "Х001ХХ99");
        let times: Vec<i64> = h.iter().map(|e| e["time"].as_i64().unwrap()).collect();
        assert!(times[3] >= t0 && times.windows(2).all(|w| w[0] - w[1] >= 10), "{times:?}");
        assert!(h.iter().all(|e| e["source"] == "user"));

        // The same history as a page.
        let (_, status, html) = cab.b.visit(&app.url("/profile/history")).await.page();
        assert_eq!(status, 200);
        assert!(html.contains("Изменён адрес регистрации") && html.contains("Москва → Тверская обл., Тверь"), "{html}");
    }

    async fn pages_work_without_javascript(app: TestApp) {
        app.client("cab", "openid").await;
        app.user("+79001230061", Level::Simplified).await;
        let anon = app.browser();
        let (_, status, html) = anon.visit(&app.url("/profile/vehicles")).await.page();
        assert_eq!(status, 401);
        assert!(html.contains("Войдите"), "{html}");

        let cab = Cabinet::open(&app, "cab", "+79001230061").await;
        let (_, status, html) = cab.b.visit(&app.url("/profile/vehicles")).await.page();
        assert_eq!(status, 200);
        assert!(!html.contains("<script>") && !html.contains(" style=\""));
        let csrf = hidden(&html, "csrf");
        let form = |plate: &'static str| [("csrf", csrf.as_str()), ("action", "add"), ("name", "Лада"), ("number_plate", plate)];
        let (_, status, html) = cab.b.post_form("/profile/vehicles", &form("Б123ВС77")).await.page();
        assert_eq!(status, 400);
        assert!(html.contains("Госномер в формате") && html.contains("role=\"alert\""), "{html}");
        let (url, status, html) = cab.b.post_form("/profile/vehicles", &form("а123вс77")).await.page();
        assert_eq!(status, 200);
        assert!(url.contains("done=saved") && html.contains("А123ВС77") && html.contains("Изменения сохранены"), "{url}: {html}");
        // A forged form (no valid CSRF token) changes nothing.
        let (_, status, _) = cab.b.post_form("/profile/vehicles", &[("csrf", "forged"), ("action", "add"), ("name", "Нива"), ("number_plate", "Х001ХХ99")]).await.page();
        assert_eq!(status, 403);
        assert_eq!(cab.list("/api/profile/vehicles").await.len(), 1);
        // English on request; the mobile change asks for the code on the page.
        let (_, _, html) = cab.b.visit(&app.url("/profile/contacts?lang=en")).await.page();
        assert!(html.contains("Change the mobile phone"));
        let csrf = hidden(&html, "csrf");
        let (_, status, html) = cab.b.post_form("/profile/contacts", &[("csrf", &csrf), ("action", "mobile"), ("value", "+79001230069")]).await.page();
        assert_eq!(status, 200);
        assert!(html.contains("value=\"mobile_confirm\"") && html.contains("+79001230069"), "{html}");
        let code = last_code(&app, "+79001230069").await;
        let (url, _, html) = cab.b.post_form("/profile/contacts", &[("csrf", &csrf), ("action", "mobile_confirm"), ("code", &code)]).await.page();
        assert!(url.contains("done=confirmed") && html.contains("+79001230069"), "{html}");
        // Organisations: a simplified account sees why it cannot register one.
        let (_, _, html) = cab.b.visit(&app.url("/profile/orgs")).await.page();
        assert!(html.contains("подтверждённой учётной записью") && !html.contains("value=\"register\""));
    }

    async fn deletion_with_a_wrong_password_changes_nothing(app: TestApp) {
        let (id, secret) = app.client("rp", "openid vehicles").await;
        let sub = app.user("+79001230071", Level::Standard).await;
        let cab = Cabinet::open(&app, "rp", "+79001230071").await;
        cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": "Х001ХХ99"})).await.ok(201);
        let t = tokens(&app, &cab.b, (&id, &secret), "openid vehicles", "+79001230071").await;
        let r = cab.post("/api/profile/delete", json!({"password": "Not-the-passw0rd!"})).await;
        r.refused(403, "wrong_password");
        assert_eq!(r.body["message"], "Неверный пароль.");
        let no_csrf = cab.b.http.post(app.url("/api/profile/delete")).json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(no_csrf.status(), 403, "deletion needs the CSRF header");
        assert!(users::by_id(&app.state.db, &sub).await.unwrap().is_some());
        assert_eq!(cab.list("/api/profile/vehicles").await.len(), 1);
        let (status, c) = userinfo(&app, t["access_token"].as_str().unwrap()).await;
        assert_eq!((status, c["vehicles"][0]["numberPlate"].as_str()), (200, Some("Х001ХХ99")));
    }

    async fn deletion_is_final_and_tells_the_clients(app: TestApp) {
        let (uri_a, mut bcl_a) = logout_listener().await;
        let (uri_b, mut bcl_b) = logout_listener().await;
        for (id, uri) in [("rp-a", uri_a), ("rp-b", uri_b)] {
            app.client_spec(ClientSpec {
                id: id.into(),
                name: id.into(),
                secret: Some(format!("{id}-secret-0123456789abcdef")),
                redirect_uris: vec![CB.into()],
                scopes: "openid vehicles offline_access".into(),
                backchannel_logout_uri: Some(uri),
                ..ClientSpec::default()
            })
            .await;
        }
        let a = ("rp-a", "rp-a-secret-0123456789abcdef");
        let b = ("rp-b", "rp-b-secret-0123456789abcdef");
        let phone = "+79001230081";
        let sub = app.user(phone, Level::Standard).await;

        // Browser 2: an offline grant to rp-b whose session then ends by logout.
        let other = app.browser();
        let offline = tokens(&app, &other, b, "openid offline_access", phone).await;
        let hint = offline["id_token"].as_str().unwrap();
        let logout = url::Url::parse_with_params(&app.url("/logout"), &[("id_token_hint", hint)]).unwrap();
        other.visit(logout.as_str()).await.page();
        let first = next_logout_token(&mut bcl_b).await;
        let offline_sid = claims_of(hint)["sid"].as_str().unwrap().to_string();
        assert_eq!(first["sid"], offline_sid.as_str());
        let refreshed = reqwest::Client::new().post(app.url("/token")).basic_auth(b.0, Some(b.1))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", offline["refresh_token"].as_str().unwrap())]).send().await.unwrap();
        assert_eq!(refreshed.status(), 200, "the offline grant outlives the session");
        let offline_rt: Value = refreshed.json().await.unwrap();

        // Browser 1: a live session with a grant to rp-a, and some profile data.
        let cab = Cabinet::open(&app, "rp-a", phone).await;
        let live = tokens(&app, &cab.b, a, "openid vehicles", phone).await;
        let live_sid = claims_of(live["id_token"].as_str().unwrap())["sid"].as_str().unwrap().to_string();
        cab.post("/api/profile/vehicles", json!({"name": "Нива", "number_plate": "Х001ХХ99"})).await.ok(201);
        cab.post("/api/profile/kids", json!({"surname": "Иванова", "given_name": "Мария", "birthdate": "2015-06-01"})).await.ok(201);

        cab.post("/api/profile/delete", json!({"password": PASSWORD})).await.ok(200);

        // Both clients are told: rp-a for the live session, rp-b for the offline grant.
        let to_a = next_logout_token(&mut bcl_a).await;
        assert_eq!((to_a["sub"].as_str(), to_a["sid"].as_str(), to_a["aud"].as_str()), (Some(sub.as_str()), Some(live_sid.as_str()), Some("rp-a")));
        let to_b = next_logout_token(&mut bcl_b).await;
        assert_eq!((to_b["sub"].as_str(), to_b["sid"].as_str()), (Some(sub.as_str()), Some(offline_sid.as_str())));
        assert_eq!(to_b["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));

        // Tokens are dead, the session is gone, the password no longer logs in.
        let (status, _) = userinfo(&app, live["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 401);
        let (status, _) = userinfo(&app, offline_rt["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 401);
        let again = reqwest::Client::new().post(app.url("/token")).basic_auth(b.0, Some(b.1))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", offline_rt["refresh_token"].as_str().unwrap())]).send().await.unwrap();
        assert_eq!(again.status(), 400);
        assert_eq!(cab.get("/api/profile").await.status, 401);
        let fresh = app.browser();
        let first = fresh.authorize(&[("client_id", "rp-a"), ("response_type", "code"), ("scope", "openid"), ("redirect_uri", CB), ("state", "s")]).await;
        let (_, _, html) = first.page();
        let (_, status, _) = fresh.submit_login(&html, phone, PASSWORD, false).await.page();
        assert_eq!(status, 401, "login fails after deletion");

        // The personal data is gone; only a tombstone without personal data stays.
        assert!(users::by_id(&app.state.db, &sub).await.unwrap().is_none());
        let left = events::list(&app.state.db, &sub, None, 100).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].kind.as_str(), left[0].detail.as_deref()), ("account", None));
        assert!(last_message(&app, phone).await.body.contains("удалена"), "the owner is told");

        // The phone is free: a new registration starts from scratch.
        app.clock.advance(1); // the registration code is the newest message to the phone
        let reg = app.browser();
        let (_, status, html) = register_by_phone(&app, &reg, phone, "").await.page();
        assert_eq!(status, StatusCode::OK, "{html}");
        let reborn = users::by_login(&app.state.db, &idp::domain::identifiers::Login::Phone(phone.into())).await.unwrap().expect("registered again");
        assert_ne!(reborn.id, sub);
        assert_eq!(reborn.level, Level::Simplified);
        let r = reg.http.get(app.url("/api/profile")).send().await.unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!((body["vehicles"]["size"].as_u64(), body["kids"]["size"].as_u64()), (Some(0), Some(0)), "{body}");
    }
}
