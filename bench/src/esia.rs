//! The `esia-refresh-v3` scenario's client system: ESIA's current token exchange
//! (`POST /aas/oauth2/v3/te`, `grant_type=refresh_token`) with a raw GOST R 34.10-2012
//! `client_secret` signed afresh for every request (timestamp, state and refresh token
//! change each time). The signing runs in the load generator, with the provider's own GOST
//! code (`idp::esia`), over the test system key of `keys/esia/systems/`.

use idp::esia::certificate::{GostCertificate, parse_private_key};
use idp::esia::gost::PrivateKey;

use crate::flow::{Browser, REDIRECT_URI};
use crate::http::{Conn, Error, Req};

/// Scopes of the ESIA grants.
pub const SCOPE: &str = "openid fullname";

/// A registered client system: its mnemonic, key and certificate hash.
/// (`Debug` shows the key's curve only.)
#[derive(Clone, Debug)]
pub struct EsiaSystem {
    pub id: String,
    key: PrivateKey,
    hash: String,
}

impl EsiaSystem {
    pub fn load(id: &str, key: &std::path::Path, cert: &std::path::Path) -> Result<Self, Error> {
        let key = parse_private_key(&std::fs::read(key)?)
            .map_err(|e| format!("ESIA system key {}: {e}", key.display()))?;
        let cert = GostCertificate::parse(&std::fs::read(cert)?)
            .map_err(|e| format!("ESIA system certificate {}: {e}", cert.display()))?;
        Ok(Self {
            id: id.to_owned(),
            key,
            hash: cert.esia_hash(),
        })
    }

    fn sign(&self, text: &str) -> String {
        self.key.sign(text.as_bytes()).to_base64url()
    }

    /// `/aas/oauth2/v2/ac?…` for an offline grant, signed now.
    pub fn authorize_path(&self) -> String {
        let (ts, st) = (timestamp(), uuid());
        let secret = self.sign(&format!("{}{SCOPE}{ts}{st}{REDIRECT_URI}", self.id));
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.id)
            .append_pair("scope", SCOPE)
            .append_pair("timestamp", &ts)
            .append_pair("state", &st)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("response_type", "code")
            .append_pair("access_type", "offline")
            .append_pair("client_certificate_hash", &self.hash)
            .append_pair("client_secret", &secret)
            .finish();
        format!("/aas/oauth2/v2/ac?{q}")
    }

    /// The `/v3/te` form for `grant` = ("code", code) or ("refresh_token", token).
    pub fn token_request(&self, grant: (&str, &str)) -> Req {
        let (ts, st) = (timestamp(), uuid());
        let (grant_type, signed) = if grant.0 == "code" {
            (
                "authorization_code",
                format!("{}{SCOPE}{ts}{st}{REDIRECT_URI}{}", self.id, grant.1),
            )
        } else {
            (
                "refresh_token",
                format!("{}{SCOPE}{ts}{st}{}", self.id, grant.1),
            )
        };
        let secret = self.sign(&signed);
        Req::form(
            "/aas/oauth2/v3/te",
            &[
                ("client_id", &self.id),
                (grant.0, grant.1),
                ("grant_type", grant_type),
                ("client_secret", &secret),
                ("state", &st),
                ("redirect_uri", REDIRECT_URI),
                ("scope", SCOPE),
                ("timestamp", &ts),
                ("token_type", "Bearer"),
                ("client_certificate_hash", &self.hash),
            ],
        )
    }
}

/// `n` refresh tokens from real ESIA logins (one browser, then its SSO session).
pub async fn refresh_tokens(
    system: &EsiaSystem,
    conn: impl Fn() -> Result<Conn, Error>,
    login: &str,
    password: &str,
    n: usize,
) -> Result<Vec<String>, Error> {
    let mut browser = Browser {
        conn: conn()?,
        jar: Default::default(),
    };
    let mut token_conn = conn()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let code = browser
            .code_via(&system.authorize_path(), login, password)
            .await?;
        let resp = token_conn
            .send(system.token_request(("code", &code)))
            .await?;
        if !resp.status.is_success() {
            return Err(format!(
                "/aas/oauth2/v3/te answered {}: {}",
                resp.status,
                resp.text()
            )
            .into());
        }
        out.push(refresh_of(&resp.body)?);
    }
    Ok(out)
}

/// The `refresh_token` of a token answer.
pub fn refresh_of(body: &[u8]) -> Result<String, Error> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    v.get("refresh_token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "the ESIA token answer has no refresh_token".into())
}

/// Now as `yyyy.MM.dd HH:mm:ss +0000`.
fn timestamp() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
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
        "{y:04}.{m:02}.{d:02} {:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A random UUID (version 4), ESIA's `state`.
fn uuid() -> String {
    let b = idp::crypto::random_bytes(16);
    let h: String = b
        .iter()
        .enumerate()
        .map(|(i, x)| match i {
            6 => format!("{:02x}", (x & 0x0f) | 0x40),
            8 => format!("{:02x}", (x & 0x3f) | 0x80),
            _ => format!("{x:02x}"),
        })
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_states_parse_as_the_provider_reads_them() {
        let t = idp::esia::client_secret::parse_timestamp(&timestamp()).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((t - now).abs() < 5);
        assert!(idp::esia::client_secret::is_uuid(&uuid()));
    }
}
