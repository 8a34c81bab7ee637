//! The browser side of the authorization code flow, over plain HTTP: GET /authorize, the
//! login form (tx and csrf hidden fields plus the csrf cookie), the consent form, the
//! redirect back with a code, and the code exchange at /token.

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde::Deserialize;

use crate::http::{Conn, Error, Jar, Req, Resp, basic_auth};

/// Where the demo clients' redirect URI points (nothing needs to listen there).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8081/callback";
/// Scopes asked for user tokens: `openid` for userinfo, plus a claim set to release.
pub const USER_SCOPE: &str = "openid fullname email";

/// A confidential client's credentials.
#[derive(Clone, Debug)]
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
}

impl ClientCreds {
    pub fn basic(&self) -> HeaderValue {
        basic_auth(&self.id, &self.secret)
    }
}

/// The token endpoint's answer (only what the load generator uses).
#[derive(Deserialize, Debug)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// The `/authorize` path for `client` asking for `USER_SCOPE`.
pub fn authorize_path(client: &ClientCreds, state: &str) -> String {
    authorize_path_with(client, state, None)
}

/// The same, with a PKCE challenge (S256) when given.
pub fn authorize_path_with(client: &ClientCreds, state: &str, pkce: Option<&Pkce>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", &client.id)
        .append_pair("response_type", "code")
        .append_pair("scope", USER_SCOPE)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("state", state)
        .append_pair("nonce", state);
    if let Some(p) = pkce {
        query
            .append_pair("code_challenge", &p.challenge)
            .append_pair("code_challenge_method", "S256");
    }
    format!("/authorize?{}", query.finish())
}

/// A PKCE verifier and its S256 challenge (RFC 7636). One per worker: codes are single-use
/// anyway, and the server hashes the verifier on every exchange all the same.
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn random() -> Self {
        let verifier = idp::crypto::random_token(32);
        let challenge = idp::crypto::b64url(&idp::crypto::sha256(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// One authorization code exchange by a browser that is logged in and has consented:
/// GET `authorize` (built with `authorize_path_with` and `pkce`) must come straight back to
/// the client with a code, which is exchanged at /token with the verifier.
pub async fn code_with_session(
    conn: &mut Conn,
    session: &Jar,
    client: &ClientCreds,
    authorize: &str,
    pkce: &Pkce,
) -> Result<Tokens, Error> {
    let resp = conn.send(session.attach(Req::get(authorize))).await?;
    let code = match resp.location().map(code_from) {
        Some(Ok(Some(code))) => code,
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(format!(
                "/authorize with a session answered {} (Location {:?}), not a code",
                resp.status,
                resp.location()
            )
            .into());
        }
    };
    exchange_code(conn, client, &code, Some(&pkce.verifier)).await
}

/// A simulated browser: one connection and a cookie jar (CSRF and SSO session cookies).
pub struct Browser {
    pub conn: Conn,
    pub jar: Jar,
}

impl Browser {
    /// Runs the front channel to its end (logging in and consenting when asked) and returns
    /// the authorization code from the redirect back to the client.
    pub async fn code(
        &mut self,
        client: &ClientCreds,
        login: &str,
        password: &str,
    ) -> Result<String, Error> {
        self.code_via(&authorize_path(client, "bench"), login, password)
            .await
    }

    /// The same, starting at any authorization path (ESIA's `/aas/oauth2/v2/ac?…`).
    pub async fn code_via(
        &mut self,
        start: &str,
        login: &str,
        password: &str,
    ) -> Result<String, Error> {
        let mut resp = self.get(start).await?;
        for _ in 0..8 {
            if let Some(loc) = resp.location().map(str::to_owned) {
                if let Some(code) = code_from(&loc)? {
                    return Ok(code);
                }
                resp = self.get(&local_path(&loc)?).await?;
                continue;
            }
            let html = resp.text().to_owned();
            if html.contains("name=\"password\"") {
                resp = self
                    .post(
                        "/login",
                        &[
                            ("tx", &hidden(&html, "tx")?),
                            ("csrf", &hidden(&html, "csrf")?),
                            ("login", login),
                            ("password", password),
                        ],
                    )
                    .await?;
            } else if html.contains("name=\"decision\"") {
                resp = self
                    .post(
                        "/consent",
                        &[
                            ("tx", &hidden(&html, "tx")?),
                            ("csrf", &hidden(&html, "csrf")?),
                            ("decision", "allow"),
                        ],
                    )
                    .await?;
            } else {
                return Err(
                    format!("unexpected page ({}): {}", resp.status, snippet(&html)).into(),
                );
            }
        }
        Err("the authorization flow did not finish".into())
    }

    async fn get(&mut self, path: &str) -> Result<Resp, Error> {
        let resp = self.conn.send(self.jar.attach(Req::get(path))).await?;
        self.jar.store(&resp, &[]);
        Ok(resp)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<Resp, Error> {
        let resp = self
            .conn
            .send(self.jar.attach(Req::form(path, form)))
            .await?;
        self.jar.store(&resp, &[]);
        Ok(resp)
    }
}

/// One full password login as the `login` scenario counts it: GET /authorize (no session, so
/// the provider asks to log in), GET the login page, POST the password; success is the
/// redirect back to the client with a code. Only the CSRF cookie is kept between logins.
pub async fn password_login(
    conn: &mut Conn,
    jar: &mut Jar,
    client: &ClientCreds,
    login: &str,
    password: &str,
) -> Result<(), Error> {
    let resp = conn
        .send(jar.attach(Req::get(authorize_path(client, "login"))))
        .await?;
    let login_page = match (resp.status, resp.location()) {
        (StatusCode::SEE_OTHER | StatusCode::FOUND, Some(l)) => local_path(l)?,
        _ => return Err(format!("/authorize answered {}", resp.status).into()),
    };
    let page = conn.send(jar.attach(Req::get(login_page))).await?;
    jar.store(&page, &["idp_csrf"]);
    if page.status != StatusCode::OK {
        return Err(format!("the login page answered {}", page.status).into());
    }
    let html = page.text();
    let form = [
        ("tx", hidden(html, "tx")?),
        ("csrf", hidden(html, "csrf")?),
        ("login", login.to_owned()),
        ("password", password.to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = conn.send(jar.attach(Req::form("/login", &pairs))).await?;
    match done.location().map(code_from) {
        Some(Ok(Some(_))) => Ok(()),
        _ => Err(format!(
            "the login POST answered {} (Location {:?})",
            done.status,
            done.location()
        )
        .into()),
    }
}

/// Exchanges an authorization code at /token (client_secret_basic), with the PKCE verifier
/// when the code was asked for with a challenge.
pub async fn exchange_code(
    conn: &mut Conn,
    client: &ClientCreds,
    code: &str,
    verifier: Option<&str>,
) -> Result<Tokens, Error> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let req = Req::form("/token", &form).header(header::AUTHORIZATION, client.basic());
    let resp = conn.send(req).await?;
    if resp.status != StatusCode::OK {
        return Err(format!(
            "code exchange answered {}: {}",
            resp.status,
            snippet(resp.text())
        )
        .into());
    }
    Ok(serde_json::from_slice(&resp.body)?)
}

/// The code in a redirect to the client, `None` for a redirect inside the provider.
pub fn code_from(location: &str) -> Result<Option<String>, Error> {
    if !location.starts_with(REDIRECT_URI) {
        return Ok(None);
    }
    let url = url::Url::parse(location)?;
    let mut code = None;
    for (k, v) in url.query_pairs() {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "error" => return Err(format!("the provider redirected with error={v}").into()),
            _ => {}
        }
    }
    code.map(Some)
        .ok_or_else(|| "redirect to the client without a code".into())
}

/// The path and query of a redirect inside the provider (relative or absolute).
fn local_path(location: &str) -> Result<String, Error> {
    if location.starts_with('/') {
        return Ok(location.to_owned());
    }
    let url = url::Url::parse(location)?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

/// The value of hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> Result<String, Error> {
    let needle = format!("name=\"{name}\"");
    let at = html
        .find(&needle)
        .ok_or_else(|| format!("no field {name} in page: {}", snippet(html)))?;
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag_end = at + html[at..].find('>').unwrap_or(0);
    let tag = &html[tag_start..tag_end];
    let value = tag.find("value=\"").map(|i| &tag[i + 7..]).unwrap_or("");
    Ok(value[..value.find('"').unwrap_or(0)].to_owned())
}

fn snippet(s: &str) -> &str {
    let mut end = s.len().min(300);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_reads_value_in_either_attribute_order() {
        let html = r#"<form><input type="hidden" name="tx" value="abc"><input value="x1" name="csrf" type="hidden"></form>"#;
        assert_eq!(hidden(html, "tx").ok().as_deref(), Some("abc"));
        assert_eq!(hidden(html, "csrf").ok().as_deref(), Some("x1"));
        assert!(hidden(html, "nope").is_err());
    }

    #[test]
    fn code_only_from_redirects_to_the_client() {
        let ok = format!("{REDIRECT_URI}?code=c1&state=s");
        assert_eq!(code_from(&ok).ok().flatten().as_deref(), Some("c1"));
        assert!(matches!(code_from("/login?tx=1"), Ok(None)));
        let denied = format!("{REDIRECT_URI}?error=access_denied");
        assert!(code_from(&denied).is_err());
    }

    #[test]
    fn pkce_challenge_is_the_s256_of_the_verifier() {
        let p = Pkce::random();
        let challenge = idp::protocol::pkce::CodeChallenge::parse(&p.challenge, Some("S256"));
        assert!(challenge.is_ok_and(|c| c.verify(&p.verifier)));
        let client = ClientCreds {
            id: "c".into(),
            secret: "s".into(),
        };
        let path = authorize_path_with(&client, "st", Some(&p));
        assert!(path.ends_with(&format!(
            "&code_challenge={}&code_challenge_method=S256",
            p.challenge
        )));
        assert!(!authorize_path(&client, "st").contains("code_challenge"));
    }

    #[test]
    fn local_path_keeps_query() {
        assert_eq!(
            local_path("http://127.0.0.1:1/login?tx=a").ok().as_deref(),
            Some("/login?tx=a")
        );
        assert_eq!(
            local_path("/consent?tx=b").ok().as_deref(),
            Some("/consent?tx=b")
        );
    }
}
