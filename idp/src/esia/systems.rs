//! ESIA client systems ("ИС"): an ordinary client whose `client_id` is the system's mnemonic,
//! plus the certificates its `client_secret` is signed with (one or more, for rotation) and
//! the algorithm its ESIA tokens are signed with. Registered by `idp clients create
//! --esia-certificate FILE`, `idp clients esia-certificate add|remove` and
//! `/api/admin/clients/{id}/esia-certificates` (docs/esia-compat.md, "Registering a client
//! system").

use der::Decode;
use der::asn1::ObjectIdentifier;
use x509_cert::Certificate;

use crate::app::AppState;
use crate::store::esia_systems::{self as store, EsiaCertificate};
use crate::store::{StoreError, clients};

use super::certificate::{self, OID_GOST2001, OID_GOST2012_256};

/// The default token algorithm.
pub const RS256: &str = "RS256";
/// GOST R 34.10-2012 (256) token signatures, as ESIA names them in the JWT header.
pub const GOST: &str = "GOST3410_2012_256";

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// Why a registration is refused (the message is for the administrator, in Russian).
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("нет клиента {0}")]
    NoClient(String),
    #[error("сертификат не читается (ожидается X.509 в DER или PEM)")]
    Unreadable,
    #[error("ключ сертификата не поддерживается (нужен ГОСТ Р 34.10-2012 256, RSA или EC)")]
    UnsupportedKey,
    #[error("срок действия сертификата истёк")]
    Expired,
    #[error("этот сертификат уже зарегистрирован для системы")]
    Duplicate,
    #[error("неизвестный алгоритм подписи токенов {0} (RS256 или GOST3410_2012_256)")]
    BadTokenAlg(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SystemError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => SystemError::Duplicate,
            other => SystemError::Store(other),
        }
    }
}

/// A certificate read from a file or a request, not yet stored.
#[derive(Clone, Debug)]
pub struct ParsedCertificate {
    pub der: Vec<u8>,
    pub hash: String,
    pub kind: &'static str,
    pub subject: String,
    pub not_after: i64,
}

/// Reads a certificate (DER, PEM, or the base64 of a DER) and refuses unreadable, unsupported
/// or expired ones (`now` in Unix seconds).
pub fn parse_certificate(input: &[u8], now: i64) -> Result<ParsedCertificate, SystemError> {
    let der = decode(input).ok_or(SystemError::Unreadable)?;
    let cert = Certificate::from_der(&der).map_err(|_| SystemError::Unreadable)?;
    let tbs = cert.tbs_certificate();
    let oid = tbs.subject_public_key_info().algorithm.oid;
    let kind = if oid == OID_GOST2012_256 || oid == OID_GOST2001 {
        certificate::public_key(&cert).map_err(|_| SystemError::UnsupportedKey)?;
        "gost"
    } else if oid == OID_RSA {
        "rsa"
    } else if oid == OID_EC {
        "ec"
    } else {
        return Err(SystemError::UnsupportedKey);
    };
    let not_after = tbs.validity().not_after.to_unix_duration().as_secs() as i64;
    if not_after < now {
        return Err(SystemError::Expired);
    }
    Ok(ParsedCertificate {
        hash: certificate::certificate_hash(&der),
        der,
        kind,
        subject: tbs.subject().to_string(),
        not_after,
    })
}

/// DER as is; PEM `CERTIFICATE`; or bare (standard or URL-safe) base64 of a DER.
fn decode(input: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    if input.first() == Some(&0x30) {
        return Some(input.to_vec());
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    let body = match text.find("-----BEGIN CERTIFICATE-----") {
        Some(at) => {
            let rest = &text[at + "-----BEGIN CERTIFICATE-----".len()..];
            &rest[..rest.find("-----END CERTIFICATE-----")?]
        }
        None => text,
    };
    let clean: String = body
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_end_matches('='))
        })
        .ok()
}

/// Registers a certificate for an existing client; the system gets ESIA settings (RS256
/// tokens) if it had none.
pub async fn add_certificate(
    state: &AppState,
    client_id: &str,
    input: &[u8],
) -> Result<EsiaCertificate, SystemError> {
    let now = state.clock.now();
    let parsed = parse_certificate(input, now)?;
    if clients::by_id(&state.db, client_id).await?.is_none() {
        return Err(SystemError::NoClient(client_id.to_owned()));
    }
    let cert = EsiaCertificate {
        client_id: client_id.to_owned(),
        id: parsed.hash[..16].to_ascii_lowercase(),
        der: parsed.der,
        hash: parsed.hash,
        kind: parsed.kind.to_owned(),
        subject: parsed.subject,
        not_after: parsed.not_after,
        added_at: now,
    };
    store::add_certificate(&state.db, &cert).await?;
    if store::token_alg(&state.db, client_id).await?.is_none() {
        store::set_token_alg(&state.db, client_id, RS256, now).await?;
    }
    Ok(cert)
}

/// Removes a certificate by id or hash; whether one was removed.
pub async fn remove_certificate(
    state: &AppState,
    client_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    store::remove_certificate(&state.db, client_id, id).await
}

/// The system's registered certificates, oldest first.
pub async fn certificates(
    state: &AppState,
    client_id: &str,
) -> Result<Vec<EsiaCertificate>, StoreError> {
    store::certificates(&state.db, client_id).await
}

/// The canonical spelling of a token algorithm, if known (`RS256`, `GOST3410_2012_256`).
pub fn parse_token_alg(alg: &str) -> Option<&'static str> {
    match alg.trim() {
        a if a.eq_ignore_ascii_case(RS256) => Some(RS256),
        a if a.eq_ignore_ascii_case(GOST) || a.eq_ignore_ascii_case("GOST") => Some(GOST),
        _ => None,
    }
}

/// Sets the algorithm the system's ESIA tokens are signed with.
pub async fn set_token_alg(
    state: &AppState,
    client_id: &str,
    alg: &str,
) -> Result<(), SystemError> {
    let alg = parse_token_alg(alg).ok_or_else(|| SystemError::BadTokenAlg(alg.to_owned()))?;
    if clients::by_id(&state.db, client_id).await?.is_none() {
        return Err(SystemError::NoClient(client_id.to_owned()));
    }
    store::set_token_alg(&state.db, client_id, alg, state.clock.now()).await?;
    Ok(())
}

/// The algorithm the system's ESIA tokens are signed with: `RS256` (the default, also for a
/// client without ESIA settings) or `GOST3410_2012_256`.
pub async fn token_alg(state: &AppState, client_id: &str) -> Result<String, StoreError> {
    Ok(store::token_alg(&state.db, client_id)
        .await?
        .unwrap_or_else(|| RS256.to_owned()))
}
