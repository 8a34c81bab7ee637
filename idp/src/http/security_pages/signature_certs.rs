//! `/profile/security/signature`: the electronic-signature certificates the person logged in
//! with (recorded at each successful signature login, `store::signature_certs`), and a link
//! to the signature login page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_ui::CertificateRow;

use super::{Extra, PageQuery, frame, html, notice};
use crate::app::AppState;
use crate::http::errors::PageError;
use crate::http::extract;
use crate::http::profile::visit;
use crate::store::{StoreError, signature_certs};

/// Whether the person has logged in by electronic signature (so can prefer it).
pub(super) async fn has_certificates(state: &AppState, user_id: &str) -> Result<bool, StoreError> {
    signature_certs::any_for_user(&state.db, user_id).await
}

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let certs = match signature_certs::for_user(&state.db, &v.user.id).await {
        Ok(c) => c,
        Err(e) => return PageError::from(e).into_response(),
    };
    let rows: Vec<CertificateRow> = certs
        .into_iter()
        .map(|c| CertificateRow {
            subject: c.subject,
            issuer: c.issuer,
            serial: c.serial,
            valid_from: consent_ui::format_utc(c.not_before),
            valid_to: consent_ui::format_utc(c.not_after),
            last_used: consent_ui::format_utc(c.last_used_at),
        })
        .collect();
    let extra = Extra {
        notice: notice(q.done.as_deref(), v.lang),
        ..Extra::default()
    };
    let name = v.user.person.full_name();
    let body = consent_ui::render_security_signature(&frame(&v, &name, &extra), &rows);
    html(&v, body, StatusCode::OK)
}
