//! The identity pages of the personal account (forms for browsers without JavaScript; the
//! same domain functions as the JSON API in `http/identity.rs`): `GET|POST /profile/identity`
//! shows the level, the state of the checks and the documents, and sends passport and person
//! data for checking; `GET|POST /profile/identity/letter` orders a registered letter with a
//! confirmation code (`action=order`) and checks the code (`action=confirm`). A change that
//! succeeds redirects back with a notice; a refusal shows the page again with the domain's
//! Russian message and the data as typed.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use consent_ui::{IdentityDocumentRow, IdentityFormValues, IdentityPage, Lang, LetterRow};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::documents::UnverifiedDocument;
use crate::domain::verification::confirm::{self, ConfirmError};
use crate::domain::verification::submission::UnverifiedIdentity;
use crate::domain::verification::{self, VerificationError};
use crate::http::errors::PageError;
use crate::http::{cookies, extract};
use crate::store::{documents, identity, letters};

use super::pages::{Visit, no_store, visit};

const IDENTITY: &str = "/profile/identity";
const LETTER: &str = "/profile/identity/letter";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(IDENTITY, get(identity_page).post(identity_post))
        .route(LETTER, get(letter_page).post(letter_post))
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    done: Option<String>,
}

/// Every field the two pages post.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Form {
    csrf: String,
    lang: Option<String>,
    action: String,
    series: String,
    number: String,
    issue_date: String,
    issued_by: String,
    issuer_code: String,
    birthdate: String,
    birthplace: String,
    gender: String,
    citizenship: String,
    snils: String,
    inn: String,
    address: String,
    code: String,
}

impl Form {
    fn values(&self) -> IdentityFormValues {
        IdentityFormValues {
            series: self.series.clone(),
            number: self.number.clone(),
            issue_date: self.issue_date.clone(),
            issued_by: self.issued_by.clone(),
            issuer_code: self.issuer_code.clone(),
            birthdate: self.birthdate.clone(),
            birthplace: self.birthplace.clone(),
            gender: self.gender.clone(),
            citizenship: self.citizenship.clone(),
            snils: self.snils.clone(),
            inn: self.inn.clone(),
        }
    }

    /// What the API's `POST /api/identity` takes, from the form.
    fn identity(&self) -> UnverifiedIdentity {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        UnverifiedIdentity {
            birthdate: opt(&self.birthdate),
            birthplace: opt(&self.birthplace),
            gender: opt(&self.gender),
            citizenship: opt(&self.citizenship),
            snils: opt(&self.snils),
            inn: opt(&self.inn),
            passport: Some(UnverifiedDocument {
                // The kind follows the citizenship (RF passport for RUS), as in the API.
                kind: None,
                series: opt(&self.series),
                number: opt(&self.number),
                issue_date: opt(&self.issue_date),
                issued_by: opt(&self.issued_by),
                issuer_code: opt(&self.issuer_code),
                expiry_date: None,
            }),
            ..UnverifiedIdentity::default()
        }
    }
}

/// What a page shows besides the stored data.
#[derive(Default)]
struct Extra {
    errors: Vec<String>,
    notice: Option<&'static str>,
    form: IdentityFormValues,
}

async fn render(
    state: &AppState,
    v: &Visit,
    letter: bool,
    extra: Extra,
    status: StatusCode,
) -> Response {
    match render_page(state, v, letter, extra, status).await {
        Ok(r) => r,
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn render_page(
    state: &AppState,
    v: &Visit,
    letter: bool,
    extra: Extra,
    status: StatusCode,
) -> Result<Response, crate::store::StoreError> {
    let account = identity::of_user(&state.db, &v.user.id).await?;
    let level = account.as_ref().map_or(v.user.level, |a| a.level).as_str();
    let verification_status = account
        .as_ref()
        .and_then(|a| a.verification_status.clone())
        .unwrap_or_default();
    let docs: Vec<IdentityDocumentRow> = documents::for_user(&state.db, &v.user.id)
        .await?
        .into_iter()
        .map(|d| IdentityDocumentRow {
            kind: d.document.kind.as_str().to_string(),
            number: match &d.document.series {
                Some(s) => format!("{s} {}", d.document.number),
                None => d.document.number.clone(),
            },
            issued: d.document.issue_date.map(|x| x.iso()).unwrap_or_default(),
            state: d.verification,
        })
        .collect();
    let letter_rows: Vec<LetterRow> = if letter {
        letters::for_user(&state.db, &v.user.id)
            .await?
            .into_iter()
            .map(|l| LetterRow {
                address: l.address,
                status: l.status,
                expires: consent_ui::format_utc(l.expires_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let name = v.user.person.full_name();
    let html = consent_ui::render_identity_page(&IdentityPage {
        lang: v.lang,
        letter,
        csrf: &v.csrf,
        user_display_name: &name,
        level,
        verification_status: &verification_status,
        documents: &docs,
        letters: &letter_rows,
        form: &extra.form,
        errors: &extra.errors,
        notice: extra.notice,
    });
    let mut resp = no_store((status, Html(html)).into_response());
    if let Some(c) = &v.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    Ok(resp)
}

async fn show(state: &AppState, headers: &HeaderMap, q: PageQuery, letter: bool) -> Response {
    let v = match visit(state, headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let extra = Extra {
        notice: q.done.as_deref().and_then(|d| notice(d, v.lang)),
        ..Extra::default()
    };
    render(state, &v, letter, extra, StatusCode::OK).await
}

async fn identity_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    show(&state, &headers, q, false).await
}

async fn letter_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    show(&state, &headers, q, true).await
}

/// Parses the form and checks its CSRF token; a refusal is a page.
async fn submitted(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    letter: bool,
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
        return Err(render(state, &v, letter, extra, StatusCode::FORBIDDEN).await);
    }
    Ok((v, form))
}

async fn identity_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, form) = match submitted(&state, &headers, &body, false).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match verification::submit(&state, &v.user, &form.identity()).await {
        Ok(_) => done(IDENTITY, v.lang, "submitted"),
        Err(VerificationError::Store(e)) => PageError::from(e).into_response(),
        Err(e) => {
            let (status, errors) = match &e {
                VerificationError::Invalid(problems) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    problems.iter().map(|p| p.ru.to_string()).collect(),
                ),
                _ => (StatusCode::CONFLICT, vec![e.ru()]),
            };
            let extra = Extra {
                errors,
                form: form.values(),
                ..Extra::default()
            };
            render(&state, &v, false, extra, status).await
        }
    }
}

async fn letter_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, form) = match submitted(&state, &headers, &body, true).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let outcome = match form.action.as_str() {
        "order" => confirm::request_letter(&state, &v.user.id, &form.address)
            .await
            .map(|_| "ordered"),
        "confirm" => confirm::confirm_code(&state, &v.user.id, &form.code)
            .await
            .map(|_| "confirmed"),
        _ => {
            return PageError::bad_request(v.lang, "bad_request").into_response();
        }
    };
    match outcome {
        Ok(what) => done(LETTER, v.lang, what),
        Err(ConfirmError::Store(e)) => PageError::from(e).into_response(),
        Err(e) => {
            let status = match e {
                ConfirmError::BadAddress => StatusCode::UNPROCESSABLE_ENTITY,
                ConfirmError::TooMany => StatusCode::TOO_MANY_REQUESTS,
                ConfirmError::WrongCode { .. }
                | ConfirmError::Expired
                | ConfirmError::Spent
                | ConfirmError::NoLetter => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            let extra = Extra {
                errors: vec![e.ru()],
                ..Extra::default()
            };
            render(&state, &v, true, extra, status).await
        }
    }
}

/// Post/redirect/get: back to the page with a notice.
fn done(path: &str, lang: Lang, what: &str) -> Response {
    Redirect::to(&format!("{path}?lang={}&done={what}", lang.code())).into_response()
}

fn notice(done: &str, lang: Lang) -> Option<&'static str> {
    let en = lang == Lang::En;
    Some(match done {
        "submitted" if en => {
            "The data were sent to the state registries for checking. The result will come by e-mail."
        }
        "submitted" => {
            "Данные отправлены на проверку в государственные реестры. Результат придёт по электронной почте."
        }
        "ordered" if en => {
            "A letter with a confirmation code will be sent by registered mail. The code is valid for 30 days."
        }
        "ordered" => {
            "Письмо с кодом подтверждения будет отправлено заказной почтой. Код действует 30 дней."
        }
        "confirmed" if en => "Identity confirmed: the account is now confirmed.",
        "confirmed" => "Личность подтверждена: учётная запись стала подтверждённой.",
        _ => return None,
    })
}
