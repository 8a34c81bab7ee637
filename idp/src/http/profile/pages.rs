//! The profile pages: `/profile` and one page per section, each a GET that shows it and a
//! POST whose `action` field names the change (see `consent_ui::profile` for the forms).
//! A change that succeeds redirects back to the page with a notice (post/redirect/get); a
//! refusal shows the page again with the Russian (or English) message.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use consent_ui::{Lang, PendingContact, ProfileBody, ProfileFrame, ProfileSection as S};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::login;
use crate::domain::profile::{self, ProfileError};
use crate::http::errors::PageError;
use crate::http::{cookies, extract};
use crate::protocol::acr::Level;
use crate::store::users::User;

mod actions;
mod email_link;
mod rows;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile", get(overview))
        .route(
            "/profile/contacts",
            get(contacts_page).post(actions::contacts_post),
        )
        .route(
            "/profile/contacts/email-link",
            get(email_link::page).post(email_link::submit),
        )
        .route(
            "/profile/addresses",
            get(addresses_page).post(actions::addresses_post),
        )
        .route(
            "/profile/vehicles",
            get(vehicles_page).post(actions::vehicles_post),
        )
        .route("/profile/kids", get(kids_page).post(actions::kids_post))
        .route("/profile/orgs", get(orgs_page).post(actions::orgs_post))
        .route("/profile/security", get(security_hub))
        .route(
            "/profile/delete",
            get(delete_page).post(actions::delete_post),
        )
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    done: Option<String>,
}

/// Every field any profile form posts; each action reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Form {
    csrf: String,
    lang: Option<String>,
    action: String,
    id: Option<String>,
    value: Option<String>,
    code: Option<String>,
    method: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    password: Option<String>,
    // addresses
    zip_code: Option<String>,
    region: Option<String>,
    city: Option<String>,
    street: Option<String>,
    house: Option<String>,
    flat: Option<String>,
    fias_code: Option<String>,
    // vehicles
    name: Option<String>,
    number_plate: Option<String>,
    reg_series: Option<String>,
    reg_number: Option<String>,
    // kids
    surname: Option<String>,
    given_name: Option<String>,
    middle_name: Option<String>,
    birthdate: Option<String>,
    gender: Option<String>,
    snils: Option<String>,
    inn: Option<String>,
    // organisations
    ogrn: Option<String>,
    full_name: Option<String>,
    short_name: Option<String>,
    role: Option<String>,
    oid: Option<String>,
    // e-mail link
    u: Option<String>,
    token: Option<String>,
}

/// The signed-in person and the page's language and CSRF token.
pub(crate) struct Visit {
    pub(crate) lang: Lang,
    pub(crate) user: User,
    pub(crate) csrf: String,
    pub(crate) set_cookie: Option<HeaderValue>,
}

/// What a page shows besides its stored data.
#[derive(Default)]
struct Extra<'a> {
    errors: Vec<String>,
    notice: Option<String>,
    pending: Option<PendingContact<'a>>,
    link_code: Option<String>,
}

/// The signed-in person for a profile page, or the "log in first" page.
pub(crate) async fn visit(
    state: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<Visit, Response> {
    let lang = extract::lang(headers, lang, None);
    let cookie = cookies::read(headers, cookies::SESSION);
    let found = login::current(state, cookie.as_deref())
        .await
        .map_err(|e| PageError::from(e).into_response())?;
    let Some((_, user)) = found else {
        let html = consent_ui::render_profile_login_required(lang);
        return Err(no_store(
            (StatusCode::UNAUTHORIZED, Html(html)).into_response(),
        ));
    };
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    Ok(Visit {
        lang,
        user,
        csrf,
        set_cookie,
    })
}

/// GET /profile/security: links to each security setting.
async fn security_hub(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let html = consent_ui::render_security_hub(v.lang, &v.user.person.full_name());
    no_store(Html(html).into_response())
}

async fn show(state: &AppState, headers: &HeaderMap, q: PageQuery, section: S) -> Response {
    let v = match visit(state, headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let extra = Extra {
        notice: q
            .done
            .as_deref()
            .and_then(|d| notice(d, v.lang))
            .map(str::to_owned),
        ..Extra::default()
    };
    render(state, &v, section, extra, StatusCode::OK).await
}

/// Loads the section's data and renders it.
async fn render(
    state: &AppState,
    v: &Visit,
    section: S,
    extra: Extra<'_>,
    status: StatusCode,
) -> Response {
    let data = match profile::load(state, &v.user, profile::ALL).await {
        Ok(d) => d,
        Err(e) => return PageError::from(e).into_response(),
    };
    let history = if section == S::History {
        match super::history_of(state, &v.user).await {
            Ok(h) => h,
            Err(e) => return PageError::from(e).into_response(),
        }
    } else {
        Vec::new()
    };
    let rows = rows::Rows::of(&data, &history);
    let body = match section {
        S::Overview => ProfileBody::Overview {
            level: v.user.level.as_str(),
            counts: [
                data.contacts.len(),
                data.addresses.len(),
                data.vehicles.len(),
                data.kids.len(),
                data.orgs.len(),
            ],
        },
        S::Contacts => ProfileBody::Contacts {
            rows: &rows.contacts,
            pending: extra.pending,
        },
        S::Addresses => ProfileBody::Addresses {
            rows: &rows.addresses,
        },
        S::Vehicles => ProfileBody::Vehicles {
            rows: &rows.vehicles,
        },
        S::Kids => ProfileBody::Kids {
            rows: &rows.kids,
            link_code: extra.link_code.as_deref(),
        },
        S::Orgs => ProfileBody::Orgs {
            rows: &rows.orgs,
            can_register: v.user.level >= Level::Confirmed,
        },
        S::History => ProfileBody::History {
            rows: &rows.history,
        },
        S::Delete => ProfileBody::Delete,
    };
    let name = v.user.person.full_name();
    let frame = ProfileFrame {
        lang: v.lang,
        section,
        csrf: &v.csrf,
        user_display_name: &name,
        errors: &extra.errors,
        notice: extra.notice.as_deref(),
    };
    let html = consent_ui::render_profile(&frame, &body);
    let mut resp = no_store((status, Html(html)).into_response());
    if let Some(c) = &v.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp
}

/// Parses the form and checks its CSRF token; a refusal is a page.
async fn submitted(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    section: S,
) -> Result<(Visit, Form), Response> {
    let form: Form = extract::parse_form(body).map_err(|_| {
        PageError::bad_request(extract::lang(headers, None, None), "bad_request").into_response()
    })?;
    let v = visit(state, headers, form.lang.as_deref()).await?;
    if !cookies::csrf_ok(state, headers, &form.csrf) {
        let extra = Extra {
            errors: vec![consent_ui::message("csrf_failed", v.lang).to_string()],
            ..Extra::default()
        };
        return Err(render(state, &v, section, extra, StatusCode::FORBIDDEN).await);
    }
    Ok((v, form))
}

/// After a change: back to the page with a notice, or the page again with the refusal.
async fn finish<T>(
    state: &AppState,
    v: &Visit,
    section: S,
    outcome: Result<T, ProfileError>,
    done: &str,
) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!(
            "{}?lang={}&done={done}",
            section.path(),
            v.lang.code()
        ))
        .into_response(),
        Err(e) => refused(state, v, section, e, Extra::default()).await,
    }
}

async fn refused(
    state: &AppState,
    v: &Visit,
    section: S,
    e: ProfileError,
    mut extra: Extra<'_>,
) -> Response {
    if let ProfileError::Store(s) = e {
        return PageError::from(s).into_response();
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    extra.errors.push(e.message(v.lang == Lang::En));
    render(state, v, section, extra, status).await
}

fn notice(done: &str, lang: Lang) -> Option<&'static str> {
    let en = lang == Lang::En;
    Some(match done {
        "saved" if en => "Changes saved.",
        "saved" => "Изменения сохранены.",
        "removed" if en => "The entry was removed.",
        "removed" => "Запись удалена.",
        "confirmed" if en => "The contact was confirmed and saved.",
        "confirmed" => "Контакт подтверждён и сохранён.",
        "linked" if en => "The account was linked to the parent's account.",
        "linked" => "Учётная запись привязана к учётной записи родителя.",
        _ => return None,
    })
}

pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

macro_rules! get_page {
    ($name:ident, $section:expr) => {
        async fn $name(
            State(state): State<AppState>,
            headers: HeaderMap,
            extract::PageParams(q): extract::PageParams<PageQuery>,
        ) -> Response {
            show(&state, &headers, q, $section).await
        }
    };
}

get_page!(overview, S::Overview);
get_page!(contacts_page, S::Contacts);
get_page!(addresses_page, S::Addresses);
get_page!(vehicles_page, S::Vehicles);
get_page!(kids_page, S::Kids);
get_page!(orgs_page, S::Orgs);
get_page!(delete_page, S::Delete);

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}
