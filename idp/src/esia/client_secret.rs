//! Verifying an ESIA `client_secret` (esia.md §4, `docs/esia-compat.md` "client_secret").
//!
//! Legacy `/aas/oauth2/ac` and `/te`: a CMS/PKCS#7 detached signature (DER, base64url padded or
//! not, or standard base64) over the UTF-8 signed string, by one of the system's registered
//! certificates: RSA or ECDSA P-256 with SHA-256, or GOST R 34.10-2012 (256) with Streebog-256.
//! v2 `/ac` and v3 `/te`: a raw 64-byte GOST R 34.10-2012 signature over the Streebog-256 digest
//! of the signed string (OpenSSL/BouncyCastle order, or CryptoPro's reversed one), by the
//! registered certificate named by `client_certificate_hash`.
//!
//! Outcomes: timestamp missing 007014, unreadable 007038, outside `[esia]
//! timestamp_window_secs` 007015; a certificate that is not the system's 007002; a signature
//! that does not verify (or cannot be read) 007053.

use base64::Engine;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::app::AppState;
use crate::store::esia_systems::EsiaCertificate;

use super::certificate::{self, OID_GOST2001, OID_GOST2012_256};
use super::errors::{EsiaCode, EsiaError};
use super::gost::{Signature, streebog256};
use super::systems;

/// Which form of `client_secret` a request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Legacy `/ac`, `/te`: CMS detached signature.
    Legacy,
    /// v2 `/ac`, v3 `/te`: raw GOST signature + `client_certificate_hash`.
    Current,
}

/// One `client_secret` to check.
#[derive(Clone, Debug)]
pub struct SecretCheck<'a> {
    pub flavour: Flavour,
    pub client_id: &'a str,
    /// Every signed string variant this request may have used (esia.md §4), in order.
    pub signed: Vec<String>,
    pub client_secret: &'a str,
    /// v2/v3 `client_certificate_hash`.
    pub certificate_hash: Option<&'a str>,
    pub timestamp: &'a str,
}

/// Checks the timestamp window and the signature; any `signed` variant verifying is enough.
pub async fn verify(state: &AppState, check: &SecretCheck<'_>) -> Result<(), EsiaError> {
    check_timestamp(
        check.timestamp,
        state.clock.now(),
        state.config.esia.timestamp_window_secs,
    )?;
    if check.client_secret.trim().is_empty() {
        return Err(EsiaError::with(EsiaCode::MissingParameter, "client_secret"));
    }
    let registered = systems::certificates(state, check.client_id)
        .await
        .map_err(|_| EsiaError::new(EsiaCode::Unavailable))?;
    verify_with(check, &registered)
}

/// The pure part of [`verify`] after the timestamp: the signature against the system's
/// registered certificates.
pub fn verify_with(
    check: &SecretCheck<'_>,
    registered: &[EsiaCertificate],
) -> Result<(), EsiaError> {
    if registered.is_empty() {
        return Err(EsiaError::with(
            EsiaCode::CertificateMismatch,
            "no certificate is registered for the system",
        ));
    }
    match check.flavour {
        Flavour::Current => verify_raw(check, registered),
        Flavour::Legacy => verify_cms(check, registered),
    }
}

/// The timestamp rule: missing 007014, unreadable 007038, outside the window 007015.
pub fn check_timestamp(timestamp: &str, now: i64, window: i64) -> Result<(), EsiaError> {
    if timestamp.trim().is_empty() {
        return Err(EsiaError::with(EsiaCode::MissingParameter, "timestamp"));
    }
    let at = parse_timestamp(timestamp)
        .ok_or_else(|| EsiaError::with(EsiaCode::Unreadable, "timestamp"))?;
    if (now - at).abs() > window {
        return Err(EsiaError::new(EsiaCode::WrongTime));
    }
    Ok(())
}

fn wrong_secret() -> EsiaError {
    EsiaError::new(EsiaCode::WrongSecret)
}

fn mismatch() -> EsiaError {
    EsiaError::new(EsiaCode::CertificateMismatch)
}

/// v2/v3: the certificate named by its hash, a raw GOST signature in either byte order.
fn verify_raw(check: &SecretCheck<'_>, registered: &[EsiaCertificate]) -> Result<(), EsiaError> {
    let hash = check
        .certificate_hash
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| EsiaError::with(EsiaCode::MissingParameter, "client_certificate_hash"))?;
    let cert = registered
        .iter()
        .find(|c| c.hash.eq_ignore_ascii_case(hash))
        .ok_or_else(mismatch)?;
    let key = Certificate::from_der(&cert.der)
        .ok()
        .and_then(|c| certificate::public_key(&c).ok())
        .ok_or_else(mismatch)?;
    let bytes = decode_base64(check.client_secret).ok_or_else(wrong_secret)?;
    let candidates: Vec<Signature> = [
        Signature::from_bytes(&bytes),
        Signature::from_reversed(&bytes),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .collect();
    if candidates.is_empty() {
        return Err(wrong_secret());
    }
    let ok = check.signed.iter().any(|text| {
        let digest = streebog256(text.as_bytes());
        candidates.iter().any(|s| key.verify_digest(&digest, s))
    });
    if ok { Ok(()) } else { Err(wrong_secret()) }
}

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_STREEBOG256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.2.2");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Legacy: a CMS detached signature by a registered certificate.
fn verify_cms(check: &SecretCheck<'_>, registered: &[EsiaCertificate]) -> Result<(), EsiaError> {
    let der = decode_base64(check.client_secret).ok_or_else(wrong_secret)?;
    let info = ContentInfo::from_der(&der).map_err(|_| wrong_secret())?;
    if info.content_type != OID_SIGNED_DATA {
        return Err(wrong_secret());
    }
    let sd: SignedData = info.content.decode_as().map_err(|_| wrong_secret())?;
    let si = sd.signer_infos.0.iter().next().ok_or_else(wrong_secret)?;
    let carried: Vec<&Certificate> = sd
        .certificates
        .as_ref()
        .map(|s| {
            s.0.iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let ours: Vec<(Vec<u8>, Certificate)> = registered
        .iter()
        .filter_map(|r| {
            Certificate::from_der(&r.der)
                .ok()
                .map(|c| (r.der.clone(), c))
        })
        .collect();
    // The signer: the certificate inside the CMS, which must be registered; else the
    // registered ones the signer identifier names; else all registered ones.
    let signers: Vec<&Certificate> = match carried.iter().find(|c| signer_matches(si, c)) {
        Some(inside) => {
            let inside_der = inside.to_der().map_err(|_| wrong_secret())?;
            let found = ours
                .iter()
                .find(|(d, _)| *d == inside_der)
                .ok_or_else(mismatch)?;
            vec![&found.1]
        }
        None => {
            let named: Vec<&Certificate> = ours
                .iter()
                .map(|(_, c)| c)
                .filter(|c| signer_matches(si, c))
                .collect();
            if named.is_empty() && !carried.is_empty() {
                // The CMS carries certificates but none is the signer's, and no registered one
                // is named: the signer is not the system.
                return Err(mismatch());
            }
            if named.is_empty() {
                ours.iter().map(|(_, c)| c).collect()
            } else {
                named
            }
        }
    };
    let ok = check.signed.iter().any(|text| {
        signers
            .iter()
            .any(|cert| signer_info_verifies(si, cert, text.as_bytes()))
    });
    if ok { Ok(()) } else { Err(wrong_secret()) }
}

/// Whether `si` is a valid signature by `cert` over `content` (detached).
fn signer_info_verifies(si: &SignerInfo, cert: &Certificate, content: &[u8]) -> bool {
    let digest: Vec<u8> = if si.digest_alg.oid == OID_SHA256 {
        ring::digest::digest(&ring::digest::SHA256, content)
            .as_ref()
            .to_vec()
    } else if si.digest_alg.oid == OID_STREEBOG256 {
        streebog256(content).to_vec()
    } else {
        return false;
    };
    let signed = match &si.signed_attrs {
        Some(attrs) => {
            let digest_ok = attrs.iter().any(|a| {
                a.oid == OID_MESSAGE_DIGEST
                    && a.values
                        .iter()
                        .next()
                        .and_then(|v| v.decode_as::<OctetString>().ok())
                        .is_some_and(|o| o.as_bytes() == digest.as_slice())
            });
            if !digest_ok {
                return false;
            }
            match attrs.to_der() {
                Ok(d) => d,
                Err(_) => return false,
            }
        }
        None => content.to_vec(),
    };
    let spki = cert.tbs_certificate().subject_public_key_info();
    let value = si.signature.as_bytes();
    let key_oid = spki.algorithm.oid;
    if key_oid == OID_GOST2012_256 || key_oid == OID_GOST2001 {
        if si.digest_alg.oid != OID_STREEBOG256 {
            return false;
        }
        let Ok(key) = certificate::public_key(cert) else {
            return false;
        };
        let digest = streebog256(&signed);
        [
            Signature::from_bytes(value),
            Signature::from_reversed(value),
        ]
        .into_iter()
        .filter_map(Result::ok)
        .any(|s| key.verify_digest(&digest, &s))
    } else {
        if si.digest_alg.oid != OID_SHA256 {
            return false;
        }
        let alg: &'static dyn VerificationAlgorithm = if key_oid == OID_RSA {
            &sig::RSA_PKCS1_2048_8192_SHA256
        } else if key_oid == OID_EC
            && spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                == Some(OID_P256)
        {
            &sig::ECDSA_P256_SHA256_ASN1
        } else {
            return false;
        };
        let Some(public) = spki.subject_public_key.as_bytes() else {
            return false;
        };
        UnparsedPublicKey::new(alg, public)
            .verify(&signed, value)
            .is_ok()
    }
}

fn signer_matches(si: &SignerInfo, cert: &Certificate) -> bool {
    match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            &ias.issuer == cert.tbs_certificate().issuer()
                && ias.serial_number.as_bytes() == cert.tbs_certificate().serial_number().as_bytes()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(
                cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own == *ski
            )
        }
    }
}

/// base64url or standard base64, padded or not; a `+` turned into a space by a form or query
/// decoder counts as `+`; line breaks are ignored.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let normalised: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'))
        .map(|c| match c {
            '+' | ' ' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(normalised.trim_end_matches('='))
        .ok()
        .filter(|b| !b.is_empty())
}

/// `yyyy.MM.dd HH:mm:ss Z` (e.g. `2025.09.02 13:00:29 +0300`) → unix seconds. The offset may
/// also be written `+03:00`, and a `+` that became a space in a query string is accepted.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once(' ')?;
    let rest = rest.trim_start();
    let (time, zone) = rest.split_once(' ').unwrap_or((rest, ""));
    let zone = zone.trim();
    let mut d = date.split('.');
    let year: i64 = num(d.next()?, 4)?;
    let month: i64 = num(d.next()?, 2)?;
    let day: i64 = num(d.next()?, 2)?;
    if d.next().is_some() {
        return None;
    }
    let mut t = time.split(':');
    let hour = num(t.next()?, 2)?;
    let minute = num(t.next()?, 2)?;
    let second = num(t.next()?, 2)?;
    if t.next().is_some() {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        c if c.is_ascii_digit() => (1, zone),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 {
        return None;
    }
    let oh = num(&digits[..2], 2)?;
    let om = num(&digits[2..], 2)?;
    if oh > 14 || om > 59 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(local - sign * (oh * 3600 + om * 60))
}

fn num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// ESIA's `state`: a UUID (any version, lower or upper case).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_with_offsets() {
        // 2025-09-02 10:00:29 UTC
        let utc = 1_756_807_229;
        assert_eq!(parse_timestamp("2025.09.02 13:00:29 +0300"), Some(utc));
        assert_eq!(parse_timestamp("2025.09.02 10:00:29 +0000"), Some(utc));
        assert_eq!(parse_timestamp("2025.09.02 05:00:29 -0500"), Some(utc));
        assert_eq!(parse_timestamp("2025.09.02 13:00:29 +03:00"), Some(utc));
        assert_eq!(parse_timestamp("2025.09.02 13:00:29  0300"), Some(utc));
        for bad in [
            "",
            "2025-09-02 13:00:29 +0300",
            "2025.09.02 13:00:29",
            "2025.13.02 13:00:29 +0300",
            "2025.02.30 13:00:29 +0300",
            "2025.09.02 13:00 +0300",
            "2025.09.02 13:00:29 MSK",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_window_decides() {
        let now = 1_756_807_229;
        let ts = "2025.09.02 13:00:29 +0300";
        assert!(check_timestamp(ts, now, 300).is_ok());
        assert!(check_timestamp(ts, now + 300, 300).is_ok());
        assert_eq!(
            check_timestamp(ts, now + 301, 300).unwrap_err().code,
            EsiaCode::WrongTime
        );
        assert_eq!(
            check_timestamp(ts, now - 301, 300).unwrap_err().code,
            EsiaCode::WrongTime
        );
        assert_eq!(
            check_timestamp("", now, 300).unwrap_err().code,
            EsiaCode::MissingParameter
        );
        assert_eq!(
            check_timestamp("yesterday", now, 300).unwrap_err().code,
            EsiaCode::Unreadable
        );
    }

    #[test]
    fn states_are_uuids() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
        assert!(!is_uuid("0f8fad5bd9cb469fa16570867728950e"));
        assert!(!is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
        assert!(!is_uuid("0f8fad5b-d9cb-469f-a165-70867728950g"));
        assert!(!is_uuid("state"));
    }

    #[test]
    fn base64_in_every_spelling() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        let std = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(decode_base64(&std), Some(bytes.clone()));
        assert_eq!(decode_base64(&url), Some(bytes.clone()));
        assert_eq!(decode_base64(&format!("{url}==")), Some(bytes.clone()));
        assert_eq!(decode_base64(&std.replace('+', " ")), Some(bytes));
        assert_eq!(decode_base64("!!!"), None);
    }

    #[test]
    fn no_registered_certificate_is_a_mismatch() {
        let check = SecretCheck {
            flavour: Flavour::Current,
            client_id: "IS",
            signed: vec!["x".into()],
            client_secret: "AAAA",
            certificate_hash: Some("00"),
            timestamp: "",
        };
        assert_eq!(
            verify_with(&check, &[]).unwrap_err().code,
            EsiaCode::CertificateMismatch
        );
    }
}
