//! Lockout after failed passwords over HTTP: per account whatever the address, per address
//! across accounts, locks that expire by the clock with growing waits, and the unlock by
//! code, after which strangers' failures no longer lock the owner out.

use idp::config::Config;
use idp::protocol::acr::Level;
use idp::store::events;
use reqwest::StatusCode;
use tests::browser::hidden;
use tests::{Backend, Options, PASSWORD, TestApp};

use super::{
    alert, browser_from, code_sent, get, logs_in, post, request, sent_count, start, submit_code,
};

const OWNER: &str = "+79005550001";
const OWNER_EMAIL: &str = "79005550001@example.ru";
const WRONG: &str = "Wrong-passw0rd!";

/// One login attempt from `ip` in a fresh browser: 302 (in), 401 (wrong) or 429 (locked).
async fn attempt(app: &TestApp, client: &str, ip: &str, login: &str, password: &str) -> StatusCode {
    logs_in(&browser_from(app, ip), client, login, password).await
}

async fn app_with(backend: Backend, tweak: fn(&mut Config)) -> TestApp {
    TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(tweak)),
    })
    .await
}

/// Like `on_both_backends!`, with a configuration tweak.
macro_rules! on_both_backends_with {
    ($tweak:expr; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(app_with(Backend::Sqlite, $tweak).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(app_with(Backend::Postgres, $tweak).await).await
                }
            }
        )*
    };
}

on_both_backends! {
    async fn an_account_locks_whatever_the_address(app: TestApp) {
        let (client, _) = app.client("rp", "openid").await;
        app.user(OWNER, Level::Standard).await;
        assert_eq!(app.state.config.login.max_failures, 5);
        for i in 2..=6 {
            let ip = format!("127.0.0.{i}");
            assert_eq!(attempt(&app, &client, &ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        // Locked for everyone, whichever identifier is typed; the page offers the unlock.
        assert_eq!(attempt(&app, &client, "127.0.0.7", OWNER_EMAIL, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        let b = browser_from(&app, "127.0.0.8");
        let (_, _, html) = b.authorize(&request(&client)).await.page();
        let (_, status, locked) = b.submit_login(&html, OWNER, PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.contains("Слишком много неудачных попыток"), "{locked}");
        assert!(locked.contains(&format!("/unlock?tx={}", hidden(&locked, "tx"))), "{locked}");
        assert!(locked.contains("Разблокировать вход по коду"));
        // An identifier that names nobody locks the same way.
        let nobody = "+79005559999";
        for i in 2..=6 {
            let ip = format!("127.0.1.{i}");
            assert_eq!(attempt(&app, &client, &ip, nobody, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(&app, &client, "127.0.1.7", nobody, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn locks_expire_by_the_clock_with_growing_waits(app: TestApp) {
        let (client, _) = app.client("rp", "openid").await;
        app.user(OWNER, Level::Standard).await;
        let ip = "127.0.0.2";
        for _ in 0..5 {
            assert_eq!(attempt(&app, &client, ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // The first lock lasts 30 s; the next failure locks for 60 s.
        app.clock.advance(31);
        assert_eq!(attempt(&app, &client, ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(31);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(30);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::FOUND);
        // A success starts the count again.
        assert_eq!(attempt(&app, &client, ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::FOUND);
        // Failures less than an hour apart keep counting, and the waits keep doubling
        // (30 s … 1920 s), but a lock never outlasts an hour (30 s · 2⁷ would be 3840 s).
        for _ in 0..5 {
            assert_eq!(attempt(&app, &client, ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        for _ in 0..7 {
            app.clock.advance(3000);
            assert_eq!(attempt(&app, &client, ip, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        app.clock.advance(3500);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        app.clock.advance(101);
        assert_eq!(attempt(&app, &client, ip, OWNER, PASSWORD).await, StatusCode::FOUND);
    }

    async fn unlock_by_code_lifts_the_lock_and_strangers_cannot_renew_it(app: TestApp) {
        let (client, _) = app.client("rp", "openid").await;
        let sub = app.user(OWNER, Level::Standard).await;
        let stranger = "127.0.0.2";
        for _ in 0..5 {
            assert_eq!(attempt(&app, &client, stranger, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        // The owner, elsewhere, is locked out and follows the link on the login page.
        let owner = browser_from(&app, "127.0.0.9");
        let (_, _, html) = owner.authorize(&request(&client)).await.page();
        let tx = hidden(&html, "tx");
        let (_, status, _) = owner.submit_login(&html, OWNER, PASSWORD, false).await.page();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let (status, unlock) = get(&owner, &format!("/unlock?tx={tx}&lang=ru")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(unlock.contains("Разблокировка входа"));
        let csrf = hidden(&unlock, "csrf");
        let (status, page) = post(&owner, "/unlock", &[("tx", &tx), ("csrf", &csrf), ("login", "8 900 555 00 01")]).await;
        assert_eq!(status, StatusCode::OK);
        let code = code_sent(&app, OWNER, "unlock_code").await;
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let (status, page) = submit_code(&owner, "/unlock", &page, wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(alert(&page), "Неверный код. Осталось попыток: 2.");
        assert_eq!(attempt(&app, &client, "127.0.0.9", OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        let (status, done) = submit_code(&owner, "/unlock", &page, &code).await;
        assert_eq!(status, StatusCode::OK, "{}", alert(&done));
        assert!(done.contains("Вход разблокирован"));
        assert!(done.contains(&format!("/login?tx={tx}&#38;lang=ru")), "{done}");
        let (_, _, login) = owner.visit(&app.url(&format!("/login?tx={tx}&lang=ru"))).await.page();
        let back = owner.submit_login(&login, OWNER, PASSWORD, false).await.left();
        assert!(tests::browser::param(&back, "code").is_some());
        let feed = events::list(&app.state.db, &sub, Some("security"), 20).await.expect("events");
        assert!(feed.iter().any(|e| e.summary.contains("разблокирован")), "{feed:?}");

        // The stranger fails again: locked out themselves, the owner's address is not.
        for _ in 0..5 {
            assert_eq!(attempt(&app, &client, stranger, OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(&app, &client, stranger, OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(attempt(&app, &client, "127.0.0.9", OWNER, PASSWORD).await, StatusCode::FOUND);
        // The shield belongs to the address that unlocked; another new address is locked
        // like the stranger's (and could unlock by code there too).
        assert_eq!(attempt(&app, &client, "127.0.0.10", OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // Failures from the owner's own address are still counted, on their own.
        for _ in 0..5 {
            assert_eq!(attempt(&app, &client, "127.0.0.9", OWNER, WRONG).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(&app, &client, "127.0.0.9", OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn unlock_for_an_unknown_identifier_looks_the_same(app: TestApp) {
        app.user(OWNER, Level::Standard).await;
        let b = browser_from(&app, "127.0.0.3");
        let (known_status, known) = start(&b, "/unlock", OWNER).await;
        let (unknown_status, unknown) = start(&b, "/unlock", "+79005559999").await;
        assert_eq!((known_status, unknown_status), (StatusCode::OK, StatusCode::OK));
        let neutral = |html: &str| html.replace(&hidden(html, "flow"), "FLOW");
        assert_eq!(neutral(&known), neutral(&unknown));
        assert_eq!(sent_count(&app, OWNER, "unlock_code").await, 1);
        assert_eq!(sent_count(&app, "+79005559999", "unlock_code").await, 0);
    }
}

on_both_backends_with! {
    |c: &mut Config| c.login.max_failures_per_address = 8;

    async fn an_address_locks_across_accounts(app: TestApp) {
        let (client, _) = app.client("rp", "openid").await;
        let (a, b, c) = ("+79005550011", "+79005550012", "+79005550013");
        for phone in [a, b, c] {
            app.user(phone, Level::Simplified).await;
        }
        let hammer = "127.0.0.2";
        for phone in [a, b] {
            for _ in 0..4 {
                assert_eq!(attempt(&app, &client, hammer, phone, WRONG).await, StatusCode::UNAUTHORIZED);
            }
        }
        // Eight failures from one address: it is locked for every account, even with the
        // right password; the accounts themselves are not.
        assert_eq!(attempt(&app, &client, hammer, c, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(attempt(&app, &client, "127.0.0.3", c, PASSWORD).await, StatusCode::FOUND);
        assert_eq!(attempt(&app, &client, "127.0.0.3", a, PASSWORD).await, StatusCode::FOUND);
        app.clock.advance(31);
        assert_eq!(attempt(&app, &client, hammer, b, PASSWORD).await, StatusCode::FOUND);
    }
}
