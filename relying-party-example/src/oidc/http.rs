//! The HTTP hook the `openidconnect` crate calls: an async closure over one shared reqwest
//! client. Redirects are never followed (a token endpoint that redirects is an error).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{HttpRequest, HttpResponse};

/// A transport failure (connection refused, timeout, unreadable body).
#[derive(Debug)]
pub struct HttpError(pub String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

pub type Pending = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>>;

/// The reqwest client every provider call goes through.
pub fn reqwest_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("relying-party-example/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Wraps `client` for `request_async(&adapter(client))`.
pub fn adapter(client: reqwest::Client) -> impl Fn(HttpRequest) -> Pending {
    move |req: HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let resp = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(e.to_string()))?;
            let mut builder = openidconnect::http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let bytes = resp.bytes().await.map_err(|e| HttpError(e.to_string()))?;
            builder
                .body(bytes.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}
