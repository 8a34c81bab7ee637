//! Test harness shared by the suites: [`TestApp`] boots the real server on `127.0.0.1:0`
//! against a fresh database (a new SQLite file, or a new PostgreSQL database plus a private
//! Redis key prefix), and [`Browser`] drives the HTML flow like a person would.

pub mod browser;
pub mod cluster;
pub mod esia;
pub mod jwt;
pub mod oidc;
pub mod webauthn;

use std::path::PathBuf;
use std::sync::Arc;

use idp::clock::Clock;
use idp::config::{CacheConfig, Config};
use idp::crypto::password::Argon2Params;
use idp::domain::clients::{ClientSpec, register_in};
use idp::store::users::{self, NewUser};
use idp::{App, AppState};
use tokio::sync::oneshot;

pub use browser::Browser;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const PASSWORD: &str = "Test-passw0rd!";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process cache (the embedded default).
    Sqlite,
    /// PostgreSQL + Redis (production shape).
    Postgres,
}

/// A running server on an ephemeral port.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: Clock,
    pub backend: Backend,
    pub database_url: String,
    dir: Option<PathBuf>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// A change to the configuration before the server starts.
pub type ConfigTweak = Box<dyn FnOnce(&mut Config) + Send>;

/// Options for [`TestApp::start_with`].
pub struct Options {
    pub backend: Backend,
    /// Overrides the database URL (e.g. a proxy in front of PostgreSQL). On PostgreSQL a
    /// `{db}` in it is replaced by the name of the fresh database created for the test.
    pub database_url: Option<String>,
    pub tweak: Option<ConfigTweak>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(Options {
            backend,
            database_url: None,
            tweak: None,
        })
        .await
    }

    pub async fn start_with(opts: Options) -> TestApp {
        idp::app::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let unique = format!(
            "{}_{}",
            std::process::id(),
            idp::crypto::hex(&idp::crypto::random_bytes(6))
        );
        let dir = std::env::temp_dir().join(format!("idp-test-{unique}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut config = Config::dev(&dir, port);
        config.login.argon2 = Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut database_url = config.database.url.clone();
        if opts.backend == Backend::Postgres {
            static STALE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
            STALE.get_or_init(drop_stale_pg_databases).await;
            let db = format!("idp_t_{unique}");
            create_pg_database(&db).await;
            database_url = opts
                .database_url
                .as_deref()
                .map(|u| u.replace("{db}", &db))
                .unwrap_or_else(|| format!("{PG_BASE_URL}/{db}"));
            config.database.url = database_url.clone();
            config.database.acquire_timeout_ms = 1500;
            config.cache = CacheConfig {
                url: Some(REDIS_URL.into()),
                prefix: format!("idp_t_{unique}:"),
                cluster: false,
            };
            require_redis().await;
        }
        if let Some(t) = opts.tweak {
            t(&mut config);
        }
        let clock = Clock::default();
        let app = App::build(config, clock.clone())
            .await
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        let state = app.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            state,
            clock,
            backend: opts.backend,
            database_url,
            dir: Some(dir),
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A fresh browser (own cookie jar, redirects not followed).
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// Registers a confidential client with redirect `https://rp.example/cb` and returns (id, secret).
    pub async fn client(&self, id: &str, scopes: &str) -> (String, String) {
        let (c, secret) = register_in(
            &self.state,
            ClientSpec {
                id: id.into(),
                name: format!("Сайт {id}"),
                redirect_uris: vec!["https://rp.example/cb".into()],
                post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
                scopes: scopes.into(),
                ..ClientSpec::default()
            },
        )
        .await
        .expect("register client");
        (c.id, secret.expect("secret"))
    }

    /// Registers a client from a full spec; returns the generated or given secret.
    pub async fn client_spec(&self, spec: ClientSpec) -> Option<String> {
        register_in(&self.state, spec)
            .await
            .expect("register client")
            .1
    }

    /// Creates a citizen with phone `phone` and password [`PASSWORD`]; returns the `sub`.
    pub async fn user(&self, phone: &str, level: idp::protocol::acr::Level) -> String {
        let hash = self.state.passwords.hash(PASSWORD).await.expect("hash");
        let u = users::create(
            &self.state.db,
            &NewUser {
                surname: "Иванов".into(),
                given_name: "Иван".into(),
                middle_name: Some("Иванович".into()),
                level: Some(level),
                phone: Some(phone.into()),
                email: Some(format!("{}@example.ru", phone.trim_start_matches('+'))),
                snils: (level >= idp::protocol::acr::Level::Standard)
                    .then(|| "11223344595".to_string())
                    .filter(|_| phone.ends_with('2')),
                inn: Some("500100732259".into()),
                birthdate: Some("1980-01-02".into()),
                birthplace: Some("г. Тверь".into()),
                gender: Some("M".into()),
                password_hash: Some(hash),
            },
            self.clock.now(),
        )
        .await
        .expect("create user");
        u.id
    }

    /// The six-digit code in the newest message of `template` (`login_code`,
    /// `recovery_code`, ...) in the outbox to `recipient`.
    pub async fn code_sent(&self, recipient: &str, template: &str) -> String {
        let messages = idp::store::outbox::list(&self.state.db, Some(recipient), 50)
            .await
            .expect("outbox");
        let m = messages
            .iter()
            .find(|m| m.template == template)
            .unwrap_or_else(|| panic!("no {template} for {recipient}: {messages:?}"));
        let digits: Vec<char> = m.body.chars().collect();
        let at = (0..digits.len().saturating_sub(5))
            .find(|&i| digits[i..i + 6].iter().all(char::is_ascii_digit))
            .expect("a six-digit code");
        digits[at..at + 6].iter().collect()
    }
}

impl TestApp {
    /// Exchanges the code of `redirect` (a redirect to `https://rp.example/cb`) with the
    /// client's secret and returns the ID token's claims, without checking the signature.
    pub async fn id_claims(
        &self,
        client: &(String, String),
        redirect: &url::Url,
    ) -> serde_json::Value {
        use base64::Engine;
        let code = browser::param(redirect, "code").expect("code");
        let resp = reqwest::Client::new()
            .post(self.url("/token"))
            .basic_auth(&client.0, Some(&client.1))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "https://rp.example/cb"),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        let body: serde_json::Value = resp.json().await.expect("JSON");
        let jwt = body["id_token"].as_str().expect("id_token");
        let payload = jwt.split('.').nth(1).expect("payload");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64");
        serde_json::from_slice(&bytes).expect("claims")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Creates a fresh PostgreSQL database; panics loudly if PostgreSQL cannot be reached.
async fn create_pg_database(name: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(PG_ADMIN_URL).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for this test and is not reachable at {PG_ADMIN_URL}: {e}. Start it (see .ci/run).")
    });
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("create database");
    let _ = conn.close().await;
}

async fn require_redis() {
    let stream = tokio::net::TcpStream::connect("127.0.0.1:6379").await;
    assert!(
        stream.is_ok(),
        "Redis is required for this test and is not reachable at {REDIS_URL}. Start it (see .ci/run)."
    );
}

/// Drops test databases left by earlier runs (call once per process). Databases of a test
/// process that is still running (its pid is in the name) are left alone.
pub async fn drop_stale_pg_databases() {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let Ok(mut conn) = sqlx::AnyConnection::connect(PG_ADMIN_URL).await else {
        return;
    };
    let me = format!("idp_t_{}_", std::process::id());
    let rows = sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'idp_t_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for r in rows {
        let name: String = r.try_get(0).unwrap_or_default();
        let owner_alive = name
            .strip_prefix("idp_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !name.starts_with(&me) && !owner_alive {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    let _ = conn.close().await;
}

/// Shared for tests that need an `Arc` of the state.
pub fn shared(app: &TestApp) -> Arc<AppState> {
    Arc::new(app.state.clone())
}

/// The TOTP code of `secret` at `time`, by an independent implementation (Python pyotp,
/// `tests/tools/totp.sh`).
pub fn pyotp(secret: &str, time: i64) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/totp.sh");
    let out = std::process::Command::new(script)
        .arg(secret)
        .arg(time.to_string())
        .output()
        .expect("run tests/tools/totp.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    assert_eq!(code.len(), 6, "{code}");
    code
}
