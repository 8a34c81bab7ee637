//! A scripted browser: a cookie jar, no automatic redirects, and helpers that fill in the
//! provider's login and consent forms the way a person would.

use reqwest::StatusCode;
use url::Url;

/// Where a navigation ended.
#[derive(Debug)]
pub enum Outcome {
    /// A page of the provider.
    Page {
        url: String,
        status: StatusCode,
        html: String,
    },
    /// A redirect that leaves the provider (to a relying party).
    Left(Url),
}

impl Outcome {
    pub fn left(self) -> Url {
        match self {
            Outcome::Left(u) => u,
            Outcome::Page { url, status, html } => panic!(
                "expected a redirect to the client, got page {url} ({status}): {}",
                &html[..html.len().min(600)]
            ),
        }
    }

    pub fn page(self) -> (String, StatusCode, String) {
        match self {
            Outcome::Page { url, status, html } => (url, status, html),
            Outcome::Left(u) => panic!("expected a provider page, got a redirect to {u}"),
        }
    }

    pub fn is_page_at(&self, path: &str) -> bool {
        matches!(self, Outcome::Page { url, .. } if url.contains(path))
    }
}

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0")
            .build()
            .expect("client");
        Self {
            http,
            base: base.to_string(),
        }
    }

    /// GETs `url` and follows redirects inside the provider.
    pub async fn visit(&self, url: &str) -> Outcome {
        let resp = self.http.get(url).send().await.expect("request");
        self.settle(url.to_string(), resp).await
    }

    /// GET `/authorize` with these parameters.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> Outcome {
        let url = Url::parse_with_params(&format!("{}/authorize", self.base), params).expect("url");
        self.visit(url.as_str()).await
    }

    /// POSTs a form and follows redirects inside the provider.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Outcome {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .post(&url)
            .form(form)
            .send()
            .await
            .expect("request");
        self.settle(url, resp).await
    }

    async fn settle(&self, mut url: String, mut resp: reqwest::Response) -> Outcome {
        for _ in 0..10 {
            if resp.status().is_redirection() {
                let loc = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .expect("location header")
                    .to_string();
                let next = Url::parse(&url).expect("url").join(&loc).expect("join");
                if !next.as_str().starts_with(&self.base) {
                    return Outcome::Left(next);
                }
                url = next.to_string();
                resp = self.http.get(&url).send().await.expect("request");
                continue;
            }
            let status = resp.status();
            let html = resp.text().await.unwrap_or_default();
            return Outcome::Page { url, status, html };
        }
        panic!("redirect loop at {url}");
    }

    /// Fills in the login page shown as `html`.
    pub async fn submit_login(
        &self,
        html: &str,
        login: &str,
        password: &str,
        foreign_computer: bool,
    ) -> Outcome {
        let tx = hidden(html, "tx");
        let csrf = hidden(html, "csrf");
        let mut form = vec![
            ("tx", tx.as_str()),
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", password),
        ];
        if foreign_computer {
            form.push(("foreign_computer", "1"));
        }
        self.post_form("/login", &form).await
    }

    /// Answers the consent page shown as `html` with "allow" or "deny".
    pub async fn submit_consent(&self, html: &str, decision: &str) -> Outcome {
        let tx = hidden(html, "tx");
        let csrf = hidden(html, "csrf");
        self.post_form(
            "/consent",
            &[
                ("tx", tx.as_str()),
                ("csrf", csrf.as_str()),
                ("decision", decision),
            ],
        )
        .await
    }

    /// Goes through whatever the provider asks (login, consent) and returns the redirect to the client.
    pub async fn complete(&self, mut outcome: Outcome, login: &str, password: &str) -> Url {
        for _ in 0..4 {
            match outcome {
                Outcome::Left(u) => return u,
                Outcome::Page {
                    ref url, ref html, ..
                } if url.contains("/login") => {
                    outcome = self.submit_login(html, login, password, false).await;
                }
                Outcome::Page {
                    ref url, ref html, ..
                } if url.contains("/consent") => {
                    outcome = self.submit_consent(html, "allow").await;
                }
                other => panic!("unexpected step: {other:?}"),
            }
        }
        panic!("the flow did not finish");
    }

    /// The whole front channel: authorize, log in, consent; returns the client redirect.
    pub async fn sign_in(&self, params: &[(&str, &str)], login: &str, password: &str) -> Url {
        let first = self.authorize(params).await;
        self.complete(first, login, password).await
    }
}

/// The value of hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in page: {}", &html[..html.len().min(400)]));
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag_end = at + html[at..].find('>').unwrap_or(0);
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"").map(|i| &tag[i + 7..]).unwrap_or("");
    v[..v.find('"').unwrap_or(0)].to_string()
}

/// A query parameter of a URL.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Browser {
    /// Answers a consent page if one comes, and returns the redirect back to the client.
    pub async fn back_to_client(&self, outcome: Outcome) -> Url {
        match outcome {
            Outcome::Left(u) => u,
            Outcome::Page {
                ref url, ref html, ..
            } if url.contains("/consent") => self.submit_consent(html, "allow").await.left(),
            other => panic!("unexpected step: {other:?}"),
        }
    }
}
