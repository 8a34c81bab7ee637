//! The profile API under `/api/profile/...` (SSO session cookie; state changes also need
//! `X-CSRF-Token`, the token `GET /api/profile` returns as `csrf_token`), and the profile
//! pages ([`pages`]). Lists come as ESIA collections `{"size": n, "elements": [...]}` of the
//! same element shapes the claims use (docs/claims.md). Errors are
//! `{"error": code, "message": Russian text}`.

mod identity_pages;
mod pages;

/// The signed-in person of a cabinet page, shared with the other cabinet page modules.
pub(crate) use pages::{Visit, no_store, visit};

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{self, JsonError};
use super::cookies;
use crate::app::AppState;
use crate::domain::profile::contacts::EmailProof;
use crate::domain::profile::kids::UnverifiedKid;
use crate::domain::profile::orgs::UnverifiedOrg;
use crate::domain::profile::sections::{UnverifiedAddress, UnverifiedVehicle};
use crate::domain::profile::{self, ProfileError, contacts, deletion, kids, orgs, sections};
use crate::protocol::claims::format_snils;
use crate::protocol::claims::profile::{self as shapes, Kid};
use crate::store::events;
use crate::store::users::User;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/profile", get(overview))
        .route(
            "/api/profile/contacts",
            get(list_contacts).post(add_contact),
        )
        .route("/api/profile/contacts/{id}", delete(remove_contact))
        .route("/api/profile/contacts/mobile", post(request_mobile))
        .route("/api/profile/contacts/mobile/confirm", post(confirm_mobile))
        .route("/api/profile/contacts/email", post(request_email))
        .route("/api/profile/contacts/email/confirm", post(confirm_email))
        .route("/api/profile/addresses", get(list_addresses))
        .route(
            "/api/profile/addresses/{kind}",
            put(put_address).delete(remove_address),
        )
        .route(
            "/api/profile/vehicles",
            get(list_vehicles).post(add_vehicle),
        )
        .route("/api/profile/vehicles/{id}", delete(remove_vehicle))
        .route("/api/profile/kids", get(list_kids).post(add_kid))
        .route("/api/profile/kids/{id}", delete(remove_kid))
        .route("/api/profile/kids/link-code", post(kid_link_code))
        .route("/api/profile/kids/link", post(kid_link))
        .route("/api/profile/orgs", get(list_orgs).post(register_org))
        .route("/api/profile/orgs/{oid}", delete(leave_org))
        .route("/api/profile/history", get(history))
        .route("/api/profile/delete", post(delete_account))
        .merge(pages::routes())
        .merge(identity_pages::routes())
}

type Answer = Result<Response, JsonError>;

/// A domain refusal as a JSON error (the same Russian message the pages show).
pub(crate) fn refusal(e: ProfileError) -> JsonError {
    match e {
        ProfileError::Store(s) => JsonError::from(s),
        ProfileError::Cache(c) => {
            JsonError::from(crate::store::StoreError::Unavailable(c.to_string()))
        }
        ProfileError::Invalid(ps) => JsonError::invalid(
            ps.iter()
                .map(|p| crate::domain::documents::Problem::new(p.field, p.ru))
                .collect(),
        ),
        other => JsonError::new(
            StatusCode::from_u16(other.status()).unwrap_or(StatusCode::BAD_REQUEST),
            other.code(),
            other.message(false),
        ),
    }
}

/// `{"size": n, "elements": [...]}`.
fn collection(elements: Vec<Value>) -> Value {
    json!({ "stateFacts": ["hasSize"], "size": elements.len(), "elements": elements })
}

fn ok(body: Value) -> Answer {
    Ok(api::ok(StatusCode::OK, body))
}

fn created(body: Value) -> Answer {
    Ok(api::ok(StatusCode::CREATED, body))
}

/// Everything at once, with the CSRF token for the changes.
async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let p = profile::load(&state, &user, profile::ALL).await?;
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let body = json!({
        "sub": user.id,
        "level": user.level.as_str(),
        "fullName": user.person.full_name(),
        "contacts": collection(p.contacts.iter().map(shapes::contact).collect()),
        "addresses": collection(p.addresses.iter().map(shapes::address).collect()),
        "vehicles": collection(p.vehicles.iter().map(shapes::vehicle).collect()),
        "kids": collection(p.kids.iter().map(kid_for_parent).collect()),
        "organizations": collection(p.orgs.iter().map(shapes::role).collect()),
        "csrf_token": csrf,
    });
    let mut resp = api::ok(StatusCode::OK, body);
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// A child as the parent sees it: every field they have.
pub(crate) fn kid_for_parent(k: &Kid) -> Value {
    json!({
        "id": k.id,
        "lastName": k.surname,
        "firstName": k.given_name,
        "middleName": k.middle_name,
        "birthDate": k.birthdate,
        "gender": k.gender,
        "snils": k.snils.as_deref().map(format_snils),
        "inn": k.inn,
        "hasAccount": k.linked,
    })
}

async fn list_contacts(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let all = contacts::list(&state, &user).await?;
    ok(collection(all.iter().map(shapes::contact).collect()))
}

#[derive(Deserialize)]
struct ContactBody {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

async fn add_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: ContactBody = api::json_body(&headers, &body)?;
    let c = contacts::add(&state, &user, &b.kind, &b.value)
        .await
        .map_err(refusal)?;
    created(shapes::contact(&c))
}

async fn remove_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    contacts::remove(&state, &user, &id)
        .await
        .map_err(refusal)?;
    ok(json!({ "deleted": id }))
}

#[derive(Deserialize)]
struct NewValue {
    value: String,
    /// `code` (default) or `link`, for e-mail.
    #[serde(default)]
    method: Option<String>,
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

async fn request_mobile(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: NewValue = api::json_body(&headers, &body)?;
    let phone = contacts::request_mobile(&state, &user, &b.value)
        .await
        .map_err(refusal)?;
    Ok(api::ok(
        StatusCode::ACCEPTED,
        json!({ "sent_to": phone, "message": format!("Код подтверждения отправлен в SMS на номер {phone}.") }),
    ))
}

async fn confirm_mobile(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: CodeBody = api::json_body(&headers, &body)?;
    let c = contacts::confirm_mobile(&state, &user, &b.code)
        .await
        .map_err(refusal)?;
    ok(shapes::contact(&c))
}

async fn request_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: NewValue = api::json_body(&headers, &body)?;
    let proof = match b.method.as_deref() {
        None | Some("code") => EmailProof::Code,
        Some("link") => EmailProof::Link,
        Some(_) => {
            return Err(refusal(ProfileError::invalid(
                "method",
                "Способ подтверждения: code (код) или link (ссылка).",
                "Confirmation method: code or link.",
            )));
        }
    };
    let email = contacts::request_email(&state, &user, &b.value, proof)
        .await
        .map_err(refusal)?;
    let what = if proof == EmailProof::Code {
        "Код подтверждения"
    } else {
        "Ссылка для подтверждения"
    };
    Ok(api::ok(
        StatusCode::ACCEPTED,
        json!({ "sent_to": email, "message": format!("{what} отправлен(а) на адрес {email}.") }),
    ))
}

async fn confirm_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: CodeBody = api::json_body(&headers, &body)?;
    let c = contacts::confirm_email(&state, &user, &b.code)
        .await
        .map_err(refusal)?;
    ok(shapes::contact(&c))
}

async fn list_addresses(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let all = crate::store::profile::addresses(&state.db, &user.id).await?;
    ok(collection(all.iter().map(shapes::address).collect()))
}

async fn put_address(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: UnverifiedAddress = api::json_body(&headers, &body)?;
    let a = sections::put_address(&state, &user, &kind, &b)
        .await
        .map_err(refusal)?;
    ok(shapes::address(&a))
}

async fn remove_address(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let a = sections::remove_address(&state, &user, &kind)
        .await
        .map_err(refusal)?;
    ok(json!({ "deleted": a.id }))
}

async fn list_vehicles(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let all = crate::store::profile::vehicles(&state.db, &user.id).await?;
    ok(collection(all.iter().map(shapes::vehicle).collect()))
}

async fn add_vehicle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: UnverifiedVehicle = api::json_body(&headers, &body)?;
    let v = sections::add_vehicle(&state, &user, &b)
        .await
        .map_err(refusal)?;
    created(shapes::vehicle(&v))
}

async fn remove_vehicle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    sections::remove_vehicle(&state, &user, &id)
        .await
        .map_err(refusal)?;
    ok(json!({ "deleted": id }))
}

async fn list_kids(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let all = crate::store::profile::kids::list(&state.db, &user.id).await?;
    ok(collection(all.iter().map(kid_for_parent).collect()))
}

async fn add_kid(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: UnverifiedKid = api::json_body(&headers, &body)?;
    let k = kids::add_record(&state, &user, &b).await.map_err(refusal)?;
    created(kid_for_parent(&k))
}

async fn remove_kid(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    kids::remove(&state, &user, &id).await.map_err(refusal)?;
    ok(json!({ "deleted": id }))
}

async fn kid_link_code(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let code = kids::link_code(&state, &user).await.map_err(refusal)?;
    created(json!({
        "code": code.code,
        "expires_in": code.expires_in,
        "message": "Введите этот код в учётной записи ребёнка: раздел «Дети», «Привязать к родителю». Код действует 10 минут и подходит один раз.",
    }))
}

async fn kid_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: CodeBody = api::json_body(&headers, &body)?;
    let parent = kids::link(&state, &user, &b.code).await.map_err(refusal)?;
    ok(json!({ "linked": true, "parent_oid": parent }))
}

async fn list_orgs(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let all = crate::store::profile::orgs::for_user(&state.db, &user.id).await?;
    ok(collection(all.iter().map(org_for_member).collect()))
}

/// An organisation as its member sees it: the ESIA role plus the INN and the role name.
pub(crate) fn org_for_member(o: &shapes::OrgRole) -> Value {
    let mut v = shapes::role(o);
    v["inn"] = o.inn.clone().into();
    v["role"] = o.role.clone().into();
    v
}

async fn register_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: UnverifiedOrg = api::json_body(&headers, &body)?;
    let o = orgs::register(&state, &user, &b).await.map_err(refusal)?;
    created(org_for_member(&o))
}

async fn leave_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(oid): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let oid = oid
        .parse::<i64>()
        .map_err(|_| refusal(ProfileError::NotFound))?;
    orgs::leave(&state, &user, oid).await.map_err(refusal)?;
    ok(json!({ "deleted": oid }))
}

async fn history(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    ok(collection(history_of(&state, &user).await?))
}

/// The profile changes, newest first.
pub(crate) async fn history_of(
    state: &AppState,
    user: &User,
) -> Result<Vec<Value>, crate::store::StoreError> {
    let list = events::list(&state.db, &user.id, Some("profile"), 200).await?;
    Ok(list
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id,
                "time": e.created_at,
                "summary": e.summary,
                "source": e.source,
                "status": e.status,
                "detail": e.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
            })
        })
        .collect())
}

#[derive(Deserialize)]
struct DeleteBody {
    password: String,
}

async fn delete_account(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: DeleteBody = api::json_body(&headers, &body)?;
    deletion::delete_account(&state, &user, &b.password, Some(peer.ip()))
        .await
        .map_err(refusal)?;
    let mut resp = api::ok(
        StatusCode::OK,
        json!({ "deleted": true, "message": "Учётная запись удалена. Все входы на сайты завершены." }),
    );
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&state, cookies::SESSION));
    Ok(resp.into_response())
}
