//! TOTP (RFC 6238): 6 digits, a 30-second step, HMAC-SHA-1, a window of one step either
//! side. Pure functions (no I/O): the caller supplies the time and remembers the last step
//! it accepted, so a code is accepted only once.

use ring::hmac;

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (clock drift).
pub const WINDOW: i64 = 1;

/// The time step of Unix time `now`.
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP)
}

/// The HOTP value (RFC 4226) of `secret` for counter `counter`, with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    let value = bin % 10u32.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The 6-digit code of `secret` at Unix time `now`.
pub fn code_at(secret: &[u8], now: i64) -> String {
    hotp(secret, step_at(now).max(0) as u64, DIGITS)
}

/// Checks `code` at time `now`: returns the step it matches (within ±[`WINDOW`]) if that
/// step is later than `last_step` (the last accepted one), else None. Spaces are ignored;
/// the comparison is constant-time per candidate.
pub fn verify(secret: &[u8], code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut found = None;
    for step in (current - WINDOW)..=(current + WINDOW) {
        if step < 0 {
            continue;
        }
        let candidate = hotp(secret, step as u64, DIGITS);
        if crate::crypto::constant_time_eq(candidate.as_bytes(), code.as_bytes()) && found.is_none()
        {
            found = Some(step);
        }
    }
    found.filter(|s| *s > last_step)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps expect).
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let c = c.to_ascii_uppercase() as u8;
        let v = BASE32.iter().position(|&x| x == c)? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/...` URI that authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32_encode(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits; the seed is "12345678901234567890").
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        let cases = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, want) in cases {
            assert_eq!(hotp(seed, step_at(t) as u64, 8), want, "T = {t}");
            assert_eq!(code_at(seed, t), want[2..], "6 digits at T = {t}");
        }
    }

    #[test]
    fn window_and_single_use() {
        let seed = b"12345678901234567890";
        let now = 1_111_111_111;
        let code = code_at(seed, now);
        assert_eq!(verify(seed, &code, now, 0), Some(step_at(now)));
        // One step late or early is accepted, two are not.
        assert_eq!(verify(seed, &code, now + STEP, 0), Some(step_at(now)));
        assert_eq!(verify(seed, &code, now - STEP, 0), Some(step_at(now)));
        assert_eq!(verify(seed, &code, now + 2 * STEP, 0), None);
        // Once its step is accepted, the code (and older ones) are refused.
        assert_eq!(verify(seed, &code, now, step_at(now)), None);
        assert_eq!(verify(seed, "12345", now, 0), None);
        assert_eq!(verify(seed, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(
            base32_encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZXW6YTB OI").unwrap(), b"foobar");
        assert!(base32_decode("1").is_none());
        let uri = otpauth_uri("Госуслуги", "+79000000001", b"foobar");
        assert!(uri.starts_with("otpauth://totp/%D0%93"));
        assert!(uri.contains("secret=MZXW6YTBOI&"));
    }
}
