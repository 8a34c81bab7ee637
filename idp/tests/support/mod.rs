//! Helpers of the CLI tests: running the `idp` binary, servers killed on drop, temporary
//! folders and databases, and a few HTTP calls.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_idp");
pub const DEMO_PASSWORD: &str = "Gosuslugi-2026!";
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A finished command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout of a command that must have succeeded.
    #[track_caller]
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Asserts exit code 1 and `text` in the error message.
    #[track_caller]
    pub fn fails_with(&self, text: &str) {
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
    pub fn is_one_message(&self) {
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
pub fn idp(args: &[&str], env: &[(&str, &str)]) -> Command {
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

pub fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = idp(args, env).output().expect("run idp");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `idp dev` or `idp serve`, killed (and reaped) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// What `idp dev` printed before serving.
    pub banner: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `idp dev` and waits for its guide, which it prints once it is ready.
    pub fn dev(dir: &TempDir, port: u16, env: &[(&str, &str)]) -> Server {
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
    pub fn serve(config: &str, port: u16) -> Server {
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
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let unique = idp::crypto::hex(&idp::crypto::random_bytes(6));
        let path =
            std::env::temp_dir().join(format!("idp-cli-{tag}-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
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
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
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

/// A loopback port nobody listens on right now, for a server a test starts.
pub fn free_port() -> u16 {
    // Below the kernel's ephemeral range (32768 and up on Linux), where outgoing connections
    // take their source ports: a port found free here is not grabbed by some client before
    // the server binds it. Each process walks its own sequence from a PID-based start, so
    // parallel tests and test processes do not pick the same one.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let start = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = (LOW + (start + n) % SPAN) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}..{}", LOW + SPAN)
}

pub fn valid_sqlite_config(dir: &TempDir, port: u16) -> String {
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

pub fn http() -> reqwest::Client {
    idp::app::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

pub async fn get_json(url: &str) -> Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

pub async fn jwks_kids(base: &str) -> Vec<String> {
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
pub async fn client_credentials(base: &str, id: &str, secret: &str) -> (u16, String) {
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
pub async fn demo_login(base: &str, login_url: &str, login: &str) -> u16 {
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
