//! JSON Web Signatures and keys (RS256, ES256) over `ring`: signing, verification, JWK export
//! and import. Pure computation, no I/O.

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{b64url, b64url_decode};

/// The signature algorithms we issue and accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    RS256,
    ES256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "RS256" => Some(Alg::RS256),
            "ES256" => Some(Alg::ES256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    UnsupportedAlg,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("bad key: {0}")]
    BadKey(String),
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private signing key with its key id.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    signer: Signer,
    rng: SystemRandom,
}

impl SigningKey {
    /// Loads a PKCS#8 DER private key.
    pub fn from_pkcs8(kid: String, alg: Alg, der: &[u8]) -> Result<Self, JoseError> {
        let rng = SystemRandom::new();
        let signer = match alg {
            Alg::RS256 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|e| JoseError::BadKey(e.to_string()))?,
            ),
            Alg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                    .map_err(|e| JoseError::BadKey(e.to_string()))?,
            ),
        };
        Ok(Self {
            kid,
            alg,
            signer,
            rng,
        })
    }

    /// Generates a fresh key as PKCS#8 DER (RSA-2048 or P-256).
    pub fn generate_pkcs8(alg: Alg) -> Result<Vec<u8>, JoseError> {
        match alg {
            Alg::ES256 => EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map(|d| d.as_ref().to_vec())
            .map_err(|e| JoseError::BadKey(e.to_string())),
            Alg::RS256 => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .map_err(|e| JoseError::BadKey(e.to_string()))?;
                key.to_pkcs8_der()
                    .map(|d| d.as_bytes().to_vec())
                    .map_err(|e| JoseError::BadKey(e.to_string()))
            }
        }
    }

    /// The public half as a JWK (`kty`, `kid`, `alg`, `use`, and `n`/`e` or `crv`/`x`/`y`).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = Map::new();
        match &self.signer {
            Signer::Rsa(k) => {
                let public = k.public();
                let comps: signature::RsaPublicKeyComponents<Vec<u8>> = public.into();
                jwk.insert("kty".into(), "RSA".into());
                jwk.insert("n".into(), b64url(&comps.n).into());
                jwk.insert("e".into(), b64url(&comps.e).into());
            }
            Signer::Ec(k) => {
                let point = k.public_key().as_ref();
                jwk.insert("kty".into(), "EC".into());
                jwk.insert("crv".into(), "P-256".into());
                jwk.insert("x".into(), b64url(&point[1..33]).into());
                jwk.insert("y".into(), b64url(&point[33..65]).into());
            }
        }
        jwk.insert("kid".into(), self.kid.clone().into());
        jwk.insert("alg".into(), self.alg.as_str().into());
        jwk.insert("use".into(), "sig".into());
        Value::Object(jwk)
    }

    /// Signs `claims` as a compact JWS with header `{alg, kid, typ}`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> String {
        let header = format!(
            r#"{{"alg":"{}","kid":"{}","typ":"{}"}}"#,
            self.alg.as_str(),
            self.kid,
            typ
        );
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut out = String::with_capacity(512);
        out.push_str(&b64url(header.as_bytes()));
        out.push('.');
        out.push_str(&b64url(&payload));
        let sig = self.sign_bytes(out.as_bytes());
        out.push('.');
        out.push_str(&b64url(&sig));
        out
    }

    fn sign_bytes(&self, msg: &[u8]) -> Vec<u8> {
        match &self.signer {
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, msg, &mut sig)
                    .unwrap_or_else(|_| panic!("RSA signing with a loaded key cannot fail"));
                sig
            }
            Signer::Ec(k) => k
                .sign(&self.rng, msg)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_else(|_| panic!("ECDSA signing with a loaded key cannot fail")),
        }
    }
}

/// A public key that verifies signatures.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub alg: Alg,
    material: PublicMaterial,
}

#[derive(Clone, Debug)]
enum PublicMaterial {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { point: Vec<u8> },
}

impl VerifyingKey {
    /// Reads a public JWK (RSA or EC P-256). `alg` defaults from `kty`.
    pub fn from_jwk(jwk: &Value) -> Result<Self, JoseError> {
        let field = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(b64url_decode)
                .ok_or_else(|| JoseError::BadKey(format!("missing or invalid `{name}`")))
        };
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => Ok(Self {
                kid,
                alg: Alg::RS256,
                material: PublicMaterial::Rsa {
                    n: field("n")?,
                    e: field("e")?,
                },
            }),
            Some("EC") => {
                if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err(JoseError::UnsupportedAlg);
                }
                let (x, y) = (field("x")?, field("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JoseError::BadKey(
                        "P-256 coordinates must be 32 bytes".into(),
                    ));
                }
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Ok(Self {
                    kid,
                    alg: Alg::ES256,
                    material: PublicMaterial::Ec { point },
                })
            }
            _ => Err(JoseError::UnsupportedAlg),
        }
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), JoseError> {
        let ok = match &self.material {
            PublicMaterial::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .is_ok(),
            PublicMaterial::Ec { point } => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, sig)
                    .is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}

/// The parts of a compact JWS, before its signature is checked.
pub struct UnverifiedJws<'a> {
    pub header: Map<String, Value>,
    signing_input: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        let mut parts = token.splitn(4, '.');
        let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => return Err(JoseError::Malformed),
        };
        let header_bytes = b64url_decode(h).ok_or(JoseError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header_bytes).map_err(|_| JoseError::Malformed)?;
        let signature = b64url_decode(s).ok_or(JoseError::Malformed)?;
        Ok(Self {
            header,
            signing_input: &token[..h.len() + 1 + p.len()],
            payload_b64: p,
            signature,
        })
    }

    pub fn alg(&self) -> Option<Alg> {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(Alg::parse)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// Checks the signature with `key` (whose algorithm must match the header) and returns the claims.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Map<String, Value>, JoseError> {
        if self.alg() != Some(key.alg) {
            return Err(JoseError::UnsupportedAlg);
        }
        key.verify(self.signing_input.as_bytes(), &self.signature)?;
        self.claims_unverified()
    }

    /// The claims without checking anything: only for choosing a key (e.g. reading `iss`).
    pub fn claims_unverified(&self) -> Result<Map<String, Value>, JoseError> {
        let bytes = b64url_decode(self.payload_b64).ok_or(JoseError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JoseError::Malformed)
    }
}

/// Verifies `token` against whichever key in `keys` matches its `kid` (or, without a kid, its alg).
pub fn verify_with_any(
    token: &str,
    keys: &[VerifyingKey],
) -> Result<Map<String, Value>, JoseError> {
    let jws = UnverifiedJws::parse(token)?;
    let alg = jws.alg().ok_or(JoseError::UnsupportedAlg)?;
    let mut candidates = keys
        .iter()
        .filter(|k| k.alg == alg && (jws.kid().is_none() || k.kid.as_deref() == jws.kid()));
    let mut last = JoseError::UnknownKey;
    for key in &mut candidates {
        match jws.verify(key) {
            Ok(claims) => return Ok(claims),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The left half of SHA-256 of a token, base64url: `at_hash` / `c_hash` for RS256 and ES256.
pub fn half_hash(token: &str) -> String {
    let digest = crate::crypto::sha256(token.as_bytes());
    b64url(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(alg: Alg) {
        let der = SigningKey::generate_pkcs8(alg).unwrap();
        let key = SigningKey::from_pkcs8("k1".into(), alg, &der).unwrap();
        let token = key.sign("JWT", &json!({"sub": "42"}));
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let claims = verify_with_any(&token, std::slice::from_ref(&public)).unwrap();
        assert_eq!(claims["sub"], "42");
        // One changed byte in the payload breaks the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"sub":"43"}"#);
        parts[1] = &forged;
        assert_eq!(
            verify_with_any(&parts.join("."), &[public]).unwrap_err(),
            JoseError::BadSignature
        );
    }

    #[test]
    fn es256_round_trip() {
        round_trip(Alg::ES256);
    }

    #[test]
    fn rs256_round_trip() {
        round_trip(Alg::RS256);
    }

    #[test]
    fn alg_confusion_is_refused() {
        let der = SigningKey::generate_pkcs8(Alg::ES256).unwrap();
        let key = SigningKey::from_pkcs8("k".into(), Alg::ES256, &der).unwrap();
        let token = key.sign("JWT", &json!({}));
        let none = format!(
            "{}.{}.",
            b64url(br#"{"alg":"none","kid":"k"}"#),
            token.split('.').nth(1).unwrap()
        );
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert!(verify_with_any(&none, &[public]).is_err());
        assert!(UnverifiedJws::parse("a.b").is_err());
        assert!(UnverifiedJws::parse("!!.b.c").is_err());
    }

    #[test]
    fn half_hash_matches_oidc_example() {
        // OpenID Connect Core, appendix A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
