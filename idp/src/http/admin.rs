//! The administrator's API (`Authorization: Bearer <admin token>`, from `idp admins create`):
//! register, list, show and delete relying parties, the same as `idp clients ...`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{self, JsonError};
use super::extract;
use crate::app::AppState;
use crate::domain::clients::{ClientSpec, RegisterError, register_in};
use crate::jose::Alg;
use crate::protocol::client::Client;
use crate::store::admins::{self, Admin};
use crate::store::clients;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/clients", get(list).post(create))
        .route("/api/admin/clients/{id}", get(show).delete(remove))
}

/// The administrator behind the bearer token, or 401.
pub(super) async fn admin(state: &AppState, headers: &HeaderMap) -> Result<Admin, Response> {
    let found = match extract::bearer(headers) {
        Some(token) => admins::by_token(&state.db, &state.secrets, token)
            .await
            .map_err(store)?,
        None => None,
    };
    found.ok_or_else(|| {
        let mut resp = JsonError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "A valid administrator token is required (Authorization: Bearer ...).",
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"admin\""),
        );
        resp
    })
}

/// The registration request: the client metadata names of RFC 7591 where there is one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    client_id: String,
    #[serde(default)]
    client_name: String,
    client_secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// Space-separated; `openid profile email phone` when absent (as in the CLI).
    scope: Option<String>,
    /// `client_secret_basic` (or `_post`), `private_key_jwt` or `none`.
    token_endpoint_auth_method: Option<String>,
    /// Shorthand for `token_endpoint_auth_method: "none"`.
    #[serde(default)]
    public: bool,
    backchannel_logout_uri: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    id_token_signed_response_alg: Option<String>,
    access_token_signed_response_alg: Option<String>,
    /// `any` (default), `mfa`, `standard`, `confirmed`, or several (`mfa confirmed`).
    auth_policy: Option<String>,
}

impl RegisterBody {
    fn into_spec(self) -> Result<ClientSpec, String> {
        let keys = self.jwks.is_some() || self.jwks_uri.is_some();
        let public = match self.token_endpoint_auth_method.as_deref() {
            None => self.public,
            Some("none") => true,
            Some("client_secret_basic" | "client_secret_post") if !self.public && !keys => false,
            Some("private_key_jwt") if !self.public && keys => false,
            Some("private_key_jwt") if !keys => {
                return Err("private_key_jwt needs jwks or jwks_uri".into());
            }
            Some(m @ ("client_secret_basic" | "client_secret_post" | "private_key_jwt")) => {
                return Err(format!(
                    "token_endpoint_auth_method {m} contradicts public/jwks/jwks_uri"
                ));
            }
            Some(m) => {
                return Err(format!(
                    "unknown token_endpoint_auth_method {m} (client_secret_basic, client_secret_post, private_key_jwt or none)"
                ));
            }
        };
        if public && keys {
            return Err("a public client has no jwks or jwks_uri".into());
        }
        let alg = |field: &str, v: Option<String>| {
            v.map(|a| {
                Alg::parse(&a).ok_or(format!("{field}: unknown algorithm {a} (RS256 or ES256)"))
            })
            .transpose()
        };
        Ok(ClientSpec {
            id: self.client_id,
            name: self.client_name,
            secret: self.client_secret,
            public,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            scopes: self
                .scope
                .unwrap_or_else(|| "openid profile email phone".into()),
            grant_types: self.grant_types,
            backchannel_logout_uri: self.backchannel_logout_uri,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            id_token_alg: alg(
                "id_token_signed_response_alg",
                self.id_token_signed_response_alg,
            )?,
            access_token_alg: alg(
                "access_token_signed_response_alg",
                self.access_token_signed_response_alg,
            )?,
            auth_policy: self.auth_policy,
        })
    }
}

/// The registration as JSON (never the secret's hash).
fn describe(c: &Client) -> Value {
    json!({
        "client_id": c.id,
        "client_name": c.name,
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "scope": c.scopes.to_string(),
        "grant_types": c.grant_types,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "jwks_uri": c.jwks_uri,
        "jwks": c.jwks,
        "id_token_signed_response_alg": c.id_token_alg.as_str(),
        "access_token_signed_response_alg": c.access_token_alg.as_str(),
        "created_at": c.created_at,
        "auth_policy": c.auth_policy.as_string(),
    })
}

/// Registers a client; 201 with the registration and the generated secret (shown once).
async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let who = admin(&state, &headers).await?;
    let raw: Value = api::json_body(&headers, &body).map_err(IntoResponse::into_response)?;
    let input: RegisterBody =
        serde_json::from_value(raw).map_err(|e| bad(&format!("invalid request body: {e}")))?;
    let spec = input.into_spec().map_err(|m| bad(&m))?;
    let (client, secret) = register_in(&state, spec).await.map_err(|e| match e {
        RegisterError::Invalid(m) => bad(&m),
        RegisterError::Store(e) => store(e),
    })?;
    tracing::info!(admin = %who.id, client = %client.id, "admin registered a client");
    let mut doc = describe(&client);
    if let Some(s) = secret {
        doc["client_secret"] = Value::String(s);
    }
    let mut resp = api::ok(StatusCode::CREATED, doc);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/admin/clients/{}", client.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Response> {
    admin(&state, &headers).await?;
    let all = clients::list(&state.db).await.map_err(store)?;
    let docs: Vec<Value> = all.iter().map(describe).collect();
    Ok(api::ok(StatusCode::OK, json!({ "clients": docs })))
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    admin(&state, &headers).await?;
    match clients::by_id(&state.db, &id).await.map_err(store)? {
        Some(c) => Ok(api::ok(StatusCode::OK, describe(&c))),
        None => Err(not_found(&id)),
    }
}

/// Deletes a client (its grants and consents go with it); this node forgets it at once.
async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let who = admin(&state, &headers).await?;
    let existed = !id.contains('\0') && clients::delete(&state.db, &id).await.map_err(store)?;
    state.clients.invalidate(&id);
    if !existed {
        return Err(not_found(&id));
    }
    tracing::info!(admin = %who.id, client = %id, "admin deleted a client");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn not_found(id: &str) -> Response {
    JsonError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no client {id}"),
    )
    .into_response()
}

fn bad(message: &str) -> Response {
    JsonError::new(StatusCode::BAD_REQUEST, "invalid_request", message).into_response()
}

fn store(e: crate::store::StoreError) -> Response {
    JsonError::from(e).into_response()
}
