//! The repository layer on its own: the same tests call `idp::store::*` (and the short-lived
//! store `app.state.cache`) directly on SQLite + the in-process store and on PostgreSQL +
//! Redis, each in a fresh database. Uniqueness, single use under concurrency, cascades and
//! expiry by the injected clock are checked here rather than over HTTP.

use std::collections::HashSet;

use idp::domain::codes::{self, Checked, Policy};
use idp::domain::identifiers::Login;
use idp::protocol::acr::Level;
use idp::protocol::scope::ScopeSet;
use idp::store::StoreError;
use idp::store::clients;
use idp::store::consents;
use idp::store::grants::{self, Grant, Rotation};
use idp::store::keys::{self, StoredKey};
use idp::store::outbox::{self, NewMessage};
use idp::store::sessions::{self, NewSession};
use idp::store::users::{self, NewUser};
use serde_json::Value;
use tests::browser::param;
use tests::{Backend, PASSWORD, TestApp};

const CB: &str = "https://rp.example/cb";

fn new_user(phone: &str, email: &str, snils: Option<&str>, level: Level) -> NewUser {
    NewUser {
        surname: "Петров".into(),
        given_name: "Пётр".into(),
        level: Some(level),
        phone: Some(phone.into()),
        email: Some(email.into()),
        snils: snils.map(str::to_owned),
        ..NewUser::default()
    }
}

/// A live grant of `user` to `client`, created with first refresh token `rt` (or none).
async fn grant(app: &TestApp, user: &str, client: &str, rt: Option<(&str, i64)>) -> Grant {
    let now = app.clock.now();
    let g = Grant {
        id: format!("g-{}", idp::crypto::random_token(8)),
        user_id: user.into(),
        client_id: client.into(),
        sid: Some("sid-test".into()),
        scope: "openid fullname".into(),
        auth_time: now,
        acr: Level::Simplified.acr().into(),
        amr: vec!["pwd".into()],
        created_at: now,
        expires_at: now + 86_400,
        revoked_at: None,
    };
    grants::create(&app.state.db, &g, rt)
        .await
        .expect("create grant");
    g
}

/// Whether a grant has been revoked, read through one of its refresh tokens.
async fn refresh_live(app: &TestApp, hash: &str) -> bool {
    grants::by_refresh_token(&app.state.db, hash, app.clock.now())
        .await
        .expect("by_refresh_token")
        .expect("the token exists")
        .1
}

async fn login_sub(app: &TestApp, login: Login) -> Option<String> {
    users::by_login(&app.state.db, &login)
        .await
        .expect("by_login")
        .map(|u| u.id)
}

async fn rotate(app: &TestApp, hash: &str, client: &str, new_hash: &str) -> Rotation {
    grants::rotate_refresh(&app.state.db, hash, client, new_hash, app.clock.now(), 3600)
        .await
        .expect("rotate_refresh")
}

fn test_key(kid: &str, activates_at: i64) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        // An algorithm of its own, so the server's real keys are neither touched nor mixed in.
        alg: "XTEST".into(),
        sealed_private: vec![1, 2, 3],
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        created_at: activates_at,
        activates_at,
        retires_at: None,
        expires_at: None,
    }
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = URL_SAFE_NO_PAD.encode(idp::crypto::random_bytes(32));
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

async fn token(app: &TestApp, id: &str, secret: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

/// Deletes every key under the app's Redis prefix (`SCAN` + `DEL`); returns how many.
async fn flush_redis_prefix(prefix: &str) -> usize {
    let client = redis::Client::open(tests::REDIS_URL).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .expect("SCAN");
        if !keys.is_empty() {
            let n: usize = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .expect("DEL");
            deleted += n;
        }
        if next == 0 {
            return deleted;
        }
        cursor = next;
    }
}

async fn redis_pttl(key: &str) -> i64 {
    let client = redis::Client::open(tests::REDIS_URL).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("PTTL")
}

on_both_backends! {
    async fn users_create_find_and_conflict(app: TestApp) {
        let db = &app.state.db;
        let now = app.clock.now();
        let std = users::create(db, &new_user("+79005550001", "std@example.ru", Some("11223344595"), Level::Standard), now)
            .await
            .expect("create standard user");
        assert_eq!(std.level, Level::Standard);
        let simple = users::create(db, &new_user("+79005550002", "simple@example.ru", Some("08765430300"), Level::Simplified), now)
            .await
            .expect("create simplified user");
        assert_ne!(std.id, simple.id);

        let found = users::by_id(db, &std.id).await.unwrap().expect("by id");
        assert_eq!(found.id, std.id);
        assert_eq!(found.person.surname, "Петров");
        assert!(users::by_id(db, "no-such-user").await.unwrap().is_none());

        let by = |l: Login| login_sub(&app, l);
        assert_eq!(by(Login::Phone("+79005550001".into())).await.as_deref(), Some(std.id.as_str()));
        assert_eq!(by(Login::Email("simple@example.ru".into())).await.as_deref(), Some(simple.id.as_str()));
        assert_eq!(by(Login::Snils("11223344595".into())).await.as_deref(), Some(std.id.as_str()));
        // SNILS is a login only for standard and confirmed accounts.
        assert_eq!(by(Login::Snils("08765430300".into())).await, None);
        assert_eq!(by(Login::Phone("+79005559999".into())).await, None);

        for (what, dup) in [
            ("phone", new_user("+79005550001", "other1@example.ru", None, Level::Simplified)),
            ("e-mail", new_user("+79005550003", "std@example.ru", None, Level::Simplified)),
            ("SNILS", new_user("+79005550004", "other2@example.ru", Some("11223344595"), Level::Standard)),
        ] {
            match users::create(db, &dup, now).await {
                Err(StoreError::Conflict(_)) => {}
                other => panic!("duplicate {what}: expected Conflict, got {other:?}"),
            }
        }

        let all = users::list(db, 100).await.unwrap();
        let ids: HashSet<_> = all.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ids, HashSet::from([std.id.clone(), simple.id.clone()]), "the refused duplicates were not stored");
        assert_eq!(users::list(db, 1).await.unwrap().len(), 1);
    }

    async fn clients_create_conflict_and_cascading_delete(app: TestApp) {
        let db = &app.state.db;
        let (id, _) = app.client("store-rp", "openid fullname").await;
        let c = clients::by_id(db, &id).await.unwrap().expect("by id");
        assert_eq!(c.redirect_uris, vec![CB.to_string()]);
        assert!(clients::by_id(db, "nobody").await.unwrap().is_none());
        match clients::create(db, &c).await {
            Err(StoreError::Conflict(_)) => {}
            other => panic!("duplicate client id: expected Conflict, got {other:?}"),
        }
        assert_eq!(clients::list(db).await.unwrap().iter().filter(|x| x.id == id).count(), 1);

        let user = app.user("+79005550011", Level::Simplified).await;
        let g = grant(&app, &user, &id, Some(("cascade-rt", app.clock.now() + 3600))).await;
        consents::grant(db, &user, &id, &ScopeSet::parse("openid fullname").unwrap(), app.clock.now()).await.unwrap();
        assert!(grants::by_sid(db, "sid-test").await.unwrap().iter().any(|x| x.id == g.id));
        assert!(!consents::granted(db, &user, &id, app.clock.now()).await.unwrap().is_empty());

        assert!(clients::delete(db, &id).await.unwrap(), "it existed");
        assert!(clients::by_id(db, &id).await.unwrap().is_none());
        assert!(grants::by_sid(db, "sid-test").await.unwrap().is_empty(), "the grant row went with the client");
        assert!(grants::by_refresh_token(db, "cascade-rt", app.clock.now()).await.unwrap().is_none(), "and its refresh tokens");
        assert!(consents::granted(db, &user, &id, app.clock.now()).await.unwrap().is_empty(), "and the consent");
        assert!(!clients::delete(db, &id).await.unwrap(), "a second delete finds nothing");
    }

    async fn refresh_rotation_replay_and_revocation(app: TestApp) {
        let db = &app.state.db;
        let (id, _) = app.client("rot-rp", "openid fullname").await;
        let (other, _) = app.client("rot-other", "openid").await;
        let user = app.user("+79005550021", Level::Simplified).await;
        let g = grant(&app, &user, &id, Some(("rt-1", app.clock.now() + 3600))).await;
        assert!(refresh_live(&app, "rt-1").await);
        assert!(grants::access_token_live(db, Some(&g.id), "jti-1", app.clock.now()).await.unwrap());

        // Another client cannot use it, and trying changes nothing.
        assert!(matches!(rotate(&app, "rt-1", &other, "rt-x").await, Rotation::WrongClient));
        assert!(refresh_live(&app, "rt-1").await);

        match rotate(&app, "rt-1", &id, "rt-2").await {
            Rotation::Rotated(r) => assert_eq!(r.id, g.id),
            other => panic!("expected Rotated, got {other:?}"),
        }
        assert!(!refresh_live(&app, "rt-1").await, "spent");
        assert!(refresh_live(&app, "rt-2").await, "the successor is stored");
        assert!(matches!(rotate(&app, "rt-2", &id, "rt-3").await, Rotation::Rotated(_)), "the successor works");
        assert!(matches!(rotate(&app, "unknown", &id, "rt-y").await, Rotation::Invalid));

        // Replaying a spent token revokes the whole family.
        assert!(matches!(rotate(&app, "rt-1", &id, "rt-z").await, Rotation::Replayed));
        assert!(!refresh_live(&app, "rt-3").await, "the newest token died with its grant");
        assert!(matches!(rotate(&app, "rt-3", &id, "rt-4").await, Rotation::Invalid));
        assert!(!grants::access_token_live(db, Some(&g.id), "jti-1", app.clock.now()).await.unwrap(), "access tokens follow the grant");

        // Revoking an access token is idempotent, and only that token dies.
        let g2 = grant(&app, &user, &id, None).await;
        assert!(grants::access_token_live(db, Some(&g2.id), "jti-2", app.clock.now()).await.unwrap());
        grants::revoke_access_token(db, "jti-2", app.clock.now() + 600).await.unwrap();
        grants::revoke_access_token(db, "jti-2", app.clock.now() + 600).await.expect("second revocation is fine");
        assert!(!grants::access_token_live(db, Some(&g2.id), "jti-2", app.clock.now()).await.unwrap());
        assert!(!grants::access_token_live(db, None, "jti-2", app.clock.now()).await.unwrap());
        assert!(grants::access_token_live(db, Some(&g2.id), "jti-3", app.clock.now()).await.unwrap());
        assert!(grants::access_token_live(db, None, "jti-3", app.clock.now()).await.unwrap());
        grants::revoke(db, &g2.id, app.clock.now(), "test").await.unwrap();
        assert!(!grants::access_token_live(db, Some(&g2.id), "jti-3", app.clock.now()).await.unwrap());
    }

    async fn expired_refresh_token_is_invalid(app: TestApp) {
        let (id, _) = app.client("exp-rp", "openid").await;
        let user = app.user("+79005550031", Level::Simplified).await;
        grant(&app, &user, &id, Some(("short-rt", app.clock.now() + 60))).await;
        app.clock.advance(61);
        assert!(!refresh_live(&app, "short-rt").await);
        assert!(matches!(rotate(&app, "short-rt", &id, "next").await, Rotation::Invalid));
        assert!(grants::by_refresh_token(&app.state.db, "next", app.clock.now()).await.unwrap().is_none(), "no successor stored");
    }

    async fn concurrent_refresh_rotation_has_one_winner(app: TestApp) {
        let (id, _) = app.client("race-rp", "openid").await;
        let user = app.user("+79005550041", Level::Simplified).await;
        let g = grant(&app, &user, &id, Some(("race-rt", app.clock.now() + 3600))).await;
        let now = app.clock.now();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let db = app.state.db.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    grants::rotate_refresh(&db, "race-rt", &id, &format!("race-next-{i}"), now, 3600).await
                })
            })
            .collect();
        let (mut rotated, mut replayed) = (Vec::new(), 0);
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.expect("task").expect("rotate_refresh") {
                Rotation::Rotated(_) => rotated.push(i),
                Rotation::Replayed => replayed += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(rotated.len(), 1, "exactly one rotation wins");
        assert_eq!(replayed, 15);
        // The losers were replays: the family is revoked, the winner's successor included.
        let winner = format!("race-next-{}", rotated[0]);
        let (grant_row, live) = grants::by_refresh_token(&app.state.db, &winner, app.clock.now()).await.unwrap().expect("successor stored");
        assert_eq!(grant_row.id, g.id);
        assert!(grant_row.revoked_at.is_some(), "grant revoked");
        assert!(!live);
        for i in (0..16).filter(|i| *i != rotated[0]) {
            assert!(grants::by_refresh_token(&app.state.db, &format!("race-next-{i}"), now).await.unwrap().is_none(), "a loser's successor was stored");
        }
    }

    async fn sessions_expire_rotate_and_end(app: TestApp) {
        let db = &app.state.db;
        let user = app.user("+79005550051", Level::Simplified).await;
        let start = app.clock.now();
        let amr = vec!["pwd".to_string()];
        sessions::create(db, &NewSession {
            id_hash: "cookie-1",
            sid: "sid-1",
            user_id: &user,
            auth_time: start,
            amr: &amr,
            persistent: false,
            expires_at: start + 1000,
            user_agent: Some("test"),
            ip: Some("127.0.0.1"),
        }).await.expect("create session");
        let idle = 300;
        let s = sessions::active(db, "cookie-1", app.clock.now(), idle).await.unwrap().expect("active");
        assert_eq!((s.sid.as_str(), s.user_id.as_str(), s.amr.clone()), ("sid-1", user.as_str(), amr.clone()));

        // Idle expiry: unused for longer than idle_ttl.
        app.clock.advance(idle + 1);
        assert!(sessions::active(db, "cookie-1", app.clock.now(), idle).await.unwrap().is_none(), "idle too long");
        // Being used keeps it alive (the row is still there: touch, then it is live again).
        sessions::touch(db, "cookie-1", app.clock.now()).await.unwrap();
        assert!(sessions::active(db, "cookie-1", app.clock.now(), idle).await.unwrap().is_some());

        // Re-authentication rotates the cookie id and keeps the sid.
        app.clock.advance(100);
        let now = app.clock.now();
        let mfa = vec!["pwd".to_string(), "sms".to_string()];
        assert!(sessions::reauthenticate(db, "cookie-1", "cookie-2", now, &mfa).await.unwrap());
        assert!(sessions::active(db, "cookie-1", now, idle).await.unwrap().is_none(), "the old cookie is dead");
        let s = sessions::active(db, "cookie-2", now, idle).await.unwrap().expect("new cookie");
        assert_eq!((s.sid.as_str(), s.auth_time, s.amr.clone()), ("sid-1", now, mfa));
        assert!(!sessions::reauthenticate(db, "cookie-1", "cookie-3", now, &amr).await.unwrap(), "old cookie cannot be rotated");

        // Absolute expiry: kept in use, it still ends at expires_at.
        while app.clock.now() + 250 < start + 1000 {
            app.clock.advance(250);
            sessions::touch(db, "cookie-2", app.clock.now()).await.unwrap();
            assert!(sessions::active(db, "cookie-2", app.clock.now(), idle).await.unwrap().is_some());
        }
        app.clock.advance(start + 1000 - app.clock.now());
        assert!(sessions::active(db, "cookie-2", app.clock.now(), idle).await.unwrap().is_none(), "absolute end");

        // end_by_sid ends a live session once.
        let now = app.clock.now();
        sessions::create(db, &NewSession {
            id_hash: "cookie-9",
            sid: "sid-9",
            user_id: &user,
            auth_time: now,
            amr: &amr,
            persistent: true,
            expires_at: now + 1000,
            user_agent: None,
            ip: None,
        }).await.unwrap();
        let ended = sessions::end_by_sid(db, "sid-9", now).await.unwrap().expect("was live");
        assert_eq!(ended.user_id, user);
        assert!(ended.persistent);
        assert!(sessions::active(db, "cookie-9", now, idle).await.unwrap().is_none());
        assert!(sessions::end_by_sid(db, "sid-9", now).await.unwrap().is_none(), "already ended");
    }

    async fn consents_merge_scopes(app: TestApp) {
        let db = &app.state.db;
        let (id, _) = app.client("consent-rp", "openid fullname email mobile").await;
        let user = app.user("+79005550061", Level::Simplified).await;
        let now = app.clock.now();
        assert!(consents::granted(db, &user, &id, now).await.unwrap().is_empty());
        consents::grant(db, &user, &id, &ScopeSet::parse("openid fullname").unwrap(), now).await.unwrap();
        consents::grant(db, &user, &id, &ScopeSet::parse("openid email").unwrap(), now).await.unwrap();
        let got = consents::granted(db, &user, &id, now).await.unwrap();
        assert_eq!(got, ScopeSet::parse("openid fullname email").unwrap(), "scopes are merged, not replaced");
        assert!(!got.contains("mobile"));
        // Per user: another user has allowed nothing.
        let other = app.user("+79005550062", Level::Simplified).await;
        assert!(consents::granted(db, &other, &id, now).await.unwrap().is_empty());
    }

    async fn one_time_codes_single_use_and_capped(app: TestApp) {
        let policy = Policy { ttl: 300, max_attempts: 10, resend_after: 0, daily_cap: 100, digits: 6 };
        let code = codes::issue(&app.state, "store-test", "+79005550071", policy, Some(&serde_json::json!({"k": 1}))).await.expect("issue");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let state = app.state.clone();
                let code = code.clone();
                tokio::spawn(async move { codes::check(&state, "store-test", "+79005550071", &code).await })
            })
            .collect();
        let mut accepted = 0;
        for t in tasks {
            match t.await.expect("task").expect("check") {
                Checked::Accepted(p) => {
                    assert_eq!(p, Some(serde_json::json!({"k": 1})));
                    accepted += 1;
                }
                Checked::Exhausted => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(accepted, 1, "a code is accepted once");
        assert_eq!(codes::check(&app.state, "store-test", "+79005550071", &code).await.unwrap(), Checked::Exhausted);

        // Three attempts, then even the right code is refused.
        let sms = Policy { max_attempts: 3, ..policy };
        let code = codes::issue(&app.state, "store-test", "+79005550072", sms, None).await.expect("issue");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for remaining in [2, 1, 0] {
            assert_eq!(codes::check(&app.state, "store-test", "+79005550072", wrong).await.unwrap(), Checked::Wrong { remaining });
        }
        assert_eq!(codes::check(&app.state, "store-test", "+79005550072", &code).await.unwrap(), Checked::Exhausted);
        assert_eq!(codes::check(&app.state, "store-test", "+79005550073", &code).await.unwrap(), Checked::Missing);

        // Expiry follows the injected clock.
        let code = codes::issue(&app.state, "store-test", "+79005550074", sms, None).await.expect("issue");
        app.clock.advance(sms.ttl);
        assert_eq!(codes::check(&app.state, "store-test", "+79005550074", &code).await.unwrap(), Checked::Expired);
    }

    async fn outbox_claims_are_exclusive(app: TestApp) {
        let now = app.clock.now();
        let mut ids = HashSet::new();
        for i in 0..20 {
            let recipient = format!("+7900555{i:04}");
            let id = outbox::enqueue(app.state.db.write(), &NewMessage {
                channel: "sms",
                recipient: &recipient,
                template: "test",
                subject: "",
                body: "hello",
            }, now).await.expect("enqueue");
            ids.insert(id);
        }
        assert_eq!(ids.len(), 20);
        let claimers: Vec<_> = (0..2)
            .map(|_| {
                let db = app.state.db.clone();
                tokio::spawn(async move { outbox::claim_due(&db, now, 60, 100).await })
            })
            .collect();
        let mut claimed = Vec::new();
        for c in claimers {
            claimed.extend(c.await.expect("task").expect("claim_due").into_iter().map(|m| m.id));
        }
        let unique: HashSet<_> = claimed.iter().cloned().collect();
        assert_eq!(unique.len(), claimed.len(), "a message was handed to both claimers");
        assert_eq!(unique, ids, "every due message was claimed");
        // Leased: nothing more to claim until the lease ends.
        assert!(outbox::claim_due(&app.state.db, now, 60, 100).await.unwrap().is_empty());
        let again = outbox::claim_due(&app.state.db, now + 61, 60, 100).await.unwrap();
        assert_eq!(again.len(), 20, "an expired lease frees the messages");
        assert!(again.iter().all(|m| m.attempts == 2));
    }

    async fn keys_rotate_in_and_publish_newest_first(app: TestApp) {
        let db = &app.state.db;
        let now = app.clock.now();
        let ours = |ks: Vec<StoredKey>| ks.into_iter().filter(|k| k.alg == "XTEST").collect::<Vec<_>>();
        keys::rotate_in(db, &[test_key("k1", now)], 100).await.unwrap();
        let published = ours(keys::published(db, now).await.unwrap());
        assert_eq!(published.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k1"]);
        assert_eq!(published[0].retires_at, None);

        keys::rotate_in(db, &[test_key("k2", now + 10)], 100).await.unwrap();
        let published = ours(keys::published(db, now).await.unwrap());
        assert_eq!(published.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k2", "k1"], "newest first");
        assert_eq!((published[1].retires_at, published[1].expires_at), (Some(now + 10), Some(now + 110)));
        assert_eq!(published[1].sealed_private, vec![1, 2, 3]);
        assert_eq!((published[0].retires_at, published[0].expires_at), (None, None));

        let later = ours(keys::published(db, now + 111).await.unwrap());
        assert_eq!(later.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k2"], "k1 is unpublished after the overlap");
        // The server's own keys were left alone.
        assert!(keys::published(db, now).await.unwrap().iter().any(|k| k.alg != "XTEST"));
    }

    async fn short_lived_store(app: TestApp) {
        let cache = &app.state.cache;
        cache.put("k", b"v1", 60).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
        cache.put("k", b"v2", 60).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v2"[..]), "put replaces");
        assert_eq!(cache.take("k").await.unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(cache.take("k").await.unwrap(), None);
        assert_eq!(cache.get("k").await.unwrap(), None);

        cache.put("once", b"secret", 60).await.unwrap();
        let takers: Vec<_> = (0..16)
            .map(|_| {
                let cache = app.state.cache.clone();
                tokio::spawn(async move { cache.take("once").await })
            })
            .collect();
        let mut winners = 0;
        for t in takers {
            if let Some(v) = t.await.expect("task").expect("take") {
                assert_eq!(v, b"secret");
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "take is once");

        assert!(cache.put_new("nx", b"a", 60).await.unwrap());
        assert!(!cache.put_new("nx", b"b", 60).await.unwrap());
        assert_eq!(cache.get("nx").await.unwrap().as_deref(), Some(&b"a"[..]), "put_new keeps the first value");
        cache.delete("nx").await.unwrap();
        assert!(cache.put_new("nx", b"c", 60).await.unwrap(), "free again after delete");

        for n in 1..=3 {
            assert_eq!(cache.incr("counter", 60).await.unwrap(), n);
        }
        assert_eq!(cache.incr("other-counter", 60).await.unwrap(), 1);

        // Expiry: the in-process store hides a zero-TTL entry at once; Redis carries the TTL
        // on the key itself (never longer than asked, and Redis expires it).
        match app.backend {
            Backend::Sqlite => {
                cache.put("gone", b"x", 0).await.unwrap();
                assert_eq!(cache.get("gone").await.unwrap(), None);
                assert!(cache.put_new("gone", b"y", 60).await.unwrap(), "an expired entry does not block put_new");
            }
            Backend::Postgres => {
                let prefix = &app.state.config.cache.prefix;
                cache.put("ttl", b"x", 60).await.unwrap();
                let ttl = redis_pttl(&format!("{prefix}ttl")).await;
                assert!(ttl > 0 && ttl <= 60_000, "PTTL {ttl}");
                cache.incr("counter", 600).await.unwrap();
                let ttl = redis_pttl(&format!("{prefix}counter")).await;
                assert!(ttl > 0 && ttl <= 60_000, "the counter keeps its first TTL: PTTL {ttl}");
            }
        }
    }

    async fn cache_flush_logs_nobody_out(app: TestApp) {
        let (id, secret) = app.client("flush-rp", "openid fullname").await;
        app.user("+79005550082", Level::Standard).await;
        let browser = app.browser();
        let (verifier, challenge) = pkce();
        let back = browser.sign_in(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("scope", "openid fullname"),
            ("redirect_uri", CB),
            ("state", "s-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ], "+79005550082", PASSWORD).await;
        let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
        let (status, body) = token(&app, &id, &secret, &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
        ]).await;
        assert_eq!(status, 200, "{body}");
        let refresh = body["refresh_token"].as_str().expect("refresh token").to_string();

        // Lose every piece of short-lived state.
        match app.backend {
            Backend::Postgres => {
                let deleted = flush_redis_prefix(&app.state.config.cache.prefix).await;
                assert!(deleted > 0, "the sign-in left short-lived state in Redis");
            }
            // The in-process store cannot be listed; what the sign-in left there is spent
            // (login transaction, code), so the durable state is what remains either way.
            Backend::Sqlite => {}
        }

        let silent = browser.authorize(&[
            ("client_id", id.as_str()),
            ("response_type", "code"),
            ("scope", "openid fullname"),
            ("redirect_uri", CB),
            ("state", "s-2"),
            ("prompt", "none"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]).await.left();
        assert_eq!(param(&silent, "error"), None, "still signed in: {silent}");
        assert_eq!(param(&silent, "state").as_deref(), Some("s-2"));
        let code = param(&silent, "code").expect("a code without a login");
        let (status, body) = token(&app, &id, &secret, &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
        ]).await;
        assert_eq!(status, 200, "{body}");

        let (status, body) = token(&app, &id, &secret, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200, "the refresh token survives: {body}");
        assert!(body["access_token"].is_string());
        assert_ne!(body["refresh_token"].as_str(), Some(refresh.as_str()));
    }
}
