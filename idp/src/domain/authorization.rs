//! The authorization decision: given a validated request and the browser's session, what
//! comes next (log in, consent, or a code back to the client), and code issuance.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::{random_token, sha256_hex};
use crate::protocol::acr::{self, AcrOutcome};
use crate::protocol::authorize::AuthorizationRequest;
use crate::protocol::pkce::CodeChallenge;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::sessions::Session;
use crate::store::users::User;
use crate::store::{StoreError, consents};

/// A login in progress, kept in the short-lived store under `authz:{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthTx {
    pub id: String,
    pub request: AuthorizationRequest,
    /// Whether the client sent `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_explicit: bool,
    /// Set when the person authenticated inside this transaction (satisfies prompt=login, max_age).
    pub authenticated_at: Option<i64>,
    /// Set when the person allowed the requested data inside this transaction.
    pub consented: bool,
}

/// An authorization code's payload, kept under `code:{sha256(code)}` for at most 60 s.
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_explicit: bool,
    pub user_id: String,
    pub sid: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at: i64,
}

pub enum Step {
    Login,
    Consent,
    /// Redirect the browser here (a code or an error for the client).
    Redirect(String),
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl AuthTx {
    pub fn new(request: AuthorizationRequest, redirect_uri_explicit: bool) -> Self {
        Self {
            id: random_token(24),
            request,
            redirect_uri_explicit,
            authenticated_at: None,
            consented: false,
        }
    }

    fn key(id: &str) -> String {
        format!("authz:{id}")
    }

    pub async fn save(&self, state: &AppState) -> Result<(), CacheError> {
        state
            .cache
            .put_json(
                &Self::key(&self.id),
                self,
                state.config.session.login_ttl as u64,
            )
            .await
    }

    pub async fn load(state: &AppState, id: &str) -> Result<Option<AuthTx>, CacheError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        state.cache.get_json(&Self::key(id)).await
    }

    pub async fn finish(&self, state: &AppState) -> Result<(), CacheError> {
        state.cache.delete(&Self::key(&self.id)).await
    }

    /// The client's redirect URI with `params` plus `state` and `iss` (RFC 9207) appended.
    pub fn redirect_with(&self, state: &AppState, params: &[(&str, &str)]) -> String {
        redirect_url(
            &self.request.redirect_uri,
            params,
            self.request.state.as_deref(),
            &state.issuer,
        )
    }

    pub fn error_redirect(&self, state: &AppState, error: &OAuthError) -> String {
        let desc = error.safe_description();
        self.redirect_with(
            state,
            &[("error", error.code.as_str()), ("error_description", &desc)],
        )
    }
}

/// Builds a redirect back to a client, keeping any query the registered URI already has.
pub fn redirect_url(
    base: &str,
    params: &[(&str, &str)],
    state_param: Option<&str>,
    issuer: &str,
) -> String {
    let Ok(mut url) = url::Url::parse(base) else {
        return base.to_string();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(s) = state_param {
            q.append_pair("state", s);
        }
        q.append_pair("iss", issuer);
    }
    url.to_string()
}

/// Decides the next step for `tx` given the browser's session.
pub async fn proceed(
    state: &AppState,
    tx: &mut AuthTx,
    session: Option<&(Session, User)>,
) -> Result<Step, FlowError> {
    let now = state.clock.now();
    let req = &tx.request;
    let session = session.filter(|(s, _)| hint_matches(state, req, s));
    let fresh = tx.authenticated_at.is_some();
    let needs_login = match session {
        None => true,
        Some((s, _)) => {
            // max_age=0 means "log in now", like prompt=login (OIDC Core errata, issue #993).
            !fresh
                && (req.prompt.login
                    || req.max_age.is_some_and(|m| m == 0 || now - s.auth_time > m))
        }
    };
    if needs_login {
        if req.prompt.none {
            return Ok(Step::Redirect(tx.error_redirect(
                state,
                &OAuthError::new(ErrorCode::LoginRequired, "the user is not logged in"),
            )));
        }
        return Ok(Step::Login);
    }
    let Some((session, user)) = session else {
        return Ok(Step::Login);
    };
    let acr_value = match acr::evaluate(&req.acr_values, user.level) {
        AcrOutcome::Unconstrained => user.level.acr(),
        AcrOutcome::Satisfied(v) => v,
        AcrOutcome::TooLow { wanted } => {
            let e = OAuthError::new(
                ErrorCode::UnmetAuthenticationRequirements,
                format!(
                    "the account level is {}, the client requires {}",
                    user.level.as_str(),
                    wanted.as_str()
                ),
            );
            return Ok(Step::Redirect(tx.error_redirect(state, &e)));
        }
    };
    let requested = req.scopes().filter(|s| s != "openid");
    if !tx.consented && !requested.is_empty() {
        let granted = consents::granted(&state.db, &user.id, &req.client_id, now).await?;
        if req.prompt.consent || !requested.is_subset(&granted) {
            if req.prompt.none {
                return Ok(Step::Redirect(tx.error_redirect(
                    state,
                    &OAuthError::new(ErrorCode::ConsentRequired, "the user has not consented"),
                )));
            }
            return Ok(Step::Consent);
        }
    }
    let code = issue_code(state, tx, session, user, acr_value).await?;
    tx.finish(state).await?;
    Ok(Step::Redirect(tx.redirect_with(state, &[("code", &code)])))
}

/// With `id_token_hint`, the session counts only if it belongs to the hinted subject.
fn hint_matches(state: &AppState, req: &AuthorizationRequest, session: &Session) -> bool {
    let Some(hint) = &req.id_token_hint else {
        return true;
    };
    let keys = state.keys.current();
    super::tokens::verify_own_id_token(&keys, &state.issuer, hint)
        .and_then(|c| {
            c.get("sub")
                .and_then(|s| s.as_str())
                .map(|s| s == session.user_id)
        })
        .unwrap_or(false)
}

async fn issue_code(
    state: &AppState,
    tx: &AuthTx,
    session: &Session,
    user: &User,
    acr: &str,
) -> Result<String, CacheError> {
    let now = state.clock.now();
    let code = random_token(32);
    let grant = CodeGrant {
        client_id: tx.request.client_id.clone(),
        redirect_uri: tx.request.redirect_uri.clone(),
        redirect_uri_explicit: tx.redirect_uri_explicit,
        user_id: user.id.clone(),
        sid: session.sid.clone(),
        scope: tx.request.scope.clone(),
        nonce: tx.request.nonce.clone(),
        code_challenge: tx.request.code_challenge.clone(),
        auth_time: session.auth_time,
        acr: acr.to_owned(),
        amr: session.amr.clone(),
        expires_at: now + state.config.tokens.code_ttl,
    };
    state
        .cache
        .put_json(
            &code_key(&code),
            &grant,
            state.config.tokens.code_ttl as u64 + 5,
        )
        .await?;
    Ok(code)
}

pub fn code_key(code: &str) -> String {
    format!("code:{}", sha256_hex(code.as_bytes()))
}

/// Remembers which grant a redeemed code produced, so a replay can revoke it.
pub fn code_used_key(code: &str) -> String {
    format!("code-used:{}", sha256_hex(code.as_bytes()))
}
