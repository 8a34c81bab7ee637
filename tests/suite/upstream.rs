//! Identity confirmation through a bank: two servers, the bank being a second provider (on
//! SQLite) with a citizen who has a SNILS, ours configured with an `[[upstream]]` pointing at
//! it. The browser crosses between them by hand: ours → the bank's login and consent → our
//! callback.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use tests::browser::{Outcome, param};
use tests::{Backend, Options, PASSWORD, TestApp};
use url::Url;

use idp::config::UpstreamConfig;
use idp::domain::clients::ClientSpec;
use idp::protocol::acr::Level;
use idp::store::users::{self, NewUser};

const CB: &str = "https://rp.example/cb";
const BANK_CLIENT: &str = "our-idp";
const BANK_SECRET: &str = "bank-client-secret-0123456789";
/// The bank's citizen: `TestApp::user` gives phones ending in 2 the SNILS 112-233-445 95.
const BANK_PHONE: &str = "+79000000012";
const OUR_PHONE: &str = "+79000000022";

/// Our provider and the bank.
struct Pair {
    app: TestApp,
    bank: TestApp,
}

impl Pair {
    async fn start(backend: Backend) -> Pair {
        let bank = TestApp::start(Backend::Sqlite).await;
        let issuer = bank.base.clone();
        let app = TestApp::start_with(Options {
            backend,
            database_url: None,
            tweak: Some(Box::new(move |c| {
                c.upstream.push(UpstreamConfig {
                    id: "bank".into(),
                    name: "Тестбанк".into(),
                    issuer,
                    client_id: BANK_CLIENT.into(),
                    client_secret: BANK_SECRET.into(),
                    scopes: "openid fullname snils birthdate".into(),
                    verifies_identity: true,
                    allow_http: true,
                })
            })),
        })
        .await;
        bank.client_spec(ClientSpec {
            id: BANK_CLIENT.into(),
            name: "Госуслуги ID".into(),
            secret: Some(BANK_SECRET.into()),
            redirect_uris: vec![app.url("/upstream/bank/callback")],
            scopes: "openid fullname snils birthdate".into(),
            ..ClientSpec::default()
        })
        .await;
        bank.user(BANK_PHONE, Level::Standard).await;
        Pair { app, bank }
    }

    /// A browser logged in at our provider as `phone` (through a website's login).
    async fn logged_in(&self, client: &str, phone: &str) -> tests::Browser {
        let b = self.app.browser();
        let back = b.sign_in(&request(client), phone, PASSWORD).await;
        assert!(param(&back, "code").is_some(), "{back}");
        b
    }

    /// Starts the confirmation in `b` and goes through the bank (with `tamper` applied to the
    /// URL of the bank's authorization endpoint); returns the callback URL the bank sent back.
    async fn through_bank(&self, b: &tests::Browser, tamper: impl Fn(Url) -> Url) -> Url {
        self.through_bank_from(b, "/upstream/bank/start?purpose=confirm", tamper)
            .await
    }

    async fn through_bank_from(
        &self,
        b: &tests::Browser,
        start: &str,
        tamper: impl Fn(Url) -> Url,
    ) -> Url {
        let to_bank = b.visit(&self.app.url(start)).await.left();
        assert!(
            to_bank.as_str().starts_with(&self.bank.url("/authorize")),
            "{to_bank}"
        );
        assert_eq!(
            param(&to_bank, "code_challenge_method").as_deref(),
            Some("S256")
        );
        let at_bank = self.bank.browser();
        let first = at_bank.visit(tamper(to_bank).as_str()).await;
        let back = at_bank.complete(first, BANK_PHONE, PASSWORD).await;
        assert!(
            back.as_str()
                .starts_with(&self.app.url("/upstream/bank/callback")),
            "{back}"
        );
        back
    }

    async fn level(&self, sub: &str) -> Level {
        users::by_id(&self.app.state.db, sub)
            .await
            .expect("db")
            .expect("user")
            .level
    }

    async fn events(&self, sub: &str) -> Vec<idp::store::events::Event> {
        idp::store::events::list(&self.app.state.db, sub, Some("verification"), 20)
            .await
            .expect("events")
    }
}

/// Defines each test on our provider's two backends (the bank is on SQLite in both).
macro_rules! with_bank {
    ($(async fn $name:ident($pair:ident: Pair) $body:block)*) => {
        $(
            mod $name {
                use super::*;
                async fn run($pair: Pair) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(Pair::start(Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(Pair::start(Backend::Postgres).await).await
                }
            }
        )*
    };
}

fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("scope", "openid"),
        ("redirect_uri", CB),
        ("state", "st"),
        ("nonce", "n-0S6_WzA2Mj"),
    ]
}

/// A citizen at our provider with this SNILS (11 digits) and level.
async fn citizen(app: &TestApp, phone: &str, level: Level, snils: Option<&str>) -> String {
    let hash = app.state.passwords.hash(PASSWORD).await.expect("hash");
    users::create(
        &app.state.db,
        &NewUser {
            surname: "ИВАНОВ".into(),
            given_name: "иван".into(),
            level: Some(level),
            phone: Some(phone.into()),
            email: Some("ivanov@example.ru".into()),
            snils: snils.map(str::to_owned),
            password_hash: Some(hash),
            ..NewUser::default()
        },
        app.clock.now(),
    )
    .await
    .expect("create user")
    .id
}

fn id_token_claims(tokens: &Value) -> Value {
    let jwt = tokens["id_token"].as_str().expect("id_token");
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("claims")
}

with_bank! {
    async fn matching_standard_account_becomes_confirmed(pair: Pair) {
        let client = pair.app.client("rp", "openid").await;
        let sub = citizen(&pair.app, OUR_PHONE, Level::Standard, Some("11223344595")).await;
        let b = pair.logged_in(&client.0, OUR_PHONE).await;
        let (_, _, home) = b.visit(&pair.app.url("/")).await.page();
        assert!(home.contains("/upstream/bank/start"), "the home page offers the bank: {home}");
        assert!(home.contains("Подтвердить через банк"), "{home}");

        let start = "/upstream/bank/start?purpose=confirm&tx=flow-123";
        let back = pair.through_bank_from(&b, start, |u| u).await;
        let (_, status, html) = b.visit(back.as_str()).await.page();
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Личность подтверждена"), "{html}");
        assert!(html.contains("href=\"/consent?tx=flow-123\""), "back to the website's flow: {html}");
        assert_eq!(pair.level(&sub).await, Level::Confirmed);
        let events = pair.events(&sub).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0].status.as_str(), events[0].source.as_str()), ("success", "upstream:bank"));
        let mail = idp::store::outbox::list(&pair.app.state.db, Some("ivanov@example.ru"), 10).await.expect("outbox");
        assert!(mail.iter().any(|m| m.channel == "email" && m.body.contains("Тестбанк")), "{mail:?}");

        // The next ID token says so.
        let again = b.sign_in(&request(&client.0), OUR_PHONE, PASSWORD).await;
        let code = param(&again, "code").expect("code");
        let tokens: Value = reqwest::Client::new()
            .post(pair.app.url("/token"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CB)])
            .send().await.expect("token").json().await.expect("JSON");
        assert_eq!(id_token_claims(&tokens)["acr"], Level::Confirmed.acr());

        // The same answer cannot be used twice.
        let (_, status, _) = b.visit(back.as_str()).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn mismatching_snils_changes_nothing(pair: Pair) {
        let client = pair.app.client("rp", "openid").await;
        let sub = citizen(&pair.app, OUR_PHONE, Level::Standard, Some("12345678964")).await;
        let b = pair.logged_in(&client.0, OUR_PHONE).await;
        let back = pair.through_bank(&b, |u| u).await;
        let (_, status, html) = b.visit(back.as_str()).await.page();
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        assert!(html.contains("Данные не совпадают"), "{html}");
        assert!(html.contains("Ничего не изменилось"), "{html}");
        assert_eq!(pair.level(&sub).await, Level::Standard);
        let events = pair.events(&sub).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0].status.as_str(), events[0].source.as_str()), ("failure", "upstream:bank"));
    }

    async fn forged_or_foreign_state_is_refused(pair: Pair) {
        let client = pair.app.client("rp", "openid").await;
        let sub = citizen(&pair.app, OUR_PHONE, Level::Standard, Some("11223344595")).await;
        let b = pair.logged_in(&client.0, OUR_PHONE).await;
        let forged = pair.app.url("/upstream/bank/callback?state=forged&code=whatever");
        let (_, status, html) = b.visit(&forged).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(html.contains("Ссылка недействительна"), "{html}");

        // A genuine answer started in this browser, delivered to another browser of the same
        // person (say, a link planted by an attacker): refused, because it is bound to the browser.
        let back = pair.through_bank(&b, |u| u).await;
        let other = pair.logged_in(&client.0, OUR_PHONE).await;
        let (_, status, _) = other.visit(back.as_str()).await.page();
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // The person cancels at the bank: its error comes back with our state.
        let start = pair.app.url("/upstream/bank/start?purpose=confirm");
        let to_bank = b.visit(&start).await.left();
        let state = param(&to_bank, "state").expect("state");
        let cancelled = format!("/upstream/bank/callback?state={state}&error=access_denied");
        let (_, status, html) = b.visit(&pair.app.url(&cancelled)).await.page();
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Подтверждение отменено"), "{html}");
        assert_eq!(pair.level(&sub).await, Level::Standard);
    }

    async fn id_token_with_a_wrong_nonce_is_refused(pair: Pair) {
        let client = pair.app.client("rp", "openid").await;
        let sub = citizen(&pair.app, OUR_PHONE, Level::Standard, Some("11223344595")).await;
        let b = pair.logged_in(&client.0, OUR_PHONE).await;
        let back = pair.through_bank(&b, |mut u| {
            let pairs: Vec<(String, String)> = u.query_pairs()
                .map(|(k, v)| {
                    let v = if k == "nonce" { "swapped-nonce".into() } else { v.into_owned() };
                    (k.into_owned(), v)
                })
                .collect();
            u.query_pairs_mut().clear().extend_pairs(pairs);
            u
        }).await;
        let (_, status, html) = b.visit(back.as_str()).await.page();
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{html}");
        assert!(html.contains("Ничего не изменилось"), "{html}");
        assert_eq!(pair.level(&sub).await, Level::Standard);
        let events = pair.events(&sub).await;
        assert_eq!(events[0].status, "failure");
        assert!(events[0].detail.as_deref().unwrap_or("").contains("nonce"), "{events:?}");
    }

    async fn simplified_account_must_reach_standard_first(pair: Pair) {
        let client = pair.app.client("rp", "openid").await;
        let sub = citizen(&pair.app, OUR_PHONE, Level::Simplified, None).await;
        let b = pair.logged_in(&client.0, OUR_PHONE).await;
        let out = b.visit(&pair.app.url("/upstream/bank/start?purpose=confirm")).await;
        assert!(!matches!(out, Outcome::Left(_)), "no trip to the bank: {out:?}");
        let (_, status, html) = out.page();
        assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
        assert!(html.contains("стандартной учётной записью"), "{html}");
        assert_eq!(pair.level(&sub).await, Level::Simplified);
    }
}
