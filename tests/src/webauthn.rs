//! A software WebAuthn authenticator for the tests: a P-256 key (ring), `clientDataJSON`,
//! authenticator data with the UP/UV/AT flags and a signature counter, a "none" attestation
//! object in CBOR (encoded by hand: a few maps, byte and text strings), and assertion
//! signatures. It answers the JSON options the server sends with the JSON a browser would
//! post (base64url without padding), so the server's real checks run.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

/// One credential held by the software authenticator.
pub struct SoftAuthenticator {
    pkcs8: Vec<u8>,
    pub credential_id: Vec<u8>,
    /// The signature counter; the next signature uses `counter + step` (0: no counter).
    pub counter: u32,
    pub step: u32,
    /// Whether the authenticator reports user verification (PIN or biometrics).
    pub user_verified: bool,
    /// The origin the "browser" puts in client data, e.g. `http://localhost:8080`.
    pub origin: String,
    /// The user handle stored at registration (returned by discoverable logins).
    pub user_handle: Option<Vec<u8>>,
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .expect("base64url in the options")
}

impl SoftAuthenticator {
    /// A new credential for pages served at `origin`.
    pub fn new(origin: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("P-256 key")
            .as_ref()
            .to_vec();
        let mut credential_id = vec![0u8; 32];
        rng.fill(&mut credential_id).expect("random id");
        SoftAuthenticator {
            pkcs8,
            credential_id,
            counter: 0,
            step: 1,
            user_verified: true,
            origin: origin.to_string(),
            user_handle: None,
        }
    }

    /// A copy of this credential (same key, id and counter): what a cloned authenticator is.
    pub fn clone_device(&self) -> Self {
        SoftAuthenticator {
            pkcs8: self.pkcs8.clone(),
            credential_id: self.credential_id.clone(),
            counter: self.counter,
            step: self.step,
            user_verified: self.user_verified,
            origin: self.origin.clone(),
            user_handle: self.user_handle.clone(),
        }
    }

    fn key(&self) -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &self.pkcs8,
            &SystemRandom::new(),
        )
        .expect("key")
    }

    fn flags(&self) -> u8 {
        FLAG_UP | if self.user_verified { FLAG_UV } else { 0 }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false
        })
        .to_string()
        .into_bytes()
    }

    /// Answers creation options (`{"publicKey": {...}}`) like `navigator.credentials.create`.
    pub fn create(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let challenge = pk["challenge"].as_str().expect("challenge");
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id");
        self.user_handle = pk["user"]["id"].as_str().map(unb64);
        self.counter += self.step;
        let client = self.client_data("webauthn.create", challenge);
        let key = self.key();
        let point = key.public_key().as_ref(); // 0x04 || x || y
        let cose = cose_p256(&point[1..33], &point[33..65]);
        let mut auth = rp_hash(rp_id);
        auth.push(self.flags() | FLAG_AT);
        auth.extend_from_slice(&self.counter.to_be_bytes());
        auth.extend_from_slice(&[0u8; 16]); // AAGUID
        auth.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth.extend_from_slice(&self.credential_id);
        auth.extend_from_slice(&cose);
        let mut att = vec![0xa3];
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        att.push(0xa0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &auth);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&att),
                "clientDataJSON": b64(&client),
                "transports": ["internal"]
            },
            "clientExtensionResults": {}
        })
    }

    /// Answers request options like `navigator.credentials.get`.
    pub fn get(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let challenge = pk["challenge"].as_str().expect("challenge");
        let rp_id = pk["rpId"].as_str().expect("rpId");
        self.assert_with(challenge, rp_id)
    }

    /// An assertion over `challenge` for `rp_id` (also for forged challenges in tests).
    pub fn assert_with(&mut self, challenge: &str, rp_id: &str) -> Value {
        self.counter += self.step;
        let client = self.client_data("webauthn.get", challenge);
        let mut auth = rp_hash(rp_id);
        auth.push(self.flags());
        auth.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = auth.clone();
        signed.extend_from_slice(digest(&SHA256, &client).as_ref());
        let sig = self
            .key()
            .sign(&SystemRandom::new(), &signed)
            .expect("signature");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth),
                "clientDataJSON": b64(&client),
                "signature": b64(sig.as_ref()),
                "userHandle": self.user_handle.as_deref().map(b64)
            },
            "clientExtensionResults": {}
        })
    }
}

fn rp_hash(rp_id: &str) -> Vec<u8> {
    digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec()
}

/// A COSE_Key map for an ES256 public key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
fn cose_p256(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    cbor_bytes(&mut out, x);
    out.push(0x22);
    cbor_bytes(&mut out, y);
    out
}

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    let m = major << 5;
    if len < 24 {
        out.push(m | len as u8);
    } else if len < 256 {
        out.push(m | 24);
        out.push(len as u8);
    } else {
        out.push(m | 25);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len());
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len());
    out.extend_from_slice(s.as_bytes());
}
