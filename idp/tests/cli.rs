//! The `idp` command as an operator uses it: the real binary, started as a child process
//! against a temporary data folder (SQLite) or, in one test, PostgreSQL + Redis through a
//! configuration file. Running servers are killed when each test ends (see [`support::Server`]).

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn dev_prints_its_guide_serves_discovery_and_keeps_everything_across_a_restart() {
    let dir = TempDir::new("dev");
    let port = free_port();
    let server = Server::dev(&dir, port, &[]);
    let base = server.base.clone();
    let banner = server.banner.join("\n");
    for expected in [
        format!("Issuer:     {base}"),
        format!("{base}/.well-known/openid-configuration"),
        DEMO_PASSWORD.to_string(),
        "+79000000001".into(),
        "+79000000002".into(),
        "+79000000003".into(),
        "fns-lk".into(),
        "sfr-pension".into(),
        format!("{base}/authorize?client_id=fns-lk&response_type=code"),
    ] {
        assert!(
            banner.contains(&expected),
            "{expected:?} missing from:\n{banner}"
        );
    }
    let discovery = get_json(&format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], base.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{base}/jwks").as_str());
    let kids = jwks_kids(&base).await;
    assert_eq!(kids.len(), 2, "one RS256 and one ES256 key: {kids:?}");
    // The printed login URL works, and a demo citizen can log in with the printed password.
    let login_url = server
        .banner
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{base}/authorize?"))
                .map(|q| format!("{base}/authorize?{q}"))
        })
        .expect("login URL in the banner");
    assert_eq!(demo_login(&base, &login_url, "+79000000001").await, 303);
    let users_before = run(&["users", "list", "--data-dir", dir.arg()]).ok();
    assert_eq!(users_before.lines().count(), 3, "{users_before}");
    let clients_before = run(&["clients", "list", "--data-dir", dir.arg()]).ok();
    drop(server);

    // A restart on the same folder: same keys, same people, no second copy of the demo data.
    let server = Server::dev(&dir, port, &[]);
    assert_eq!(server.base, base);
    assert_eq!(jwks_kids(&base).await, kids);
    assert_eq!(
        run(&["users", "list", "--data-dir", dir.arg()]).ok(),
        users_before
    );
    assert_eq!(
        run(&["clients", "list", "--data-dir", dir.arg()]).ok(),
        clients_before
    );
    assert_eq!(
        demo_login(&base, &login_url, "8 (900) 000-00-02").await,
        303
    );
    let token = client_credentials(&base, "fns-lk", "fns-demo-secret").await;
    assert_eq!(token.0, 200, "{}", token.1);
}

#[tokio::test]
async fn clients_created_by_the_cli_are_accepted_by_a_running_server_at_once() {
    let dir = TempDir::new("clients");
    let server = Server::dev(&dir, free_port(), &[]);
    let created = run(&[
        "clients",
        "create",
        "--data-dir",
        dir.arg(),
        "--id",
        "tax-office",
        "--name",
        "Налоговая",
        "--redirect-uri",
        "https://rp.example/cb",
        "--scopes",
        "openid profile",
    ])
    .ok();
    assert!(created.contains("client tax-office created"), "{created}");
    let secret = created
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("a generated secret is printed")
        .trim()
        .to_string();
    assert!(secret.len() >= 32, "{secret}");

    let (status, body) = client_credentials(&server.base, "tax-office", &secret).await;
    assert_eq!(
        status, 200,
        "the running server accepts the new client without a restart: {body}"
    );
    assert_eq!(
        client_credentials(&server.base, "tax-office", "wrong")
            .await
            .0,
        401
    );

    let list = run(&["clients", "list", "--data-dir", dir.arg()]).ok();
    for id in ["tax-office", "fns-lk", "sfr-pension"] {
        assert!(list.contains(id), "{list}");
    }
    let shown: Value = serde_json::from_str(
        &run(&["clients", "show", "tax-office", "--data-dir", dir.arg()]).ok(),
    )
    .expect("show prints JSON");
    assert_eq!(shown["client_id"], "tax-office");
    assert_eq!(shown["client_name"], "Налоговая");
    assert_eq!(
        shown["redirect_uris"],
        serde_json::json!(["https://rp.example/cb"])
    );
    assert_eq!(shown["scope"], "openid profile");
    assert!(
        !shown.to_string().contains(&secret),
        "the secret is shown once only"
    );

    let again = run(&[
        "clients",
        "create",
        "--data-dir",
        dir.arg(),
        "--id",
        "tax-office",
        "--redirect-uri",
        "https://rp.example/cb",
    ]);
    again.fails_with("tax-office");

    let deleted = run(&["clients", "delete", "tax-office", "--data-dir", dir.arg()]).ok();
    assert!(deleted.contains("client tax-office deleted"), "{deleted}");
    run(&["clients", "show", "tax-office", "--data-dir", dir.arg()])
        .fails_with("no client tax-office");
    run(&["clients", "delete", "tax-office", "--data-dir", dir.arg()])
        .fails_with("no client tax-office");
    // The running server forgets the deleted client within its short cache lifetime.
    let deadline = Instant::now() + Duration::from_secs(15);
    while client_credentials(&server.base, "tax-office", &secret)
        .await
        .0
        != 401
    {
        assert!(
            Instant::now() < deadline,
            "a deleted client is still accepted"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn users_are_created_with_a_normalised_phone_and_a_checked_snils() {
    let dir = TempDir::new("users");
    let created = run(&[
        "users",
        "create",
        "--data-dir",
        dir.arg(),
        "--phone",
        "8 (900) 123-45-67",
        "--password",
        "Strong-Passw0rd-2026!",
        "--surname",
        "Сидоров",
        "--given-name",
        "Сидор",
        "--snils",
        "112-233-445 95",
        "--level",
        "standard",
    ])
    .ok();
    assert!(
        created.contains("Сидоров Сидор") && created.contains("level standard"),
        "{created}"
    );
    let list = run(&["users", "list", "--data-dir", dir.arg()]).ok();
    let line = list
        .lines()
        .find(|l| l.contains("Сидоров"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.contains("+79001234567"),
        "the phone is stored normalised: {line}"
    );

    let bad = run(&[
        "users",
        "create",
        "--data-dir",
        dir.arg(),
        "--phone",
        "8 (900) 765-43-21",
        "--password",
        "Strong-Passw0rd-2026!",
        "--surname",
        "Петров",
        "--given-name",
        "Пётр",
        "--snils",
        "112-233-445 96",
    ]);
    bad.fails_with("--snils 112-233-445 96: wrong format or checksum");
    run(&[
        "users",
        "create",
        "--data-dir",
        dir.arg(),
        "--phone",
        "+1 555 0100",
        "--password",
        "Strong-Passw0rd-2026!",
        "--surname",
        "Петров",
        "--given-name",
        "Пётр",
    ])
    .fails_with("not a Russian mobile number");
    run(&[
        "users",
        "create",
        "--data-dir",
        dir.arg(),
        "--phone",
        "+7 900 123-45-67",
        "--password",
        "Strong-Passw0rd-2026!",
        "--surname",
        "Петров",
        "--given-name",
        "Пётр",
    ])
    .fails_with("already bound");
    assert_eq!(
        run(&["users", "list", "--data-dir", dir.arg()]).ok(),
        list,
        "nothing was created by the refused commands"
    );
}

#[tokio::test]
async fn rotated_keys_are_listed_and_published_by_the_running_server() {
    let dir = TempDir::new("keys");
    let server = Server::dev(&dir, free_port(), &[("IDP_KEYS__RELOAD_SECS", "1")]);
    let old = jwks_kids(&server.base).await;
    let rotated = run(&["keys", "rotate", "--data-dir", dir.arg()]).ok();
    let new: Vec<String> = rotated
        .trim()
        .strip_prefix("new keys: ")
        .unwrap_or_else(|| panic!("{rotated}"))
        .split(", ")
        .map(str::to_string)
        .collect();
    assert_eq!(new.len(), 2, "{rotated}");

    let listed = run(&["keys", "list", "--data-dir", dir.arg()]).ok();
    let status_of = |kid: &str| {
        let line = listed
            .lines()
            .find(|l| l.starts_with(kid))
            .unwrap_or_else(|| panic!("{kid} not in:\n{listed}"));
        line.split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    };
    for kid in &old {
        assert_eq!(status_of(kid), "previous", "{listed}");
    }
    for kid in &new {
        assert_eq!(status_of(kid), "active", "{listed}");
    }

    // keys.reload_secs = 1 through the environment: the server picks the new keys up quickly,
    // keeps publishing the old ones, and signs with the new ones.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let published = jwks_kids(&server.base).await;
        if new.iter().all(|k| published.contains(k)) {
            assert!(old.iter().all(|k| published.contains(k)), "{published:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new keys not published: {published:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = client_credentials(&server.base, "fns-lk", "fns-demo-secret").await;
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).expect("json");
    let header = token["access_token"]
        .as_str()
        .and_then(|t| t.split('.').next())
        .expect("a JWT");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("json");
    assert!(
        new.iter().any(|k| header["kid"] == k.as_str()),
        "signed with {header}, new keys {new:?}"
    );
}

#[tokio::test]
async fn a_bad_configuration_is_refused_with_one_message_listing_every_problem() {
    let dir = TempDir::new("config");
    let good = valid_sqlite_config(&dir, free_port());
    let typo = dir.write("typo.toml", &format!("{good}\n[tokens]\ncode_tll = 30\n"));
    let failed = run(&["serve", "--config", typo.to_str().expect("path")]);
    failed.fails_with("code_tll");
    failed.is_one_message();

    let many = dir.write(
        "many.toml",
        r#"
[server]
listen = "127.0.0.1:1"
issuer = "http://id.example.ru/"
[database]
url = "mysql://db.example.ru/idp"
max_connections = 0
[tokens]
code_ttl = 600
"#,
    );
    for command in ["serve", "migrate"] {
        let failed = run(&[command, "--config", many.to_str().expect("path")]);
        for problem in [
            "server.issuer must be https",
            "server.issuer must not end with '/'",
            "database.url must start with sqlite:// or postgres://",
            "database.max_connections must be at least 1",
            "keys.master_key or keys.master_key_file is required",
            "tokens.code_ttl must be between 1 and 60 seconds",
        ] {
            failed.fails_with(problem);
        }
        failed.is_one_message();
    }

    let good_file = dir.write("good.toml", &good);
    let overlaid = run_env(
        &["serve", "--config", good_file.to_str().expect("path")],
        &[("IDP_TOKENS__CODE_TTL", "600")],
    );
    overlaid.fails_with("tokens.code_ttl must be between 1 and 60 seconds");
    overlaid.is_one_message();
    run(&["serve", "--data-dir", dir.arg()]).fails_with("serve needs --config");
}

#[tokio::test]
async fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["dev", "--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["keys", "--help"],
        &["keys", "list", "--help"],
        &["keys", "rotate", "--help"],
        &["clients", "--help"],
        &["clients", "create", "--help"],
        &["clients", "list", "--help"],
        &["clients", "show", "--help"],
        &["clients", "delete", "--help"],
        &["users", "--help"],
        &["users", "create", "--help"],
        &["users", "list", "--help"],
    ] {
        let out = run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout.contains("Usage: idp"),
            "{args:?}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("--help"), "{args:?}: {}", out.stdout);
    }
    let create = run(&["clients", "create", "--help"]).ok();
    assert!(
        create.contains("--redirect-uri") && create.contains("--config"),
        "{create}"
    );
    let unknown = run(&["nonsense"]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("nonsense"), "{}", unknown.stderr);
}

#[tokio::test]
async fn postgres_and_redis_deployment_is_managed_through_a_config_file() {
    let db = PgDatabase::create().await;
    let dir = TempDir::new("pg");
    let port = free_port();
    let master = STANDARD.encode(idp::crypto::random_bytes(32));
    let config = dir.write(
        "idp.toml",
        &format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
issuer = "http://127.0.0.1:{port}"
[database]
url = "postgres://postgres@127.0.0.1:5432/{name}"
[cache]
url = "redis://127.0.0.1:6379"
prefix = "{name}:"
[keys]
master_key = "{master}"
reload_secs = 1
[dangerous]
allow_http_issuer = true
"#,
            name = db.name
        ),
    );
    let config = config.to_str().expect("path");
    assert!(
        run(&["migrate", "--config", config])
            .ok()
            .contains("migrations applied")
    );
    assert!(
        run(&["migrate", "--config", config])
            .ok()
            .contains("migrations applied"),
        "migrate is repeatable"
    );
    let created = run(&[
        "clients",
        "create",
        "--config",
        config,
        "--id",
        "pg-rp",
        "--redirect-uri",
        "https://rp.example/cb",
        "--scopes",
        "openid profile",
    ])
    .ok();
    let secret = created
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("secret")
        .trim()
        .to_string();
    run(&[
        "users",
        "create",
        "--config",
        config,
        "--phone",
        "8 (900) 222-33-44",
        "--password",
        "Strong-Passw0rd-2026!",
        "--surname",
        "Кузнецова",
        "--given-name",
        "Мария",
    ])
    .ok();
    assert!(
        run(&["users", "list", "--config", config])
            .ok()
            .contains("+79002223344")
    );

    let server = Server::serve(config, port);
    let ready = http()
        .get(format!("{}/health/ready", server.base))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200, "database and Redis answer");
    assert_eq!(
        client_credentials(&server.base, "pg-rp", &secret).await.0,
        200
    );
    // A client registered while the server runs is accepted at once.
    let created = run(&[
        "clients",
        "create",
        "--config",
        config,
        "--id",
        "pg-rp-2",
        "--redirect-uri",
        "https://rp.example/cb",
    ])
    .ok();
    let secret2 = created
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("secret")
        .trim()
        .to_string();
    assert_eq!(
        client_credentials(&server.base, "pg-rp-2", &secret2)
            .await
            .0,
        200
    );
    let listed = run(&["clients", "list", "--config", config]).ok();
    assert!(
        listed.contains("pg-rp") && listed.contains("pg-rp-2") && !listed.contains("fns-lk"),
        "no demo data outside dev: {listed}"
    );
    // A rotation reaches the server through the database (keys.reload_secs = 1 in the file).
    let rotated = run(&["keys", "rotate", "--config", config]).ok();
    let new_kid = rotated
        .trim()
        .trim_start_matches("new keys: ")
        .split(", ")
        .next()
        .expect("kid")
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !jwks_kids(&server.base).await.contains(&new_kid) {
        assert!(Instant::now() < deadline, "{new_kid} not published");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
