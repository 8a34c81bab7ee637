//! Reading the provider's JWTs the way a relying party would: decode the parts, and verify
//! the signature against the published JWKS (key by `kid`, algorithm from the header, which
//! must match the key type), with `ring` rather than the provider's own code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature;
use serde_json::Value;

use crate::TestApp;

/// The decoded (header, claims) of a compact JWS, without checking anything.
pub fn decode(jwt: &str) -> (Value, Value) {
    let part = |i: usize| -> Value {
        let b64 = jwt.split('.').nth(i).expect("three parts");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).expect("base64url")).expect("json")
    };
    (part(0), part(1))
}

/// Verifies a JWT's signature against the provider's JWKS and returns (header, claims);
/// panics when it does not verify.
pub async fn verify(app: &TestApp, jwt: &str) -> (Value, Value) {
    let (header, claims) = decode(jwt);
    let resp = reqwest::get(app.url("/jwks")).await.expect("jwks");
    assert_eq!(resp.status(), 200);
    let set: Value = resp.json().await.expect("jwks json");
    let key = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("kid {} not in the JWKS", header["kid"]));
    let b64 = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(key[name].as_str().expect("jwk member"))
            .expect("base64url")
    };
    let (input, sig) = jwt.rsplit_once('.').expect("signature");
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("signature base64url");
    let ok = match (header["alg"].as_str(), key["kty"].as_str()) {
        (Some("ES256"), Some("EC")) => {
            let point = [vec![4u8], b64("x"), b64("y")].concat();
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(input.as_bytes(), &sig)
                .is_ok()
        }
        (Some("RS256"), Some("RSA")) => signature::RsaPublicKeyComponents {
            n: b64("n"),
            e: b64("e"),
        }
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &sig,
        )
        .is_ok(),
        other => panic!("unexpected alg/kty {other:?}"),
    };
    assert!(ok, "the signature of {header} does not verify");
    (header, claims)
}
