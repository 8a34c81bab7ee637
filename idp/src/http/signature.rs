//! Login by electronic signature: `GET /login/signature?tx=…` shows a one-time challenge;
//! `POST /login/signature` takes the CMS detached signature (pasted base64/PEM, or an
//! uploaded file), verifies it (`domain::signature`), opens the session with
//! `amr = ["ds"]` and continues the authorization flow.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::Lang;
use serde::Deserialize;

use super::errors::PageError;
use super::session_start::{load_tx, load_tx_and_lang};
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::mfa;
use crate::domain::signature::{self, SignatureError, SignatureLoginError};
use crate::store::events;

#[derive(Deserialize)]
pub struct PageQuery {
    tx: Option<String>,
    lang: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Result<Response, PageError> {
    let (tx, lang) = load_tx_and_lang(
        &state,
        &headers,
        q.tx.as_deref().unwrap_or(""),
        q.lang.as_deref(),
    )
    .await?;
    render(&state, &headers, &tx, lang, None, StatusCode::OK).await
}

/// The posted form, from `application/x-www-form-urlencoded` or `multipart/form-data`.
#[derive(Default)]
struct SignatureForm {
    tx: String,
    csrf: String,
    challenge: String,
    signature: Vec<u8>,
    lang: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form =
        parse(&headers, &body).ok_or_else(|| PageError::bad_request(fallback, "bad_request"))?;
    let mut tx = load_tx(&state, &headers, &form.tx, form.lang.as_deref()).await?;
    let lang = extract::lang(
        &headers,
        form.lang.as_deref(),
        tx.request.ui_locales.as_deref(),
    );
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let msg = consent_ui::message("csrf_failed", lang);
        return render(
            &state,
            &headers,
            &tx,
            lang,
            Some(msg),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let refuse = |e: SignatureError| (e.ru(), StatusCode::UNAUTHORIZED);
    let outcome = if !signature::take_challenge(&state, &form.challenge, &tx.id).await? {
        Err(refuse(SignatureError::ChallengeExpired))
    } else if form.signature.is_empty() {
        Err(refuse(SignatureError::Malformed))
    } else {
        match signature::authenticate(&state, &form.signature, &form.challenge).await {
            Ok(found) => Ok(found),
            Err(SignatureLoginError::Refused(e)) => {
                tracing::info!(reason = e.code(), "signature login refused");
                Err(refuse(e))
            }
            Err(SignatureLoginError::Store(e)) => return Err(PageError::from(e)),
            Err(SignatureLoginError::Cache(e)) => return Err(PageError::from(e)),
        }
    };
    let (user, signer) = match outcome {
        Ok(found) => found,
        Err((msg, status)) => {
            second_step_refused(&state, &headers, peer, &tx.id).await?;
            return render(&state, &headers, &tx, lang, Some(msg), status).await;
        }
    };
    let detail = serde_json::json!({ "certificate_serial": signer.serial, "key": signer.key });
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Вход по электронной подписи",
            detail: Some(&detail),
            source: "signature",
        },
        state.clock.now(),
    )
    .await?;
    // A pending two-step login (or step-up) of the same person in this browser: the
    // signature is its second factor. Anyone else's signature is a login of its own.
    let browser = cookies::read(&headers, cookies::CSRF);
    let pending = mfa::pending_for_tx(&state, &tx.id, browser.as_deref())
        .await?
        .filter(|(_, p)| p.user_id == user.id);
    let (amr, persistent) = match pending {
        Some((id, p)) => {
            mfa::drop_pending(&state, &id).await?;
            (mfa::combined_amr_with(&p.amr, signature::AMR), p.persistent)
        }
        None => (vec![signature::AMR.to_string()], true),
    };
    super::strong_auth::complete_login(
        &state, &headers, peer, &mut tx, &user, &amr, persistent, lang,
    )
    .await
}

/// A refused signature on the page of a transaction whose two-step login (or step-up) waits
/// in this browser is that login's failed second factor: counted and in the login history.
/// Otherwise it was a first step and is only counted.
async fn second_step_refused(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    tx: &str,
) -> Result<(), PageError> {
    let browser = cookies::read(headers, cookies::CSRF);
    if let Some((_, pending)) = mfa::pending_for_tx(state, tx, browser.as_deref()).await? {
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let ip = peer.ip().to_string();
        let reason = "signature_refused";
        mfa::second_factor_failed(
            state,
            &pending,
            signature::AMR,
            reason,
            user_agent,
            Some(&ip),
        )
        .await;
    } else {
        // A first-step signature names no account when it is refused: metrics only.
        state.metrics.login(signature::AMR, "signature_refused");
    }
    Ok(())
}

fn parse(headers: &HeaderMap, body: &[u8]) -> Option<SignatureForm> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut form = SignatureForm::default();
    let mut file = Vec::new();
    let mut set = |name: &str, value: &[u8]| match name {
        "tx" => form.tx = String::from_utf8_lossy(value).into_owned(),
        "csrf" => form.csrf = String::from_utf8_lossy(value).into_owned(),
        "challenge" => form.challenge = String::from_utf8_lossy(value).into_owned(),
        "lang" => form.lang = Some(String::from_utf8_lossy(value).into_owned()),
        "signature" => form.signature = trim(value).to_vec(),
        "signature_file" => file = value.to_vec(),
        _ => {}
    };
    if let Some(boundary) = ctype.strip_prefix("multipart/form-data").and_then(|rest| {
        rest.split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
    }) {
        for (name, value) in multipart(body, boundary.trim_matches('"'))? {
            set(&name, value);
        }
    } else {
        for (name, value) in url::form_urlencoded::parse(body) {
            set(&name, value.as_bytes());
        }
    }
    if form.signature.is_empty() {
        form.signature = trim(&file).to_vec();
    }
    Some(form)
}

fn trim(bytes: &[u8]) -> &[u8] {
    // DER is binary: trim only text (base64/PEM) input.
    if bytes.first() == Some(&0x30) {
        return bytes;
    }
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// The parts of a `multipart/form-data` body as (field name, content).
fn multipart<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<(String, &'a [u8])>> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let first = find(rest, delim)?;
    rest = &rest[first + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let next = find(content, &[b"\r\n", delim].concat())?;
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|l| l.split(';').find_map(|p| p.trim().strip_prefix("name=")))
            .map(|n| n.trim_matches('"').to_string())?;
        parts.push((name, &content[..next]));
        rest = &content[next + 2 + delim.len()..];
        if parts.len() > 16 {
            return None;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The page with a fresh challenge (every showing spends the previous one's chance).
async fn render(
    state: &AppState,
    headers: &HeaderMap,
    tx: &AuthTx,
    lang: Lang,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let challenge = signature::issue_challenge(state, &tx.id).await?;
    let client = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await
        .ok()
        .flatten();
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!("/login/signature?tx={}&lang={}", tx.id, lang.other().code());
    let html = consent_ui::render_login_signature(&consent_ui::SignaturePage {
        lang,
        tx: &tx.id,
        csrf: &csrf,
        client_name: client.as_ref().map(|c| c.name.as_str()),
        challenge: &challenge,
        error,
        other_lang_url: &other,
    });
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_file_are_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"tx\"\r\n\r\nt1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"signature_file\"; filename=\"s.p7s\"\r\nContent-Type: application/octet-stream\r\n\r\n0\x82\x01\r\n--XyZ--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let form = parse(&headers, body).expect("parsed");
        assert_eq!(form.tx, "t1");
        assert_eq!(form.signature, b"0\x82\x01");
    }
}
