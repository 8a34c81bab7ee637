//! One keep-alive HTTP/1.1 connection per worker, over either a bare hyper connection (the
//! default: the least client-side work per request) or a reqwest client limited to one idle
//! connection (kept to measure how much the client library itself costs). Cookies are
//! handled by hand (`Jar`) so each worker controls exactly what it sends.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// Which client library carries the requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    Hyper,
    Reqwest,
}

/// A request to the provider: a path (with query) relative to the base URL.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A POST of an `application/x-www-form-urlencoded` body.
    pub fn form(path: impl Into<String>, pairs: &[(&str, &str)]) -> Self {
        Self::form_body(path, form_body(pairs))
    }

    /// A POST of an already encoded form body (shared, so repeating it costs no copy).
    pub fn form_body(path: impl Into<String>, body: Bytes) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            headers: vec![(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )],
            body: Some(body),
        }
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// `application/x-www-form-urlencoded` encoding of `pairs`.
pub fn form_body(pairs: &[(&str, &str)]) -> Bytes {
    Bytes::from(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    )
}

/// A whole response, body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// One worker's connection to the provider.
pub struct Conn {
    base: url::Url,
    host: HeaderValue,
    inner: Inner,
}

enum Inner {
    Hyper(Option<SendRequest<Full<Bytes>>>),
    Reqwest(reqwest::Client),
}

/// Per request, for setup and the reqwest client; hyper runs are bounded by the runner.
const TIMEOUT: Duration = Duration::from_secs(30);

impl Conn {
    pub fn new(kind: ClientKind, base: &url::Url) -> Result<Self, Error> {
        let authority = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or("127.0.0.1")),
            None => base.host_str().unwrap_or("127.0.0.1").to_string(),
        };
        let inner = match kind {
            ClientKind::Hyper => Inner::Hyper(None),
            ClientKind::Reqwest => Inner::Reqwest(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_max_idle_per_host(1)
                    .http1_only()
                    .tcp_nodelay(true)
                    .no_proxy()
                    .timeout(TIMEOUT)
                    .build()?,
            ),
        };
        Ok(Self {
            base: base.clone(),
            host: HeaderValue::from_str(&authority)?,
            inner,
        })
    }

    /// Sends `req` and reads the whole response. A hyper connection that the server closed is
    /// reopened on the next request.
    pub async fn send(&mut self, req: Req) -> Result<Resp, Error> {
        match &mut self.inner {
            // No timer per request (it costs as much as a tenth of the client's work); the
            // runner bounds the whole run instead.
            Inner::Hyper(slot) => {
                let result = send_hyper(slot, &self.base, self.host.clone(), req).await;
                if result.is_err() {
                    *slot = None;
                }
                result
            }
            Inner::Reqwest(client) => {
                let url = self.base.join(&req.path)?;
                let mut builder = client.request(req.method, url);
                for (k, v) in req.headers {
                    builder = builder.header(k, v);
                }
                if let Some(b) = req.body {
                    builder = builder.body(b);
                }
                let resp = builder.send().await?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.bytes().await?;
                Ok(Resp {
                    status,
                    headers,
                    body,
                })
            }
        }
    }
}

async fn send_hyper(
    slot: &mut Option<SendRequest<Full<Bytes>>>,
    base: &url::Url,
    host: HeaderValue,
    req: Req,
) -> Result<Resp, Error> {
    if slot.as_ref().is_none_or(|s| s.is_closed()) {
        *slot = Some(connect(base).await?);
    }
    let Some(sender) = slot.as_mut() else {
        return Err("no connection".into());
    };
    sender.ready().await?;
    let mut builder = Request::builder()
        .method(req.method)
        .uri(req.path)
        .header(header::HOST, host);
    for (k, v) in req.headers {
        builder = builder.header(k, v);
    }
    let request = builder.body(Full::new(req.body.unwrap_or_default()))?;
    let resp = sender.send_request(request).await?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

async fn connect(base: &url::Url) -> Result<SendRequest<Full<Bytes>>, Error> {
    let addr = base
        .socket_addrs(|| Some(80))?
        .into_iter()
        .next()
        .ok_or("the base URL resolves to no address")?;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the connection closes; errors surface on the next send.
        let _ = conn.await;
    });
    Ok(sender)
}

/// The cookies one simulated browser holds (name → value), sent as one `Cookie` header.
#[derive(Default, Clone)]
pub struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Stores the `Set-Cookie`s of `resp` whose names are in `keep` (all when empty).
    pub fn store(&mut self, resp: &Resp, keep: &[&str]) {
        for v in resp.headers.get_all(header::SET_COOKIE) {
            let Some((name, rest)) = v.to_str().ok().and_then(|s| s.split_once('=')) else {
                continue;
            };
            if !keep.is_empty() && !keep.contains(&name) {
                continue;
            }
            let value = rest.split(';').next().unwrap_or("").to_string();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value));
            }
        }
    }

    /// The `Cookie` header for a request, if any cookie is held.
    pub fn header(&self) -> Option<(HeaderName, HeaderValue)> {
        if self.cookies.is_empty() {
            return None;
        }
        let joined = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&joined)
            .ok()
            .map(|v| (header::COOKIE, v))
    }

    /// `req` with this jar's cookies.
    pub fn attach(&self, mut req: Req) -> Req {
        if let Some(h) = self.header() {
            req.headers.push(h);
        }
        req
    }
}

/// `Authorization: Basic` for a client id and secret (RFC 6749 §2.3.1: each form-urlencoded).
pub fn basic_auth(id: &str, secret: &str) -> HeaderValue {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    let value = format!("Basic {}", base64_std(raw.as_bytes()));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

/// Standard base64 with padding (the only encoding the load generator needs).
fn base64_std(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_std(input.as_bytes()), want);
        }
    }

    #[test]
    fn basic_auth_form_encodes_both_parts() {
        let v = basic_auth("a b", "c:d");
        assert_eq!(v.to_str().ok(), Some("Basic YStiOmMlM0Fk"));
    }
}
