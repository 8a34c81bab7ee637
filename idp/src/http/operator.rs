//! The service-centre operator's API (`Authorization: Bearer <operator token>`, from
//! `idp operators create`): find a person by SNILS or passport, confirm their identity, and
//! the registered-mail letters waiting to be printed.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::api::{self, JsonError};
use super::extract;
use super::identity::confirm_error;
use crate::app::AppState;
use crate::domain::documents::DocumentKind;
use crate::domain::identifiers::parse_snils;
use crate::domain::verification::confirm;
use crate::protocol::claims::format_snils;
use crate::store::operators::Operator;
use crate::store::{documents, identity, letters, users};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/operator/people", get(find))
        .route("/api/operator/people/{sub}/confirm", post(confirm_person))
        .route("/api/operator/letters", get(pending_letters))
        .route("/api/operator/letters/{id}/sent", post(letter_sent))
}

/// The operator behind the bearer token, or 401.
async fn operator(state: &AppState, headers: &HeaderMap) -> Result<Operator, Response> {
    let found = match extract::bearer(headers) {
        Some(token) => confirm::operator_by_token(state, token)
            .await
            .map_err(|e| JsonError::from(e).into_response())?,
        None => None,
    };
    found.ok_or_else(|| {
        let mut resp = JsonError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Нужен действующий токен оператора центра обслуживания.",
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"operator\""),
        );
        resp
    })
}

#[derive(Deserialize)]
struct FindQuery {
    snils: Option<String>,
    /// Series and number together, e.g. `4508 123456`.
    passport: Option<String>,
}

/// People by SNILS or by passport series and number.
async fn find(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FindQuery>,
) -> Result<Response, Response> {
    let op = operator(&state, &headers).await?;
    let ids = match (q.snils.as_deref(), q.passport.as_deref()) {
        (Some(s), _) => {
            let snils = parse_snils(s).ok_or_else(|| {
                bad("СНИЛС указан с ошибкой: нужно 11 цифр с верным контрольным числом.")
            })?;
            identity::by_snils(&state.db, &snils)
                .await
                .map_err(store)?
                .into_iter()
                .collect()
        }
        (None, Some(p)) => {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 10 || !p.chars().all(|c| c.is_ascii_digit() || c == ' ') {
                return Err(bad(
                    "Серия и номер паспорта — 10 цифр, например 4508 123456.",
                ));
            }
            let (series, number) = digits.split_at(4);
            documents::owners(&state.db, DocumentKind::RfPassport, Some(series), number)
                .await
                .map_err(store)?
        }
        (None, None) => {
            return Err(bad(
                "Укажите СНИЛС (snils) или серию и номер паспорта (passport).",
            ));
        }
    };
    tracing::info!(operator = %op.id, found = ids.len(), "operator searched for a person");
    let mut people = Vec::new();
    for id in ids {
        let Some(u) = users::by_id(&state.db, &id).await.map_err(store)? else {
            continue;
        };
        let status = identity::of_user(&state.db, &id)
            .await
            .map_err(store)?
            .and_then(|a| a.verification_status);
        let p = &u.person;
        people.push(json!({
            "sub": u.id,
            "surname": p.surname,
            "given_name": p.given_name,
            "middle_name": p.middle_name,
            "birthdate": p.birthdate,
            "snils": p.snils.as_deref().map(format_snils),
            "level": u.level.as_str(),
            "verification_status": status,
        }));
    }
    Ok(api::ok(StatusCode::OK, json!({ "people": people })))
}

#[derive(Deserialize, Default)]
struct ConfirmBody {
    /// Where the operator works, recorded with the confirmation.
    office: Option<String>,
}

/// Confirms the person's identity (checked in person).
async fn confirm_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sub): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let op = operator(&state, &headers).await?;
    let input: ConfirmBody = if body.is_empty() {
        ConfirmBody::default()
    } else {
        api::json_body(&headers, &body).map_err(IntoResponse::into_response)?
    };
    let office = input
        .office
        .as_deref()
        .filter(|o| crate::domain::documents::plain_text(o));
    confirm::confirm_by_operator(&state, &op, &sub, office)
        .await
        .map_err(|e| confirm_error(e).into_response())?;
    Ok(api::ok(
        StatusCode::OK,
        json!({
            "sub": sub,
            "level": "confirmed",
            "confirmed_by": op.id,
            "confirmed_at": state.clock.now(),
            "message": "Личность подтверждена: учётная запись стала подтверждённой.",
        }),
    ))
}

/// Letters to print, with the code and the address.
async fn pending_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    operator(&state, &headers).await?;
    let list = confirm::printable_letters(&state, 200)
        .await
        .map_err(store)?;
    let letters: Vec<_> = list
        .iter()
        .map(|p| {
            json!({
                "id": p.letter.id,
                "recipient": p.letter.recipient,
                "address": p.letter.address,
                "code": p.code,
                "created_at": p.letter.created_at,
                "expires_at": p.letter.expires_at,
            })
        })
        .collect();
    Ok(api::ok(StatusCode::OK, json!({ "letters": letters })))
}

/// Marks a letter printed and posted: its code is erased from the letter.
async fn letter_sent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    operator(&state, &headers).await?;
    if !letters::mark_sent(&state.db, &id, state.clock.now())
        .await
        .map_err(store)?
    {
        return Err(JsonError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Письмо не найдено или уже отправлено.",
        )
        .into_response());
    }
    Ok(api::ok(
        StatusCode::OK,
        json!({ "id": id, "status": "sent" }),
    ))
}

fn bad(message: &str) -> Response {
    JsonError::new(StatusCode::BAD_REQUEST, "invalid_request", message).into_response()
}

fn store(e: crate::store::StoreError) -> Response {
    JsonError::from(e).into_response()
}
