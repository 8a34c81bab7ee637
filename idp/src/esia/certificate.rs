//! X.509 certificates with GOST R 34.10-2012 (256) keys, as ESIA client systems register them,
//! and `client_certificate_hash` (upper-case hex Streebog-256 of the DER certificate); also GOST
//! public keys (SPKI) and PKCS#8 private keys as openssl's gost engine writes them.
//!
//! The key is found the RFC 4491 / RFC 9215 way: `subjectPublicKeyInfo.algorithm` is
//! `id-tc26-gost3410-12-256` (1.2.643.7.1.1.1.1) with parameters `SEQUENCE { publicKeyParamSet
//! OID, digestParamSet OID OPTIONAL }`; the `subjectPublicKey` BIT STRING holds a DER OCTET
//! STRING of 64 bytes, `X || Y` little-endian. GOST R 34.10-2001 keys (1.2.643.2.2.19) use the
//! same curves and encoding and are accepted too (old certificates still carry them).

use der::asn1::{Any, ObjectIdentifier, OctetString, UintRef};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::gost::{Curve, GostError, PrivateKey, PublicKey, Signature, hex_upper, streebog256};

/// `id-tc26-gost3410-12-256`.
pub const OID_GOST2012_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.1.1");
/// `id-tc26-signwithdigest-gost3410-12-256`.
pub const OID_SIGN_GOST2012_256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.643.7.1.1.3.2");
/// `id-GostR3410-2001` (same curves and key encoding).
pub const OID_GOST2001: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.2.2.19");

/// Why a certificate cannot be used as a GOST client certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("not a DER X.509 certificate")]
    Malformed,
    #[error("the certificate's key is not a GOST R 34.10-2012 256-bit key")]
    NotGost,
    #[error(transparent)]
    Key(#[from] GostError),
}

/// A parsed GOST certificate: its DER, its key and its ESIA hash.
#[derive(Debug, Clone)]
pub struct GostCertificate {
    pub der: Vec<u8>,
    pub certificate: Certificate,
    pub public_key: PublicKey,
}

impl GostCertificate {
    /// Parses DER or PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn parse(input: &[u8]) -> Result<GostCertificate, CertificateError> {
        let der = pem_to_der(input, "CERTIFICATE").unwrap_or_else(|| input.to_vec());
        let certificate = Certificate::from_der(&der).map_err(|_| CertificateError::Malformed)?;
        let public_key = public_key(&certificate)?;
        Ok(GostCertificate {
            der,
            certificate,
            public_key,
        })
    }

    /// `client_certificate_hash`: upper-case hex Streebog-256 of the DER certificate.
    pub fn esia_hash(&self) -> String {
        certificate_hash(&self.der)
    }

    /// Whether the certificate is signed (GOST R 34.10-2012 with Streebog-256) by its own key:
    /// true for self-signed certificates such as `openssl req -x509` makes. The signature value
    /// is `s || r` big-endian (RFC 4491 §2.2.2), the same order as ESIA's raw signatures.
    pub fn self_signature_ok(&self) -> bool {
        if self.certificate.signature_algorithm().oid != OID_SIGN_GOST2012_256 {
            return false;
        }
        let Ok(tbs) = self.certificate.tbs_certificate().to_der() else {
            return false;
        };
        let Ok(signature) = Signature::from_bytes(self.certificate.signature().raw_bytes()) else {
            return false;
        };
        self.public_key.verify(&tbs, &signature)
    }
}

/// Upper-case hex Streebog-256 of DER bytes (what `openssl dgst -md_gost12_256` prints, upper-cased).
pub fn certificate_hash(der: &[u8]) -> String {
    hex_upper(&streebog256(der))
}

/// The GOST public key of a certificate.
pub fn public_key(certificate: &Certificate) -> Result<PublicKey, CertificateError> {
    spki_public_key(certificate.tbs_certificate().subject_public_key_info())
}

/// A GOST public key from a `SubjectPublicKeyInfo` (DER, or PEM `PUBLIC KEY` as
/// `openssl pkey -pubout` writes it).
pub fn parse_public_key(input: &[u8]) -> Result<PublicKey, CertificateError> {
    let der = pem_to_der(input, "PUBLIC KEY").unwrap_or_else(|| input.to_vec());
    let spki =
        SubjectPublicKeyInfoOwned::from_der(&der).map_err(|_| CertificateError::Malformed)?;
    spki_public_key(&spki)
}

fn spki_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, CertificateError> {
    let curve = gost_curve(&spki.algorithm)?;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CertificateError::Malformed)?;
    let point = OctetString::from_der(bits).map_err(|_| CertificateError::Malformed)?;
    Ok(PublicKey::from_le_xy(curve, point.as_bytes())?)
}

/// The curve named by a GOST key's algorithm identifier (`SEQUENCE { publicKeyParamSet,
/// digestParamSet OPTIONAL, … }` as parameters).
fn gost_curve(algorithm: &AlgorithmIdentifierOwned) -> Result<Curve, CertificateError> {
    if algorithm.oid != OID_GOST2012_256 && algorithm.oid != OID_GOST2001 {
        return Err(CertificateError::NotGost);
    }
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or(CertificateError::NotGost)?
        .to_der()
        .map_err(|_| CertificateError::Malformed)?;
    let oids =
        Vec::<ObjectIdentifier>::from_der(&params).map_err(|_| CertificateError::Malformed)?;
    let curve_oid = oids.first().ok_or(CertificateError::NotGost)?;
    Ok(Curve::by_oid(&curve_oid.to_string())?)
}

/// A GOST private key from PKCS#8 (DER, or PEM `PRIVATE KEY` as `openssl genpkey -engine gost`
/// writes it). The `privateKey` OCTET STRING holds `d` in one of the forms in use: 32 raw bytes
/// little-endian (gost-engine), an inner OCTET STRING of those bytes, or a DER INTEGER
/// (big-endian). Encrypted and CryptoPro-masked keys are not read.
pub fn parse_private_key(input: &[u8]) -> Result<PrivateKey, CertificateError> {
    let der = pem_to_der(input, "PRIVATE KEY").unwrap_or_else(|| input.to_vec());
    // PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm, privateKey OCTET STRING, … }
    let fields = Vec::<Any>::from_der(&der).map_err(|_| CertificateError::Malformed)?;
    let (Some(algorithm), Some(key)) = (fields.get(1), fields.get(2)) else {
        return Err(CertificateError::Malformed);
    };
    let algorithm = algorithm
        .decode_as::<AlgorithmIdentifierOwned>()
        .map_err(|_| CertificateError::Malformed)?;
    let curve = gost_curve(&algorithm)?;
    let key = key
        .decode_as::<OctetString>()
        .map_err(|_| CertificateError::Malformed)?;
    let key = key.as_bytes();
    let be: Vec<u8> = if key.len() == 32 {
        key.iter().rev().copied().collect()
    } else if let Ok(inner) = OctetString::from_der(key) {
        inner.as_bytes().iter().rev().copied().collect()
    } else if let Ok(int) = UintRef::from_der(key) {
        int.as_bytes().to_vec()
    } else {
        return Err(CertificateError::Malformed);
    };
    if be.len() > 32 {
        return Err(GostError::BadPrivateKey.into());
    }
    let mut d = [0u8; 32];
    d[32 - be.len()..].copy_from_slice(&be);
    Ok(PrivateKey::from_be_bytes(curve, &d)?)
}

/// The DER inside the first PEM block with `label`, if `input` is PEM.
fn pem_to_der(input: &[u8], label: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(input).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let start = text.find(&begin)? + begin.len();
    let end = start + text[start..].find(&format!("-----END {label}-----"))?;
    let body: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_non_gost() {
        assert_eq!(
            GostCertificate::parse(b"not a certificate").unwrap_err(),
            CertificateError::Malformed
        );
        assert_eq!(
            GostCertificate::parse(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .unwrap_err(),
            CertificateError::Malformed
        );
    }

    #[test]
    fn hash_is_upper_hex_streebog() {
        // Streebog-256 of the empty string (RustCrypto's and OpenSSL's byte order).
        assert_eq!(
            certificate_hash(b""),
            "3F539A213E97C802CC229D474C6AA32A825A360B2A933A949FD925208D9CE1BB"
        );
    }
}
