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
    let mut crl = CertificateList::from_der(&pem_body(&dev("gost-ca.crl.pem")).unwrap()).unwrap();
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
