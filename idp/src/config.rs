//! The one typed configuration: a TOML file plus an `IDP_SECTION__KEY` environment overlay,
//! validated once at start; every problem is reported together in one message.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::crypto::password::Argon2Params;

mod features;
mod jobs;
pub use features::{
    EsiaConfig, LogConfig, MessagesConfig, MetricsConfig, SignatureConfig, UpstreamConfig,
    VerificationConfig, WebauthnConfig,
};
pub use jobs::JobsConfig;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub keys: KeysConfig,
    #[serde(default)]
    pub tokens: TokenConfig,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub login: LoginConfig,
    #[serde(default)]
    pub messages: MessagesConfig,
    #[serde(default)]
    pub verification: VerificationConfig,
    #[serde(default)]
    pub jobs: JobsConfig,
    #[serde(default)]
    pub dangerous: DangerousConfig,
    /// Upstream OpenID providers (banks) a person may confirm their identity through.
    #[serde(default)]
    pub upstream: Vec<UpstreamConfig>,
    #[serde(default)]
    pub signature: SignatureConfig,
    #[serde(default)]
    pub webauthn: WebauthnConfig,
    #[serde(default)]
    pub esia: EsiaConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. `0.0.0.0:8080`.
    pub listen: SocketAddr,
    /// The issuer URL: scheme, host, optional port and path, no trailing slash.
    pub issuer: String,
    /// Largest accepted request body, in bytes.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// Proxies (CIDRs such as `10.0.0.0/8`, or single addresses) whose `X-Forwarded-For`,
    /// `X-Forwarded-Proto` and `X-Request-Id` are believed; empty = none (the TCP peer is
    /// the client).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/idp.db` or `postgres://user@host/db`.
    pub url: String,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long a request waits for a connection before answering 503.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// `redis://host:port/db`; absent means the in-process store (one node only). With
    /// `cluster = true`, a comma-separated list of seed nodes (`redis://h1:p1,redis://h2:p2`).
    pub url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share a server.
    #[serde(default = "default_cache_prefix")]
    pub prefix: String,
    /// `url` names the seed nodes of a Redis Cluster rather than one server.
    pub cluster: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Base64 of 32 random bytes that seal the signing keys at rest.
    pub master_key: Option<String>,
    /// A file holding the same, instead of `master_key`.
    pub master_key_file: Option<PathBuf>,
    /// After a rotation, how long the previous key stays published for verification.
    pub overlap_secs: i64,
    /// How often each node reloads the key set from the database.
    pub reload_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    /// Authorization code lifetime; at most 60 s (RFC 9700, ASVS).
    pub code_ttl: i64,
    /// A refresh token unused for this long expires.
    pub refresh_idle_ttl: i64,
    /// A grant's refresh chain ends this long after the login, whatever its use.
    pub refresh_absolute_ttl: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// The single sign-on session ends this long after login.
    pub absolute_ttl: i64,
    /// ... or after this long without use.
    pub idle_ttl: i64,
    /// `Secure` on cookies; defaults to whether the issuer is https.
    pub cookie_secure: Option<bool>,
    /// How long a started login may take before the user must start again.
    pub login_ttl: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    pub argon2: Argon2Params,
    /// Failed passwords tolerated before the account is locked for a growing wait.
    pub max_failures: i64,
    /// The first wait; each further failure doubles it, up to an hour.
    pub lockout_base_secs: i64,
    /// Failed passwords from one client address (across all accounts) before the address is
    /// locked the same way; higher than `max_failures`, since many people may share one address.
    pub max_failures_per_address: i64,
    /// After an unlock (or a recovery) by code, logins to that account from the address that
    /// did it are counted apart from everyone else's for this long, so strangers' failures
    /// cannot lock the owner out again.
    pub unlock_shield_secs: i64,
    /// Login history (successes and failures) is kept this many days, then purged.
    pub login_history_days: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DangerousConfig {
    /// Allow an `http://` issuer (development only: cookies are sent without `Secure`).
    #[serde(default)]
    pub allow_http_issuer: bool,
}

fn default_body_limit() -> usize {
    64 * 1024
}
fn default_max_connections() -> u32 {
    16
}
fn default_acquire_timeout_ms() -> u64 {
    3000
}
fn default_cache_prefix() -> String {
    "idp:".into()
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            url: None,
            prefix: default_cache_prefix(),
            cluster: false,
        }
    }
}

impl CacheConfig {
    /// The servers named by `url`: one, or the seed nodes of a cluster; empty without Redis.
    pub fn urls(&self) -> Vec<&str> {
        self.url
            .as_deref()
            .map(|u| {
                u.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check(&self, problems: &mut Vec<String>) {
        let urls = self.urls();
        if self.url.is_some() && urls.is_empty() {
            problems
                .push("cache.url must not be empty (leave it out for the in-process store)".into());
        }
        for u in &urls {
            if u.starts_with("rediss://") {
                problems.push(format!(
                    "cache.url: {u}: TLS to Redis (rediss://) is not built in; use redis:// on a private network or a local TLS tunnel (stunnel, a sidecar)"
                ));
            } else if !u.starts_with("redis://") {
                problems.push(format!("cache.url: {u} must start with redis://"));
            }
        }
        if self.cluster {
            if urls.is_empty() {
                problems.push("cache.cluster = true needs cache.url: the cluster's seed nodes, comma-separated".into());
            }
            if urls
                .iter()
                .any(|u| redis_database(u).is_some_and(|db| db != 0))
            {
                problems.push("cache.url: Redis Cluster has only database 0".into());
            }
            if self.prefix.contains('{') || self.prefix.contains('}') {
                problems.push("cache.prefix must not contain '{' or '}' with cache.cluster = true: a hash tag in the prefix would put every key on one master".into());
            }
        } else if urls.len() > 1 {
            problems.push(
                "cache.url lists several servers: set cache.cluster = true for Redis Cluster"
                    .into(),
            );
        }
    }
}

/// The database number of a `redis://host:port/N` URL, when it names one.
fn redis_database(u: &str) -> Option<i64> {
    let path = url::Url::parse(u)
        .ok()?
        .path()
        .trim_start_matches('/')
        .to_string();
    if path.is_empty() {
        None
    } else {
        Some(path.parse().unwrap_or(-1))
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            master_key_file: None,
            overlap_secs: 7 * 86_400,
            reload_secs: 30,
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: 600,
            id_token_ttl: 3600,
            code_ttl: 60,
            refresh_idle_ttl: 14 * 86_400,
            refresh_absolute_ttl: 90 * 86_400,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            absolute_ttl: 12 * 3600,
            idle_ttl: 30 * 60,
            cookie_secure: None,
            login_ttl: 15 * 60,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            argon2: Argon2Params::default(),
            max_failures: 5,
            lockout_base_secs: 30,
            max_failures_per_address: 50,
            unlock_shield_secs: 7 * 86_400,
            login_history_days: 180,
        }
    }
}

impl Config {
    /// Reads `path`, overlays `IDP_*` variables from `env`, and validates.
    pub fn load(path: &Path, env: impl Iterator<Item = (String, String)>) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Self::from_toml(&text, env)
    }

    /// Parses TOML text with the environment overlay, then validates.
    pub fn from_toml(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, String> {
        let mut value: toml::Table =
            toml::from_str(text).map_err(|e| format!("config is not valid TOML: {e}"))?;
        overlay_env(&mut value, env)?;
        let mut config = Self::from_table(value)?;
        // Not representable in TOML on purpose (a file cannot turn it on): `idp dev` only.
        config.esia.dev_keys = true;
        Ok(config)
    }

    /// The embedded default of `idp dev` with the same `IDP_SECTION__KEY` environment overlay
    /// as a file (e.g. `IDP_KEYS__RELOAD_SECS=1`), validated the same way.
    pub fn dev_with_env(
        data_dir: &Path,
        port: u16,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, String> {
        let mut value = toml::Table::try_from(Self::dev(data_dir, port))
            .map_err(|e| format!("cannot represent the dev configuration: {e}"))?;
        overlay_env(&mut value, env)?;
        let mut config = Self::from_table(value)?;
        // Not representable in TOML on purpose (a file cannot turn it on): `idp dev` only.
        config.esia.dev_keys = true;
        Ok(config)
    }

    fn from_table(value: toml::Table) -> Result<Self, String> {
        let config: Config = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| format!("config error: {}", e.message()))?;
        config.validate()?;
        Ok(config)
    }

    /// The embedded default used by `idp dev`.
    pub fn dev(data_dir: &Path, port: u16) -> Self {
        Config {
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], port)),
                issuer: format!("http://127.0.0.1:{port}"),
                body_limit: default_body_limit(),
                trusted_proxies: Vec::new(),
            },
            database: DatabaseConfig {
                url: format!("sqlite://{}", data_dir.join("idp.db").display()),
                max_connections: 8,
                acquire_timeout_ms: default_acquire_timeout_ms(),
            },
            cache: CacheConfig::default(),
            keys: KeysConfig {
                master_key_file: Some(data_dir.join("master.key")),
                ..KeysConfig::default()
            },
            tokens: TokenConfig::default(),
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            messages: MessagesConfig {
                dev_outbox: true,
                ..MessagesConfig::default()
            },
            verification: VerificationConfig::default(),
            jobs: JobsConfig::default(),
            dangerous: DangerousConfig {
                allow_http_issuer: true,
            },
            upstream: Vec::new(),
            signature: SignatureConfig::dev(),
            webauthn: WebauthnConfig::default(),
            esia: EsiaConfig {
                dev_keys: true,
                ..EsiaConfig::default()
            },
            metrics: MetricsConfig::default(),
            log: LogConfig::default(),
        }
    }

    /// Checks everything and reports all problems in one message.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        match url::Url::parse(&self.server.issuer) {
            Ok(u) => {
                if u.scheme() != "https"
                    && !(u.scheme() == "http" && self.dangerous.allow_http_issuer)
                {
                    problems.push("server.issuer must be https (or set dangerous.allow_http_issuer = true for development)".to_string());
                }
                if u.query().is_some() || u.fragment().is_some() {
                    problems.push("server.issuer must not have a query or fragment".into());
                }
                if self.server.issuer.ends_with('/') {
                    problems.push("server.issuer must not end with '/'".into());
                }
            }
            Err(e) => problems.push(format!("server.issuer is not a URL: {e}")),
        }
        problems.extend(self.webauthn.problems(&self.server.issuer));
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres:")
            || self.database.url.starts_with("postgresql:"))
        {
            problems.push("database.url must start with sqlite:// or postgres://".into());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".into());
        }
        if !(1..=86_400).contains(&self.esia.timestamp_window_secs) {
            problems.push("esia.timestamp_window_secs must be between 1 and 86400".into());
        }
        self.cache.check(&mut problems);
        if self.keys.master_key.is_none() && self.keys.master_key_file.is_none() {
            problems.push("keys.master_key or keys.master_key_file is required".into());
        }
        if let Some(k) = &self.keys.master_key
            && decode_master_key(k).is_none()
        {
            problems.push("keys.master_key must be base64 of exactly 32 bytes".into());
        }
        if !(1..=60).contains(&self.tokens.code_ttl) {
            problems.push("tokens.code_ttl must be between 1 and 60 seconds".into());
        }
        for (name, v) in [
            ("tokens.access_token_ttl", self.tokens.access_token_ttl),
            ("tokens.id_token_ttl", self.tokens.id_token_ttl),
            ("tokens.refresh_idle_ttl", self.tokens.refresh_idle_ttl),
            (
                "tokens.refresh_absolute_ttl",
                self.tokens.refresh_absolute_ttl,
            ),
            ("session.absolute_ttl", self.session.absolute_ttl),
            ("session.idle_ttl", self.session.idle_ttl),
            ("session.login_ttl", self.session.login_ttl),
            ("login.max_failures", self.login.max_failures),
            ("login.lockout_base_secs", self.login.lockout_base_secs),
            (
                "login.max_failures_per_address",
                self.login.max_failures_per_address,
            ),
            ("login.unlock_shield_secs", self.login.unlock_shield_secs),
            ("login.login_history_days", self.login.login_history_days),
        ] {
            if v <= 0 {
                problems.push(format!("{name} must be positive"));
            }
        }
        self.verification.check(&mut problems);
        self.jobs.check(&mut problems);
        for path in self
            .signature
            .trust_anchors
            .iter()
            .chain(&self.signature.crls)
        {
            if !path.is_file() {
                problems.push(format!("signature: file {} not found", path.display()));
            }
        }
        check_upstreams(&self.upstream, &mut problems);
        for p in &self.server.trusted_proxies {
            if crate::http::client_ip::Cidr::parse(p).is_none() {
                problems.push(format!(
                    "server.trusted_proxies: {p} is not an address or CIDR (e.g. 10.0.0.0/8)"
                ));
            }
        }
        if let Some(f) = &self.log.format
            && f != "text"
            && f != "json"
        {
            problems.push("log.format must be \"text\" or \"json\"".into());
        }
        if self.metrics.bearer_token.as_deref() == Some("") {
            problems.push("metrics.bearer_token must not be empty (leave it out instead)".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "invalid configuration:\n  - {}",
                problems.join("\n  - ")
            ))
        }
    }

    /// Whether cookies carry `Secure`.
    pub fn cookie_secure(&self) -> bool {
        self.session
            .cookie_secure
            .unwrap_or_else(|| self.server.issuer.starts_with("https://"))
    }

    /// The 32-byte master key, from config or its file (created for dev if missing).
    pub fn master_key(&self) -> Result<[u8; 32], String> {
        if let Some(k) = &self.keys.master_key {
            return decode_master_key(k)
                .ok_or_else(|| "keys.master_key must be base64 of 32 bytes".into());
        }
        let path = self
            .keys
            .master_key_file
            .as_ref()
            .ok_or("no master key configured")?;
        if !path.exists() && self.dangerous.allow_http_issuer {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let key = base64_std(&crate::crypto::random_bytes(32));
            write_private_file(path, &key)?;
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read master key file {}: {e}", path.display()))?;
        decode_master_key(text.trim())
            .ok_or_else(|| format!("{} must hold base64 of 32 bytes", path.display()))
    }
}

fn check_upstreams(upstreams: &[UpstreamConfig], problems: &mut Vec<String>) {
    for (i, u) in upstreams.iter().enumerate() {
        let at = format!("upstream[{i}]");
        let id_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if u.id.is_empty() || !u.id.bytes().all(id_ok) {
            problems.push(format!("{at}.id must be letters, digits, '-' or '_'"));
        }
        if upstreams[..i].iter().any(|o| o.id == u.id) {
            problems.push(format!("{at}.id \"{}\" is used twice", u.id));
        }
        match url::Url::parse(&u.issuer) {
            Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && u.allow_http) => {}
            Ok(_) => problems.push(format!(
                "{at}.issuer must be https (or set allow_http = true for development)"
            )),
            Err(e) => problems.push(format!("{at}.issuer is not a URL: {e}")),
        }
        if u.client_id.is_empty() || u.client_secret.is_empty() {
            problems.push(format!("{at}.client_id and client_secret are required"));
        }
        if !u.scopes.split_whitespace().any(|s| s == "openid") {
            problems.push(format!("{at}.scopes must include openid"));
        }
    }
}

fn write_private_file(path: &Path, content: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn base64_std(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn decode_master_key(text: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    bytes.try_into().ok()
}

/// Applies `IDP_SECTION__KEY=value` (and deeper `IDP_A__B__C`) onto the TOML table. Values are
/// read as TOML literals when they parse as one (numbers, booleans), else as strings.
fn overlay_env(
    table: &mut toml::Table,
    env: impl Iterator<Item = (String, String)>,
) -> Result<(), String> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("IDP_") else {
            continue;
        };
        if !rest.contains("__") {
            continue; // IDP_CONFIG, IDP_DATA_DIR and friends belong to the command line
        }
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(raw.clone()));
        let mut cur = &mut *table;
        for seg in &path[..path.len() - 1] {
            let entry = cur
                .entry(seg.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            cur = entry
                .as_table_mut()
                .ok_or_else(|| format!("environment variable {name}: {seg} is not a section"))?;
        }
        cur.insert(path[path.len() - 1].clone(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"
issuer = "https://id.example.ru"
[database]
url = "sqlite://x.db"
[keys]
master_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
"#;

    #[test]
    fn loads_with_defaults() {
        let c = Config::from_toml(BASE, std::iter::empty()).unwrap();
        assert_eq!(c.tokens.code_ttl, 60);
        assert!(c.cookie_secure());
        assert_eq!(c.master_key().unwrap(), [0u8; 32]);
    }

    #[test]
    fn environment_overlays_and_parses_literals() {
        let env = vec![
            (
                "IDP_DATABASE__MAX_CONNECTIONS".to_string(),
                "42".to_string(),
            ),
            (
                "IDP_CACHE__URL".to_string(),
                "redis://127.0.0.1:6379".to_string(),
            ),
            ("IDP_DATA_DIR".to_string(), "ignored".to_string()),
        ];
        let c = Config::from_toml(BASE, env.into_iter()).unwrap();
        assert_eq!(c.database.max_connections, 42);
        assert_eq!(c.cache.url.as_deref(), Some("redis://127.0.0.1:6379"));
    }

    #[test]
    fn dev_config_takes_the_environment_overlay() {
        let dir = Path::new("/tmp/idp-dev-overlay");
        let plain = Config::dev_with_env(dir, 8089, std::iter::empty()).unwrap();
        assert_eq!(plain.server.issuer, "http://127.0.0.1:8089");
        assert!(
            plain.esia.dev_keys,
            "idp dev may use the public ESIA dev keys"
        );
        let file: toml::Table = toml::Table::try_from(&plain).unwrap();
        let served = Config::from_table(file).unwrap();
        assert!(
            !served.esia.dev_keys,
            "a configuration file never turns them on"
        );
        assert_eq!(plain.keys.master_key_file, Some(dir.join("master.key")));
        assert_eq!(
            plain.keys.reload_secs,
            Config::dev(dir, 8089).keys.reload_secs
        );
        let env = [("IDP_KEYS__RELOAD_SECS".to_string(), "1".to_string())];
        let tuned = Config::dev_with_env(dir, 8089, env.into_iter()).unwrap();
        assert_eq!(tuned.keys.reload_secs, 1);
        let env = [("IDP_TOKENS__CODE_TLL".to_string(), "1".to_string())];
        let err = Config::dev_with_env(dir, 8089, env.into_iter()).unwrap_err();
        assert!(err.contains("code_tll"), "{err}");
    }

    #[test]
    fn redis_cluster_seeds_load_from_file_and_environment() {
        let text = format!(
            "{BASE}[cache]\ncluster = true\nurl = \"redis://10.0.0.1:7000, redis://10.0.0.2:7000\"\n"
        );
        let c = Config::from_toml(&text, std::iter::empty()).unwrap();
        assert!(c.cache.cluster);
        assert_eq!(
            c.cache.urls(),
            ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]
        );
        let env = [
            ("IDP_CACHE__CLUSTER".to_string(), "true".to_string()),
            (
                "IDP_CACHE__URL".to_string(),
                "redis://127.0.0.1:7001,redis://127.0.0.1:7002/0".to_string(),
            ),
        ];
        let c = Config::from_toml(BASE, env.into_iter()).unwrap();
        assert!(c.cache.cluster);
        assert_eq!(c.cache.urls().len(), 2);
        let plain = Config::from_toml(BASE, std::iter::empty()).unwrap();
        assert!(!plain.cache.cluster && plain.cache.urls().is_empty());
    }

    #[test]
    fn redis_cluster_settings_are_checked() {
        let with = |cache: &str| {
            Config::from_toml(&format!("{BASE}[cache]\n{cache}\n"), std::iter::empty())
        };
        let err = with("url = \"redis://a:1,redis://b:2\"").unwrap_err();
        assert!(err.contains("set cache.cluster = true"), "{err}");
        let err = with("cluster = true").unwrap_err();
        assert!(err.contains("needs cache.url"), "{err}");
        let err = with("cluster = true\nurl = \"redis://a:1,http://b:2\"").unwrap_err();
        assert!(err.contains("http://b:2 must start with redis://"), "{err}");
        let err = with("cluster = true\nurl = \"redis://a:1/3\"").unwrap_err();
        assert!(err.contains("only database 0"), "{err}");
        let err = with("cluster = true\nurl = \"redis://a:1\"\nprefix = \"{idp}:\"").unwrap_err();
        assert!(err.contains("hash tag in the prefix"), "{err}");
        let err = with("url = \" , \"").unwrap_err();
        assert!(err.contains("must not be empty"), "{err}");
        assert!(with("url = \"redis://a:1/3\"").is_ok());
        assert!(with("cluster = true\nurl = \"redis://a:1/0,redis://b:2\"").is_ok());
        assert!(
            with("url = \"rediss://a:1\"").is_err(),
            "TLS is not built in"
        );
        assert!(with("clustr = true").is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{BASE}\n[tokens]\ncode_tll = 30\n");
        let err = Config::from_toml(&text, std::iter::empty()).unwrap_err();
        assert!(err.contains("code_tll"), "{err}");
    }

    #[test]
    fn upstream_banks_load_with_defaults_and_are_checked() {
        let bank = "\n[[upstream]]\nid = \"sber\"\nname = \"СберБанк\"\nissuer = \"https://id.bank.example\"\nclient_id = \"idp\"\nclient_secret = \"s3cret\"\n";
        let c = Config::from_toml(&format!("{BASE}{bank}"), std::iter::empty()).unwrap();
        assert_eq!(c.upstream.len(), 1);
        assert_eq!(c.upstream[0].scopes, "openid fullname snils birthdate");
        assert!(!c.upstream[0].verifies_identity);
        assert!(!format!("{:?}", c.upstream[0]).contains("s3cret"));
        let http = bank.replace("https://id.bank", "http://id.bank");
        let err =
            Config::from_toml(&format!("{BASE}{http}{bank}"), std::iter::empty()).unwrap_err();
        assert!(err.contains("upstream[0].issuer must be https"), "{err}");
        assert!(err.contains("\"sber\" is used twice"), "{err}");
        let typo = format!("{BASE}{bank}verifies_identiy = true\n");
        assert!(Config::from_toml(&typo, std::iter::empty()).is_err());
    }

    #[test]
    fn all_problems_reported_together() {
        let text = BASE
            .replace("https://id.example.ru", "http://id.example.ru/")
            .replace("sqlite://x.db", "mysql://x");
        let err = Config::from_toml(&text, std::iter::empty()).unwrap_err();
        assert!(err.contains("server.issuer must be https"), "{err}");
        assert!(err.contains("must not end with '/'"), "{err}");
        assert!(err.contains("database.url"), "{err}");
    }
}
