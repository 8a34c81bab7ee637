//! The single requests the scenarios repeat, each checked the way a relying party would, and
//! a user's current tokens with the request parts made once per token.

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};

use crate::flow::Tokens;
use crate::http::{Conn, Error, Req, form_body};

/// POST /token grant_type=refresh_token; the answer's tokens (with the next refresh token).
pub async fn refresh(conn: &mut Conn, auth: &HeaderValue, token: &str) -> Result<Tokens, Error> {
    let req = Req::form(
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .header(header::AUTHORIZATION, auth.clone());
    let resp = conn.send(req).await?;
    expect_ok(resp.status)?;
    let next: Tokens = serde_json::from_slice(&resp.body)?;
    if next.refresh_token.is_none() {
        return Err("the refresh gave no new refresh token".into());
    }
    Ok(next)
}

/// GET /userinfo with a bearer access token.
pub async fn userinfo(conn: &mut Conn, bearer: &HeaderValue) -> Result<(), Error> {
    let req = Req::get("/userinfo").header(header::AUTHORIZATION, bearer.clone());
    expect_ok(conn.send(req).await?.status)
}

/// POST /introspect of a token that must be active.
pub async fn introspect(conn: &mut Conn, auth: &HeaderValue, body: &Bytes) -> Result<(), Error> {
    let req =
        Req::form_body("/introspect", body.clone()).header(header::AUTHORIZATION, auth.clone());
    let resp = conn.send(req).await?;
    expect_ok(resp.status)?;
    if !resp.text().contains("\"active\":true") {
        return Err("introspection reported the token inactive".into());
    }
    Ok(())
}

/// POST /token grant_type=client_credentials (`body` is that form, made once).
pub async fn client_credentials(
    conn: &mut Conn,
    auth: &HeaderValue,
    body: &Bytes,
) -> Result<(), Error> {
    let req = Req::form_body("/token", body.clone()).header(header::AUTHORIZATION, auth.clone());
    expect_ok(conn.send(req).await?.status)
}

/// The form of a client-credentials request.
pub fn client_credentials_body() -> Bytes {
    form_body(&[("grant_type", "client_credentials")])
}

pub fn expect_ok(status: StatusCode) -> Result<(), Error> {
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}").into())
    }
}

/// A user's current tokens: the `Authorization: Bearer` header and introspection form of the
/// access token, and the refresh token (each refresh or code exchange replaces them).
pub struct UserTokens {
    pub bearer: HeaderValue,
    pub introspect_body: Bytes,
    pub refresh: Option<String>,
}

impl UserTokens {
    pub fn new(t: Tokens) -> Result<Self, Error> {
        Ok(Self {
            bearer: HeaderValue::from_str(&format!("Bearer {}", t.access_token))?,
            introspect_body: form_body(&[("token", &t.access_token)]),
            refresh: t.refresh_token,
        })
    }

    /// Takes newer tokens; a refresh token absent from them keeps the current one.
    pub fn replace(&mut self, t: Tokens) -> Result<(), Error> {
        let keep = self.refresh.take();
        *self = Self::new(t)?;
        if self.refresh.is_none() {
            self.refresh = keep;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(access: &str, refresh: Option<&str>) -> Tokens {
        Tokens {
            access_token: access.into(),
            refresh_token: refresh.map(str::to_owned),
        }
    }

    #[test]
    fn newer_tokens_replace_the_parts_and_keep_a_refresh_token_not_reissued() {
        let mut t = UserTokens::new(tokens("a1", Some("r1"))).unwrap();
        assert_eq!(t.bearer.to_str().ok(), Some("Bearer a1"));
        assert_eq!(&t.introspect_body[..], b"token=a1");
        t.replace(tokens("a2", None)).unwrap();
        assert_eq!(t.bearer.to_str().ok(), Some("Bearer a2"));
        assert_eq!(t.refresh.as_deref(), Some("r1"));
        t.replace(tokens("a3", Some("r3"))).unwrap();
        assert_eq!(t.refresh.as_deref(), Some("r3"));
    }
}
