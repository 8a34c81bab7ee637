//! The workers of the `code` and `mixed` scenarios: a browser that logged in once (its SSO
//! session cookie and a PKCE pair) and, for `mixed`, the user's current tokens and a place in
//! the mix's cycle.

use std::sync::Arc;

use hyper::body::Bytes;
use hyper::header::HeaderValue;

use crate::flow::{self, Browser, ClientCreds, Pkce, Tokens};
use crate::http::{Conn, Error, Jar};
use crate::mix::Op;
use crate::ops::{self, UserTokens};
use crate::scenario::Target;

/// A logged-in browser that gets codes without logging in again.
pub struct Session {
    client: ClientCreds,
    /// The SSO session's cookies.
    jar: Jar,
    /// `/authorize` with the PKCE challenge, made once.
    authorize: String,
    pkce: Pkce,
}

impl Session {
    /// Logs `login` in over `conn` (password, then consent when asked) and exchanges that
    /// first code; returns the connection for the worker to keep, and the first tokens.
    pub async fn open(
        conn: Conn,
        target: &Target,
        login: &str,
    ) -> Result<(Conn, Self, Tokens), Error> {
        let mut browser = Browser {
            conn,
            jar: Jar::default(),
        };
        let code = browser
            .code(&target.client, login, &target.password)
            .await?;
        let Browser { mut conn, jar } = browser;
        let tokens = flow::exchange_code(&mut conn, &target.client, &code, None).await?;
        let pkce = Pkce::random();
        let session = Self {
            client: target.client.clone(),
            jar,
            authorize: flow::authorize_path_with(&target.client, "bench-code", Some(&pkce)),
            pkce,
        };
        Ok((conn, session, tokens))
    }

    /// One code: GET /authorize with the session, POST /token with the verifier.
    pub async fn code(&self, conn: &mut Conn) -> Result<Tokens, Error> {
        flow::code_with_session(conn, &self.jar, &self.client, &self.authorize, &self.pkce).await
    }
}

/// A `mixed` worker: it cycles through the mix's schedule from its own offset.
pub struct MixedJob {
    schedule: Arc<[Op]>,
    next: usize,
    session: Session,
    tokens: UserTokens,
    /// The client's `Authorization: Basic`.
    auth: HeaderValue,
    client_credentials: Bytes,
    /// Only the CSRF cookie, as in the `login` scenario: each login opens a new session.
    login_jar: Jar,
    login: String,
    password: String,
}

impl MixedJob {
    pub fn new(
        schedule: Arc<[Op]>,
        offset: usize,
        session: Session,
        tokens: Tokens,
        login: &str,
        password: &str,
    ) -> Result<Self, Error> {
        if schedule.is_empty() {
            return Err("the mix is empty".into());
        }
        Ok(Self {
            next: offset % schedule.len(),
            schedule,
            auth: session.client.basic(),
            session,
            tokens: UserTokens::new(tokens)?,
            client_credentials: ops::client_credentials_body(),
            login_jar: Jar::default(),
            login: login.to_owned(),
            password: password.to_owned(),
        })
    }

    /// The next operation of the cycle. A code exchange or refresh replaces the tokens the
    /// later operations use, so a long run never sends an expired access token.
    pub async fn once(&mut self, conn: &mut Conn) -> (Op, Result<(), Error>) {
        let op = self.schedule[self.next];
        self.next = (self.next + 1) % self.schedule.len();
        let outcome = match op {
            Op::Login => {
                let client = &self.session.client;
                flow::password_login(
                    conn,
                    &mut self.login_jar,
                    client,
                    &self.login,
                    &self.password,
                )
                .await
            }
            Op::Code => match self.session.code(conn).await {
                Ok(t) => self.tokens.replace(t),
                Err(e) => Err(e),
            },
            Op::Refresh => self.refresh(conn).await,
            Op::Userinfo => ops::userinfo(conn, &self.tokens.bearer).await,
            Op::Introspection => {
                ops::introspect(conn, &self.auth, &self.tokens.introspect_body).await
            }
            Op::ClientCredentials => {
                ops::client_credentials(conn, &self.auth, &self.client_credentials).await
            }
            Op::EsiaRefresh | Op::Argon2 => Err(format!("{op} is not part of a mix").into()),
        };
        (op, outcome)
    }

    async fn refresh(&mut self, conn: &mut Conn) -> Result<(), Error> {
        // Taken, not borrowed: a failed refresh may have used the token up, and the next
        // code exchange brings a new chain.
        let token = self
            .tokens
            .refresh
            .take()
            .ok_or("no refresh token (an earlier refresh failed)")?;
        let next = ops::refresh(conn, &self.auth, &token).await?;
        self.tokens.replace(next)
    }
}
