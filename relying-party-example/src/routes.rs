//! The site's HTTP surface. The login: `/login` (start: state, nonce and PKCE verifier kept
//! in the site session) → provider → `/callback` (check `state` and `iss`, redeem the code,
//! verify the ID token, fetch userinfo). The signed-in actions (`/refresh`, `/userinfo`,
//! `/protected` with step-up) live in [`account`], both kinds of logout in [`logout`].

mod account;
mod logout;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::config::{Level, Settings};
use crate::oidc::{LoginRequest, OidcError, Provider};
use crate::pages::{self, Problem};
use crate::session::{self, PENDING_TTL_SECS, Sessions, SignedIn, same, unix_now};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub provider: Arc<Provider>,
    pub sessions: Arc<Sessions>,
    csp: HeaderValue,
}

impl AppState {
    pub fn new(settings: Settings, provider: Provider) -> Result<AppState, String> {
        // Form posts end in redirects to the provider (logout), which form-action also governs.
        let issuer = url::Url::parse(&settings.issuer).map_err(|e| e.to_string())?;
        let csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {}; \
             frame-ancestors 'none'; base-uri 'none'",
            issuer.origin().ascii_serialization()
        );
        Ok(AppState {
            settings: Arc::new(settings),
            provider: Arc::new(provider),
            sessions: Arc::new(Sessions::default()),
            csp: HeaderValue::from_str(&csp).map_err(|e| e.to_string())?,
        })
    }

    fn problem(&self, p: Problem) -> Response {
        (p.status(), Html(p.render(&self.settings))).into_response()
    }

    fn secure(&self) -> bool {
        self.settings.secure_cookies()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/refresh", post(account::refresh))
        .route("/userinfo", get(account::userinfo))
        .route("/protected", get(account::protected))
        .route("/logout", post(logout::start))
        .route("/backchannel-logout", post(logout::backchannel))
        .route("/assets/site.css", get(stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

#[derive(Deserialize)]
struct HomeQuery {
    state: Option<String>,
}

async fn home(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let cookie = session::cookie_value(&headers);
    let Some((id, s)) = st.sessions.load(cookie.as_deref()) else {
        return Html(pages::landing(&st.settings, None)).into_response();
    };
    // Back from the provider's end_session_endpoint with the state we sent?
    let returned = matches!((&s.logout_state, &q.state), (Some(a), Some(b)) if same(a, b));
    let flash = st
        .sessions
        .with(&id, |s| {
            if returned {
                s.logout_state = None;
                Some("Вы вышли из ЕСИА и с этого сайта.".to_string())
            } else {
                s.flash.take()
            }
        })
        .flatten();
    let html = match &s.user {
        Some(user) => pages::profile(&st.settings, user, &s.csrf, flash.as_deref()),
        None => pages::landing(&st.settings, flash.as_deref()),
    };
    Html(html).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    level: Option<String>,
    silent: Option<String>,
}

/// Starts a login: `?level=confirmed` asks for a higher level (step-up), `?silent=1` sends
/// `prompt=none`.
async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let persona = st.settings.persona;
    let cookie = session::cookie_value(&headers);
    let (id, _, created) = st.sessions.load_or_create(cookie.as_deref());
    let level = q
        .level
        .as_deref()
        .and_then(Level::parse)
        .map_or(persona.level, |l| l.max(persona.level));
    let req = LoginRequest {
        scopes: persona.scopes,
        level,
        silent: q.silent.is_some(),
        permissions: persona
            .permissions
            .as_ref()
            .map(|p| p.encoded(persona.scopes)),
    };
    let (url, pending) = match st.provider.start_login(&req).await {
        Ok(v) => v,
        Err(e) => return st.problem(problem_of(e)),
    };
    st.sessions.with(&id, |s| s.pending = Some(pending));
    let cookie = created.then(|| session::set_cookie(&id, st.secure()));
    see_other(url.as_str(), cookie)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer: checks `state` (this browser's pending login, single use) and `iss`
/// before anything else, then either shows the error or completes the login.
async fn callback(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let cookie = session::cookie_value(&headers);
    let Some((id, s)) = st.sessions.load(cookie.as_deref()) else {
        return st.problem(Problem::StateMismatch);
    };
    let pending = match (s.pending, q.state.as_deref()) {
        (Some(p), Some(state)) if same(state, &p.state) => p,
        _ => return st.problem(Problem::StateMismatch),
    };
    st.sessions.with(&id, |s| s.pending = None);
    if unix_now() - pending.created_at > PENDING_TTL_SECS {
        return st.problem(Problem::StateMismatch);
    }
    if q.iss.as_deref() != Some(st.provider.issuer()) {
        return st.problem(Problem::IssuerMismatch);
    }
    if let Some(code) = q.error {
        tracing::info!(error = %code, "the provider refused the login");
        return st.problem(Problem::from_provider(
            &code,
            q.error_description,
            pending.level,
        ));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return st.problem(Problem::Provider {
            code: "invalid_request".into(),
            description: Some("the callback has neither code nor error".into()),
        });
    };
    let tokens = match st.provider.finish_login(&pending, code).await {
        Ok(t) => t,
        Err(e) => return st.problem(problem_of(e)),
    };
    let Some(id_token) = tokens.id.clone() else {
        return st.problem(Problem::Unavailable);
    };
    // The site enforces the level itself too: the ID token's acr must meet what was asked.
    let level = id_token.acr.as_deref().and_then(Level::from_acr);
    if level.is_none_or(|l| l < pending.level) {
        return st.problem(Problem::LevelTooLow {
            wanted: pending.level,
        });
    }
    let userinfo = match st
        .provider
        .userinfo(&tokens.access_token, &id_token.sub)
        .await
    {
        Ok(u) => u,
        Err(e) => return st.problem(problem_of(e)),
    };
    st.sessions.sign_out(&id);
    let new_id = st.sessions.sign_in(
        &id,
        SignedIn {
            id: id_token,
            access_token: tokens.access_token,
            access_expires_at: tokens.access_expires_at,
            refresh_token: tokens.refresh_token,
            userinfo,
            refreshed_at: None,
        },
    );
    // After a step-up login, go on to the section that needed it.
    let next = if pending.level > st.settings.persona.level {
        "/protected"
    } else {
        "/"
    };
    see_other(next, Some(session::set_cookie(&new_id, st.secure())))
}

/// The site's own forms carry the session's CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

impl From<Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>> for CsrfForm {
    /// An unreadable form counts as one without a token.
    fn from(r: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>) -> Self {
        r.map(|f| f.0).unwrap_or(CsrfForm { csrf: None })
    }
}

/// The signed-in session of this browser; with a form, its CSRF token must match.
fn signed_in(
    st: &AppState,
    headers: &HeaderMap,
    form: Option<&CsrfForm>,
) -> Result<(String, SignedIn), Problem> {
    let cookie = session::cookie_value(headers);
    let (id, s) = st
        .sessions
        .load(cookie.as_deref())
        .ok_or(Problem::NotSignedIn)?;
    if let Some(f) = form
        && !f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf))
    {
        return Err(Problem::Forbidden);
    }
    let user = s.user.ok_or(Problem::NotSignedIn)?;
    Ok((id, user))
}

fn problem_of(e: OidcError) -> Problem {
    tracing::warn!(error = %e, "provider call failed");
    match e {
        OidcError::Unavailable(_) => Problem::Unavailable,
        OidcError::TokenRejected => Problem::SessionExpired,
        OidcError::Rejected { code, description } => {
            Problem::from_provider(&code, description, Level::Simplified)
        }
        OidcError::Invalid(detail) => Problem::Provider {
            code: "invalid_token".into(),
            description: Some(detail),
        },
    }
}

/// A 303 to `location`, optionally setting the session cookie.
fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut resp = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response();
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn not_found(State(st): State<AppState>) -> Response {
    st.problem(Problem::NotFound)
}

/// CSP without inline code, no framing, no referrer (the callback URL carries the code),
/// and no caching of pages that show personal data.
async fn security_headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, st.csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
