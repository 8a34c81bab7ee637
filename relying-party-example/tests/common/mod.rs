//! Shared by the end-to-end tests: the provider (`idp dev`) and the example site as real
//! processes on free ports, each in its own data folder, and a scripted browser (a cookie jar
//! that follows redirects across both origins).

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use url::Url;

/// The password of every demo citizen `idp dev` seeds.
pub const PASSWORD: &str = "Gosuslugi-2026!";
pub const SIMPLIFIED: &str = "+79000000001";
pub const STANDARD: &str = "+79000000002";
pub const CONFIRMED: &str = "+79000000003";

/// The workspace root (where `docs/` lives).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The `idp` binary of this build, rebuilt once per test run so it is never stale: it sits
/// next to the example site's binary, in the same profile directory.
pub fn idp_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let site = PathBuf::from(env!("CARGO_BIN_EXE_relying-party-example"));
            let dir = site.parent().expect("binary directory").to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev".to_string(),
                Some(other) => other.to_string(),
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(&cargo)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "idp",
                    "--bin",
                    "idp",
                    "--profile",
                    &profile,
                ])
                .current_dir(workspace())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
            let bin = dir.join(format!("idp{}", std::env::consts::EXE_SUFFIX));
            // The provider crate is shared: if it does not build right now, an existing binary
            // still lets the site be tested (say so loudly); without one there is no test.
            if !status.success() {
                assert!(
                    bin.exists(),
                    "`cargo build -p idp` failed and there is no provider binary at {}",
                    bin.display()
                );
                eprintln!(
                    "warning: `cargo build -p idp` failed; using the existing {}",
                    bin.display()
                );
            }
            bin
        })
        .clone()
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

/// A fresh folder under the target directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "rp-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process, killed when dropped; its output goes to a log file, printed if the test fails.
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Process {
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            name: name.into(),
            child,
            log,
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Panics with the log if the process has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}\n---", self.name, self.log_tail());
        }
    }
}

/// A relying party registered for the test's own site port.
pub struct ClientReg<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub scopes: &'a str,
    pub site_port: u16,
    pub backchannel: bool,
}

/// `idp dev` on a free port with a fresh data folder.
pub struct Provider {
    pub issuer: String,
    pub data_dir: PathBuf,
    // Field order matters: the process stops before its folder is removed.
    process: Process,
    _dir: TempDir,
}

impl Provider {
    /// Registers `clients` with `idp clients create`, then starts `idp dev`.
    pub async fn start(clients: &[ClientReg<'_>]) -> Provider {
        let dir = TempDir::new("idp");
        let data_dir = dir.0.join("data");
        let idp = idp_binary();
        for c in clients {
            let origin = format!("http://127.0.0.1:{}", c.site_port);
            let mut cmd = Command::new(&idp);
            cmd.args(["clients", "create", "--data-dir"])
                .arg(&data_dir)
                .args(["--id", c.id, "--name", c.id, "--secret", c.secret])
                .args(["--scopes", c.scopes])
                .args(["--redirect-uri", &format!("{origin}/callback")])
                .args(["--post-logout-redirect-uri", &format!("{origin}/")]);
            if c.backchannel {
                cmd.args([
                    "--backchannel-logout-uri",
                    &format!("{origin}/backchannel-logout"),
                ]);
            }
            let out = cmd.output().expect("idp clients create");
            assert!(
                out.status.success(),
                "idp clients create failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let port = free_port();
        let mut cmd = Command::new(&idp);
        cmd.args(["dev", "--data-dir"])
            .arg(&data_dir)
            .args(["--port", &port.to_string()])
            .env("RUST_LOG", "info,sqlx=warn");
        let mut process = Process::spawn("idp dev", cmd, dir.0.join("idp.log"));
        let issuer = format!("http://127.0.0.1:{port}");
        wait_until_up(&mut process, &format!("{issuer}/health/ready")).await;
        Provider {
            issuer,
            data_dir,
            process,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// The example site as a process.
pub struct Site {
    pub base: String,
    process: Process,
    _dir: TempDir,
}

impl Site {
    pub async fn start(issuer: &str, port: u16, persona: &str, client: &str, secret: &str) -> Site {
        let dir = TempDir::new("site");
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relying-party-example"));
        cmd.args(["--issuer", issuer, "--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &base, "--persona", persona])
            .args(["--client-id", client, "--client-secret", secret])
            .env("RUST_LOG", "info");
        let mut process = Process::spawn("example site", cmd, dir.0.join("site.log"));
        wait_until_up(&mut process, &format!("{base}/")).await;
        Site {
            base,
            process,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn wait_until_up(process: &mut Process, url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        process.assert_running();
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not come up at {url}",
            process.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where a navigation ended, after following every redirect.
#[derive(Debug)]
pub struct Page {
    pub url: Url,
    pub status: StatusCode,
    pub html: String,
}

impl Page {
    /// The `data-page` of the example site's `<main>`.
    pub fn kind(&self) -> Option<&str> {
        let at = self.html.find("data-page=\"")? + 11;
        let end = self.html[at..].find('"')?;
        Some(&self.html[at..at + end])
    }

    pub fn is(&self, kind: &str) -> bool {
        self.kind() == Some(kind)
    }

    pub fn hidden(&self, name: &str) -> String {
        hidden(&self.html, name)
    }

    /// The text of the `data-claim="key"` row of the site's tables.
    pub fn claim(&self, key: &str) -> Option<String> {
        let at = self.html.find(&format!("data-claim=\"{key}\""))?;
        let td = at + self.html[at..].find("<td>")? + 4;
        let end = td + self.html[td..].find("</td>")?;
        Some(self.html[td..end].to_string())
    }
}

impl std::fmt::Display for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} [{}]",
            self.status,
            self.url,
            self.kind().unwrap_or("-")
        )
    }
}

/// A browser: one cookie jar, redirects followed by hand (so each hop is visible to the jar).
pub struct Browser {
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Mozilla/5.0 (X11; Linux x86_64) E2E/1.0")
                .build()
                .expect("client"),
        }
    }
}

impl Browser {
    /// GET, following redirects.
    pub async fn get(&self, url: &str) -> Page {
        let resp = self.http.get(url).send().await.expect("GET");
        self.follow(url, resp).await
    }

    /// GET without following: the `Location` of a redirect.
    pub async fn location(&self, url: &str) -> Url {
        let resp = self.http.get(url).send().await.expect("GET");
        assert!(
            resp.status().is_redirection(),
            "{url} did not redirect: {}",
            resp.status()
        );
        let loc = resp.headers()["location"].to_str().expect("location");
        Url::parse(url).expect("url").join(loc).expect("join")
    }

    /// POST a form, following redirects.
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let resp = self.http.post(url).form(form).send().await.expect("POST");
        self.follow(url, resp).await
    }

    async fn follow(&self, url: &str, mut resp: reqwest::Response) -> Page {
        let mut url = Url::parse(url).expect("url");
        for _ in 0..15 {
            if !resp.status().is_redirection() {
                let status = resp.status();
                let html = resp.text().await.unwrap_or_default();
                return Page { url, status, html };
            }
            let loc = resp.headers()["location"]
                .to_str()
                .expect("location")
                .to_string();
            url = url.join(&loc).expect("join");
            resp = self.http.get(url.clone()).send().await.expect("GET");
        }
        panic!("redirect loop at {url}");
    }

    /// Fills in the provider's login form shown on `page`.
    pub async fn log_in(&self, page: &Page, login: &str) -> Page {
        assert!(
            page.url.path() == "/login",
            "expected the provider's login form, got {page}"
        );
        let (tx, csrf) = (page.hidden("tx"), page.hidden("csrf"));
        let action = page.url.join("/login").expect("url");
        self.post(
            action.as_str(),
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("login", login),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// Answers the provider's consent page shown on `page` ("allow" or "deny").
    pub async fn consent(&self, page: &Page, decision: &str) -> Page {
        assert!(
            page.url.path() == "/consent",
            "expected the consent page, got {page}"
        );
        let (tx, csrf) = (page.hidden("tx"), page.hidden("csrf"));
        let action = page.url.join("/consent").expect("url");
        self.post(
            action.as_str(),
            &[("tx", &tx), ("csrf", &csrf), ("decision", decision)],
        )
        .await
    }

    /// The provider's "your account level is too low" page on `page`: checks it explains how
    /// to raise the level, then presses "back to the site".
    pub async fn leave_level_page(&self, page: &Page) -> Page {
        assert!(
            page.url.path() == "/login/level" && page.html.contains("/profile/identity"),
            "expected the provider's level page, got {page}"
        );
        let (tx, csrf) = (page.hidden("tx"), page.hidden("csrf"));
        let action = page.url.join("/login/level").expect("url");
        self.post(action.as_str(), &[("tx", &tx), ("csrf", &csrf)])
            .await
    }

    /// Logs out at the provider itself (its home page's button), without the site.
    pub async fn log_out_at_provider(&self, provider: &Provider) -> Page {
        let home = self.get(&provider.url("/")).await;
        let csrf = home.hidden("csrf");
        self.post(
            &provider.url("/logout"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await
    }
}

/// The value of hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in page: {}", &html[..html.len().min(600)]));
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag_end = at + html[at..].find('>').unwrap_or(0);
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"").map(|i| &tag[i + 7..]).unwrap_or("");
    v[..v.find('"').unwrap_or(0)].to_string()
}

/// A query parameter of a URL.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Polls `check` until it holds (the provider delivers back-channel logouts in the background).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Installs the TLS provider reqwest needs (it is built without a default one).
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
