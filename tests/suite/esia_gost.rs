//! GOST R 34.10-2012 and Streebog against an independent implementation: the `openssl` command
//! with Debian's gost engine (`libengine-gost-openssl`; `scripts/test.sh` installs it). No
//! server is needed, so these are plain tests. They fail (never skip) when the engine is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use idp::esia::certificate::{
    GostCertificate, certificate_hash, parse_private_key, parse_public_key,
};
use idp::esia::gost::{Curve, PrivateKey, Signature, hex_upper};

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("esia-gost-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command is required (Debian package openssl)")
}

/// Runs `openssl` and insists on success.
fn openssl(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed (is libengine-gost-openssl installed? scripts/test.sh installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A GOST key pair and a self-signed certificate (DER) made by openssl on `paramset`.
fn make_key_and_cert(dir: &Scratch, name: &str, paramset: &str) -> (PathBuf, PathBuf) {
    let key = dir.path(&format!("{name}.key.pem"));
    let cert = dir.path(&format!("{name}.cer"));
    openssl(&[
        "genpkey",
        "-engine",
        "gost",
        "-algorithm",
        "gost2012_256",
        "-pkeyopt",
        &format!("paramset:{paramset}"),
        "-out",
        s(&key),
    ]);
    openssl(&[
        "req",
        "-engine",
        "gost",
        "-x509",
        "-new",
        "-key",
        s(&key),
        "-subj",
        &format!("/CN={name}/O=Test IS"),
        "-days",
        "30",
        "-md_gost12_256",
        "-outform",
        "DER",
        "-out",
        s(&cert),
    ]);
    (key, cert)
}

/// openssl's public key of a certificate, as PEM, for `dgst -verify`.
fn public_pem(dir: &Scratch, cert: &Path) -> PathBuf {
    let pem = dir.path("pub.pem");
    let out = openssl(&[
        "x509",
        "-engine",
        "gost",
        "-inform",
        "DER",
        "-in",
        s(cert),
        "-pubkey",
        "-noout",
    ]);
    std::fs::write(&pem, out).unwrap();
    pem
}

fn openssl_sign(dir: &Scratch, key: &Path, message: &[u8]) -> Vec<u8> {
    let msg = dir.path("msg.bin");
    let sig = dir.path("msg.sig");
    std::fs::write(&msg, message).unwrap();
    openssl(&[
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-sign",
        s(key),
        "-out",
        s(&sig),
        s(&msg),
    ]);
    std::fs::read(&sig).unwrap()
}

/// `openssl dgst -verify`: true for "Verified OK", false for a refusal.
fn openssl_verifies(dir: &Scratch, public: &Path, message: &[u8], signature: &[u8]) -> bool {
    let msg = dir.path("verify.bin");
    let sig = dir.path("verify.sig");
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&sig, signature).unwrap();
    let out = run(&[
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-verify",
        s(public),
        "-signature",
        s(&sig),
        s(&msg),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success() && stdout.contains("Verified OK");
    assert!(
        ok || stdout.contains("Verification failure"),
        "openssl dgst -verify neither verified nor refused: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok
}

/// The big-endian private key `d` that `openssl pkey -text` prints ("Private key: HEX").
fn openssl_private_key(key: &Path) -> Vec<u8> {
    let text = openssl(&["pkey", "-engine", "gost", "-in", s(key), "-text", "-noout"]);
    let hex = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Private key:"))
        .expect("openssl pkey -text prints the private key")
        .trim();
    let hex = format!("{hex:0>64}");
    (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

const ESIA_STRING: &[u8] =
    "TESTISopenid fullname2026.11.22 15:00:00 +03002b3f6ea4-5c0e-4a2b-9d47-1e8f0a6c3d21https://is.example/cb"
        .as_bytes();

/// Every parameter set the engine offers for 256-bit keys: its signatures verify with our code,
/// a tampered message or another key does not.
#[test]
fn openssl_signatures_verify_on_every_paramset() {
    let dir = Scratch::new("paramsets");
    let expected = [
        ("A", "id-GostR3410-2001-CryptoPro-A-ParamSet"),
        ("B", "id-GostR3410-2001-CryptoPro-B-ParamSet"),
        ("C", "id-GostR3410-2001-CryptoPro-C-ParamSet"),
        ("XA", "id-GostR3410-2001-CryptoPro-A-ParamSet"),
        ("XB", "id-GostR3410-2001-CryptoPro-C-ParamSet"),
        ("TCA", "id-tc26-gost-3410-2012-256-paramSetA"),
        ("TCB", "id-GostR3410-2001-CryptoPro-A-ParamSet"),
    ];
    let (_, other_cert) = make_key_and_cert(&dir, "other", "TCA");
    let other = GostCertificate::parse(&std::fs::read(&other_cert).unwrap()).unwrap();
    for (paramset, curve_name) in expected {
        let (key, cert) = make_key_and_cert(&dir, paramset, paramset);
        let cert = GostCertificate::parse(&std::fs::read(&cert).unwrap()).unwrap();
        assert_eq!(
            cert.public_key.curve().params.name,
            curve_name,
            "{paramset}"
        );
        let sig = openssl_sign(&dir, &key, ESIA_STRING);
        assert_eq!(sig.len(), 64);
        let sig = Signature::from_bytes(&sig).unwrap();
        assert!(cert.public_key.verify(ESIA_STRING, &sig), "{paramset}");
        let mut tampered = ESIA_STRING.to_vec();
        tampered[0] ^= 0x20;
        assert!(!cert.public_key.verify(&tampered, &sig), "{paramset}");
        assert!(!other.public_key.verify(ESIA_STRING, &sig), "{paramset}");
    }
}

/// Our signatures, with a key openssl generated, verify with `openssl dgst -verify`; our key
/// derivation gives the certificate's public key; tampering is refused by openssl.
#[test]
fn our_signatures_verify_with_openssl() {
    let dir = Scratch::new("ours");
    for paramset in ["TCA", "A", "B", "C"] {
        let (key, cert) = make_key_and_cert(&dir, paramset, paramset);
        let parsed = GostCertificate::parse(&std::fs::read(&cert).unwrap()).unwrap();
        let curve = Curve::by_name(parsed.public_key.curve().params.name).unwrap();
        let private = PrivateKey::from_be_bytes(curve, &openssl_private_key(&key)).unwrap();
        assert_eq!(
            private.public_key().to_le_xy(),
            parsed.public_key.to_le_xy()
        );

        let public = public_pem(&dir, &cert);
        let sig = private.sign(ESIA_STRING).to_bytes();
        assert!(
            openssl_verifies(&dir, &public, ESIA_STRING, &sig),
            "{paramset}"
        );
        assert!(!openssl_verifies(&dir, &public, b"another message", &sig));
        // r || s instead of s || r is refused: the order is part of the format.
        let mut swapped = sig;
        swapped.rotate_left(32);
        assert!(!openssl_verifies(&dir, &public, ESIA_STRING, &swapped));
    }
}

/// A CryptoPro-style (byte-reversed) signature is read by `Signature::from_reversed`.
#[test]
fn cryptopro_reversed_signature_is_accepted() {
    let dir = Scratch::new("reversed");
    let (key, cert) = make_key_and_cert(&dir, "rev", "TCA");
    let cert = GostCertificate::parse(&std::fs::read(&cert).unwrap()).unwrap();
    let mut sig = openssl_sign(&dir, &key, ESIA_STRING);
    sig.reverse();
    assert!(
        !cert
            .public_key
            .verify(ESIA_STRING, &Signature::from_bytes(&sig).unwrap())
    );
    assert!(
        cert.public_key
            .verify(ESIA_STRING, &Signature::from_reversed(&sig).unwrap())
    );
}

/// `client_certificate_hash` equals `openssl dgst -md_gost12_256` of the DER file, upper-cased;
/// PEM and DER parse to the same certificate.
#[test]
fn certificate_hash_matches_openssl() {
    let dir = Scratch::new("hash");
    let (_, cert) = make_key_and_cert(&dir, "hash", "TCA");
    let der = std::fs::read(&cert).unwrap();
    let out = openssl(&["dgst", "-engine", "gost", "-md_gost12_256", s(&cert)]);
    let theirs = out
        .lines()
        .find_map(|l| l.split_once("= ").map(|(_, h)| h.trim().to_uppercase()))
        .expect("openssl dgst prints NAME(file)= HEX");
    assert_eq!(theirs.len(), 64);
    let parsed = GostCertificate::parse(&der).unwrap();
    assert_eq!(parsed.esia_hash(), theirs);
    assert_eq!(certificate_hash(&der), theirs);

    let pem = openssl(&["x509", "-inform", "DER", "-in", s(&cert), "-outform", "PEM"]);
    let from_pem = GostCertificate::parse(pem.as_bytes()).unwrap();
    assert_eq!(from_pem.der, der);
    assert_eq!(from_pem.esia_hash(), theirs);
}

/// The self-signature openssl put on the certificate (GOST R 34.10-2012 over Streebog-256 of the
/// TBS part, RFC 4491 encoding s || r) verifies with the certificate's own key.
#[test]
fn self_signed_certificate_signature_verifies() {
    let dir = Scratch::new("selfsigned");
    for paramset in ["TCA", "A", "XB"] {
        let (_, cert) = make_key_and_cert(&dir, paramset, paramset);
        let mut der = std::fs::read(&cert).unwrap();
        assert!(
            GostCertificate::parse(&der).unwrap().self_signature_ok(),
            "{paramset}"
        );
        // Flip a bit of the signature value (the last byte of the DER): refused.
        if let Some(last) = der.last_mut() {
            *last ^= 1;
        }
        assert!(
            !GostCertificate::parse(&der).unwrap().self_signature_ok(),
            "{paramset}"
        );
    }
    // Another certificate's key does not verify this one.
    let (_, a) = make_key_and_cert(&dir, "a", "TCA");
    let (_, b) = make_key_and_cert(&dir, "b", "TCA");
    let mut a = GostCertificate::parse(&std::fs::read(&a).unwrap()).unwrap();
    a.public_key = GostCertificate::parse(&std::fs::read(&b).unwrap())
        .unwrap()
        .public_key;
    assert!(!a.self_signature_ok());
    assert_eq!(hex_upper(&[0xab, 0x01]), "AB01");
}

/// PKCS#8 private keys and SPKI public keys written by openssl's gost engine parse to the values
/// `openssl pkey -text` prints and to the certificate's key.
#[test]
fn openssl_key_files_parse() {
    let dir = Scratch::new("keyfiles");
    for paramset in ["TCA", "A", "B", "C", "XA", "XB"] {
        let (key, cert) = make_key_and_cert(&dir, paramset, paramset);
        let private = parse_private_key(&std::fs::read(&key).unwrap()).unwrap();
        assert_eq!(
            private.to_be_bytes().to_vec(),
            openssl_private_key(&key),
            "{paramset}"
        );
        let der = dir.path("key.der");
        openssl(&[
            "pkey",
            "-engine",
            "gost",
            "-in",
            s(&key),
            "-outform",
            "DER",
            "-out",
            s(&der),
        ]);
        let from_der = parse_private_key(&std::fs::read(&der).unwrap()).unwrap();
        assert_eq!(from_der.to_be_bytes(), private.to_be_bytes());

        let cert = GostCertificate::parse(&std::fs::read(&cert).unwrap()).unwrap();
        let pubout = openssl(&["pkey", "-engine", "gost", "-in", s(&key), "-pubout"]);
        let public = parse_public_key(pubout.as_bytes()).unwrap();
        assert_eq!(public.to_le_xy(), cert.public_key.to_le_xy(), "{paramset}");
        assert_eq!(
            private.public_key().to_le_xy(),
            public.to_le_xy(),
            "{paramset}"
        );
        // A signature by the parsed key verifies with the parsed public key and with openssl.
        let sig = private.sign(ESIA_STRING);
        assert!(public.verify(ESIA_STRING, &sig));
        let pem = public_pem(&dir, &dir.path(&format!("{paramset}.cer")));
        assert!(openssl_verifies(&dir, &pem, ESIA_STRING, &sig.to_bytes()));
    }
    assert!(
        parse_private_key(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
    );
    assert!(parse_public_key(b"garbage").is_err());
}
