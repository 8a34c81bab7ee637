//! PKCE (RFC 7636), S256 only: `plain` is refused.

use crate::crypto::{b64url, constant_time_eq, sha256};

/// A code challenge that passed the format check (43 base64url characters, method S256).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Accepts `method` S256 only (a missing method means `plain`, which we refuse).
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, &'static str> {
        match method {
            Some("S256") => {}
            Some("plain") | None => {
                return Err("code_challenge_method must be S256 (plain is not supported)");
            }
            Some(_) => return Err("unsupported code_challenge_method"),
        }
        if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
            return Err("code_challenge must be 43 base64url characters (S256)");
        }
        Ok(Self(challenge.to_owned()))
    }

    /// Checks a verifier: 43–128 unreserved characters whose S256 hash equals the challenge.
    pub fn verify(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        well_formed
            && constant_time_eq(
                b64url(&sha256(verifier.as_bytes())).as_bytes(),
                self.0.as_bytes(),
            )
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let c = CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("S256"))
            .unwrap();
        assert!(c.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!c.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
        assert!(!c.verify("short"));
    }

    #[test]
    fn plain_and_malformed_are_refused() {
        assert!(CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", None).is_err());
        assert!(
            CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("plain"))
                .is_err()
        );
        assert!(CodeChallenge::parse("too-short", Some("S256")).is_err());
        assert!(
            CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", Some("S256"))
                .is_err()
        );
    }
}
