//! Identity verification over HTTP: the standard level through the (simulated) state
//! registries as durable jobs — success, mismatch, timeout with retries, a job surviving a
//! restart — the confirmed level by registered-mail code, by an operator and by electronic
//! signature, refusals of malformed data, and data changes sending the account back to
//! verification with `acr` and claims following at once.
//!
//! The job worker is switched off here (`verification.worker = false`) and jobs are run with
//! `run_due_jobs`, so every step is deterministic; one test leaves the worker on.

use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::domain::jobs::run_due_jobs;
use idp::domain::verification::confirm::{self, ConfirmError};
use idp::protocol::acr::Level;
use idp::store::{events, jobs, outbox};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::param;
use tests::{Backend, Browser, Options, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";
const SCOPES: &str = "openid fullname snils inn id_doc drivers_licence_doc";
const SNILS: &str = "112-233-445 95";

async fn start(backend: Backend) -> TestApp {
    let app = TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(|c| c.verification.worker = false)),
    })
    .await;
    register_rp(&app).await;
    app
}

/// The relying party used to sign in and to read claims (registered by `start`).
const RP_SECRET: &str = "rp-secret-for-verification-tests";

/// A person signed in to the provider, with the CSRF token for API changes.
struct Citizen {
    browser: Browser,
    sub: String,
    phone: String,
    email: String,
    csrf: String,
}

async fn register_rp(app: &TestApp) {
    app.client_spec(idp::domain::clients::ClientSpec {
        id: "rp".into(),
        name: "Сайт rp".into(),
        secret: Some(RP_SECRET.into()),
        redirect_uris: vec![CB.into()],
        scopes: SCOPES.into(),
        ..Default::default()
    })
    .await;
}

fn rp() -> (String, String) {
    ("rp".into(), RP_SECRET.into())
}

/// Signs the person in again (after the clock moved past the session's lifetime).
async fn relogin(c: &Citizen) {
    let back = c
        .browser
        .sign_in(&auth_params("openid"), &c.phone, PASSWORD)
        .await;
    assert!(param(&back, "code").is_some(), "{back}");
}

fn doc(kind: &str, number: &str, verification: &str) -> (String, String, String) {
    (kind.into(), number.into(), verification.into())
}

/// Creates a person at `level` and signs them in through an authorization request.
async fn citizen(app: &TestApp, phone: &str, level: Level) -> Citizen {
    let sub = app.user(phone, level).await;
    let browser = app.browser();
    let back = browser
        .sign_in(&auth_params("openid"), phone, PASSWORD)
        .await;
    assert!(param(&back, "code").is_some(), "{back}");
    let me: Value = browser
        .http
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    Citizen {
        browser,
        sub,
        phone: phone.into(),
        email: format!("{}@example.ru", phone.trim_start_matches('+')),
        csrf: me["csrf_token"].as_str().expect("csrf_token").to_string(),
    }
}

fn auth_params(scope: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", "rp"),
        ("response_type", "code"),
        ("scope", scope),
        ("redirect_uri", CB),
        ("state", "s"),
        ("nonce", "n"),
    ]
}

/// POSTs JSON with the session cookie and the CSRF header.
async fn post(app: &TestApp, c: &Citizen, path: &str, body: &Value) -> (StatusCode, Value) {
    let resp = c
        .browser
        .http
        .post(app.url(path))
        .header("x-csrf-token", &c.csrf)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn me(app: &TestApp, c: &Citizen) -> Value {
    let resp = c
        .browser
        .http
        .get(app.url("/api/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("json")
}

/// A well-formed submission for the standard level.
fn identity(surname: &str, snils: &str, series: &str, number: &str) -> Value {
    json!({
        "surname": surname,
        "birthdate": "1980-01-02",
        "birthplace": "г. Тверь",
        "gender": "M",
        "citizenship": "RUS",
        "snils": snils,
        "inn": "500100732259",
        "passport": {
            "series": series,
            "number": number,
            "issue_date": "2010-05-01",
            "issued_by": "ОВД Тверского района",
            "issuer_code": "690-001"
        }
    })
}

async fn submit(app: &TestApp, c: &Citizen, body: &Value) -> Value {
    let (status, reply) = post(app, c, "/api/identity", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    reply
}

async fn run_jobs(app: &TestApp) -> usize {
    run_due_jobs(&app.state).await.expect("job round")
}

/// Takes a simplified person to the standard level through the registry.
async fn verified(app: &TestApp, phone: &str) -> Citizen {
    let c = citizen(app, phone, Level::Simplified).await;
    submit(app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
    assert_eq!(run_jobs(app).await, 1);
    assert_eq!(me(app, &c).await["level"], "standard");
    c
}

/// Subjects of the e-mails sent to `to`, newest first.
async fn mail_subjects(app: &TestApp, to: &str) -> Vec<String> {
    outbox::list(&app.state.db, Some(to), 50)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

async fn verification_events(app: &TestApp, sub: &str) -> Vec<events::Event> {
    events::list(&app.state.db, sub, Some("verification"), 50)
        .await
        .expect("events")
}

/// A code flow on the person's browser: (ID token claims, userinfo).
async fn claims(
    app: &TestApp,
    client: &(String, String),
    browser: &Browser,
    login: &str,
    scope: &str,
) -> (Value, Value) {
    let back = browser.sign_in(&auth_params(scope), login, PASSWORD).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let tokens: Value = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let payload = id_token.split('.').nth(1).expect("payload");
    let id: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("claims");
    let info: Value = reqwest::Client::new()
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access_token"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("userinfo json");
    (id, info)
}

fn documents_of(me: &Value) -> Vec<(String, String, String)> {
    me["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap_or_default().to_string(),
                d["number"].as_str().unwrap_or_default().to_string(),
                d["verification"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn operator_get(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("operator request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn operator_post(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().post(app.url(path)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("operator request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

// Each test runs on both backends, with the job worker off.
on_both_backends! {
    start = start;
    async fn success_raises_to_standard_and_releases_verified_data(app: TestApp) {
        let client = rp();
        let c = citizen(&app, "+79005550101", Level::Simplified).await;
        let reply = submit(&app, &c, &identity("Иванов", SNILS, "45 08", "123456")).await;
        assert_eq!(reply["level"], "simplified");
        let waiting = me(&app, &c).await;
        assert_eq!(waiting["verification_status"], "verifying");
        assert_eq!(documents_of(&waiting), [doc("RF_PASSPORT", "123456", "VERIFYING")]);
        // Before the registry answers, SNILS is not a login.
        let stranger = app.browser();
        let (_, _, html) = stranger.authorize(&auth_params("openid")).await.page();
        assert!(stranger.submit_login(&html, SNILS, PASSWORD, false).await.is_page_at("/login"));

        assert_eq!(run_jobs(&app).await, 1);
        let done = me(&app, &c).await;
        assert_eq!(done["level"], "standard");
        assert_eq!(done["acr"], "urn:esia:loa:standard");
        assert_eq!(done["verification_status"], "verified");
        assert_eq!(done["snils"], SNILS);
        assert_eq!(documents_of(&done), [doc("RF_PASSPORT", "123456", "VERIFIED")]);
        assert!(mail_subjects(&app, &c.email).await.contains(&"Данные подтверждены".to_string()));
        let feed = verification_events(&app, &c.sub).await;
        assert!(feed.iter().any(|e| e.status == "success" && e.source == "registry"), "{feed:?}");

        // SNILS now logs in, and the verified data reach the relying party.
        let other = app.browser();
        let (id, info) = claims(&app, &client, &other, SNILS, SCOPES).await;
        assert_eq!(id["sub"], c.sub.as_str());
        assert_eq!(id["acr"], "urn:esia:loa:standard");
        assert_eq!(info["snils"], SNILS);
        assert_eq!(info["inn"], "500100732259");
        assert_eq!(info["id_doc"]["series"], "4508");
        assert_eq!(info["id_doc"]["number"], "123456");
        assert_eq!(info["id_doc"]["issueId"], "690-001");
        assert_eq!(info["id_doc"]["issueDate"], "2010-05-01");
        assert_eq!(info["id_doc"]["citizenship"], "RUS");
        assert!(info.get("drivers_licence_doc").is_none(), "no licence yet");

        // A driving licence is checked on its own and then released under its scope.
        let licence = json!({"kind": "RF_DRIVING_LICENSE", "series": "77АВ", "number": "654321", "issue_date": "2020-01-10", "expiry_date": "2099-01-10"});
        let (status, body) = post(&app, &c, "/api/identity/documents", &licence).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(run_jobs(&app).await, 1);
        let (_, info) = claims(&app, &client, &other, SNILS, SCOPES).await;
        assert_eq!(info["drivers_licence_doc"]["number"], "654321");
        assert_eq!(info["drivers_licence_doc"]["vrfStu"], "VERIFIED");
    }

    async fn mismatch_is_rejected_and_the_level_stays(app: TestApp) {
        let client = rp();
        let c = citizen(&app, "+79005550102", Level::Simplified).await;
        submit(&app, &c, &identity("Несоответствие", SNILS, "4508", "123456")).await;
        assert_eq!(run_jobs(&app).await, 1);
        let after = me(&app, &c).await;
        assert_eq!(after["level"], "simplified");
        assert_eq!(after["verification_status"], "rejected");
        assert_eq!(after["surname"], "Иванов", "rejected data are not applied");
        assert!(after["snils"].is_null());
        assert_eq!(documents_of(&after), [doc("RF_PASSPORT", "123456", "REJECTED")]);
        assert!(mail_subjects(&app, &c.email).await.contains(&"Данные не подтверждены".to_string()));
        let feed = verification_events(&app, &c.sub).await;
        assert!(feed.iter().any(|e| e.status == "failure" && e.summary.contains("не совпадают")), "{feed:?}");
        let (id, info) = claims(&app, &client, &c.browser, "+79005550102", SCOPES).await;
        assert_eq!(id["acr"], "urn:esia:loa:simplified");
        assert!(info.get("snils").is_none() && info.get("id_doc").is_none(), "{info}");

        // A passport of zeros is refused by the registry the same way; the person may resubmit.
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "000000")).await;
        assert_eq!(run_jobs(&app).await, 1);
        assert_eq!(me(&app, &c).await["verification_status"], "rejected");

        // A SNILS the registries confirm but another account holds is refused after the check.
        verified(&app, "+79005550119").await;
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
        assert_eq!(run_jobs(&app).await, 1);
        let after = me(&app, &c).await;
        assert_eq!((after["level"].as_str(), after["verification_status"].as_str()), (Some("simplified"), Some("rejected")));
        let feed = verification_events(&app, &c.sub).await;
        assert!(feed.iter().any(|e| e.summary.contains("другой учётной записи")), "{feed:?}");
    }

    async fn a_timeout_is_retried_with_backoff_then_succeeds(app: TestApp) {
        let c = citizen(&app, "+79005550103", Level::Simplified).await;
        let reply = submit(&app, &c, &identity("Иванов", SNILS, "9999", "123456")).await;
        let job_id = reply["check_id"].as_str().expect("check_id").to_string();
        assert_eq!(run_jobs(&app).await, 1, "first attempt: no answer");
        let job = jobs::by_id(&app.state.db, &job_id).await.expect("job").expect("exists");
        assert_eq!((job.status.as_str(), job.attempts), ("pending", 1));
        assert!(job.last_error.is_some_and(|e| e.contains("timeout")));
        assert_eq!(me(&app, &c).await["verification_status"], "verifying");
        assert_eq!(run_jobs(&app).await, 0, "not due before the backoff");
        app.clock.advance(60);
        assert_eq!(run_jobs(&app).await, 1, "second attempt: no answer");
        app.clock.advance(60);
        assert_eq!(run_jobs(&app).await, 0, "the wait doubled");
        app.clock.advance(60);
        assert_eq!(run_jobs(&app).await, 1, "third attempt answers");
        let job = jobs::by_id(&app.state.db, &job_id).await.expect("job").expect("exists");
        assert_eq!((job.status.as_str(), job.attempts), ("done", 3));
        assert_eq!(me(&app, &c).await["level"], "standard");
    }

    async fn a_registry_that_never_answers_is_given_up_and_the_person_told(app: TestApp) {
        let c = citizen(&app, "+79005550104", Level::Simplified).await;
        submit(&app, &c, &identity("Иванов", SNILS, "9998", "123456")).await;
        for _ in 0..app.state.config.verification.max_attempts {
            assert_eq!(run_jobs(&app).await, 1);
            app.clock.advance(6 * 3600);
        }
        assert_eq!(run_jobs(&app).await, 0, "given up");
        relogin(&c).await;
        let after = me(&app, &c).await;
        assert_eq!(after["verification_status"], "failed");
        assert_eq!(after["level"], "simplified");
        assert!(mail_subjects(&app, &c.email).await.contains(&"Проверка данных не выполнена".to_string()));
        // The person may send the data again.
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
    }

    async fn a_job_survives_a_restart(app: TestApp) {
        let c = citizen(&app, "+79005550105", Level::Simplified).await;
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
        // A worker claims the job and dies before finishing it.
        let lease = app.state.config.verification.lease_secs;
        let claimed = jobs::claim_due(&app.state.db, app.clock.now(), lease, 10).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        // A new server starts on the same database.
        let restarted = idp::App::build(app.state.config.clone(), app.clock.clone()).await.expect("second server");
        assert_eq!(run_due_jobs(&restarted.state).await.expect("round"), 0, "the lease still holds");
        app.clock.advance(lease + 1);
        assert_eq!(run_due_jobs(&restarted.state).await.expect("round"), 1, "the lease ran out");
        assert_eq!(me(&app, &c).await["level"], "standard");
        let job = jobs::by_id(&app.state.db, &claimed[0].id).await.expect("job").expect("exists");
        assert_eq!((job.status.as_str(), job.attempts), ("done", 2));
        assert_eq!(mail_subjects(&app, &c.email).await.iter().filter(|s| *s == "Данные подтверждены").count(), 1, "the outcome is applied once");
    }

    async fn a_letter_code_confirms_and_bad_codes_change_nothing(app: TestApp) {
        let client = rp();
        let c = verified(&app, "+79005550106").await;
        let (status, body) = post(&app, &c, "/api/identity/confirm-by-mail", &json!({"address": "170100, г. Тверь, ул. Советская, д. 1, кв. 2"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, token) = confirm::create_operator(&app.state, "Оператор Тверь").await.expect("operator");
        let (status, _) = operator_get(&app, None, "/api/operator/letters").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, letters) = operator_get(&app, Some(&token), "/api/operator/letters").await;
        assert_eq!(status, StatusCode::OK);
        let letter = &letters["letters"][0];
        assert_eq!(letter["address"], "170100, г. Тверь, ул. Советская, д. 1, кв. 2");
        assert_eq!(letter["recipient"], "Иванов Иван Иванович");
        let code = letter["code"].as_str().expect("code to print").to_string();
        let (status, _) = operator_post(&app, Some(&token), &format!("/api/operator/letters/{}/sent", letter["id"].as_str().unwrap_or_default()), &json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, letters) = operator_get(&app, Some(&token), "/api/operator/letters").await;
        assert_eq!(letters["letters"].as_array().map(Vec::len), Some(0), "a sent letter is no longer listed");

        let wrong = if code == "00000000" { "11111111" } else { "00000000" };
        let (status, body) = post(&app, &c, "/api/identity/confirm-code", &json!({"code": wrong})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "wrong_code");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("Неверный код")), "{body}");
        assert_eq!(me(&app, &c).await["level"], "standard");

        let (status, body) = post(&app, &c, "/api/identity/confirm-code", &json!({"code": code})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(me(&app, &c).await["level"], "confirmed");
        let (id, _) = claims(&app, &client, &c.browser, SNILS, "openid").await;
        assert_eq!(id["acr"], "urn:esia:loa:confirmed");
        let feed = verification_events(&app, &c.sub).await;
        assert!(feed.iter().any(|e| e.source == "letter" && e.status == "success"), "{feed:?}");

        // A change of who the person is (a new SNILS) ends the confirmation; once standard
        // again, the old letter's code is refused: codes are single use.
        let reply = submit(&app, &c, &identity("Иванов", "123-456-789 64", "4508", "123456")).await;
        assert_eq!(reply["level"], "simplified");
        assert_eq!(run_jobs(&app).await, 1);
        assert_eq!(me(&app, &c).await["level"], "standard");
        let (status, body) = post(&app, &c, "/api/identity/confirm-code", &json!({"code": code})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("code_spent")), "{body}");
        assert_eq!(me(&app, &c).await["level"], "standard");
    }

    async fn a_letter_code_expires(app: TestApp) {
        let c = verified(&app, "+79005550107").await;
        let (status, _) = post(&app, &c, "/api/identity/confirm-by-mail", &json!({"address": "г. Москва, ул. Тверская, д. 1"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let code = confirm::printable_letters(&app.state, 10).await.expect("letters")[0].code.clone().expect("code");
        app.clock.advance(app.state.config.verification.letter_ttl_secs + 1);
        relogin(&c).await;
        let (status, body) = post(&app, &c, "/api/identity/confirm-code", &json!({"code": code})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("code_expired")), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("истёк")));
        assert_eq!(me(&app, &c).await["level"], "standard");
        // A letter needs a standard account and an address.
        let s = citizen(&app, "+79005550108", Level::Simplified).await;
        let (status, body) = post(&app, &s, "/api/identity/confirm-by-mail", &json!({"address": "г. Москва"})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("not_standard")));
        let (status, _) = post(&app, &c, "/api/identity/confirm-by-mail", &json!({"address": " "})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn an_operator_finds_and_confirms_a_person(app: TestApp) {
        let c = verified(&app, "+79005550109").await;
        let (op, token) = confirm::create_operator(&app.state, "Оператор МФЦ №1").await.expect("operator");
        let confirm_path = format!("/api/operator/people/{}/confirm", c.sub);
        for bad in [None, Some("op_not-a-real-token")] {
            let (status, body) = operator_get(&app, bad, "/api/operator/people?snils=11223344595").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            let (status, _) = operator_post(&app, bad, &confirm_path, &json!({})).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(me(&app, &c).await["level"], "standard", "refused calls change nothing");

        let (status, found) = operator_get(&app, Some(&token), "/api/operator/people?snils=112-233-445%2095").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["people"][0]["sub"], c.sub.as_str());
        let (_, found) = operator_get(&app, Some(&token), "/api/operator/people?passport=4508%20123456").await;
        assert_eq!(found["people"][0]["sub"], c.sub.as_str());
        assert_eq!(found["people"][0]["level"], "standard");
        let (status, body) = operator_get(&app, Some(&token), "/api/operator/people?snils=123").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().is_some_and(|m| m.contains("СНИЛС")));

        let (status, body) = operator_post(&app, Some(&token), &confirm_path, &json!({"office": "МФЦ Тверь"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(me(&app, &c).await["level"], "confirmed");
        let feed = verification_events(&app, &c.sub).await;
        let event = feed.iter().find(|e| e.status == "success" && e.source.starts_with("operator:")).expect("operator event");
        assert_eq!(event.source, format!("operator:{}", op.id));
        assert!(event.detail.as_deref().is_some_and(|d| d.contains("МФЦ Тверь") && d.contains(&op.name)));
        let (status, body) = operator_post(&app, Some(&token), &confirm_path, &json!({})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("already_confirmed")));

        // Only a standard account (data verified by the registries) can be confirmed.
        let s = citizen(&app, "+79005550110", Level::Simplified).await;
        let (status, body) = operator_post(&app, Some(&token), &format!("/api/operator/people/{}/confirm", s.sub), &json!({})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("not_standard")));
    }

    async fn the_signature_hook_confirms_only_the_matching_snils(app: TestApp) {
        // `TestApp::user` gives standard accounts with a phone ending in 2 this SNILS.
        let sub = app.user("+79005550112", Level::Standard).await;
        let other = app.user("+79005550113", Level::Simplified).await;
        assert!(matches!(confirm::confirm_by_signature(&app.state, &other, SNILS).await, Err(ConfirmError::NotStandard)));
        assert!(matches!(confirm::confirm_by_signature(&app.state, &sub, "123-456-789 64").await, Err(ConfirmError::SnilsMismatch)));
        assert!(matches!(confirm::confirm_by_signature(&app.state, &sub, "not a snils").await, Err(ConfirmError::SnilsMismatch)));
        confirm::confirm_by_signature(&app.state, &sub, "11223344595").await.expect("confirmed");
        let user = idp::store::users::by_id(&app.state.db, &sub).await.expect("user").expect("exists");
        assert_eq!(user.level, Level::Confirmed);
        let feed = verification_events(&app, &sub).await;
        assert!(feed.iter().any(|e| e.source == "signature"));
        assert!(matches!(confirm::confirm_by_signature(&app.state, &sub, SNILS).await, Err(ConfirmError::AlreadyConfirmed)));
    }

    async fn malformed_data_are_refused_in_russian_and_change_nothing(app: TestApp) {
        let c = citizen(&app, "+79005550114", Level::Simplified).await;
        let mut bad_inn = identity("Иванов", SNILS, "4508", "123456");
        bad_inn["inn"] = json!("500100732258");
        let mut bad_code = identity("Иванов", SNILS, "4508", "123456");
        bad_code["passport"]["issuer_code"] = json!("69-0001");
        let mut future = identity("Иванов", SNILS, "4508", "123456");
        future["passport"]["issue_date"] = json!("2099-01-01");
        let cases = [
            (identity("Иванов", "123-456-789 65", "4508", "123456"), "snils", "СНИЛС"),
            (bad_inn, "inn", "ИНН"),
            (identity("Иванов", SNILS, "45O8", "123456"), "series", "Серия паспорта"),
            (identity("Иванов", SNILS, "4508", "12345"), "number", "Номер паспорта"),
            (bad_code, "issuer_code", "Код подразделения"),
            (future, "issue_date", "в будущем"),
        ];
        for (body, field, words) in cases {
            let (status, reply) = post(&app, &c, "/api/identity", &body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {reply}");
            assert_eq!(reply["error"], "invalid_data");
            assert!(reply["message"].as_str().is_some_and(|m| m.contains(words)), "{field}: {reply}");
            assert!(reply["fields"].as_array().is_some_and(|f| f.iter().any(|x| x["field"] == field)), "{reply}");
        }
        // Without the CSRF header, without a session, or not JSON: refused as well.
        let no_csrf = c.browser.http.post(app.url("/api/identity")).json(&identity("Иванов", SNILS, "4508", "123456")).send().await.expect("post");
        assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
        let body: Value = no_csrf.json().await.expect("json");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("отклонён")));
        let stranger = reqwest::Client::new().post(app.url("/api/identity")).header("x-csrf-token", &c.csrf).json(&json!({})).send().await.expect("post");
        assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
        let form = c.browser.http.post(app.url("/api/identity")).header("x-csrf-token", &c.csrf).body("snils=1").send().await.expect("post");
        assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let after = me(&app, &c).await;
        assert!(after["verification_status"].is_null(), "{after}");
        assert_eq!(after["level"], "simplified");
        assert!(documents_of(&after).is_empty());
        assert!(jobs::for_user(&app.state.db, &c.sub, 10).await.expect("jobs").is_empty());
        assert!(verification_events(&app, &c.sub).await.is_empty());
    }

    async fn a_data_change_sends_the_account_back_to_verification(app: TestApp) {
        let client = rp();
        let c = verified(&app, "+79005550115").await;
        // The same data again change nothing.
        let (status, body) = post(&app, &c, "/api/identity", &identity("Иванов", SNILS, "4508", "123456")).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("unchanged")));

        // A new passport: standard rests on verified data, so the level drops at once.
        let reply = submit(&app, &c, &identity("Иванов", SNILS, "4509", "777888")).await;
        assert_eq!(reply["level"], "simplified");
        let during = me(&app, &c).await;
        assert_eq!(during["verification_status"], "verifying");
        assert_eq!(during["level"], "simplified");
        let mut docs = documents_of(&during);
        docs.sort();
        assert_eq!(docs, [doc("RF_PASSPORT", "123456", "VERIFIED"), doc("RF_PASSPORT", "777888", "VERIFYING")]);
        let (id, info) = claims(&app, &client, &c.browser, "+79005550115", SCOPES).await;
        assert_eq!(id["acr"], "urn:esia:loa:simplified");
        assert!(info.get("snils").is_none() && info.get("id_doc").is_none(), "{info}");
        let (status, _) = post(&app, &c, "/api/identity", &identity("Иванов", SNILS, "4509", "777889")).await;
        assert_eq!(status, StatusCode::CONFLICT, "one check at a time");

        assert_eq!(run_jobs(&app).await, 1);
        let (id, info) = claims(&app, &client, &c.browser, "+79005550115", SCOPES).await;
        assert_eq!(id["acr"], "urn:esia:loa:standard");
        assert_eq!(info["id_doc"]["number"], "777888");
        assert_eq!(documents_of(&me(&app, &c).await), [doc("RF_PASSPORT", "777888", "VERIFIED")]);

        // A confirmed person with a new passport stays confirmed (the person is the same),
        // and the verified passport keeps being released until the new one is verified.
        confirm::confirm_by_signature(&app.state, &c.sub, SNILS).await.expect("confirmed");
        let reply = submit(&app, &c, &identity("Иванов", SNILS, "4510", "111222")).await;
        assert_eq!(reply["level"], "confirmed");
        let (id, info) = claims(&app, &client, &c.browser, "+79005550115", SCOPES).await;
        assert_eq!(id["acr"], "urn:esia:loa:confirmed");
        assert_eq!(info["id_doc"]["number"], "777888");
        assert_eq!(run_jobs(&app).await, 1);
        let (_, info) = claims(&app, &client, &c.browser, "+79005550115", SCOPES).await;
        assert_eq!(info["id_doc"]["number"], "111222");
        assert_eq!(me(&app, &c).await["level"], "confirmed");
    }
}

on_both_backends! {
    async fn the_worker_started_with_the_app_runs_the_checks(app: TestApp) {
        register_rp(&app).await;
        let c = citizen(&app, "+79005550116", Level::Simplified).await;
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
        // The worker polls every second; wait (bounded) for it to finish the check.
        let mut level = String::new();
        for _ in 0..200 {
            level = me(&app, &c).await["level"].as_str().unwrap_or_default().to_string();
            if level == "standard" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(level, "standard");
    }
}

/// The requests a registry stub saw: (Authorization header, JSON body).
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(Option<String>, Value)>>>;

/// A registry stub: the first call fails with 503, later ones answer by surname
/// (`Петров` rejected, anyone else verified). Records the requests it saw.
async fn registry_stub() -> (String, Seen) {
    use axum::http::HeaderMap;
    let seen = Seen::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/check",
        axum::routing::post(
            move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let log = log.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let first = {
                        let mut l = log.lock().expect("lock");
                        l.push((auth, body.clone()));
                        l.len() == 1
                    };
                    if first {
                        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({})))
                            .into_response();
                    }
                    let answer = if body["person"]["surname"] == "Петров" {
                        json!({"status": "rejected", "reason": "паспорт значится утраченным"})
                    } else {
                        json!({"status": "verified"})
                    };
                    axum::Json(answer).into_response()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/check", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

mod the_http_registry_adapter {
    use super::*;

    async fn run(backend: Backend) {
        let (url, seen) = registry_stub().await;
        let app = TestApp::start_with(Options {
            backend,
            database_url: None,
            tweak: Some(Box::new(move |c| {
                c.verification.worker = false;
                c.verification.registry = "http".into();
                c.verification.registry_url = Some(url);
                c.verification.registry_token = Some("registry-token".into());
            })),
        })
        .await;
        register_rp(&app).await;
        let c = citizen(&app, "+79005550117", Level::Simplified).await;
        submit(&app, &c, &identity("Иванов", SNILS, "4508", "123456")).await;
        assert_eq!(run_jobs(&app).await, 1, "the registry answers 503: retried");
        assert_eq!(me(&app, &c).await["verification_status"], "verifying");
        app.clock
            .advance(app.state.config.verification.retry_base_secs);
        assert_eq!(run_jobs(&app).await, 1);
        assert_eq!(me(&app, &c).await["level"], "standard");
        {
            let requests = seen.lock().expect("lock");
            assert_eq!(requests.len(), 2);
            let (auth, body) = &requests[1];
            assert_eq!(auth.as_deref(), Some("Bearer registry-token"));
            assert_eq!(body["kind"], "identity");
            assert_eq!(body["person"]["snils"], "11223344595");
            assert_eq!(body["document"]["type"], "RF_PASSPORT");
            assert_eq!(body["document"]["issuer_code"], "690-001");
        }
        // A rejection carries the registry's reason to the person.
        let p = citizen(&app, "+79005550118", Level::Simplified).await;
        submit(
            &app,
            &p,
            &identity("Петров", "123-456-789 64", "4508", "654321"),
        )
        .await;
        assert_eq!(run_jobs(&app).await, 1);
        assert_eq!(me(&app, &p).await["verification_status"], "rejected");
        let feed = verification_events(&app, &p.sub).await;
        assert!(
            feed.iter()
                .any(|e| e.summary.contains("паспорт значится утраченным")),
            "{feed:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await
    }
}
