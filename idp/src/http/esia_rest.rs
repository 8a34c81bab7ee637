//! ESIA's person API (issue 8): `GET /rs/prns/{oid}` and its collections `/ctts`, `/addrs`,
//! `/docs`, `/kids`, `/vhls`, `/orgs`, `/roles` (each item also at `/{collection}/{id}`), and
//! `GET /rs/orgs/{orgOid}`. A bearer token (`esia::access::verify_access`) for the path's own
//! person; each collection needs its scope (403 otherwise). `?embed=(elements)` inlines a
//! collection's items; on the person, `?embed=(contacts.elements,…)` inlines sub-collections.
//! Every answer carries an `ETag` (the body's `eTag`); `If-None-Match` gives 304. Shapes in
//! `esia::person`; choices in `docs/esia-compat.md` "Person API".

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract;
use crate::app::AppState;
use crate::esia::access::{AccessError, EsiaAccess, verify_access};
use crate::esia::person::{self, Grants, PersonView};
use crate::store::StoreError;
use crate::store::documents::{self, StoredDocument};
use crate::store::users::{self, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rs/prns/{oid}", get(person_resource))
        .route("/rs/prns/{oid}/{collection}", get(collection_resource))
        .route("/rs/prns/{oid}/{collection}/{id}", get(element_resource))
        .route("/rs/orgs/{org}", get(org_resource))
}

#[derive(Deserialize, Default)]
pub struct EmbedQuery {
    embed: Option<String>,
}

/// A refusal: status, a machine code and a Russian message.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

impl Refusal {
    fn unauthorized() -> Self {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            message: "Маркер доступа отсутствует, недействителен или истёк.",
        }
    }

    fn other_person() -> Self {
        Refusal {
            status: StatusCode::FORBIDDEN,
            code: "access_denied",
            message: "Маркер доступа выдан для другого пользователя.",
        }
    }

    fn no_scope() -> Self {
        Refusal {
            status: StatusCode::FORBIDDEN,
            code: "insufficient_scope",
            message: "Для этих данных нет разрешения (scope) в маркере доступа.",
        }
    }

    fn not_found() -> Self {
        Refusal {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "Такого ресурса нет.",
        }
    }

    fn unavailable() -> Self {
        Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "temporarily_unavailable",
            message: "Сервис временно недоступен, повторите запрос позже.",
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        if !matches!(e, StoreError::Unavailable(_)) {
            tracing::error!(error = %e, "person API: store error");
        }
        Refusal::unavailable()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            axum::Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenge = match self.status {
            StatusCode::UNAUTHORIZED => Some("Bearer error=\"invalid_token\""),
            StatusCode::FORBIDDEN if self.code == "insufficient_scope" => {
                Some("Bearer error=\"insufficient_scope\"")
            }
            _ => None,
        };
        if let Some(c) = challenge {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        resp
    }
}

/// The token's access, checked against the path's person, and that person.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    oid: &str,
) -> Result<(EsiaAccess, User), Refusal> {
    let token = extract::bearer(headers).ok_or_else(Refusal::unauthorized)?;
    let access = verify_access(state, token).await.map_err(|e| match e {
        AccessError::Invalid => Refusal::unauthorized(),
        AccessError::Unavailable => Refusal::unavailable(),
    })?;
    if access.oid != oid {
        return Err(Refusal::other_person());
    }
    let user = users::by_id(&state.db, &access.oid)
        .await?
        .ok_or_else(Refusal::unauthorized)?;
    Ok((access, user))
}

/// A JSON resource with its `ETag`, or 304 when `If-None-Match` names it.
fn answer(headers: &HeaderMap, body: Value) -> Response {
    let tag = body["eTag"].as_str().unwrap_or_default().to_string();
    let quoted = HeaderValue::from_str(&format!("\"{tag}\"")).ok();
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| person::none_match(v, &tag));
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        axum::Json(body).into_response()
    };
    let h = resp.headers_mut();
    if let Some(q) = quoted {
        h.insert(header::ETAG, q);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    resp
}

fn wants_elements(q: &EmbedQuery) -> bool {
    q.embed
        .as_deref()
        .map(person::parse_embed)
        .is_some_and(|items| items.iter().any(|i| i == "elements"))
}

/// The collections by their path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coll {
    Contacts,
    Addresses,
    Documents,
    Kids,
    Vehicles,
    Orgs,
    Roles,
}

impl Coll {
    fn parse(segment: &str) -> Option<Coll> {
        Some(match segment {
            "ctts" => Coll::Contacts,
            "addrs" => Coll::Addresses,
            "docs" => Coll::Documents,
            "kids" => Coll::Kids,
            "vhls" => Coll::Vehicles,
            "orgs" => Coll::Orgs,
            "roles" => Coll::Roles,
            _ => return None,
        })
    }

    fn segment(self) -> &'static str {
        match self {
            Coll::Contacts => "ctts",
            Coll::Addresses => "addrs",
            Coll::Documents => "docs",
            Coll::Kids => "kids",
            Coll::Vehicles => "vhls",
            Coll::Orgs => "orgs",
            Coll::Roles => "roles",
        }
    }

    /// The key under which the person embeds it (`contacts.elements`, …).
    fn embed_name(self) -> &'static str {
        match self {
            Coll::Contacts => "contacts",
            Coll::Addresses => "addresses",
            Coll::Documents => "documents",
            Coll::Kids => "kids",
            Coll::Vehicles => "vehicles",
            Coll::Orgs => "organizations",
            Coll::Roles => "roles",
        }
    }

    fn granted(self, g: Grants<'_>) -> bool {
        match self {
            Coll::Contacts => g.contacts(),
            Coll::Addresses => g.addresses(),
            Coll::Documents => g.documents(),
            Coll::Kids => g.kids(),
            Coll::Vehicles => g.vehicles(),
            Coll::Orgs | Coll::Roles => g.orgs(),
        }
    }

    const ALL: [Coll; 7] = [
        Coll::Contacts,
        Coll::Addresses,
        Coll::Documents,
        Coll::Vehicles,
        Coll::Kids,
        Coll::Orgs,
        Coll::Roles,
    ];
}

/// The items of a collection the token may see: `(id, full object)`.
async fn items(
    state: &AppState,
    user: &User,
    coll: Coll,
    g: Grants<'_>,
) -> Result<Vec<(String, serde_json::Map<String, Value>)>, StoreError> {
    use crate::store::profile as store;
    let db = &state.db;
    Ok(match coll {
        Coll::Contacts => crate::domain::profile::contacts::list(state, user)
            .await?
            .iter()
            .filter(|c| g.contact_visible(c))
            .map(|c| (c.id.clone(), person::contact(c)))
            .collect(),
        Coll::Addresses => store::addresses(db, &user.id)
            .await?
            .iter()
            .map(|a| (a.id.clone(), person::address(a)))
            .collect(),
        Coll::Documents => documents::for_user(db, &user.id)
            .await?
            .iter()
            .filter(|d| person::document_listed(d) && g.document_visible(d.document.kind.as_str()))
            .map(|d| (d.id.clone(), person::document(d)))
            .collect(),
        Coll::Vehicles => store::vehicles(db, &user.id)
            .await?
            .iter()
            .map(|v| (v.id.clone(), person::vehicle(v)))
            .collect(),
        Coll::Kids => store::kids::list(db, &user.id)
            .await?
            .iter()
            .map(|k| (k.id.clone(), person::kid(k, g)))
            .collect(),
        Coll::Orgs => store::orgs::for_user(db, &user.id)
            .await?
            .iter()
            .map(|o| (o.oid.to_string(), person::organization(o)))
            .collect(),
        Coll::Roles => store::orgs::for_user(db, &user.id)
            .await?
            .iter()
            .map(|o| (o.oid.to_string(), person::role(o)))
            .collect(),
    })
}

/// A collection envelope: objects when `embed`, else URLs (roles are always objects).
async fn envelope(
    state: &AppState,
    user: &User,
    coll: Coll,
    g: Grants<'_>,
    embed: bool,
) -> Result<Value, StoreError> {
    let list = items(state, user, coll, g).await?;
    let base = state.issuer.trim_end_matches('/');
    let elements = list
        .into_iter()
        .map(|(id, obj)| {
            if embed || coll == Coll::Roles {
                person::tagged(obj)
            } else if coll == Coll::Orgs {
                Value::String(person::org_url(base, id.parse().unwrap_or_default()))
            } else {
                Value::String(person::element_url(base, &user.id, coll.segment(), &id))
            }
        })
        .collect();
    Ok(person::collection(elements))
}

async fn person_resource(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    match person_body(&state, &headers, &oid, &q).await {
        Ok(body) => answer(&headers, body),
        Err(r) => r.into_response(),
    }
}

async fn person_body(
    state: &AppState,
    headers: &HeaderMap,
    oid: &str,
    q: &EmbedQuery,
) -> Result<Value, Refusal> {
    let (access, user) = authorize(state, headers, oid).await?;
    let g = Grants(&access.scopes);
    let identity = crate::store::identity::of_user(&state.db, &user.id).await?;
    let docs: Vec<StoredDocument> = if g.has("id_doc") {
        documents::for_user(&state.db, &user.id).await?
    } else {
        Vec::new()
    };
    let view = PersonView {
        person: &user.person,
        citizenship: identity.as_ref().map(|i| i.person.citizenship.as_str()),
        verifying: identity
            .as_ref()
            .and_then(|i| i.verification_status.as_deref())
            == Some("verifying"),
        id_doc: person::id_doc(&docs).map(|d| d.id.as_str()),
    };
    let mut body = person::person(&view, g);
    let embedded = q
        .embed
        .as_deref()
        .map(person::parse_embed)
        .unwrap_or_default();
    for coll in Coll::ALL {
        let name = format!("{}.elements", coll.embed_name());
        // Only what the token may read: an ungranted sub-collection is left out.
        if embedded.contains(&name) && coll.granted(g) {
            let sub = envelope(state, &user, coll, g, true).await?;
            body.insert(coll.embed_name().into(), sub);
        }
    }
    Ok(person::tagged(body))
}

async fn collection_resource(
    State(state): State<AppState>,
    Path((oid, collection)): Path<(String, String)>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let coll = Coll::parse(&collection).ok_or_else(Refusal::not_found)?;
        let (access, user) = authorize(&state, &headers, &oid).await?;
        let g = Grants(&access.scopes);
        if !coll.granted(g) {
            return Err(Refusal::no_scope());
        }
        Ok(envelope(&state, &user, coll, g, wants_elements(&q)).await?)
    }
    .await;
    match result {
        Ok(body) => answer(&headers, body),
        Err(r) => r.into_response(),
    }
}

async fn element_resource(
    State(state): State<AppState>,
    Path((oid, collection, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let coll = Coll::parse(&collection)
            .filter(|c| !matches!(c, Coll::Orgs | Coll::Roles))
            .ok_or_else(Refusal::not_found)?;
        let (access, user) = authorize(&state, &headers, &oid).await?;
        let g = Grants(&access.scopes);
        if !coll.granted(g) {
            return Err(Refusal::no_scope());
        }
        let found = items(&state, &user, coll, g)
            .await?
            .into_iter()
            .find(|(item, _)| *item == id)
            .ok_or_else(Refusal::not_found)?;
        Ok(person::tagged(found.1))
    }
    .await;
    match result {
        Ok(body) => answer(&headers, body),
        Err(r) => r.into_response(),
    }
}

/// An organisation the token's person acts for (`usr_org`); others are 404.
async fn org_resource(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let token = extract::bearer(&headers).ok_or_else(Refusal::unauthorized)?;
        let access = verify_access(&state, token).await.map_err(|e| match e {
            AccessError::Invalid => Refusal::unauthorized(),
            AccessError::Unavailable => Refusal::unavailable(),
        })?;
        if !Grants(&access.scopes).orgs() {
            return Err(Refusal::no_scope());
        }
        let found = crate::store::profile::orgs::for_user(&state.db, &access.oid)
            .await?
            .into_iter()
            .find(|o| o.oid.to_string() == org)
            .ok_or_else(Refusal::not_found)?;
        Ok(person::tagged(person::organization(&found)))
    }
    .await;
    match result {
        Ok(body) => answer(&headers, body),
        Err(r) => r.into_response(),
    }
}
