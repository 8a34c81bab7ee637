//! ESIA-shaped JWTs (esia.md §4, `docs/esia-compat.md` "Tokens"): headers
//! `{"alg":"RS256"|"GOST3410_2012_256","typ":"JWT","sbt":"access"|"id","ver":1,"kid"}`,
//! ESIA's access and ID token claims, signed with the emulator's own keys (an RSA key and a
//! GOST R 34.10-2012 key, each with a certificate published as a file), and their verification.
//!
//! The keys are files (`[esia] rsa_key`, `gost_key`, …); unset, the committed dev/test files
//! of `keys/esia/provider/` (made by its `make.sh`) are used, compiled into the binary. They are
//! loaded once per set of paths and kept for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair, RsaKeyPair};
use serde_json::{Map, Value, json};

use super::certificate::parse_private_key;
use super::gost::{self, PrivateKey, PublicKey};
use crate::config::EsiaConfig;
use crate::crypto::{b64url, b64url_decode, sha256_hex};

const DEV_RSA_KEY: &[u8] = include_bytes!("../../../keys/esia/provider/rsa.key");
const DEV_RSA_CER: &[u8] = include_bytes!("../../../keys/esia/provider/rsa.cer");
const DEV_GOST_KEY: &[u8] = include_bytes!("../../../keys/esia/provider/gost.key");
const DEV_GOST_CER: &[u8] = include_bytes!("../../../keys/esia/provider/gost.cer");

/// ESIA tokens live one hour (`expires_in: 3600`).
pub const TOKEN_TTL: i64 = 3600;

/// The signature algorithm of a client system's tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAlg {
    Rs256,
    Gost,
}

impl TokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAlg::Rs256 => "RS256",
            TokenAlg::Gost => "GOST3410_2012_256",
        }
    }

    /// `RS256` or `GOST3410_2012_256` (also `GOST3410_2012`, `GOST`); else `None`.
    pub fn parse(s: &str) -> Option<TokenAlg> {
        match s.trim() {
            "RS256" | "rs256" => Some(TokenAlg::Rs256),
            "GOST3410_2012_256" | "GOST3410_2012" | "GOST" | "gost" => Some(TokenAlg::Gost),
            _ => None,
        }
    }
}

/// The loaded signing keys and their certificates.
pub struct Signers {
    rsa: RsaKeyPair,
    rsa_public_der: Vec<u8>,
    pub rsa_certificate: Vec<u8>,
    rsa_kid: String,
    gost: PrivateKey,
    gost_public: PublicKey,
    pub gost_certificate: Vec<u8>,
    gost_kid: String,
    rng: SystemRandom,
}

/// A key file's bytes; unset, the built-in dev file, if `dev_keys` allows it.
fn read(
    path: &Option<String>,
    dev: &'static [u8],
    dev_keys: bool,
    name: &str,
) -> Result<Vec<u8>, String> {
    match path {
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read {p}: {e}")),
        None if dev_keys => Ok(dev.to_vec()),
        None => Err(format!(
            "[esia] {name} is not set: the ESIA profile needs its own signing keys outside `idp dev`"
        )),
    }
}

/// PEM (any label) to DER; DER passes through.
fn pem_or_der(input: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let Ok(text) = std::str::from_utf8(input) else {
        return input.to_vec();
    };
    if !text.contains("-----BEGIN") {
        return input.to_vec();
    }
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_default()
}

impl Signers {
    fn load(cfg: &EsiaConfig) -> Result<Signers, String> {
        let rsa_der = pem_or_der(&read(&cfg.rsa_key, DEV_RSA_KEY, cfg.dev_keys, "rsa_key")?);
        let rsa = RsaKeyPair::from_pkcs8(&rsa_der).map_err(|e| format!("esia RSA key: {e}"))?;
        let rsa_public_der = rsa.public_key().as_ref().to_vec();
        let rsa_certificate = pem_or_der(&read(
            &cfg.rsa_certificate,
            DEV_RSA_CER,
            cfg.dev_keys,
            "rsa_certificate",
        )?);
        let gost = parse_private_key(&read(
            &cfg.gost_key,
            DEV_GOST_KEY,
            cfg.dev_keys,
            "gost_key",
        )?)
        .map_err(|e| format!("esia GOST key: {e}"))?;
        let gost_public = gost.public_key();
        let gost_certificate = pem_or_der(&read(
            &cfg.gost_certificate,
            DEV_GOST_CER,
            cfg.dev_keys,
            "gost_certificate",
        )?);
        let cert_key = super::certificate::GostCertificate::parse(&gost_certificate)
            .map_err(|e| format!("esia GOST certificate: {e}"))?;
        if cert_key.public_key.to_le_xy() != gost_public.to_le_xy() {
            return Err("esia GOST certificate does not match the GOST key".into());
        }
        Ok(Signers {
            rsa_kid: sha256_hex(&rsa_certificate)[..16].to_owned(),
            gost_kid: sha256_hex(&gost_certificate)[..16].to_owned(),
            rsa,
            rsa_public_der,
            rsa_certificate,
            gost,
            gost_public,
            gost_certificate,
            rng: SystemRandom::new(),
        })
    }

    /// Signs `claims` as a compact JWS with ESIA's header (`sbt` = `access` or `id`).
    pub fn sign(&self, alg: TokenAlg, sbt: &str, claims: &Value) -> Result<String, String> {
        let kid = match alg {
            TokenAlg::Rs256 => &self.rsa_kid,
            TokenAlg::Gost => &self.gost_kid,
        };
        let header = json!({"alg": alg.as_str(), "typ": "JWT", "sbt": sbt, "ver": 1, "kid": kid});
        let mut out = b64url(header.to_string().as_bytes());
        out.push('.');
        out.push_str(&b64url(claims.to_string().as_bytes()));
        let sig = match alg {
            TokenAlg::Rs256 => {
                let mut sig = vec![0u8; self.rsa.public().modulus_len()];
                self.rsa
                    .sign(
                        &signature::RSA_PKCS1_SHA256,
                        &self.rng,
                        out.as_bytes(),
                        &mut sig,
                    )
                    .map_err(|_| "RSA signing failed".to_owned())?;
                sig
            }
            TokenAlg::Gost => self.gost.sign(out.as_bytes()).to_bytes().to_vec(),
        };
        out.push('.');
        out.push_str(&b64url(&sig));
        Ok(out)
    }

    /// Verifies a token signed by [`Signers::sign`]: its header (returned) and its claims.
    pub fn verify(&self, token: &str) -> Option<(Map<String, Value>, Map<String, Value>)> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Map<String, Value> = serde_json::from_slice(&b64url_decode(h)?).ok()?;
        let sig = b64url_decode(s)?;
        let signed = &token.as_bytes()[..h.len() + 1 + p.len()];
        let ok = match TokenAlg::parse(header.get("alg")?.as_str()?)? {
            TokenAlg::Rs256 => signature::UnparsedPublicKey::new(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                &self.rsa_public_der,
            )
            .verify(signed, &sig)
            .is_ok(),
            TokenAlg::Gost => gost::Signature::from_bytes(&sig)
                .is_ok_and(|sig| self.gost_public.verify(signed, &sig)),
        };
        if !ok {
            return None;
        }
        let claims: Map<String, Value> = serde_json::from_slice(&b64url_decode(p)?).ok()?;
        Some((header, claims))
    }
}

type Loaded = HashMap<([Option<String>; 4], bool), Arc<Signers>>;

/// The signing keys for `cfg` (loaded on first use; an error is a configuration problem).
pub fn signers(cfg: &EsiaConfig) -> Result<Arc<Signers>, String> {
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let key = (
        [
            cfg.rsa_key.clone(),
            cfg.rsa_certificate.clone(),
            cfg.gost_key.clone(),
            cfg.gost_certificate.clone(),
        ],
        cfg.dev_keys,
    );
    let map = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = map.get(&key) {
        return Ok(s.clone());
    }
    let s = Arc::new(Signers::load(cfg)?);
    map.insert(key, s.clone());
    Ok(s)
}

/// The OID as JSON: a number when it is one (as ESIA sends it), else the text.
pub fn oid_value(oid: &str) -> Value {
    oid.parse::<u64>().map_or_else(|_| oid.into(), Value::from)
}

/// Scopes as the access token's `scope` claim: personal scopes suffixed `?oid=<oid>`,
/// `openid` bare, `offline_access` (our spelling of `access_type=offline`) left out.
pub fn scope_claim(scope: &str, oid: &str) -> String {
    let mut items: Vec<&str> = scope
        .split(' ')
        .filter(|s| !s.is_empty() && *s != "offline_access")
        .collect();
    items.sort_unstable();
    items.dedup();
    items
        .iter()
        .map(|s| {
            if *s == "openid" {
                (*s).to_owned()
            } else {
                format!("{s}?oid={oid}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scope names of a `scope` claim, without `?oid=` suffixes.
pub fn scope_names(claim: &str) -> Vec<String> {
    claim
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| s.split('?').next().unwrap_or(s).to_owned())
        .collect()
}

/// Our `amr` values as ESIA's authentication methods (`PWD`, `DS`, `SMS`, …).
pub fn esia_methods(amr: &[String]) -> Vec<String> {
    let mut out: Vec<String> = amr
        .iter()
        .map(|m| match m.as_str() {
            "pwd" => "PWD".to_owned(),
            "ds" | "sc" => "DS".to_owned(),
            "sms" | "otp" => "SMS".to_owned(),
            "totp" => "TOTP".to_owned(),
            "hwk" | "swk" => "PK".to_owned(),
            other => other.to_ascii_uppercase(),
        })
        .collect();
    out.dedup();
    if out.is_empty() {
        out.push("PWD".to_owned());
    }
    out
}

/// What goes into one pair of tokens.
pub struct Subject<'a> {
    pub oid: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    /// `urn:esia:sid`: the grant's id (a new one per authorization).
    pub sid: &'a str,
    pub auth_time: i64,
    pub amr: &'a [String],
    pub confirmed: bool,
}

/// The access token's claims.
pub fn access_claims(iss: &str, now: i64, s: &Subject<'_>) -> Value {
    json!({
        "nbf": now,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "iss": iss,
        "scope": scope_claim(s.scope, s.oid),
        "urn:esia:sid": s.sid,
        "urn:esia:sbj_id": oid_value(s.oid),
        "client_id": s.client_id,
    })
}

/// The ID token's claims.
pub fn id_claims(iss: &str, now: i64, s: &Subject<'_>) -> Value {
    let methods = esia_methods(s.amr);
    let mut sbj = Map::new();
    sbj.insert("urn:esia:sbj:typ".into(), "P".into());
    if s.confirmed {
        sbj.insert("urn:esia:sbj:is_tru".into(), true.into());
    }
    sbj.insert("urn:esia:sbj:oid".into(), oid_value(s.oid));
    sbj.insert("urn:esia:sbj:nam".into(), format!("OID.{}", s.oid).into());
    // The strongest method first: a signature outranks a password.
    let amd = if methods.iter().any(|m| m == "DS") {
        "DS".to_owned()
    } else {
        methods.first().cloned().unwrap_or_else(|| "PWD".to_owned())
    };
    json!({
        "aud": s.client_id,
        "sub": oid_value(s.oid),
        "nbf": now,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "auth_time": s.auth_time,
        "iss": iss,
        "urn:esia:sid": s.sid,
        "amr": methods,
        "urn:esia:amd": amd,
        "urn:esia:sbj": Value::Object(sbj),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_claim_suffixes_personal_scopes() {
        assert_eq!(
            scope_claim("openid mobile email offline_access", "1019797391"),
            "email?oid=1019797391 mobile?oid=1019797391 openid"
        );
        assert_eq!(
            scope_names("email?oid=1 openid mobile?oid=1"),
            vec!["email", "openid", "mobile"]
        );
    }

    #[test]
    fn dev_keys_sign_and_verify_both_algorithms() {
        let dev = EsiaConfig {
            dev_keys: true,
            ..EsiaConfig::default()
        };
        let s = signers(&dev).unwrap();
        for alg in [TokenAlg::Rs256, TokenAlg::Gost] {
            let t = s.sign(alg, "access", &json!({"a": 1})).unwrap();
            let (h, c) = s.verify(&t).unwrap();
            assert_eq!(h["alg"], alg.as_str());
            assert_eq!(h["sbt"], "access");
            assert_eq!(h["ver"], 1);
            assert_eq!(c["a"], 1);
            let mut bad = t.clone();
            bad.insert(t.find('.').unwrap() + 2, 'x');
            assert!(s.verify(&bad).is_none());
        }
    }

    #[test]
    fn outside_dev_the_public_dev_keys_are_refused() {
        let err = signers(&EsiaConfig::default()).err().unwrap();
        assert!(err.contains("[esia] rsa_key is not set"), "{err}");
    }
}
