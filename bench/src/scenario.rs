//! The measured scenarios: what each worker prepares over HTTP before the clock starts, and
//! the operation it repeats (a request, for `login` a whole password login, for `code` an
//! authorization and its code exchange, for `mixed` the next operation of a weighted mix).

use std::sync::Arc;

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use serde::Deserialize;

use crate::flow::{self, Browser, ClientCreds};
use crate::http::{ClientKind, Conn, Error, Jar, Req, form_body};
use crate::mix::{Mix, Op};
use crate::mixed::{MixedJob, Session};
use crate::ops::{self, expect_ok};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// POST /token grant_type=client_credentials, ES256 access token.
    ClientCredentials,
    /// The same with a client whose access tokens are RS256.
    ClientCredentialsRs256,
    /// POST /token grant_type=refresh_token; each worker rotates its own chain.
    Refresh,
    /// GET /userinfo with a user's access token.
    Userinfo,
    /// POST /introspect of a user's access token.
    Introspection,
    /// Full password logins: /authorize, the login page, the password POST, the redirect.
    Login,
    /// Raw Argon2id hashes on one core, no HTTP.
    Argon2,
    /// ESIA's POST /aas/oauth2/v3/te grant_type=refresh_token with a GOST `client_secret`
    /// signed per request; each worker rotates its own chain (RS256 ESIA tokens).
    EsiaRefreshV3,
    /// Authorization code exchanges: each worker logs in once, then GET /authorize with its
    /// session (consent given: straight back with a code) and POST /token with PKCE.
    Code,
    /// A weighted mix per worker (`--mix`, default `mix::DEFAULT_MIX`), reported per kind.
    Mixed,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ClientCredentials => "client-credentials",
            Scenario::ClientCredentialsRs256 => "client-credentials-rs256",
            Scenario::Refresh => "refresh",
            Scenario::Userinfo => "userinfo",
            Scenario::Introspection => "introspection",
            Scenario::Login => "login",
            Scenario::Argon2 => "argon2",
            Scenario::EsiaRefreshV3 => "esia-refresh-v3",
            Scenario::Code => "code",
            Scenario::Mixed => "mixed",
        }
    }
}

/// What the scenarios need to know about the provider under test.
#[derive(Clone, Debug)]
pub struct Target {
    /// The nodes' base URLs (one issuer behind them); connections go to them in turn.
    pub bases: Vec<url::Url>,
    pub client_kind: ClientKind,
    /// The client for user flows, introspection and ES256 client credentials.
    pub client: ClientCreds,
    /// A client registered with `--access-token-alg RS256`.
    pub rs256_client: ClientCreds,
    /// Demo citizens' logins (phones); workers take them in turn.
    pub logins: Vec<String>,
    pub password: String,
    /// The ESIA client system (only for `esia-refresh-v3`).
    pub esia: Option<crate::esia::EsiaSystem>,
    /// The weights of `mixed`.
    pub mix: Mix,
}

impl Target {
    /// The node for the `i`-th connection: round-robin over `bases`.
    pub fn node(&self, i: usize) -> Result<&url::Url, Error> {
        if self.bases.is_empty() {
            return Err("no target URL given".into());
        }
        Ok(&self.bases[i % self.bases.len()])
    }

    /// A new connection to the `i`-th node (round-robin).
    pub fn conn(&self, i: usize) -> Result<Conn, Error> {
        Conn::new(self.client_kind, self.node(i)?)
    }
}

/// A worker's prepared state: its connection and what it sends.
pub struct Worker {
    conn: Conn,
    job: Job,
}

enum Job {
    ClientCredentials {
        auth: HeaderValue,
        body: Bytes,
    },
    Refresh {
        auth: HeaderValue,
        token: String,
    },
    Userinfo {
        bearer: HeaderValue,
    },
    Introspection {
        auth: HeaderValue,
        body: Bytes,
    },
    Login {
        client: ClientCreds,
        jar: Jar,
        login: String,
        password: String,
    },
    EsiaRefresh {
        system: Box<crate::esia::EsiaSystem>,
        token: String,
    },
    Code(Box<Session>),
    Mixed(Box<MixedJob>),
}

/// Prepares `n` workers for `scenario` (user tokens come from real logins, see `user_tokens`).
pub async fn prepare(scenario: Scenario, target: &Target, n: usize) -> Result<Vec<Worker>, Error> {
    // Worker connections go round-robin over the nodes; setup connections too, so state made
    // on one node (a code, an SSO session's grants, refresh chains) is used on another.
    let next = std::cell::Cell::new(0usize);
    let conn = || {
        let i = next.get();
        next.set(i + 1);
        target.conn(i)
    };
    let mut workers = Vec::with_capacity(n);
    match scenario {
        Scenario::ClientCredentials | Scenario::ClientCredentialsRs256 => {
            let (client, alg) = if scenario == Scenario::ClientCredentials {
                (&target.client, "ES256")
            } else {
                (&target.rs256_client, "RS256")
            };
            check_access_token_alg(target, client, alg).await?;
            for _ in 0..n {
                let auth = client.basic();
                workers.push(Worker {
                    conn: conn()?,
                    job: Job::ClientCredentials {
                        auth,
                        body: form_body(&[("grant_type", "client_credentials")]),
                    },
                });
            }
        }
        Scenario::Refresh | Scenario::Userinfo | Scenario::Introspection => {
            for tokens in user_tokens(target, n).await? {
                let auth = target.client.basic();
                let job = match scenario {
                    Scenario::Refresh => Job::Refresh {
                        auth,
                        token: tokens
                            .refresh_token
                            .ok_or("the code exchange gave no refresh token")?,
                    },
                    Scenario::Userinfo => Job::Userinfo {
                        bearer: HeaderValue::from_str(&format!("Bearer {}", tokens.access_token))?,
                    },
                    _ => Job::Introspection {
                        auth,
                        body: form_body(&[("token", &tokens.access_token)]),
                    },
                };
                workers.push(Worker { conn: conn()?, job });
            }
        }
        Scenario::Login => {
            // Each citizen logs in and consents once first, so the measured logins end at
            // the redirect back to the client.
            for login in &target.logins {
                let mut browser = Browser {
                    conn: conn()?,
                    jar: Jar::default(),
                };
                browser
                    .code(&target.client, login, &target.password)
                    .await?;
            }
            for i in 0..n {
                let job = Job::Login {
                    client: target.client.clone(),
                    jar: Jar::default(),
                    login: target.logins[i % target.logins.len()].clone(),
                    password: target.password.clone(),
                };
                workers.push(Worker { conn: conn()?, job });
            }
        }
        Scenario::EsiaRefreshV3 => {
            let system = target.esia.clone().ok_or("no ESIA client system given")?;
            let login = target.logins.first().ok_or("no demo login given")?;
            let tokens =
                crate::esia::refresh_tokens(&system, conn, login, &target.password, n).await?;
            for token in tokens {
                let job = Job::EsiaRefresh {
                    system: Box::new(system.clone()),
                    token,
                };
                workers.push(Worker { conn: conn()?, job });
            }
        }
        Scenario::Code | Scenario::Mixed => {
            let schedule: Arc<[Op]> = target.mix.schedule().into();
            for i in 0..n {
                let login = &target.logins[i % target.logins.len().max(1)];
                let (conn, session, tokens) = Session::open(conn()?, target, login).await?;
                let job = if scenario == Scenario::Code {
                    Job::Code(Box::new(session))
                } else {
                    // Worker i starts at slot i of the cycle, so the workers' logins (and
                    // other rare kinds) are spread over time rather than done all at once.
                    let job = MixedJob::new(
                        schedule.clone(),
                        i,
                        session,
                        tokens,
                        login,
                        &target.password,
                    )?;
                    Job::Mixed(Box::new(job))
                };
                workers.push(Worker { conn, job });
            }
        }
        Scenario::Argon2 => return Err("argon2 is not an HTTP scenario".into()),
    }
    Ok(workers)
}

impl Worker {
    /// Performs one operation and says which kind it was; `Err` counts as an error (a non-2xx
    /// answer, or for `login` and `code` any step that did not go as it should).
    pub async fn once(&mut self) -> (Op, Result<(), Error>) {
        let conn = &mut self.conn;
        match &mut self.job {
            Job::ClientCredentials { auth, body } => (
                Op::ClientCredentials,
                ops::client_credentials(conn, auth, body).await,
            ),
            Job::Refresh { auth, token } => {
                let outcome = match ops::refresh(conn, auth, token).await {
                    Ok(next) => next
                        .refresh_token
                        .map(|t| *token = t)
                        .ok_or_else(|| "the refresh gave no new refresh token".into()),
                    Err(e) => Err(e),
                };
                (Op::Refresh, outcome)
            }
            Job::Userinfo { bearer } => (Op::Userinfo, ops::userinfo(conn, bearer).await),
            Job::Introspection { auth, body } => {
                (Op::Introspection, ops::introspect(conn, auth, body).await)
            }
            Job::Login {
                client,
                jar,
                login,
                password,
            } => (
                Op::Login,
                flow::password_login(conn, jar, client, login, password).await,
            ),
            Job::EsiaRefresh { system, token } => {
                (Op::EsiaRefresh, esia_refresh(conn, system, token).await)
            }
            Job::Code(session) => (Op::Code, session.code(conn).await.map(|_| ())),
            Job::Mixed(job) => job.once(conn).await,
        }
    }
}

async fn esia_refresh(
    conn: &mut Conn,
    system: &crate::esia::EsiaSystem,
    token: &mut String,
) -> Result<(), Error> {
    let resp = conn
        .send(system.token_request(("refresh_token", token)))
        .await?;
    expect_ok(resp.status)?;
    *token = crate::esia::refresh_of(&resp.body)?;
    Ok(())
}

/// `n` token sets from real logins: one browser logs in with a password (and consents),
/// then uses its SSO session for the remaining authorizations, each a separate grant with
/// its own refresh chain.
pub async fn user_tokens(target: &Target, n: usize) -> Result<Vec<flow::Tokens>, Error> {
    // With several nodes, the codes are issued by the first and redeemed at the second.
    let mut browser = Browser {
        conn: target.conn(0)?,
        jar: Jar::default(),
    };
    let mut token_conn = target.conn(1)?;
    let login = target.logins.first().ok_or("no demo login given")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let code = browser
            .code(&target.client, login, &target.password)
            .await?;
        out.push(flow::exchange_code(&mut token_conn, &target.client, &code, None).await?);
    }
    Ok(out)
}

/// Fails unless `client` gets client-credentials access tokens signed with `alg`, so a
/// mis-registered client cannot pass for the other algorithm.
async fn check_access_token_alg(
    target: &Target,
    client: &ClientCreds,
    alg: &str,
) -> Result<(), Error> {
    let mut conn = target.conn(0)?;
    let req = Req::form("/token", &[("grant_type", "client_credentials")])
        .header(header::AUTHORIZATION, client.basic());
    let resp = conn.send(req).await?;
    if resp.status != StatusCode::OK {
        return Err(format!(
            "client_credentials for {} answered {}: {} (is the client registered?)",
            client.id,
            resp.status,
            resp.text()
        )
        .into());
    }
    let tokens: flow::Tokens = serde_json::from_slice(&resp.body)?;
    let got = jwt_alg(&tokens.access_token).unwrap_or_default();
    if got != alg {
        return Err(format!(
            "client {} gets {got:?} access tokens, expected {alg}",
            client.id
        )
        .into());
    }
    Ok(())
}

/// The `alg` in a JWT's protected header.
fn jwt_alg(jwt: &str) -> Option<String> {
    let head = jwt.split('.').next()?;
    let bytes = base64url_decode(head)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_owned)
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_alg_from_a_jwt_header() {
        // {"alg":"ES256","kid":"k1"} base64url, unpadded.
        let jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.sig";
        assert_eq!(jwt_alg(jwt).as_deref(), Some("ES256"));
        assert_eq!(jwt_alg("!!.x.y"), None);
    }

    fn target(urls: &[&str]) -> Target {
        Target {
            bases: urls
                .iter()
                .filter_map(|u| url::Url::parse(u).ok())
                .collect(),
            client_kind: ClientKind::Hyper,
            client: ClientCreds {
                id: "c".into(),
                secret: "s".into(),
            },
            rs256_client: ClientCreds {
                id: "r".into(),
                secret: "s".into(),
            },
            logins: vec!["+79000000001".into()],
            password: "p".into(),
            esia: None,
            mix: Mix::default(),
        }
    }

    #[test]
    fn connections_go_round_robin_over_the_nodes() {
        let t = target(&[
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            "http://127.0.0.1:3",
        ]);
        let ports: Vec<_> = (0..7)
            .map(|i| t.node(i).ok().and_then(|u| u.port()))
            .collect();
        assert_eq!(
            ports,
            [1, 2, 3, 1, 2, 3, 1].map(Some).to_vec(),
            "the i-th connection goes to node i mod N"
        );
        let one = target(&["http://127.0.0.1:9"]);
        assert!((0..3).all(|i| one.node(i).ok().and_then(|u| u.port()) == Some(9)));
        assert!(target(&[]).node(0).is_err());
    }
}
