//! The authorization decision: given a validated request and the browser's session, what
//! comes next (log in, consent, or a code back to the client), and code issuance.

use serde::{Deserialize, Serialize};

use super::assurance;
use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::{random_token, sha256_hex};
use crate::protocol::acr::{self, AcrOutcome, Level};
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
    /// A forced re-authentication (`prompt=login`, `max_age`) of a session whose strongest
    /// method was this (`ds`, `hwk`, `mfa`): the new login must be as strong.
    #[serde(default)]
    pub reauth: Option<String>,
    /// Set when the account level is below what the request or the client needs: the
    /// transaction ends with `unmet_authentication_requirements`.
    #[serde(default)]
    pub too_low: Option<TooLow>,
    /// Started by ESIA's `/aas/oauth2/ac`: the final redirect is ESIA-shaped (no `iss`,
    /// errors as `ESIA-0070xx`), see `esia::protocol`.
    #[serde(default)]
    pub esia: bool,
}

/// The account level against the level a request or client needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TooLow {
    pub level: String,
    pub wanted: String,
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
    /// A login (with the strongest method of the session it replaces: `tx.reauth`).
    Login,
    Consent,
    /// The session is fine but a second factor is missing: ask only for it.
    StepUp,
    /// The account level is too low: explain (`tx.too_low`), then the error to the client.
    LevelTooLow,
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
            reauth: None,
            too_low: None,
            esia: false,
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
        if self.esia {
            let st = self.request.state.as_deref();
            return crate::esia::protocol::redirect(&self.request.redirect_uri, params, st);
        }
        redirect_url(
            &self.request.redirect_uri,
            params,
            self.request.state.as_deref(),
            &state.issuer,
        )
    }

    /// The redirect that ends a transaction whose account level is too low.
    pub fn too_low_redirect(&self, state: &AppState) -> Option<String> {
        let t = self.too_low.as_ref()?;
        let e = OAuthError::new(
            ErrorCode::UnmetAuthenticationRequirements,
            format!(
                "the account level is {}, the client requires {}",
                t.level, t.wanted
            ),
        );
        Some(self.error_redirect(state, &e))
    }

    pub fn error_redirect(&self, state: &AppState, error: &OAuthError) -> String {
        if self.esia {
            return crate::esia::protocol::error_redirect(self, error);
        }
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
    let policy = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await?
        .map(|c| c.auth_policy)
        .unwrap_or_default();
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
        if let Some((s, _)) = session
            && !fresh
        {
            tx.reauth = assurance::reauth_method(&s.amr).map(str::to_owned);
        }
        return Ok(Step::Login);
    }
    let Some((session, user)) = session else {
        return Ok(Step::Login);
    };
    let outcome = acr::evaluate(&req.acr_values, user.level);
    if let Some(wanted) = level_shortfall(&req.acr_values, &policy, user.level) {
        let prompt_none = req.prompt.none;
        tx.too_low = Some(TooLow {
            level: user.level.as_str().to_owned(),
            wanted: wanted.as_str().to_owned(),
        });
        if prompt_none {
            let url = tx.too_low_redirect(state).unwrap_or_default();
            tx.finish(state).await?;
            return Ok(Step::Redirect(url));
        }
        return Ok(Step::LevelTooLow);
    }
    let strength = assurance::required(&req.acr_values, &policy, tx.reauth.is_some());
    if !assurance::meets(strength, &session.amr) {
        if req.prompt.none {
            return Ok(Step::Redirect(tx.error_redirect(
                state,
                &OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "a second factor is required",
                ),
            )));
        }
        return Ok(Step::StepUp);
    }
    let best_level = match outcome {
        AcrOutcome::Satisfied(v) => Some(v),
        _ => None,
    };
    let acr_value = assurance::choose_acr(
        &req.acr_values,
        best_level,
        user.level,
        assurance::has_mfa(&session.amr),
    );
    let requested = req.scopes().filter(|s| s != "openid");
    if !tx.consented && !requested.is_empty() {
        let granted = consents::granted_for(
            &state.db,
            &user.id,
            &req.client_id,
            req.permissions.as_ref(),
            now,
        )
        .await?;
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

/// The level the request (`acr_values`) or the client's policy needs when the account's
/// `level` is below it.
pub fn level_shortfall(
    acr_values: &[String],
    policy: &assurance::Policy,
    level: Level,
) -> Option<Level> {
    let mut wanted = match acr::evaluate(acr_values, level) {
        AcrOutcome::TooLow { wanted } => Some(wanted),
        _ => None,
    };
    if let Some(min) = policy.min_level
        && level < min
    {
        wanted = Some(wanted.map_or(min, |w| w.max(min)));
    }
    wanted
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
