//! Small cryptographic helpers over `ring`: randomness, hashes, keyed hashes, sealing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{aead, digest, hmac};

pub mod password;

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS has no entropy source, which we cannot run without.
    SystemRandom::new()
        .fill(&mut buf)
        .unwrap_or_else(|_| panic!("the operating system's random generator failed"));
    buf
}

/// A random token of `bytes` bytes, base64url without padding (32 bytes = 256 bits).
pub fn random_token(bytes: usize) -> String {
    b64url(&random_bytes(bytes))
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn b64url_decode(data: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(data.trim_end_matches('=')).ok()
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

/// Lower-case hex of SHA-256: how single-use secrets (codes, refresh tokens, session ids) are stored.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Keys derived from the master key: one for sealing private keys, one for hashing client secrets.
#[derive(Clone)]
pub struct ServerSecrets {
    seal: aead::LessSafeKey,
    client_secret: hmac::Key,
    cookie: hmac::Key,
    code: hmac::Key,
}

impl ServerSecrets {
    /// Derives the sub-keys from a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| {
            let k = hmac::Key::new(hmac::HMAC_SHA256, master);
            hmac::sign(&k, label).as_ref().to_vec()
        };
        let seal_key = derive(b"idp/seal/v1");
        let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, &seal_key)
            .unwrap_or_else(|_| panic!("AES-256-GCM takes a 32-byte key"));
        Self {
            seal: aead::LessSafeKey::new(unbound),
            client_secret: hmac::Key::new(hmac::HMAC_SHA256, &derive(b"idp/client-secret/v1")),
            cookie: hmac::Key::new(hmac::HMAC_SHA256, &derive(b"idp/cookie/v1")),
            code: hmac::Key::new(hmac::HMAC_SHA256, &derive(b"idp/code/v1")),
        }
    }

    /// Encrypts with AES-256-GCM; output is nonce || ciphertext || tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes(12);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&nonce_bytes);
        let mut buf = plaintext.to_vec();
        self.seal
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut buf,
            )
            .unwrap_or_else(|_| panic!("AES-GCM sealing cannot fail for in-memory buffers"));
        let mut out = nonce_bytes;
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts what [`seal`](Self::seal) produced; `None` if the key is wrong or data tampered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 + 16 {
            return None;
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&sealed[..12]);
        let mut buf = sealed[12..].to_vec();
        let plain = self
            .seal
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut buf,
            )
            .ok()?;
        Some(plain.to_vec())
    }

    /// Keyed hash of a client secret (secrets are random, so a fast keyed hash is enough).
    pub fn hash_client_secret(&self, secret: &str) -> String {
        hex(hmac::sign(&self.client_secret, secret.as_bytes()).as_ref())
    }

    /// Checks a presented client secret against its stored keyed hash in constant time.
    pub fn verify_client_secret(&self, secret: &str, stored_hex: &str) -> bool {
        constant_time_eq(
            self.hash_client_secret(secret).as_bytes(),
            stored_hex.as_bytes(),
        )
    }

    /// Keyed hash of a one-time code, bound to what it proves (`subject`), so a leaked table
    /// cannot be brute-forced offline.
    pub fn code_hash(&self, subject: &str, code: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.code);
        ctx.update(subject.as_bytes());
        ctx.update(&[0]);
        ctx.update(code.as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// MAC used to bind CSRF tokens to the browser's cookie.
    pub fn cookie_mac(&self, data: &[u8]) -> String {
        b64url(hmac::sign(&self.cookie, data).as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_tamper() {
        let s = ServerSecrets::from_master(&[7u8; 32]);
        let sealed = s.seal(b"private key");
        assert_eq!(s.open(&sealed).as_deref(), Some(&b"private key"[..]));
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(s.open(&bad).is_none());
        let other = ServerSecrets::from_master(&[8u8; 32]);
        assert!(other.open(&sealed).is_none());
    }

    #[test]
    fn client_secret_hash_verifies_only_the_same_secret() {
        let s = ServerSecrets::from_master(&[1u8; 32]);
        let h = s.hash_client_secret("s3cret");
        assert!(s.verify_client_secret("s3cret", &h));
        assert!(!s.verify_client_secret("s3creT", &h));
    }
}
