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

mod login;
pub use login::{SignatureLoginError, authenticate, issue_challenge, take_challenge};

#[cfg(test)]
mod tests;
