//! The production shape on loopback, as real processes: a private PostgreSQL, a private Redis
//! and N `idp serve` nodes sharing them (one TOML file plus an `IDP_SERVER__LISTEN` overlay per
//! node), after `idp migrate`. Every process is stopped when its guard drops. The machine's own
//! PostgreSQL (5432) and Redis (6379) are never touched: faults are injected into the private
//! instances only. Used by `tests/cluster` (docs/operations.md, "Faults").

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use url::Url;

pub const CLIENT_ID: &str = "cluster-rp";
pub const CLIENT_SECRET: &str = "cluster-secret-0123456789abcdef";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
pub const PHONE: &str = "+79160000001";
/// The master key of the test deployment (32 zero-free bytes, base64); test material only.
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// The `idp` binary of this profile, built once per test process.
pub fn idp_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            // target/<profile>/deps/cluster-<hash>
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("profile directory")
                .to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev".to_string(),
                Some(other) => other.to_string(),
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let status = Command::new(&cargo)
                .args(["build", "--quiet", "-p", "idp", "--bin", "idp"])
                .args(["--profile", &profile])
                .current_dir(&workspace)
                .status()
                .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
            let bin = dir.join(format!("idp{}", std::env::consts::EXE_SUFFIX));
            if !status.success() {
                assert!(
                    bin.exists(),
                    "`cargo build -p idp` failed and no binary at {bin:?}"
                );
                eprintln!("warning: `cargo build -p idp` failed; using the existing {bin:?}");
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
        let dir = std::env::temp_dir().join(format!(
            "cluster-{tag}-{}-{}",
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

/// A child process, killed when dropped; output to a log file, printed if the test fails.
pub struct Process {
    name: String,
    child: Mutex<Option<Child>>,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Process {
        let out = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            name: name.into(),
            child: Mutex::new(Some(child)),
            log,
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut c) = child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Not killed and not exited.
    pub fn is_running(&self) -> bool {
        match self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn assert_running(&self) {
        let status = match self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            Some(c) => c.try_wait().ok().flatten(),
            None => None,
        };
        if let Some(status) = status {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        self.kill();
        if failing {
            eprintln!("--- {} log ---\n{}\n---", self.name, self.log_tail());
        }
    }
}

mod services;
pub use services::{Postgres, Redis, RedisCluster};

/// How [`Cluster::start_with`] sets the deployment up.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// A Redis Cluster (masters, replicas per master) instead of one Redis server.
    pub redis_cluster: Option<(usize, usize)>,
    /// `keys.reload_secs` of the nodes (1 s by default, so rotations show up fast).
    pub keys_reload_secs: u64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            redis_cluster: None,
            keys_reload_secs: 1,
        }
    }
}

/// One `idp serve` process.
pub struct Node {
    pub base: String,
    pub process: Process,
}

/// PostgreSQL, Redis and N nodes. Field order: nodes stop before the services.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub issuer: String,
    pub config: PathBuf,
    pub redis: Redis,
    /// The Redis Cluster the nodes use, when started with one (`redis` is then unused).
    pub redis_cluster: Option<RedisCluster>,
    pub pg: Postgres,
    pub http: reqwest::Client,
    next: AtomicUsize,
    dir: TempDir,
}

impl Cluster {
    /// Private services, `idp migrate`, one client and one person, then `n` nodes.
    pub async fn start(n: usize) -> Cluster {
        Self::start_with(n, ClusterOptions::default()).await
    }

    /// [`Cluster::start`] with options (e.g. a Redis Cluster as the short-lived store).
    pub async fn start_with(n: usize, options: ClusterOptions) -> Cluster {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pg = Postgres::start();
        let redis = Redis::start();
        let redis_cluster = options
            .redis_cluster
            .map(|(masters, replicas)| RedisCluster::start_with_replicas(masters, replicas));
        let (cache_url, cache_cluster) = match &redis_cluster {
            Some(rc) => (rc.seeds(), true),
            None => (redis.url(), false),
        };
        let dir = TempDir::new("nodes");
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        // The issuer is the address of a load balancer; here the first node's.
        let issuer = format!("http://127.0.0.1:{}", ports[0]);
        let config = dir.0.join("idp.toml");
        std::fs::write(
            &config,
            format!(
                r#"[server]
listen = "127.0.0.1:{port}"
issuer = "{issuer}"

[database]
url = "{db}"
max_connections = 8
acquire_timeout_ms = 1000

[cache]
url = "{redis}"
prefix = "idp:"
cluster = {cache_cluster}

[keys]
master_key = "{MASTER_KEY}"
reload_secs = {reload}

[login]
argon2 = {{ memory_kib = 1024, iterations = 1, parallelism = 1 }}

[verification]
worker = false

[dangerous]
allow_http_issuer = true
"#,
                port = ports[0],
                db = pg.url(),
                redis = cache_url,
                reload = options.keys_reload_secs,
            ),
        )
        .expect("config file");
        let mut cluster = Cluster {
            nodes: Vec::new(),
            issuer,
            config,
            redis,
            redis_cluster,
            pg,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            next: AtomicUsize::new(0),
            dir,
        };
        cluster.admin(&["migrate"]);
        cluster.admin(&[
            "clients",
            "create",
            "--id",
            CLIENT_ID,
            "--secret",
            CLIENT_SECRET,
            "--scopes",
            "openid",
            "--redirect-uri",
            REDIRECT_URI,
        ]);
        cluster.admin(&[
            "users",
            "create",
            "--phone",
            PHONE,
            "--password",
            crate::PASSWORD,
            "--surname",
            "Кластеров",
            "--given-name",
            "Узел",
        ]);
        for (i, port) in ports.into_iter().enumerate() {
            let mut cmd = Command::new(idp_binary());
            cmd.arg("serve")
                .arg("--config")
                .arg(&cluster.config)
                .env("IDP_SERVER__LISTEN", format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "warn");
            let log = cluster.dir.0.join(format!("node{i}.log"));
            let process = Process::spawn(&format!("idp serve #{i}"), cmd, log);
            cluster.nodes.push(Node {
                base: format!("http://127.0.0.1:{port}"),
                process,
            });
        }
        for i in 0..n {
            cluster.wait_ready(i).await;
        }
        cluster
    }

    /// Runs `idp <args> --config FILE` against the shared database; panics on failure.
    pub fn admin(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(idp_binary());
        cmd.args(args).arg("--config").arg(&self.config);
        let out = cmd.output().expect("idp admin command");
        assert!(
            out.status.success(),
            "idp {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Redis killed and started again empty, one second later.
    pub fn restart_redis(&self) {
        self.redis.down();
        std::thread::sleep(Duration::from_secs(1));
        self.redis.up();
    }

    async fn wait_ready(&self, i: usize) {
        let url = self.url(i, "/health/ready");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.nodes[i].process.assert_running();
            if let Ok(r) = self.http.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "node {i} did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, node: usize, path: &str) -> String {
        format!("{}{path}", self.nodes[node].base)
    }

    /// The next node, round robin (a load balancer without stickiness).
    pub fn pick(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len()
    }

    /// A browser (cookie jar) for the whole cluster: cookies are per host, so all loopback
    /// nodes see the same ones, as behind one load balancer.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    }

    /// Starts a login at `node`: the redirect to the login page (`/login?tx=…`), re-aimed at
    /// the same node, and the PKCE verifier.
    pub async fn authorize(
        &self,
        browser: &reqwest::Client,
        node: usize,
        extra: &[(&str, &str)],
    ) -> Result<(Response, String), String> {
        let verifier = random_token();
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ));
        let mut params = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
            ("nonce", "n"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let url = Url::parse_with_params(&self.url(node, "/authorize"), &params)
            .map_err(|e| e.to_string())?;
        let r = send(browser.get(url)).await?;
        Ok((r, verifier))
    }

    /// Follows a redirect inside the provider at `node` (the path and query of `Location`).
    pub async fn follow(
        &self,
        browser: &reqwest::Client,
        node: usize,
        location: &str,
    ) -> Result<Response, String> {
        let loc = Url::parse(&self.issuer)
            .and_then(|u| u.join(location))
            .map_err(|e| e.to_string())?;
        let path = match loc.query() {
            Some(q) => format!("{}?{q}", loc.path()),
            None => loc.path().to_string(),
        };
        send(browser.get(self.url(node, &path))).await
    }

    /// A whole login: authorize at `a`, the login form at `b`, the password posted at `c`;
    /// answers the code and its PKCE verifier.
    pub async fn log_in(
        &self,
        browser: &reqwest::Client,
        [a, b, c]: [usize; 3],
    ) -> Result<(String, String), String> {
        let (r, verifier) = self.authorize(browser, a, &[]).await?;
        let loc = r.location().ok_or(format!("authorize: {r}"))?;
        let form = self.follow(browser, b, &loc).await?;
        if form.status != StatusCode::OK {
            return Err(format!("login form: {form}"));
        }
        let tx = crate::browser::hidden(&form.body, "tx");
        let csrf = crate::browser::hidden(&form.body, "csrf");
        let posted = send(browser.post(self.url(c, "/login")).form(&[
            ("tx", tx.as_str()),
            ("csrf", csrf.as_str()),
            ("login", PHONE),
            ("password", crate::PASSWORD),
        ]))
        .await?;
        let mut r = posted;
        for _ in 0..5 {
            let loc = r.location().ok_or(format!("after login: {r}"))?;
            if let Some(code) = code_in(&loc) {
                return Ok((code, verifier));
            }
            r = self.follow(browser, c, &loc).await?;
        }
        Err(format!("login did not end with a code: {r}"))
    }

    /// A code from the single sign-on session of `browser`, without a form (`prompt=none`);
    /// `Ok(Err(answer))` when the provider answered without a code.
    pub async fn try_sso_code(
        &self,
        browser: &reqwest::Client,
        node: usize,
    ) -> Result<Result<(String, String), Response>, String> {
        let (r, verifier) = self.authorize(browser, node, &[("prompt", "none")]).await?;
        Ok(match r.location().as_deref().and_then(code_in) {
            Some(code) => Ok((code, verifier)),
            None => Err(r),
        })
    }

    /// A code from the single sign-on session of `browser`, without a form (`prompt=none`).
    pub async fn sso_code(
        &self,
        browser: &reqwest::Client,
        node: usize,
    ) -> Result<(String, String), String> {
        let (r, verifier) = self.authorize(browser, node, &[("prompt", "none")]).await?;
        let loc = r.location().ok_or(format!("authorize: {r}"))?;
        code_in(&loc)
            .map(|c| (c, verifier))
            .ok_or(format!("no code: {loc}"))
    }

    /// `POST /token` with client_secret_basic at `node`.
    pub async fn token(&self, node: usize, form: &[(&str, &str)]) -> Result<Response, String> {
        send(
            self.http
                .post(self.url(node, "/token"))
                .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
                .form(form),
        )
        .await
    }

    pub async fn redeem(
        &self,
        node: usize,
        code: &str,
        verifier: &str,
    ) -> Result<Response, String> {
        self.token(
            node,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    pub async fn refresh(&self, node: usize, refresh_token: &str) -> Result<Response, String> {
        self.token(
            node,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// The `kid`s `node` publishes.
    pub async fn kids(&self, node: usize) -> Vec<String> {
        let r = send(self.http.get(self.url(node, "/jwks")))
            .await
            .expect("jwks");
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("jwks json");
        v["keys"]
            .as_array()
            .map(|ks| {
                ks.iter()
                    .filter_map(|k| k["kid"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Response {
    pub fn location(&self) -> Option<String> {
        self.location.clone()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// `error` of an OAuth/JSON error body.
    pub fn error(&self) -> Option<String> {
        self.json()["error"].as_str().map(str::to_string)
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {}",
            self.status,
            self.location,
            &self.body[..self.body.len().min(300)]
        )
    }
}

/// Sends and reads the whole answer; a connection error or a timeout is `Err`.
pub async fn send(req: reqwest::RequestBuilder) -> Result<Response, String> {
    let r = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = r.text().await.map_err(|e| format!("transport: {e}"))?;
    Ok(Response {
        status,
        location,
        content_type,
        body,
    })
}

fn code_in(location: &str) -> Option<String> {
    let u = Url::parse(location).ok()?;
    if !location.starts_with(REDIRECT_URI) {
        return None;
    }
    crate::browser::param(&u, "code")
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("random");
    URL_SAFE_NO_PAD.encode(b)
}

impl Cluster {
    /// Starts one more `idp serve` on the cluster's configuration (e.g. after a node was
    /// killed) and waits until it is ready; returns its index.
    pub async fn add_node(&mut self) -> usize {
        let i = self.nodes.len();
        let port = free_port();
        let mut cmd = Command::new(idp_binary());
        cmd.arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("IDP_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn");
        let log = self.dir.0.join(format!("node{i}.log"));
        let process = Process::spawn(&format!("idp serve #{i}"), cmd, log);
        self.nodes.push(Node {
            base: format!("http://127.0.0.1:{port}"),
            process,
        });
        self.wait_ready(i).await;
        i
    }
}
