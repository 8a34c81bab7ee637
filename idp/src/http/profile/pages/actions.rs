//! The POST of each profile page: the `action` field names the change.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::{PendingContact, ProfileSection as S};

use super::{Extra, Visit, finish, no_store, refused, render, submitted, text};
use crate::app::AppState;
use crate::domain::profile::contacts::{self, EmailProof};
use crate::domain::profile::kids::{self, UnverifiedKid};
use crate::domain::profile::orgs::{self, UnverifiedOrg};
use crate::domain::profile::sections::{self, UnverifiedAddress, UnverifiedVehicle};
use crate::domain::profile::{ProfileError, deletion};
use crate::http::cookies;

pub(super) async fn contacts_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Contacts).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let (user, value) = (&v.user, text(&f.value));
    match f.action.as_str() {
        "mobile" => match contacts::request_mobile(&state, user, value).await {
            Ok(phone) => {
                let extra = Extra {
                    pending: Some(PendingContact::Mobile(&phone)),
                    ..Extra::default()
                };
                render(&state, &v, S::Contacts, extra, StatusCode::OK).await
            }
            Err(e) => refused(&state, &v, S::Contacts, e, Extra::default()).await,
        },
        "email" => {
            let proof = if f.method.as_deref() == Some("link") {
                EmailProof::Link
            } else {
                EmailProof::Code
            };
            match contacts::request_email(&state, user, value, proof).await {
                Ok(email) => {
                    let pending = match proof {
                        EmailProof::Code => PendingContact::EmailCode(&email),
                        EmailProof::Link => PendingContact::EmailLink(&email),
                    };
                    let extra = Extra {
                        pending: Some(pending),
                        ..Extra::default()
                    };
                    render(&state, &v, S::Contacts, extra, StatusCode::OK).await
                }
                Err(e) => refused(&state, &v, S::Contacts, e, Extra::default()).await,
            }
        }
        "mobile_confirm" => {
            let r = contacts::confirm_mobile(&state, user, text(&f.code)).await;
            finish(&state, &v, S::Contacts, r, "confirmed").await
        }
        "email_confirm" => {
            let r = contacts::confirm_email(&state, user, text(&f.code)).await;
            finish(&state, &v, S::Contacts, r, "confirmed").await
        }
        "add" => {
            let r = contacts::add(&state, user, text(&f.kind), value).await;
            finish(&state, &v, S::Contacts, r, "saved").await
        }
        "remove" => {
            let r = contacts::remove(&state, user, text(&f.id)).await;
            finish(&state, &v, S::Contacts, r, "removed").await
        }
        _ => bad_action(&state, &v, S::Contacts).await,
    }
}

async fn bad_action(state: &AppState, v: &Visit, section: S) -> Response {
    let e = ProfileError::invalid("action", "Неизвестное действие.", "Unknown action.");
    refused(state, v, section, e, Extra::default()).await
}

pub(super) async fn addresses_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Addresses).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let kind = text(&f.kind);
    match f.action.as_str() {
        "save" => {
            let input = UnverifiedAddress {
                zip_code: f.zip_code.clone(),
                region: f.region.clone(),
                city: f.city.clone(),
                street: f.street.clone(),
                house: f.house.clone(),
                flat: f.flat.clone(),
                fias_code: f.fias_code.clone(),
            };
            let r = sections::put_address(&state, &v.user, kind, &input).await;
            finish(&state, &v, S::Addresses, r, "saved").await
        }
        "remove" => {
            let r = sections::remove_address(&state, &v.user, kind).await;
            finish(&state, &v, S::Addresses, r, "removed").await
        }
        _ => bad_action(&state, &v, S::Addresses).await,
    }
}

pub(super) async fn vehicles_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Vehicles).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match f.action.as_str() {
        "add" => {
            let input = UnverifiedVehicle {
                name: f.name.clone(),
                number_plate: f.number_plate.clone(),
                reg_series: f.reg_series.clone(),
                reg_number: f.reg_number.clone(),
            };
            let r = sections::add_vehicle(&state, &v.user, &input).await;
            finish(&state, &v, S::Vehicles, r, "saved").await
        }
        "remove" => {
            let r = sections::remove_vehicle(&state, &v.user, text(&f.id)).await;
            finish(&state, &v, S::Vehicles, r, "removed").await
        }
        _ => bad_action(&state, &v, S::Vehicles).await,
    }
}

pub(super) async fn kids_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Kids).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match f.action.as_str() {
        "record" => {
            let input = UnverifiedKid {
                surname: f.surname.clone(),
                given_name: f.given_name.clone(),
                middle_name: f.middle_name.clone(),
                birthdate: f.birthdate.clone(),
                gender: f.gender.clone(),
                snils: f.snils.clone(),
                inn: f.inn.clone(),
            };
            let r = kids::add_record(&state, &v.user, &input).await;
            finish(&state, &v, S::Kids, r, "saved").await
        }
        "remove" => {
            let r = kids::remove(&state, &v.user, text(&f.id)).await;
            finish(&state, &v, S::Kids, r, "removed").await
        }
        "link_code" => match kids::link_code(&state, &v.user).await {
            Ok(code) => {
                let extra = Extra {
                    link_code: Some(code.code),
                    ..Extra::default()
                };
                render(&state, &v, S::Kids, extra, StatusCode::OK).await
            }
            Err(e) => refused(&state, &v, S::Kids, e, Extra::default()).await,
        },
        "link" => {
            let r = kids::link(&state, &v.user, text(&f.code)).await;
            finish(&state, &v, S::Kids, r, "linked").await
        }
        _ => bad_action(&state, &v, S::Kids).await,
    }
}

pub(super) async fn orgs_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Orgs).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match f.action.as_str() {
        "register" => {
            let input = UnverifiedOrg {
                ogrn: f.ogrn.clone(),
                inn: f.inn.clone(),
                full_name: f.full_name.clone(),
                short_name: f.short_name.clone(),
                role: f.role.clone(),
            };
            let r = orgs::register(&state, &v.user, &input).await;
            finish(&state, &v, S::Orgs, r, "saved").await
        }
        "leave" => {
            let r = match text(&f.oid).parse::<i64>() {
                Ok(oid) => orgs::leave(&state, &v.user, oid).await,
                Err(_) => Err(ProfileError::NotFound),
            };
            finish(&state, &v, S::Orgs, r, "removed").await
        }
        _ => bad_action(&state, &v, S::Orgs).await,
    }
}

pub(super) async fn delete_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, f) = match submitted(&state, &headers, &body, S::Delete).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match deletion::delete_account(&state, &v.user, text(&f.password), Some(peer.ip())).await {
        Ok(()) => {
            let html = consent_ui::render_profile_deleted(v.lang);
            let mut resp = no_store(Html(html).into_response());
            resp.headers_mut()
                .append(header::SET_COOKIE, cookies::clear(&state, cookies::SESSION));
            resp
        }
        Err(e) => refused(&state, &v, S::Delete, e, Extra::default()).await,
    }
}
