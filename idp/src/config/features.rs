//! The sections of the configuration that belong to one feature each: metrics, logs, the
//! ESIA profile, passkeys, the electronic signature, upstream providers, messages and
//! verification. The core sections (server, database, cache, keys, tokens, sessions,
//! login) and loading and validation are in the parent module.

use super::*;

/// `GET /metrics` (Prometheus text format; docs/operations.md "Metrics").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all; default true (off: 404).
    pub enabled: bool,
    /// When set, `/metrics` wants `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            bearer_token: None,
        }
    }
}

/// Log output (`[log]`; docs/operations.md "Logs"). `RUST_LOG` still filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (default, for people) or `json` (one object a line, for collectors).
    pub format: Option<String>,
}

/// The ESIA compatibility profile (`[esia]`, see docs/esia-compat.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EsiaConfig {
    /// How far (seconds, either way) a `client_secret`'s `timestamp` may be from now; 300.
    pub timestamp_window_secs: i64,
    /// `iss` of ESIA-shaped tokens; `http://esia.gosuslugi.ru/` (what client libraries check).
    pub issuer: String,
    /// Token-signing key files (PEM or DER PKCS#8) and their certificates (DER or PEM);
    /// unset = the committed dev/test files of `keys/esia/provider/` compiled into the binary,
    /// under `idp dev` only (see `dev_keys`).
    pub rsa_key: Option<String>,
    pub rsa_certificate: Option<String>,
    pub gost_key: Option<String>,
    pub gost_certificate: Option<String>,
    /// Whether unset key files fall back to the committed, public dev/test keys. Only
    /// `idp dev` (and the tests) set it: on `idp serve` an unset key is a refusal to sign or
    /// accept ESIA tokens, so nobody can forge one with the published dev key.
    #[serde(skip)]
    pub dev_keys: bool,
}

impl Default for EsiaConfig {
    fn default() -> Self {
        EsiaConfig {
            timestamp_window_secs: 300,
            issuer: "http://esia.gosuslugi.ru/".to_owned(),
            rsa_key: None,
            rsa_certificate: None,
            gost_key: None,
            gost_certificate: None,
            dev_keys: false,
        }
    }
}

/// WebAuthn passkeys (`[webauthn]`, see docs/passkeys.md). Empty values are derived from
/// `server.issuer`: its host as the RP ID and its origin as the only origin; an issuer on an
/// IP address (the `idp dev` default) gives RP ID `localhost` and origin
/// `http://localhost:PORT`, because an RP ID cannot be an IP address.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnConfig {
    /// The relying party id passkeys are bound to (a domain; changing it orphans them).
    pub rp_id: Option<String>,
    /// The name authenticators may show; default "Госуслуги".
    pub rp_name: Option<String>,
    /// Origins allowed in client data, e.g. `https://esia.example.ru`.
    pub origins: Vec<String>,
}

impl WebauthnConfig {
    /// The RP ID, the RP name and the allowed origins in effect for `issuer`.
    pub fn effective(&self, issuer: &str) -> (String, String, Vec<String>) {
        let parsed = url::Url::parse(issuer).ok();
        let host = parsed.as_ref().and_then(|u| u.host()).map(|h| match h {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(_) | url::Host::Ipv6(_) => "localhost".to_string(),
        });
        let rp_id = self
            .rp_id
            .clone()
            .or(host)
            .unwrap_or_else(|| "localhost".into());
        let origins = if self.origins.is_empty() {
            match &parsed {
                Some(u) if u.host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) => {
                    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                    vec![format!("{}://localhost{port}", u.scheme())]
                }
                Some(u) => vec![u.origin().ascii_serialization()],
                None => Vec::new(),
            }
        } else {
            self.origins.clone()
        };
        let name = self.rp_name.clone().unwrap_or_else(|| "Госуслуги".into());
        (rp_id, name, origins)
    }

    /// Configuration mistakes: an origin that is not a URL or not on the RP ID's domain.
    pub(super) fn problems(&self, issuer: &str) -> Vec<String> {
        let (rp_id, _, origins) = self.effective(issuer);
        let mut problems = Vec::new();
        for o in &origins {
            match url::Url::parse(o) {
                Ok(u) => {
                    let on_domain = u
                        .domain()
                        .is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")));
                    if !on_domain {
                        problems.push(format!(
                            "webauthn.origins: {o} is not on the domain of webauthn.rp_id {rp_id}"
                        ));
                    }
                }
                Err(e) => problems.push(format!("webauthn.origins: {o} is not a URL: {e}")),
            }
        }
        problems
    }
}

/// Login by electronic signature (CMS detached signatures, `/login/signature`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignatureConfig {
    /// PEM files of trusted certification centres (root certificates). Empty: signature
    /// login is off.
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files (PEM or DER) of those centres; a listed certificate is refused.
    pub crls: Vec<PathBuf>,
}

impl SignatureConfig {
    /// The development certification centre in `keys/dev-ca/` (test material), when its
    /// files are found from the working directory or next to the source tree.
    pub fn dev() -> Self {
        let candidates = [
            PathBuf::from("keys/dev-ca"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys/dev-ca"),
        ];
        for dir in candidates {
            let (ca, crl) = (dir.join("ca.pem"), dir.join("ca.crl.pem"));
            if let (Ok(ca), Ok(crl)) = (ca.canonicalize(), crl.canonicalize()) {
                // The GOST dev CA (keys/dev-ca/gost-ca.pem) and its CRL, when present.
                let gost = ["gost-ca.pem", "gost-ca.crl.pem"].map(|f| dir.join(f).canonicalize());
                let [Ok(gost_ca), Ok(gost_crl)] = gost else {
                    return SignatureConfig {
                        trust_anchors: vec![ca],
                        crls: vec![crl],
                    };
                };
                return SignatureConfig {
                    trust_anchors: vec![ca, gost_ca],
                    crls: vec![crl, gost_crl],
                };
            }
        }
        SignatureConfig::default()
    }
}

/// One upstream OpenID provider, e.g. an online bank that already knows the person.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Short name used in URLs: `/upstream/{id}/start`, `/upstream/{id}/callback`.
    pub id: String,
    /// The name shown to people, e.g. "СберБанк".
    pub name: String,
    /// Its issuer; discovery is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated scopes asked for.
    #[serde(default = "default_upstream_scopes")]
    pub scopes: String,
    /// A successful login there with matching data raises a standard account to confirmed.
    #[serde(default)]
    pub verifies_identity: bool,
    /// Allow an `http://` issuer (development and tests only).
    #[serde(default)]
    pub allow_http: bool,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("verifies_identity", &self.verifies_identity)
            .finish_non_exhaustive()
    }
}

fn default_upstream_scopes() -> String {
    "openid fullname snils birthdate".into()
}

/// Outbound SMS and e-mail.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagesConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS) or `smtps://…`.
    pub smtp_url: Option<String>,
    /// The `From` of e-mails.
    pub from: String,
    /// An HTTP endpoint that takes `{"to", "text", "id"}` as JSON and sends the SMS.
    pub sms_gateway_url: Option<String>,
    pub sms_gateway_token: Option<String>,
    /// Keep messages without a transport in the development outbox (`/dev/outbox`, `idp outbox`)
    /// instead of failing them. On in `idp dev`.
    pub dev_outbox: bool,
    /// Attempts before a message is marked dead.
    pub max_attempts: i64,
    /// How often the delivery worker looks for due messages.
    pub poll_ms: u64,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Госуслуги ID <noreply@localhost>".into(),
            sms_gateway_url: None,
            sms_gateway_token: None,
            dev_outbox: false,
            max_attempts: 8,
            poll_ms: 500,
        }
    }
}

/// Checks by the state registries (standard level) and the confirmed level's letters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationConfig {
    /// `simulated` (built in, deterministic outcomes: docs/verification.md) or `http`.
    pub registry: String,
    /// `http`: the endpoint that takes the check as JSON and answers `{"status", "reason"}`.
    pub registry_url: Option<String>,
    /// `http`: a bearer token sent to the registry.
    pub registry_token: Option<String>,
    /// Run the background worker that performs due checks (off: only `run_due_jobs`).
    pub worker: bool,
    /// How often the worker looks for due jobs.
    pub poll_ms: u64,
    /// A claimed job is given back to the queue if not finished within this lease.
    pub lease_secs: i64,
    /// Attempts before a check is given up (the person is told and may submit again).
    pub max_attempts: i64,
    /// The first retry wait after the registry did not answer; doubled each time, up to 6 h.
    pub retry_base_secs: i64,
    /// How long the code in a registered-mail confirmation letter is valid.
    pub letter_ttl_secs: i64,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        Self {
            registry: "simulated".into(),
            registry_url: None,
            registry_token: None,
            worker: true,
            poll_ms: 1000,
            lease_secs: 120,
            max_attempts: 6,
            retry_base_secs: 60,
            letter_ttl_secs: 30 * 86_400,
        }
    }
}
