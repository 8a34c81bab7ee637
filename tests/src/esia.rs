//! What an ESIA client system does on its side, for the suites that speak ESIA's dialect:
//! the system's dev keys, `openssl` (with the GOST engine where asked), the legacy RSA CMS
//! `client_secret`, ESIA's `timestamp` format and random `state` UUIDs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A file of the client systems' dev key material (`keys/esia/systems`).
pub fn keys(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../keys/esia/systems")
        .join(file)
}

/// A scratch file path, unique in this process.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("esia-client-{}-{n}-{name}", std::process::id()))
}

/// Runs `openssl` and insists that it succeeds.
pub fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command is required");
    assert!(
        out.status.success(),
        "openssl {args:?} failed (gost engine: libengine-gost-openssl): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `client_secret` of the legacy endpoints: a detached CMS signature (DER, base64url) by the
/// system's RSA key, made by `openssl cms`.
pub fn cms_secret(message: &str) -> String {
    let (msg, sig) = (scratch("msg"), scratch("sig"));
    std::fs::write(&msg, message).expect("write the message");
    openssl(&[
        "cms",
        "-sign",
        "-binary",
        "-md",
        "sha256",
        "-in",
        s(&msg),
        "-signer",
        s(&keys("is-rsa.pem")),
        "-inkey",
        s(&keys("is-rsa.key")),
        "-outform",
        "DER",
        "-out",
        s(&sig),
    ]);
    let der = std::fs::read(&sig).expect("the signature");
    let _ = (std::fs::remove_file(&msg), std::fs::remove_file(&sig));
    URL_SAFE_NO_PAD.encode(der)
}

/// `yyyy.MM.dd HH:mm:ss +0300` for a unix time (in Moscow time, as ESIA clients send it).
pub fn timestamp(unix: i64) -> String {
    let t = unix + 3 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}.{m:02}.{d:02} {:02}:{:02}:{:02} +0300",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A random (version 4) UUID, as ESIA's `state`.
pub fn uuid() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("random");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
