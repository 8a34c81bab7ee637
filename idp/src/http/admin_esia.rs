//! The administrator's API for ESIA client systems (`Authorization: Bearer <admin token>`):
//! the certificates a system signs its `client_secret` with and its token algorithm, the same
//! as `idp clients esia-certificate ...` (docs/esia-compat.md, "Registering a client system").
//!
//! - `GET /api/admin/clients/{id}/esia-certificates` → `{client_id, token_alg, certificates}`;
//! - `POST` the same path with a JSON body `{"certificate": PEM or base64 DER, "token_alg"?}`,
//!   or the certificate itself as the body (PEM, or DER as `application/pkix-cert`) → 201;
//! - `DELETE /api/admin/clients/{id}/esia-certificates/{cert}` (id or hash), or the collection
//!   with `?id=` → 204.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::admin;
use super::api::{self, JsonError};
use crate::app::AppState;
use crate::esia::systems::{self, SystemError};
use crate::store::clients;
use crate::store::esia_systems::EsiaCertificate;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/clients/{id}/esia-certificates",
            get(list).post(add).delete(remove_by_query),
        )
        .route(
            "/api/admin/clients/{id}/esia-certificates/{cert}",
            delete(remove),
        )
}

fn describe(c: &EsiaCertificate) -> Value {
    json!({
        "id": c.id,
        "client_certificate_hash": c.hash,
        "kind": c.kind,
        "subject": c.subject,
        "not_after": c.not_after,
        "added_at": c.added_at,
    })
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    admin(&state, &headers).await?;
    if clients::by_id(&state.db, &id)
        .await
        .map_err(store)?
        .is_none()
    {
        return Err(not_found(&format!("Нет клиента {id}.")));
    }
    let certs = systems::certificates(&state, &id).await.map_err(store)?;
    let alg = systems::token_alg(&state, &id).await.map_err(store)?;
    Ok(api::ok(
        StatusCode::OK,
        json!({
            "client_id": id,
            "token_alg": alg,
            "certificates": certs.iter().map(describe).collect::<Vec<_>>(),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    certificate: String,
    token_alg: Option<String>,
}

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let who = admin(&state, &headers).await?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let (bytes, token_alg) = if is_json {
        let b: AddBody = api::json_body(&headers, &body).map_err(IntoResponse::into_response)?;
        (b.certificate.into_bytes(), b.token_alg)
    } else {
        (body.to_vec(), None)
    };
    if let Some(a) = &token_alg
        && systems::parse_token_alg(a).is_none()
    {
        return Err(refused(SystemError::BadTokenAlg(a.clone())));
    }
    let cert = systems::add_certificate(&state, &id, &bytes)
        .await
        .map_err(refused)?;
    if let Some(a) = &token_alg {
        systems::set_token_alg(&state, &id, a)
            .await
            .map_err(refused)?;
    }
    tracing::info!(admin = %who.id, client = %id, certificate = %cert.id, "admin added an ESIA certificate");
    Ok(api::ok(StatusCode::CREATED, describe(&cert)))
}

#[derive(Deserialize)]
struct RemoveQuery {
    id: Option<String>,
}

async fn remove_by_query(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Result<Response, Response> {
    let Some(cert) = q.id.filter(|c| !c.is_empty()) else {
        return Err(JsonError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Укажите сертификат: ?id=идентификатор или хэш.",
        )
        .into_response());
    };
    delete_one(&state, &headers, &id, &cert).await
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, cert)): Path<(String, String)>,
) -> Result<Response, Response> {
    delete_one(&state, &headers, &id, &cert).await
}

async fn delete_one(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    cert: &str,
) -> Result<Response, Response> {
    let who = admin(state, headers).await?;
    if !systems::remove_certificate(state, id, cert)
        .await
        .map_err(store)?
    {
        return Err(not_found(&format!(
            "Нет сертификата {cert} у клиента {id}."
        )));
    }
    tracing::info!(admin = %who.id, client = %id, certificate = %cert, "admin removed an ESIA certificate");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn refused(e: SystemError) -> Response {
    match e {
        SystemError::NoClient(_) => not_found(&format!("{e}.")),
        SystemError::Duplicate => {
            JsonError::new(StatusCode::CONFLICT, "conflict", format!("{e}.")).into_response()
        }
        SystemError::Store(s) => store(s),
        other => JsonError::new(
            StatusCode::BAD_REQUEST,
            "invalid_certificate",
            format!("{}.", capitalise(&other.to_string())),
        )
        .into_response(),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn not_found(message: &str) -> Response {
    JsonError::new(StatusCode::NOT_FOUND, "not_found", capitalise(message)).into_response()
}

fn store(e: crate::store::StoreError) -> Response {
    JsonError::from(e).into_response()
}
