//! The `idp` command as an operator uses it: the real binary, started as a child process
//! against a temporary data folder (SQLite) or, in one test, PostgreSQL + Redis through a
//! configuration file. Running servers are killed when each test ends (see [`Server`]).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_idp");
const DEMO_PASSWORD: &str = "Gosuslugi-2026!";
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

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

// ---- helpers ----------------------------------------------------------------------------

/// A finished command.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Stdout of a command that must have succeeded.
    #[track_caller]
    fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts exit code 1 and `text` in the error message.
    #[track_caller]
    fn fails_with(&self, text: &str) {
        assert_eq!(
            self.code, 1,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(text),
            "{text:?} not in: {}",
            self.stderr
        );
    }

    /// The error output is one `error:` message (its continuation lines indented), nothing else.
    #[track_caller]
    fn is_one_message(&self) {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            lines.first().is_some_and(|l| l.starts_with("error: ")),
            "{}",
            self.stderr
        );
        assert!(
            lines[1..].iter().all(|l| l.starts_with("  ")),
            "one message expected: {}",
            self.stderr
        );
    }
}

/// The `idp` binary with no inherited `IDP_*` settings and quiet logs.
fn idp(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("IDP_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("RUST_LOG", "warn");
    cmd.envs(env.iter().copied());
    cmd
}

fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = idp(args, env).output().expect("run idp");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `idp dev` or `idp serve`, killed (and reaped) when dropped.
struct Server {
    child: Child,
    base: String,
    /// What `idp dev` printed before serving.
    banner: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `idp dev` and waits for its guide, which it prints once it is ready.
    fn dev(dir: &TempDir, port: u16, env: &[(&str, &str)]) -> Server {
        let port_arg = port.to_string();
        let mut server = Self::spawn(
            idp(&["dev", "--data-dir", dir.arg(), "--port", &port_arg], env),
            port,
        );
        let (tx, rx) = mpsc::channel();
        let stdout = server.child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains("/authorize?client_id=");
                    server.banner.push(line);
                    if done {
                        return server;
                    }
                }
                Err(e) => panic!(
                    "idp dev did not print its guide ({e}); stdout: {:?}; stderr: {}",
                    server.banner,
                    server.stderr.lock().map(|s| s.clone()).unwrap_or_default()
                ),
            }
        }
    }

    /// Starts `idp serve --config FILE` and waits until it answers.
    fn serve(config: &str, port: u16) -> Server {
        let server = Self::spawn(idp(&["serve", "--config", config], &[]), port);
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "idp serve did not start: {}",
                server.stderr.lock().map(|s| s.clone()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn spawn(mut cmd: Command, port: u16) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start idp");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    return;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            banner: Vec::new(),
            stderr,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let unique = idp::crypto::hex(&idp::crypto::random_bytes(6));
        let path =
            std::env::temp_dir().join(format!("idp-cli-{tag}-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh PostgreSQL database, dropped when the guard is.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    async fn create() -> PgDatabase {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let name = format!(
            "idp_cli_{}",
            idp::crypto::hex(&idp::crypto::random_bytes(6))
        );
        let mut conn = sqlx::AnyConnection::connect(PG_ADMIN_URL).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is required for this test and is not reachable at {PG_ADMIN_URL}: {e}")
        });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        assert!(
            std::net::TcpStream::connect("127.0.0.1:6379").is_ok(),
            "Redis is required for this test and is not reachable at 127.0.0.1:6379"
        );
        PgDatabase { name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop cannot await; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(PG_ADMIN_URL).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn valid_sqlite_config(dir: &TempDir, port: u16) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
issuer = "http://127.0.0.1:{port}"
[database]
url = "sqlite://{dir}/idp.db"
[keys]
master_key_file = "{dir}/master.key"
[dangerous]
allow_http_issuer = true
"#,
        dir = dir.arg()
    )
}

fn http() -> reqwest::Client {
    idp::app::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

async fn get_json(url: &str) -> Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks = get_json(&format!("{base}/jwks")).await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect();
    kids.sort();
    kids
}

/// `client_credentials` with `client_secret_basic`: (status, body).
async fn client_credentials(base: &str, id: &str, secret: &str) -> (u16, String) {
    let resp = http()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

/// Follows a login URL to the login page and signs in; returns the status of the form's answer.
async fn demo_login(base: &str, login_url: &str, login: &str) -> u16 {
    let browser = http();
    let first = browser.get(login_url).send().await.expect("authorize");
    assert_eq!(
        first.status(),
        303,
        "the printed login URL is a valid request"
    );
    let to = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.starts_with("/login?"), "{to}");
    let page = browser
        .get(format!("{base}{to}"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let field = |name: &str| {
        let at = page
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("no {name} field"));
        let tag = &page[page[..at].rfind('<').unwrap_or(0)..at + page[at..].find('>').unwrap_or(0)];
        let value = tag.split("value=\"").nth(1).unwrap_or("");
        value[..value.find('"').unwrap_or(0)].to_string()
    };
    let form = [
        ("tx", field("tx")),
        ("csrf", field("csrf")),
        ("login", login.to_string()),
        ("password", DEMO_PASSWORD.to_string()),
    ];
    let resp = browser
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .await
        .expect("login");
    resp.status().as_u16()
}
