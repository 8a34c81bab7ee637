//! The person's identity API: `GET /api/me` (the account, its level and check state, and the
//! CSRF token for changes), `GET|POST /api/identity` (send data to the state registries),
//! `POST /api/identity/documents` (other documents), and the confirmed level by registered
//! mail (`POST /api/identity/confirm-by-mail`, `POST /api/identity/confirm-code`).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{self, JsonError};
use super::cookies;
use crate::app::AppState;
use crate::domain::documents::UnverifiedDocument;
use crate::domain::verification::confirm::{self, ConfirmError};
use crate::domain::verification::submission::UnverifiedIdentity;
use crate::domain::verification::{self, VerificationError};
use crate::protocol::claims::format_snils;
use crate::store::documents::{self, StoredDocument};
use crate::store::{identity, jobs, letters};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/identity", get(show).post(submit))
        .route("/api/identity/documents", post(add_document))
        .route("/api/identity/confirm-by-mail", post(request_letter))
        .route("/api/identity/confirm-code", post(confirm_code))
}

/// The signed-in account. Also hands out the CSRF token that changes must send back in
/// `X-CSRF-Token` (and sets the CSRF cookie if the browser had none).
async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let account = identity::of_user(&state.db, &user.id)
        .await?
        .ok_or_else(JsonError::unauthenticated)?;
    let docs = documents::for_user(&state.db, &user.id).await?;
    let p = &user.person;
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let body = json!({
        "sub": user.id,
        "level": account.level.as_str(),
        "acr": account.level.acr(),
        "verification_status": account.verification_status,
        "surname": p.surname,
        "given_name": p.given_name,
        "middle_name": p.middle_name,
        "birthdate": p.birthdate,
        "birthplace": p.birthplace,
        "gender": p.gender,
        "citizenship": (!account.person.citizenship.is_empty()).then_some(&account.person.citizenship),
        "snils": p.snils.as_deref().map(format_snils),
        "inn": p.inn,
        "email": p.email,
        "phone": p.phone,
        "documents": docs.iter().map(document_json).collect::<Vec<_>>(),
        "csrf_token": csrf,
    });
    let mut resp = api::ok(StatusCode::OK, body);
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// The state of the person's checks: level, documents, recent jobs and letters.
async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let account = identity::of_user(&state.db, &user.id)
        .await?
        .ok_or_else(JsonError::unauthenticated)?;
    let docs = documents::for_user(&state.db, &user.id).await?;
    let checks = jobs::for_user(&state.db, &user.id, 20).await?;
    let letters = letters::for_user(&state.db, &user.id).await?;
    Ok(api::ok(
        StatusCode::OK,
        json!({
            "level": account.level.as_str(),
            "verification_status": account.verification_status,
            "documents": docs.iter().map(document_json).collect::<Vec<_>>(),
            "checks": checks.iter().map(|j| json!({
                "id": j.id, "kind": j.kind, "status": j.status, "attempts": j.attempts,
                "run_at": j.run_at, "created_at": j.created_at, "finished_at": j.finished_at,
            })).collect::<Vec<_>>(),
            "letters": letters.iter().map(|l| json!({
                "id": l.id, "status": l.status, "address": l.address,
                "created_at": l.created_at, "expires_at": l.expires_at, "sent_at": l.sent_at,
            })).collect::<Vec<_>>(),
        }),
    ))
}

/// Sends passport data, birth data, gender, citizenship, SNILS and INN for checking.
async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let input: UnverifiedIdentity = api::json_body(&headers, &body)?;
    let queued = verification::submit(&state, &user, &input)
        .await
        .map_err(verification_error)?;
    Ok(accepted(
        queued,
        "Данные отправлены на проверку в государственные реестры. Результат придёт по электронной почте.",
    ))
}

/// Adds a document other than the identity document and sends it for checking.
async fn add_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let input: UnverifiedDocument = api::json_body(&headers, &body)?;
    let queued = verification::submit_document(&state, &user, &input)
        .await
        .map_err(verification_error)?;
    Ok(accepted(
        queued,
        "Документ отправлен на проверку. Результат придёт по электронной почте.",
    ))
}

#[derive(Deserialize)]
struct LetterRequest {
    address: Option<String>,
}

/// Orders a registered letter with a confirmation code.
async fn request_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let input: LetterRequest = api::json_body(&headers, &body)?;
    let letter = confirm::request_letter(&state, &user.id, input.address.as_deref().unwrap_or(""))
        .await
        .map_err(confirm_error)?;
    Ok(api::ok(
        StatusCode::CREATED,
        json!({
            "letter_id": letter.id,
            "status": letter.status,
            "expires_at": letter.expires_at,
            "message": "Письмо с кодом подтверждения будет отправлено заказной почтой. Код действует 30 дней.",
        }),
    ))
}

#[derive(Deserialize)]
struct CodeRequest {
    code: Option<String>,
}

/// Checks the code from the letter; the account becomes confirmed.
async fn confirm_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let input: CodeRequest = api::json_body(&headers, &body)?;
    confirm::confirm_code(&state, &user.id, input.code.as_deref().unwrap_or(""))
        .await
        .map_err(confirm_error)?;
    Ok(api::ok(
        StatusCode::OK,
        json!({ "level": "confirmed", "message": "Личность подтверждена: учётная запись стала подтверждённой." }),
    ))
}

fn accepted(queued: verification::Queued, message: &str) -> Response {
    let mut resp = api::ok(
        StatusCode::ACCEPTED,
        json!({
            "status": "verifying",
            "level": queued.level.as_str(),
            "check_id": queued.job_id,
            "document_id": queued.document_id,
            "message": message,
        }),
    );
    if let Ok(v) = HeaderValue::from_str("/api/identity") {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A document as the API shows it.
pub fn document_json(d: &StoredDocument) -> Value {
    let doc = &d.document;
    json!({
        "id": d.id,
        "type": doc.kind.as_str(),
        "series": doc.series,
        "number": doc.number,
        "issue_date": doc.issue_date.map(|x| x.iso()),
        "issued_by": doc.issued_by,
        "issuer_code": doc.issuer_code,
        "expiry_date": doc.expiry_date.map(|x| x.iso()),
        "verification": d.verification,
    })
}

fn verification_error(e: VerificationError) -> JsonError {
    let message = e.ru();
    match e {
        VerificationError::Invalid(p) => JsonError::invalid(p),
        VerificationError::InProgress => {
            JsonError::new(StatusCode::CONFLICT, "in_progress", message)
        }
        VerificationError::Unchanged => JsonError::new(StatusCode::CONFLICT, "unchanged", message),
        VerificationError::Store(e) => e.into(),
    }
}

/// Maps a confirmation error (shared with the operator API).
pub fn confirm_error(e: ConfirmError) -> JsonError {
    let message = e.ru();
    let (status, code) = match e {
        ConfirmError::NotStandard => (StatusCode::CONFLICT, "not_standard"),
        ConfirmError::AlreadyConfirmed => (StatusCode::CONFLICT, "already_confirmed"),
        ConfirmError::Verifying => (StatusCode::CONFLICT, "in_progress"),
        ConfirmError::BadAddress => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_data"),
        ConfirmError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
        ConfirmError::WrongCode { .. } => (StatusCode::BAD_REQUEST, "wrong_code"),
        ConfirmError::Expired => (StatusCode::BAD_REQUEST, "code_expired"),
        ConfirmError::Spent => (StatusCode::BAD_REQUEST, "code_spent"),
        ConfirmError::NoLetter => (StatusCode::BAD_REQUEST, "no_letter"),
        ConfirmError::SnilsMismatch => (StatusCode::FORBIDDEN, "snils_mismatch"),
        ConfirmError::UnknownAccount => (StatusCode::NOT_FOUND, "not_found"),
        ConfirmError::Store(e) => return e.into(),
    };
    JsonError::new(status, code, message)
}
