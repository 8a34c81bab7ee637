//! The browser suite: real headless Chromium (Debian's `/usr/bin/chromium`) driven by
//! Playwright (`tests/browser/*.mjs`, `playwright-core` from npm) against the real provider
//! (started here with [`TestApp`]) and the example relying party (a separate process, as
//! `relying-party-example/tests/e2e.rs` runs it). Each test runs one scenario file with the
//! URLs in environment variables and asserts that it exits 0; on failure the scenario's output
//! and the site's log are printed. Screenshots go to `$SCREENSHOTS` (relative to the
//! workspace, e.g. `SCREENSHOTS=docs/screenshots`) or else `target/browser-screenshots`.
//! See docs/browser-tests.md.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use idp::domain::clients::ClientSpec;
use idp::protocol::acr::Level;
use tests::cluster::free_port;
use tests::{Backend, Options, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const RP_CLIENT: &str = "fns-lk";
const RP_SECRET: &str = "fns-browser-secret";

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Chromium and the npm packages, checked once; a missing piece is a loud failure, never a skip.
fn prerequisites() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        assert!(
            Path::new(CHROMIUM).exists(),
            "the browser suite needs Chromium at {CHROMIUM}: run `apt-get install -y chromium` \
             (scripts/test.sh does it)"
        );
        let dir = workspace().join("tests/browser");
        if !dir.join("node_modules/playwright-core").exists() {
            let out = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run npm (Node 20 is required): {e}"));
            assert!(
                out.status.success(),
                "`npm ci --prefix tests/browser` failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
}

/// The newest modification time of the files under `dir`.
fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The example site's binary in this test binary's profile directory. `cargo test
/// --workspace` has built it already (the site's own integration tests need it); it is
/// rebuilt here only when missing or older than the site's sources (`cargo test -p tests`),
/// so the common run does not queue on the build lock.
fn rp_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/<profile>/deps/suite-… → target/<profile>
            let exe = std::env::current_exe().expect("test binary path");
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("profile directory")
                .to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev".to_string(),
                Some(other) => other.to_string(),
            };
            let bin = dir.join(format!(
                "relying-party-example{}",
                std::env::consts::EXE_SUFFIX
            ));
            let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
            let root = workspace().join("relying-party-example");
            let sources = newest_mtime(&root.join("src")).max(newest_mtime(&root.join("assets")));
            if built.is_some() && built >= sources {
                return bin;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(&cargo)
                .args(["build", "--quiet", "-p", "relying-party-example"])
                .args(["--bin", "relying-party-example", "--profile", &profile])
                .current_dir(workspace())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
            assert!(
                status.success() || bin.exists(),
                "`cargo build -p relying-party-example` failed and there is no binary at {}",
                bin.display()
            );
            bin
        })
        .clone()
}

/// The example site (the tax service persona) as a process, killed when dropped.
struct Site {
    base: String,
    child: Child,
    log: PathBuf,
}

impl Site {
    /// Registers the site's client at `app` and starts it on a free port.
    async fn start(app: &TestApp, issuer: &str) -> Site {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        app.client_spec(ClientSpec {
            id: RP_CLIENT.into(),
            name: "ФНС России".into(),
            secret: Some(RP_SECRET.into()),
            redirect_uris: vec![format!("{base}/callback")],
            post_logout_redirect_uris: vec![format!("{base}/")],
            scopes: "openid fullname inn".into(),
            // No back-channel logout: after a revoked permission the site must find out by
            // its own userinfo call failing (what the scenario checks).
            ..ClientSpec::default()
        })
        .await;
        let log =
            std::env::temp_dir().join(format!("browser-site-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("site log");
        let err = out.try_clone().expect("site log");
        let child = Command::new(rp_binary())
            .args(["--issuer", issuer, "--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &base, "--persona", "fns"])
            .args(["--client-id", RP_CLIENT, "--client-secret", RP_SECRET])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the example site");
        let mut site = Site { base, child, log };
        site.wait_until_up().await;
        site
    }

    async fn wait_until_up(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the example site exited ({status}):\n{}", self.log_text());
            }
            if let Ok(r) = http.get(format!("{}/", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the example site did not come up at {}:\n{}",
                self.base,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Where screenshots go: `$SCREENSHOTS` (relative to the workspace) or `target/…`.
fn screenshot_dir() -> PathBuf {
    match std::env::var("SCREENSHOTS") {
        Ok(d) if !d.is_empty() => workspace().join(d),
        _ => workspace().join("target/browser-screenshots"),
    }
}

/// Runs `node tests/browser/<scenario>.mjs` with `env`; panics with its output unless it
/// exits 0.
async fn run_scenario(scenario: &str, env: &[(&str, String)], site: &Site) {
    prerequisites();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let script = workspace().join(format!("tests/browser/{scenario}.mjs"));
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(&script)
        .current_dir(workspace())
        .env("SCREENSHOT_DIR", &shots)
        .env("RP_URL", &site.base)
        .env("RP_CLIENT", RP_CLIENT)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{scenario}.mjs took longer than 4 minutes"))
        .unwrap_or_else(|e| panic!("cannot run node (Node 20 is required): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{scenario}.mjs failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n\
         --- example site log ---\n{}",
        out.status,
        site.log_text()
    );
    eprintln!("{stdout}");
}

/// Register → phone code from the dev outbox → password → identity data checked by the
/// (simulated) registries → log in at the example site → consent → the site shows the
/// person → the cabinet lists the permission → revoke it → the site's next userinfo fails.
async fn citizen_journey(app: TestApp) {
    let site = Site::start(&app, &app.base).await;
    let phone = match app.backend {
        Backend::Sqlite => "+79161230001",
        Backend::Postgres => "+79161230002",
    };
    let shots = if app.backend == Backend::Sqlite {
        "1"
    } else {
        "0"
    };
    run_scenario(
        "citizen",
        &[
            ("IDP_URL", app.base.clone()),
            ("PHONE", phone.into()),
            ("SHOTS", shots.into()),
        ],
        &site,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_journey_sqlite() {
    citizen_journey(TestApp::start(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_journey_postgres() {
    citizen_journey(TestApp::start(Backend::Postgres).await).await;
}

/// The provider at `http://localhost:PORT` (WebAuthn needs a secure context and a domain as
/// the RP ID; `localhost` is both).
async fn localhost_app(backend: Backend) -> TestApp {
    TestApp::start_with(Options {
        backend,
        database_url: None,
        tweak: Some(Box::new(|c| {
            c.server.issuer = format!("http://localhost:{}", c.server.listen.port());
        })),
    })
    .await
}

/// The security scenarios for a standard-level citizen created directly: ending another
/// session, a passkey through Chromium's virtual authenticator (added, then used to log in),
/// TOTP enrolment with a code computed in the test and a login with it, the feed's filter and
/// CSV export.
async fn security_journey(app: TestApp) {
    let issuer = app.state.config.server.issuer.clone();
    let phone = "+79161230003";
    app.user(phone, Level::Standard).await;
    let site = Site::start(&app, &issuer).await;
    let shots = if app.backend == Backend::Sqlite {
        "1"
    } else {
        "0"
    };
    run_scenario(
        "security",
        &[
            ("IDP_URL", issuer),
            ("PHONE", phone.into()),
            ("PASSWORD", tests::PASSWORD.into()),
            ("SHOTS", shots.into()),
        ],
        &site,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_journey_sqlite() {
    security_journey(localhost_app(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_journey_postgres() {
    security_journey(localhost_app(Backend::Postgres).await).await;
}
