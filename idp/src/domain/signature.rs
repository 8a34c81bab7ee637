//! Login by electronic signature (ЭЦП / КЭП): the person signs a one-time challenge with a
//! certificate from a trusted certification centre and sends a CMS (PKCS#7) **detached**
//! signature. The pure part ([`TrustStore::verify`]) checks the SignedData: the signed
//! attributes (content type, message digest = SHA-256 or Streebog-256 of the challenge), the
//! signature over their DER (RSA PKCS#1 v1.5 / ECDSA P-256 with SHA-256 through `ring`; GOST
//! R 34.10-2012 256-bit with Streebog-256 through [`crate::esia::gost`], the value `s || r`
//! big-endian as openssl's gost engine writes it in CMS), the chain to the configured trust
//! anchors (RSA, ECDSA or GOST issuers, also for CRLs), the validity dates against the
//! injected clock, the key usage (digitalSignature or nonRepudiation) and revocation by the
//! configured CRLs; then it reads the SNILS (OID 1.2.643.100.3), the personal INN
//! (1.2.643.3.131.1.1) and the e-mail from the subject. GOST R 34.10-2012 512-bit keys are
//! refused as an unsupported algorithm.
//!
//! The stateful part issues single-use challenges in the cache and finds the account
//! (SNILS, else INN, else e-mail). The session's `amr` value for a signature is [`AMR`].

use base64::Engine;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{KeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;

use crate::app::AppState;
use crate::cache::CacheError;
use crate::config::SignatureConfig;
use crate::esia::certificate::{self as gost_cert, OID_GOST2012_256, OID_SIGN_GOST2012_256};
use crate::esia::gost::{self, streebog256};
use crate::store::StoreError;
use crate::store::users::{self, User};

/// The `amr` value of a login by electronic signature. RFC 8176 has no exact value (`hwk`
/// means a hardware key, `swk` a software key, either of which a qualified signature may
/// use); ESIA calls this method "DS" (digital signature), so the provider uses `ds`.
pub const AMR: &str = "ds";

/// How long a challenge may be signed, in seconds.
pub const CHALLENGE_TTL: u64 = 300;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// `id-tc26-gost3411-12-256` (Streebog-256).
const OID_STREEBOG256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.2.2");
/// SNILS in a qualified certificate's subject (Приказ ФСБ № 795).
pub const OID_SNILS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.100.3");
/// A person's INN (ИННФЛ) in a qualified certificate's subject.
pub const OID_INN_PERSON: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.3.131.1.1");
const OID_EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Why a signature was refused. Each message is shown to the person as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not a CMS SignedData")]
    Malformed,
    #[error("the signer's certificate is not in the signature")]
    NoCertificate,
    #[error("the signed data is not the challenge")]
    WrongChallenge,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("the certificate is not issued by a trusted certification centre")]
    UntrustedIssuer,
    #[error("the certificate is expired or not yet valid")]
    Expired,
    #[error("the certificate may not sign")]
    KeyUsage,
    #[error("the certificate is revoked")]
    Revoked,
    #[error("the issuer's CRL does not verify")]
    BadCrl,
    #[error("the challenge is unknown, expired or already used")]
    ChallengeExpired,
    #[error("no account matches the certificate")]
    NoAccount,
    #[error("signature login is not configured")]
    NotConfigured,
}

impl SignatureError {
    /// The message shown to the person.
    pub fn ru(&self) -> &'static str {
        match self {
            Self::Malformed => {
                "Подпись не распознана: нужна открепленная подпись CMS (PKCS#7) в DER или base64."
            }
            Self::NoCertificate => "В подписи нет сертификата подписавшего.",
            Self::WrongChallenge => {
                "Подписан не тот текст: подпишите строку запроса, показанную на странице."
            }
            Self::BadSignature => "Подпись неверна.",
            Self::UnsupportedAlgorithm => {
                "Алгоритм подписи не поддерживается (поддерживаются ГОСТ Р 34.10-2012 с ключом 256 бит и хэшем Стрибог-256, RSA и ECDSA P-256 с SHA-256)."
            }
            Self::UntrustedIssuer => {
                "Сертификат выдан не аккредитованным (не доверенным) удостоверяющим центром."
            }
            Self::Expired => "Срок действия сертификата истёк или ещё не начался.",
            Self::KeyUsage => "Сертификат не предназначен для электронной подписи.",
            Self::Revoked => "Сертификат отозван удостоверяющим центром.",
            Self::BadCrl => {
                "Не удалось проверить отзыв сертификата: список отзыва удостоверяющего центра недействителен."
            }
            Self::ChallengeExpired => {
                "Строка запроса устарела или уже использована. Подпишите новую строку."
            }
            Self::NoAccount => {
                "Не найдена учётная запись для этого сертификата. Войдите по паролю и проверьте СНИЛС в профиле."
            }
            Self::NotConfigured => "Вход по электронной подписи не настроен.",
        }
    }

    /// A stable code for logs and events.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::NoCertificate => "no_certificate",
            Self::WrongChallenge => "wrong_challenge",
            Self::BadSignature => "bad_signature",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::Expired => "expired",
            Self::KeyUsage => "key_usage",
            Self::Revoked => "revoked",
            Self::BadCrl => "bad_crl",
            Self::ChallengeExpired => "challenge_expired",
            Self::NoAccount => "no_account",
            Self::NotConfigured => "not_configured",
        }
    }
}

/// What a verified signature says about the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub common_name: Option<String>,
    /// 11 digits.
    pub snils: Option<String>,
    pub inn: Option<String>,
    pub email: Option<String>,
    /// The certificate's serial number in hex.
    pub serial: String,
    /// `rsa`, `ec-p256` or `gost2012-256`.
    pub key: &'static str,
    /// The certificate's subject and issuer (RFC 4514 strings) and validity (Unix seconds).
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
}

impl Signer {
    /// The certificate as the cabinet lists it (`store::signature_certs`).
    pub fn certificate(&self) -> crate::store::signature_certs::SignatureCertificate {
        crate::store::signature_certs::SignatureCertificate {
            subject: self.subject.clone(),
            issuer: self.issuer.clone(),
            serial: self.serial.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
            first_used_at: 0,
            last_used_at: 0,
        }
    }
}

/// Trust anchors (root certificates of the certification centres) and their CRLs.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    crls: Vec<CertificateList>,
}

impl TrustStore {
    /// Builds a store from PEM (or DER) file contents.
    pub fn from_bytes(anchors: &[Vec<u8>], crls: &[Vec<u8>]) -> Result<Self, String> {
        let mut store = TrustStore::default();
        for a in anchors {
            let list = if a.starts_with(b"-----") {
                Certificate::load_pem_chain(a).map_err(|e| format!("certificate: {e}"))?
            } else {
                vec![Certificate::from_der(a).map_err(|e| format!("certificate: {e}"))?]
            };
            store.anchors.extend(list);
        }
        for c in crls {
            let der = if c.starts_with(b"-----") {
                pem_body(c).ok_or("CRL: bad PEM")?
            } else {
                c.clone()
            };
            store
                .crls
                .push(CertificateList::from_der(&der).map_err(|e| format!("CRL: {e}"))?);
        }
        Ok(store)
    }

    /// Reads the files named by the `[signature]` section.
    pub fn load(config: &SignatureConfig) -> Result<Self, String> {
        let read =
            |p: &std::path::PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let anchors = config
            .trust_anchors
            .iter()
            .map(read)
            .collect::<Result<Vec<_>, _>>()?;
        let crls = config
            .crls
            .iter()
            .map(read)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_bytes(&anchors, &crls)
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Verifies a detached CMS signature (DER, base64 or PEM) over `challenge` at unix time
    /// `now`.
    pub fn verify(
        &self,
        signature: &[u8],
        challenge: &[u8],
        now: i64,
    ) -> Result<Signer, SignatureError> {
        let der = decode_input(signature).ok_or(SignatureError::Malformed)?;
        let info = ContentInfo::from_der(&der).map_err(|_| SignatureError::Malformed)?;
        if info.content_type != OID_SIGNED_DATA {
            return Err(SignatureError::Malformed);
        }
        let sd: SignedData = info
            .content
            .decode_as()
            .map_err(|_| SignatureError::Malformed)?;
        let certs: Vec<&Certificate> = sd
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
        // One signer: the person.
        let si = sd
            .signer_infos
            .0
            .iter()
            .next()
            .ok_or(SignatureError::Malformed)?;
        let cert = *certs
            .iter()
            .find(|c| signer_matches(si, c))
            .ok_or(SignatureError::NoCertificate)?;
        let streebog = if si.digest_alg.oid == OID_SHA256 {
            false
        } else if si.digest_alg.oid == OID_STREEBOG256 {
            true
        } else {
            return Err(SignatureError::UnsupportedAlgorithm);
        };
        if sd.encap_content_info.econtent.is_some() {
            // An attached signature carries its own content; the challenge must be detached.
            return Err(SignatureError::Malformed);
        }
        let digest: Vec<u8> = if streebog {
            streebog256(challenge).to_vec()
        } else {
            ring::digest::digest(&ring::digest::SHA256, challenge)
                .as_ref()
                .to_vec()
        };
        let signed = match &si.signed_attrs {
            Some(attrs) => {
                let mut content_type_ok = false;
                let mut digest_ok = false;
                for a in attrs.iter() {
                    let Some(v) = a.values.iter().next() else {
                        continue;
                    };
                    if a.oid == OID_CONTENT_TYPE {
                        content_type_ok = v.decode_as::<ObjectIdentifier>().ok()
                            == Some(sd.encap_content_info.econtent_type)
                            && sd.encap_content_info.econtent_type == OID_DATA;
                    } else if a.oid == OID_MESSAGE_DIGEST {
                        digest_ok = v
                            .decode_as::<OctetString>()
                            .map(|o| o.as_bytes() == digest.as_slice())
                            .unwrap_or(false);
                    }
                }
                if !content_type_ok {
                    return Err(SignatureError::Malformed);
                }
                if !digest_ok {
                    return Err(SignatureError::WrongChallenge);
                }
                attrs.to_der().map_err(|_| SignatureError::Malformed)?
            }
            None => challenge.to_vec(),
        };
        let spki = cert.tbs_certificate().subject_public_key_info();
        if spki.algorithm.oid == OID_GOST2012_256 {
            verify_gost_signer(si, cert, streebog, &signed)?;
            self.check_certificate(cert, &certs, now)?;
            return Ok(signer_of(cert, "gost2012-256"));
        }
        if streebog {
            // Streebog with an RSA or EC key: not a combination anyone signs with.
            return Err(SignatureError::UnsupportedAlgorithm);
        }
        let (alg, key): (&'static dyn VerificationAlgorithm, &'static str) =
            if spki.algorithm.oid == OID_RSA {
                (&sig::RSA_PKCS1_2048_8192_SHA256, "rsa")
            } else if spki.algorithm.oid == OID_EC && ec_curve(cert) == Some(OID_P256) {
                (&sig::ECDSA_P256_SHA256_ASN1, "ec-p256")
            } else {
                return Err(SignatureError::UnsupportedAlgorithm);
            };
        let sig_oid = si.signature_algorithm.oid;
        let alg_ok = match key {
            "rsa" => sig_oid == OID_RSA || sig_oid == OID_RSA_SHA256,
            _ => sig_oid == OID_ECDSA_SHA256 || sig_oid == OID_EC,
        };
        if !alg_ok {
            return Err(SignatureError::UnsupportedAlgorithm);
        }
        let public = spki
            .subject_public_key
            .as_bytes()
            .ok_or(SignatureError::Malformed)?;
        UnparsedPublicKey::new(alg, public)
            .verify(&signed, si.signature.as_bytes())
            .map_err(|_| SignatureError::BadSignature)?;

        self.check_certificate(cert, &certs, now)?;
        Ok(signer_of(cert, key))
    }

    /// Chain to a trust anchor (through intermediates carried in the signature), validity,
    /// key usage of the end certificate, revocation of every non-anchor certificate.
    fn check_certificate(
        &self,
        leaf: &Certificate,
        extra: &[&Certificate],
        now: i64,
    ) -> Result<(), SignatureError> {
        if !valid_at(leaf, now) {
            return Err(SignatureError::Expired);
        }
        match leaf.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) if ku.digital_signature() || ku.non_repudiation() => {}
            _ => return Err(SignatureError::KeyUsage),
        }
        let mut current = leaf;
        for _ in 0..4 {
            let issuer_name = current.tbs_certificate().issuer();
            if let Some(anchor) = self
                .anchors
                .iter()
                .find(|a| a.tbs_certificate().subject() == issuer_name && issued_by(current, a))
            {
                if !valid_at(anchor, now) {
                    return Err(SignatureError::UntrustedIssuer);
                }
                self.check_revocation(current, anchor)?;
                return Ok(());
            }
            let Some(inter) = extra.iter().find(|c| {
                c.tbs_certificate().subject() == issuer_name
                    && !std::ptr::eq(**c, current)
                    && issued_by(current, c)
            }) else {
                return Err(SignatureError::UntrustedIssuer);
            };
            if !valid_at(inter, now) {
                return Err(SignatureError::Expired);
            }
            self.check_revocation(current, inter)?;
            current = inter;
        }
        Err(SignatureError::UntrustedIssuer)
    }

    fn check_revocation(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Result<(), SignatureError> {
        let serial = cert.tbs_certificate().serial_number();
        for crl in self
            .crls
            .iter()
            .filter(|c| &c.tbs_cert_list.issuer == issuer.tbs_certificate().subject())
        {
            let tbs = crl
                .tbs_cert_list
                .to_der()
                .map_err(|_| SignatureError::BadCrl)?;
            let sig = crl.signature.as_bytes().ok_or(SignatureError::BadCrl)?;
            if !verify_with(issuer, &crl.signature_algorithm.oid, &tbs, sig) {
                return Err(SignatureError::BadCrl);
            }
            let revoked = crl
                .tbs_cert_list
                .revoked_certificates
                .iter()
                .flatten()
                .any(|r| r.serial_number.as_bytes() == serial.as_bytes());
            if revoked {
                return Err(SignatureError::Revoked);
            }
        }
        Ok(())
    }
}

/// The signer's GOST R 34.10-2012 (256) signature over `signed` (the signed attributes' DER,
/// or the challenge): digest Streebog-256, signature algorithm `id-tc26-gost3410-12-256` (what
/// openssl's gost engine writes) or `id-tc26-signwithdigest-gost3410-12-256`, and the value
/// `s || r` big-endian — the order of RFC 4490 §3.2 / RFC 9337 that openssl's gost engine
/// and CryptoPro write in CMS. The byte-reversed raw CSP order is not tried: in CMS it
/// would be a malformed signature.
fn verify_gost_signer(
    si: &SignerInfo,
    cert: &Certificate,
    streebog: bool,
    signed: &[u8],
) -> Result<(), SignatureError> {
    let sig_oid = si.signature_algorithm.oid;
    if !streebog || (sig_oid != OID_GOST2012_256 && sig_oid != OID_SIGN_GOST2012_256) {
        return Err(SignatureError::UnsupportedAlgorithm);
    }
    let key = gost_cert::public_key(cert).map_err(|e| match e {
        gost_cert::CertificateError::Malformed => SignatureError::Malformed,
        _ => SignatureError::UnsupportedAlgorithm,
    })?;
    let value = gost::Signature::from_bytes(si.signature.as_bytes())
        .map_err(|_| SignatureError::BadSignature)?;
    if key.verify(signed, &value) {
        Ok(())
    } else {
        Err(SignatureError::BadSignature)
    }
}

/// Whether `issuer`'s key verifies the signature on `cert`.
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    verify_with(issuer, &cert.signature_algorithm().oid, &tbs, sig)
}

fn verify_with(issuer: &Certificate, alg: &ObjectIdentifier, data: &[u8], sig: &[u8]) -> bool {
    let spki = issuer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == OID_GOST2012_256 {
        // X.509 certificates and CRLs (RFC 9215): Streebog-256 of the TBS, value `s || r`.
        if *alg != OID_SIGN_GOST2012_256 {
            return false;
        }
        let (Ok(key), Ok(value)) = (
            gost_cert::public_key(issuer),
            gost::Signature::from_bytes(sig),
        ) else {
            return false;
        };
        return key.verify(data, &value);
    }
    let Some(public) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    let algorithm: &'static dyn VerificationAlgorithm = if spki.algorithm.oid == OID_RSA {
        match *alg {
            a if a == OID_RSA_SHA256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            a if a == OID_RSA_SHA384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            a if a == OID_RSA_SHA512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            _ => return false,
        }
    } else if spki.algorithm.oid == OID_EC {
        match (ec_curve(issuer), *alg) {
            (Some(c), a) if c == OID_P256 && a == OID_ECDSA_SHA256 => &sig::ECDSA_P256_SHA256_ASN1,
            (Some(c), a) if c == OID_P384 && a == OID_ECDSA_SHA384 => &sig::ECDSA_P384_SHA384_ASN1,
            _ => return false,
        }
    } else {
        return false;
    };
    UnparsedPublicKey::new(algorithm, public)
        .verify(data, sig)
        .is_ok()
}

fn ec_curve(cert: &Certificate) -> Option<ObjectIdentifier> {
    cert.tbs_certificate()
        .subject_public_key_info()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
}

fn valid_at(cert: &Certificate, now: i64) -> bool {
    let v = cert.tbs_certificate().validity();
    let from = v.not_before.to_unix_duration().as_secs() as i64;
    let to = v.not_after.to_unix_duration().as_secs() as i64;
    from <= now && now <= to
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

fn signer_of(cert: &Certificate, key: &'static str) -> Signer {
    let subject = cert.tbs_certificate().subject();
    let validity = cert.tbs_certificate().validity();
    let digits = |s: String| {
        let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        (!d.is_empty()).then_some(d)
    };
    Signer {
        common_name: name_attr(subject, OID_CN),
        snils: name_attr(subject, OID_SNILS).and_then(digits),
        inn: name_attr(subject, OID_INN_PERSON).and_then(digits),
        email: name_attr(subject, OID_EMAIL).map(|e| e.trim().to_lowercase()),
        serial: hex(cert.tbs_certificate().serial_number().as_bytes()),
        key,
        subject: subject.to_string(),
        issuer: cert.tbs_certificate().issuer().to_string(),
        not_before: validity.not_before.to_unix_duration().as_secs() as i64,
        not_after: validity.not_after.to_unix_duration().as_secs() as i64,
    }
}

/// The text of a subject attribute (UTF8String, PrintableString, NumericString, IA5String).
fn name_attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.iter()
        .find(|atv| atv.oid == oid)
        .and_then(|atv| std::str::from_utf8(atv.value.value()).ok())
        .map(str::to_string)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// DER as is; PEM (`-----BEGIN PKCS7-----`, `CMS`, …) or bare base64 decoded.
fn decode_input(input: &[u8]) -> Option<Vec<u8>> {
    if input.first() == Some(&0x30) {
        return Some(input.to_vec());
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    if text.starts_with("-----") {
        return pem_body(text.as_bytes());
    }
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .ok()
}

fn pem_body(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .ok()
}

// ---------------------------------------------------------------------------------------
// Challenges and accounts (stateful).

fn challenge_key(challenge: &str) -> String {
    format!("sigchal:{challenge}")
}

/// Issues a challenge for the authorization transaction `tx`: single use, [`CHALLENGE_TTL`].
pub async fn issue_challenge(state: &AppState, tx: &str) -> Result<String, CacheError> {
    let challenge = format!(
        "gosuslugi-id-login:{}:{}",
        state.clock.now(),
        crate::crypto::random_token(24)
    );
    state
        .cache
        .put(&challenge_key(&challenge), tx.as_bytes(), CHALLENGE_TTL)
        .await?;
    Ok(challenge)
}

/// Spends a challenge: true when it was issued for `tx` and not used before.
pub async fn take_challenge(
    state: &AppState,
    challenge: &str,
    tx: &str,
) -> Result<bool, CacheError> {
    if challenge.len() > 200 {
        return Ok(false);
    }
    Ok(state
        .cache
        .take(&challenge_key(challenge))
        .await?
        .as_deref()
        == Some(tx.as_bytes()))
}

/// Failures of the whole signature login.
#[derive(Debug, thiserror::Error)]
pub enum SignatureLoginError {
    #[error(transparent)]
    Refused(#[from] SignatureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Verifies the signature of a spent challenge and finds the account: by SNILS (verified
/// accounts only), else by INN, else by e-mail. A standard account whose SNILS matches is
/// raised to confirmed (`verification::confirm_by_signature`).
pub async fn authenticate(
    state: &AppState,
    signature: &[u8],
    challenge: &str,
) -> Result<(User, Signer), SignatureLoginError> {
    let store = TrustStore::load(&state.config.signature).map_err(|e| {
        tracing::error!(error = %e, "signature trust store");
        SignatureError::NotConfigured
    })?;
    if store.is_empty() {
        return Err(SignatureError::NotConfigured.into());
    }
    let signer = store.verify(signature, challenge.as_bytes(), state.clock.now())?;
    let user = find_account(state, &signer)
        .await?
        .ok_or(SignatureError::NoAccount)?;
    let mut user = user;
    if let Some(snils) = &signer.snils
        && user.level == crate::protocol::acr::Level::Standard
        && user.person.snils.as_deref() == Some(snils.as_str())
    {
        match crate::domain::verification::confirm::confirm_by_signature(state, &user.id, snils)
            .await
        {
            Ok(()) => {
                if let Some(u) = users::by_id(&state.db, &user.id).await? {
                    user = u;
                }
            }
            Err(e) => tracing::info!(error = %e, "signature did not confirm the account"),
        }
    }
    crate::store::signature_certs::record_use(
        &state.db,
        &user.id,
        &signer.certificate(),
        state.clock.now(),
    )
    .await?;
    Ok((user, signer))
}

async fn find_account(state: &AppState, signer: &Signer) -> Result<Option<User>, StoreError> {
    use crate::domain::identifiers::{Login, normalize_email};
    if let Some(s) = &signer.snils
        && let Some(u) = users::by_login(&state.db, &Login::Snils(s.clone())).await?
    {
        return Ok(Some(u));
    }
    if let Some(inn) = &signer.inn
        && let Some(u) = users::by_inn(&state.db, inn).await?
    {
        return Ok(Some(u));
    }
    if let Some(e) = signer.email.as_deref().and_then(normalize_email)
        && let Some(u) = users::by_login(&state.db, &Login::Email(e)).await?
    {
        return Ok(Some(u));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn dev(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../keys/dev-ca")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn store() -> TrustStore {
        TrustStore::from_bytes(&[dev("ca.pem")], &[dev("ca.crl.pem")]).expect("store")
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// Signs with the `openssl cms` command (detached, DER).
    fn sign(data: &[u8], cert: &str) -> Vec<u8> {
        use std::io::Write;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/dev-ca");
        let key = cert.replace(".pem", ".key");
        let mut child = std::process::Command::new("openssl")
            .args([
                "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
            ])
            .arg("-signer")
            .arg(dir.join(cert))
            .arg("-inkey")
            .arg(dir.join(key))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("openssl");
        child.stdin.take().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    }

    #[test]
    fn rsa_and_ec_signatures_verify_and_name_the_person() {
        for (cert, key) in [("citizen-rsa.pem", "rsa"), ("citizen-ec.pem", "ec-p256")] {
            let s = sign(b"challenge-1", cert);
            let signer = store().verify(&s, b"challenge-1", now()).expect(cert);
            assert_eq!(signer.key, key);
            assert_eq!(signer.snils.as_deref(), Some("11223344595"));
            assert_eq!(signer.inn.as_deref(), Some("500100732259"));
            assert_eq!(signer.email.as_deref(), Some("ivanov@example.ru"));
            assert_eq!(signer.common_name.as_deref(), Some("Иванов Иван Иванович"));
            // base64 input is accepted too.
            let b64 = base64::engine::general_purpose::STANDARD.encode(&s);
            assert!(
                store()
                    .verify(b64.as_bytes(), b"challenge-1", now())
                    .is_ok()
            );
        }
    }

    #[test]
    fn other_data_is_the_wrong_challenge() {
        let s = sign(b"challenge-1", "citizen-ec.pem");
        assert_eq!(
            store().verify(&s, b"challenge-2", now()),
            Err(SignatureError::WrongChallenge)
        );
    }

    #[test]
    fn tampered_signature_is_refused() {
        let mut s = sign(b"challenge-1", "citizen-rsa.pem");
        let n = s.len();
        s[n - 10] ^= 1;
        assert_eq!(
            store().verify(&s, b"challenge-1", now()),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn expired_unknown_and_revoked_certificates_are_refused() {
        let check = |cert: &str| store().verify(&sign(b"c", cert), b"c", now());
        assert_eq!(check("expired.pem"), Err(SignatureError::Expired));
        assert_eq!(check("foreign.pem"), Err(SignatureError::UntrustedIssuer));
        assert_eq!(check("revoked.pem"), Err(SignatureError::Revoked));
        // Without the CRL the revoked certificate passes: the CRL is what refuses it.
        let bare = TrustStore::from_bytes(&[dev("ca.pem")], &[]).unwrap();
        assert!(bare.verify(&sign(b"c", "revoked.pem"), b"c", now()).is_ok());
    }

    #[test]
    fn the_clock_decides_validity() {
        let s = sign(b"c", "citizen-rsa.pem");
        // 2050: after the certificates' end.
        assert_eq!(
            store().verify(&s, b"c", 2_524_608_000),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn the_dev_crl_lists_the_revoked_serial() {
        let st = store();
        assert_eq!(st.crls.len(), 1);
        let serials: Vec<String> = st.crls[0]
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| hex(r.serial_number.as_bytes()))
            .collect();
        assert_eq!(serials, vec!["1003".to_string()]);
    }

    /// The dev trust store with both CAs (RSA and GOST) and both CRLs, as `idp dev` has it.
    fn both() -> TrustStore {
        TrustStore::from_bytes(
            &[dev("ca.pem"), dev("gost-ca.pem")],
            &[dev("ca.crl.pem"), dev("gost-ca.crl.pem")],
        )
        .expect("store")
    }

    /// Signs with `openssl cms -sign -engine gost` (detached, DER, Streebog-256 by default).
    fn sign_gost(data: &[u8], cert: &str) -> Vec<u8> {
        use std::io::Write;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/dev-ca");
        let key = cert.replace(".pem", ".key");
        let mut child = std::process::Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-engine",
                "gost",
                "-binary",
                "-nosmimecap",
                "-outform",
                "DER",
            ])
            .arg("-signer")
            .arg(dir.join(cert))
            .arg("-inkey")
            .arg(dir.join(key))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl");
        child.stdin.take().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "openssl cms -engine gost (libengine-gost-openssl installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The signer's signature value inside a CMS (to tamper with it).
    fn signature_value(cms_der: &[u8]) -> Vec<u8> {
        let info = ContentInfo::from_der(cms_der).unwrap();
        let sd: SignedData = info.content.decode_as().unwrap();
        sd.signer_infos
            .0
            .iter()
            .next()
            .unwrap()
            .signature
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn gost_signature_by_openssl_verifies_and_names_the_person() {
        let s = sign_gost(b"challenge-1", "gost-citizen.pem");
        let signer = both().verify(&s, b"challenge-1", now()).expect("gost");
        assert_eq!(signer.key, "gost2012-256");
        assert_eq!(signer.snils.as_deref(), Some("11223344595"));
        assert_eq!(signer.inn.as_deref(), Some("500100732259"));
        assert_eq!(signer.email.as_deref(), Some("ivanov@example.ru"));
        assert_eq!(signer.common_name.as_deref(), Some("Иванов Иван Иванович"));
        assert_eq!(signer.serial, "2002");
        // The RSA and EC certificates still verify in the same store.
        assert!(
            both()
                .verify(&sign(b"c", "citizen-ec.pem"), b"c", now())
                .is_ok()
        );
    }

    #[test]
    fn openssl_writes_the_gost_cms_signature_as_s_then_r_big_endian() {
        let s = sign_gost(b"challenge-1", "gost-citizen.pem");
        let value = signature_value(&s);
        assert_eq!(value.len(), 64);
        // Our reading of the value (`s || r`, big-endian) verifies over the signed attributes.
        let info = ContentInfo::from_der(&s).unwrap();
        let sd: SignedData = info.content.decode_as().unwrap();
        let si = sd.signer_infos.0.iter().next().unwrap();
        assert_eq!(si.digest_alg.oid, OID_STREEBOG256);
        assert_eq!(si.signature_algorithm.oid, OID_GOST2012_256);
        let attrs = si.signed_attrs.as_ref().unwrap().to_der().unwrap();
        let cert = Certificate::load_pem_chain(&dev("gost-citizen.pem"))
            .unwrap()
            .remove(0);
        let key = gost_cert::public_key(&cert).unwrap();
        assert!(key.verify(&attrs, &gost::Signature::from_bytes(&value).unwrap()));
        // The byte-reversed (raw CryptoPro CSP) order does not.
        assert!(!key.verify(&attrs, &gost::Signature::from_reversed(&value).unwrap()));
        // A CMS whose value is reversed is refused.
        let at = s.windows(64).position(|w| w == value.as_slice()).unwrap();
        let mut reversed = s.clone();
        reversed[at..at + 64].reverse();
        assert_eq!(
            both().verify(&reversed, b"challenge-1", now()),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn gost_refusals() {
        let check = |cert: &str, data: &[u8]| both().verify(&sign_gost(b"c", cert), data, now());
        assert_eq!(
            check("gost-citizen.pem", b"other"),
            Err(SignatureError::WrongChallenge)
        );
        assert_eq!(
            check("gost-revoked.pem", b"c"),
            Err(SignatureError::Revoked)
        );
        assert_eq!(
            check("gost-foreign.pem", b"c"),
            Err(SignatureError::UntrustedIssuer)
        );
        // Only the RSA CA trusted: the GOST citizen is not.
        assert_eq!(
            store().verify(&sign_gost(b"c", "gost-citizen.pem"), b"c", now()),
            Err(SignatureError::UntrustedIssuer)
        );
        // Without the GOST CRL the revoked certificate passes: the CRL (GOST-signed) refuses it.
        let bare = TrustStore::from_bytes(&[dev("gost-ca.pem")], &[]).unwrap();
        assert!(
            bare.verify(&sign_gost(b"c", "gost-revoked.pem"), b"c", now())
                .is_ok()
        );
        // The clock decides validity for GOST too.
        assert_eq!(
            both().verify(&sign_gost(b"c", "gost-citizen.pem"), b"c", 2_524_608_000),
            Err(SignatureError::Expired)
        );
        // A tampered signature value.
        let mut s = sign_gost(b"c", "gost-citizen.pem");
        let value = signature_value(&s);
        let at = s.windows(64).position(|w| w == value.as_slice()).unwrap();
        s[at + 40] ^= 1;
        assert_eq!(
            both().verify(&s, b"c", now()),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn a_gost_crl_with_a_broken_signature_is_refused() {
        let mut crl =
            CertificateList::from_der(&pem_body(&dev("gost-ca.crl.pem")).unwrap()).unwrap();
        assert_eq!(crl.signature_algorithm.oid, OID_SIGN_GOST2012_256);
        let mut bytes = crl.signature.raw_bytes().to_vec();
        bytes[5] ^= 1;
        crl.signature = der::asn1::BitString::from_bytes(&bytes).unwrap();
        let st = TrustStore {
            anchors: vec![
                Certificate::load_pem_chain(&dev("gost-ca.pem"))
                    .unwrap()
                    .remove(0),
            ],
            crls: vec![crl],
        };
        assert_eq!(
            st.verify(&sign_gost(b"c", "gost-citizen.pem"), b"c", now()),
            Err(SignatureError::BadCrl)
        );
    }

    #[test]
    fn the_dev_config_trusts_the_gost_ca() {
        let config = crate::config::SignatureConfig::dev();
        let st = TrustStore::load(&config).expect("dev trust store");
        assert!(
            st.verify(&sign_gost(b"c", "gost-citizen.pem"), b"c", now())
                .is_ok()
        );
        assert_eq!(st.crls.len(), 2);
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            store().verify(b"not a signature", b"c", now()),
            Err(SignatureError::Malformed)
        );
    }
}
