//! Bad input never crashes the provider or earns a 500: every endpoint answers malformed,
//! repeated, non-UTF-8, oversized or hostile input with the right OAuth error (JSON
//! endpoints) or a readable page in Russian (pages). [`fuzz`] throws random requests at
//! every endpoint; [`outage`] takes PostgreSQL away and brings it back.

mod fuzz;
mod outage;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HeaderMap;
use tests::browser::hidden;
use tests::{Backend, TestApp};

/// The provider's answer, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an OAuth JSON error (RFC 6749 §5.2) with this status and `error` code.
    #[track_caller]
    pub fn assert_oauth_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.content_type().starts_with("application/json"),
            "{self:?}"
        );
        let json: serde_json::Value = serde_json::from_str(&self.body).expect("a JSON body");
        assert_eq!(json["error"], code, "{self:?}");
        let description = json["error_description"].as_str().unwrap_or("");
        assert!(
            !description.contains(['\r', '\n', '\t']),
            "error_description must not contain CR, LF or TAB: {description:?}"
        );
        assert_eq!(self.header("cache-control"), Some("no-store"), "{self:?}");
    }

    /// Asserts an HTML page (not a plain-text rejection) with this status, showing `text`.
    #[track_caller]
    pub fn assert_page(&self, status: u16, text: &str) {
        assert_eq!(self.status, status, "{}", self.excerpt());
        assert!(
            self.content_type().starts_with("text/html"),
            "{}",
            self.excerpt()
        );
        assert!(
            self.body.contains("<html lang=\"ru\""),
            "{}",
            self.excerpt()
        );
        assert!(
            self.body.contains(text),
            "expected {text:?} in {}",
            self.excerpt()
        );
        assert!(self.header("location").is_none(), "{}", self.excerpt());
    }

    fn excerpt(&self) -> String {
        let end = self
            .body
            .char_indices()
            .nth(800)
            .map_or(self.body.len(), |(i, _)| i);
        format!("{} {:?} {}", self.status, self.headers, &self.body[..end])
    }
}

/// An HTTP client that follows no redirects and keeps no cookies.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Sends `req`; a connection dropped without an answer (a panic in a handler) fails the test.
pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer (did a handler panic?): {e:?}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = String::from_utf8_lossy(&resp.bytes().await.expect("body")).into_owned();
    Reply {
        status,
        headers,
        body,
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// POSTs raw bytes with an optional content type.
async fn post_raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = http().post(app.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    send(req).await
}

/// GETs `path` followed by a raw (already encoded) query string.
async fn get_raw(app: &TestApp, path_and_query: &str) -> Reply {
    send(http().get(app.url(path_and_query))).await
}

/// Writes `bytes` on a fresh connection and reads whatever comes back until the server closes
/// (bounded, so a server that waits for more input cannot hang the test).
async fn raw_http(app: &TestApp, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before reading everything; that is its right.
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A JWT whose header says `alg: none`, shaped like one of our access tokens.
fn unsigned_jwt(issuer: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let claims = serde_json::json!({
        "iss": issuer, "sub": "u1", "aud": "x", "client_id": "x", "iat": 1,
        "exp": 4_000_000_000i64, "jti": "j", "scope": "openid", "gid": "g",
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.")
}

/// A login page of a fresh flow for `client_id`: (browser, page HTML). Its tx and csrf are real.
async fn login_page(app: &TestApp, client_id: &str) -> (tests::Browser, String) {
    let browser = app.browser();
    let (url, status, html) = browser
        .authorize(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", "https://rp.example/cb"),
            ("state", "s"),
        ])
        .await
        .page();
    assert!(url.contains("/login"), "{url} {status}");
    (browser, html)
}

on_both_backends! {
    async fn token_endpoint_answers_malformed_parameters_with_oauth_errors(app: TestApp) {
        let (id, secret) = app.client("robust", "openid profile").await;
        let form = |body: &[u8]| post_raw(&app, "/token", Some(FORM), body.to_vec());

        form(b"").await.assert_oauth_error(400, "invalid_request");
        form(b"code=abc&redirect_uri=https%3A%2F%2Frp.example%2Fcb").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=authorization_code&code=a&code=b").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=client_credentials&grant_type=client_credentials").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=authorization_code").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=refresh_token&refresh_token=").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=password&username=a&password=b").await.assert_oauth_error(400, "unsupported_grant_type");
        form(b"grant_type=implicit").await.assert_oauth_error(400, "unsupported_grant_type");
        // Garbage and bytes that are not UTF-8, raw or percent-encoded.
        form(b"%%%&&&===&=&\x00\x01\x02").await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=\xff\xfe\xfd").await.assert_oauth_error(400, "unsupported_grant_type");
        form(b"grant_type=%FF%FE%C3%28").await.assert_oauth_error(400, "unsupported_grant_type");
        form(&[0x80; 512]).await.assert_oauth_error(400, "invalid_request");
        form(b"grant_type=client_credentials&scope=openid%00%0A%0D").await.assert_oauth_error(400, "invalid_scope");

        // With a real client: bad codes and tokens are invalid_grant, scopes invalid_scope.
        let authed = |body: &'static [u8]| {
            send(http().post(app.url("/token")).basic_auth(&id, Some(&secret)).header("content-type", FORM).body(body))
        };
        authed(b"grant_type=authorization_code&code=%FF%FE&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier=x").await.assert_oauth_error(400, "invalid_grant");
        authed(b"grant_type=authorization_code&code=\xc3\x28").await.assert_oauth_error(400, "invalid_grant");
        authed(b"grant_type=refresh_token&refresh_token=\xff").await.assert_oauth_error(400, "invalid_grant");
        authed(b"grant_type=refresh_token&refresh_token=a.b.c").await.assert_oauth_error(400, "invalid_grant");
        authed(b"grant_type=client_credentials&scope=%22%5C").await.assert_oauth_error(400, "invalid_scope");
        authed(b"grant_type=client_credentials&scope=inn").await.assert_oauth_error(400, "invalid_scope");
        let long_code = format!("grant_type=authorization_code&code={}", "A".repeat(60_000));
        send(http().post(app.url("/token")).basic_auth(&id, Some(&secret)).header("content-type", FORM).body(long_code))
            .await
            .assert_oauth_error(400, "invalid_grant");
        // Unknown parameters are ignored.
        let ok = authed(b"grant_type=client_credentials&foo=bar&foo=baz&=&%FF=1").await;
        assert_eq!(ok.status, 200, "{ok:?}");
    }

    async fn token_endpoint_refuses_wrong_content_types_and_oversized_bodies(app: TestApp) {
        let (id, secret) = app.client("robust", "openid").await;
        let cc = b"grant_type=client_credentials".to_vec();
        for ct in [None, Some("application/json"), Some("text/plain"), Some("multipart/form-data; boundary=x"), Some("application/x-www-form-urlencodedx"), Some("")] {
            let reply = send(match ct {
                Some(ct) => http().post(app.url("/token")).header("content-type", ct),
                None => http().post(app.url("/token")),
            }.basic_auth(&id, Some(&secret)).body(cc.clone())).await;
            reply.assert_oauth_error(400, "invalid_request");
        }
        let json = send(http().post(app.url("/token")).basic_auth(&id, Some(&secret)).json(&serde_json::json!({"grant_type": "client_credentials"}))).await;
        json.assert_oauth_error(400, "invalid_request");
        // Parameters on the media type are fine.
        let ok = send(http().post(app.url("/token")).basic_auth(&id, Some(&secret)).header("content-type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8").body(cc.clone())).await;
        assert_eq!(ok.status, 200, "{ok:?}");

        // Over server.body_limit (64 KiB): refused with a 4xx, never a 5xx, never a hang.
        let limit = app.state.config.server.body_limit;
        assert_eq!(limit, 64 * 1024);
        for size in [limit + 1, limit * 4] {
            let mut body = b"grant_type=client_credentials&pad=".to_vec();
            body.resize(size, b'a');
            for path in ["/token", "/introspect", "/revoke", "/userinfo", "/authorize", "/login", "/consent", "/logout"] {
                let reply = send(http().post(app.url(path)).basic_auth(&id, Some(&secret)).header("content-type", FORM).body(body.clone())).await;
                assert!((400..500).contains(&reply.status), "{path} with {size} bytes: {reply:?}");
            }
        }
        let reply = post_raw(&app, "/token", Some(FORM), {
            let mut b = b"grant_type=client_credentials&pad=".to_vec();
            b.resize(limit + 1, b'a');
            b
        }).await;
        reply.assert_oauth_error(400, "invalid_request");
    }

    async fn token_endpoint_refuses_unknown_clients(app: TestApp) {
        let (id, secret) = app.client("robust", "openid").await;
        let cc = || http().post(app.url("/token")).header("content-type", FORM);

        let reply = send(cc().basic_auth("nobody", Some("secret")).body("grant_type=client_credentials")).await;
        reply.assert_oauth_error(401, "invalid_client");
        assert_eq!(reply.header("www-authenticate"), Some(r#"Basic realm="idp""#));
        send(cc().basic_auth(&id, Some("wrong")).body("grant_type=client_credentials")).await.assert_oauth_error(401, "invalid_client");
        send(cc().body("grant_type=client_credentials&client_id=nobody&client_secret=x")).await.assert_oauth_error(401, "invalid_client");
        send(cc().body("grant_type=client_credentials&client_id=nobody")).await.assert_oauth_error(401, "invalid_client");
        send(cc().body("grant_type=client_credentials")).await.assert_oauth_error(401, "invalid_client");
        send(cc().body(format!("grant_type=client_credentials&client_id={}", "x".repeat(20_000)))).await.assert_oauth_error(401, "invalid_client");
        send(cc().body("grant_type=client_credentials&client_id=%FF%00&client_secret=%FF")).await.assert_oauth_error(401, "invalid_client");
        // Malformed Basic credentials.
        for value in ["Basic", "Basic ", "Basic !!!not-base64!!!", "Basic bm9jb2xvbg==", "Basic //79/Q==", "basic Og==", "Basic Og==Og=="] {
            send(cc().header("authorization", value).body("grant_type=client_credentials")).await.assert_oauth_error(401, "invalid_client");
        }
        let raw_header = reqwest::header::HeaderValue::from_bytes(b"Basic \xff\xfe").expect("obs-text is a valid header value");
        send(cc().header("authorization", raw_header).body("grant_type=client_credentials")).await.assert_oauth_error(401, "invalid_client");
        // A garbage client assertion.
        let body = "grant_type=client_credentials&client_id=nobody&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c";
        send(cc().body(body)).await.assert_oauth_error(401, "invalid_client");
        let body = format!("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={}", unsigned_jwt(&app.base));
        send(cc().body(body)).await.assert_oauth_error(401, "invalid_client");
        // Two authentication methods at once.
        send(cc().basic_auth(&id, Some(&secret)).body(format!("grant_type=client_credentials&client_secret={secret}"))).await.assert_oauth_error(400, "invalid_request");
    }

    async fn authorize_answers_garbage_with_error_pages(app: TestApp) {
        let (id, _) = app.client("robust", "openid").await;
        let unknown = "не зарегистрирован";
        get_raw(&app, "/authorize").await.assert_page(400, unknown);
        get_raw(&app, "/authorize?%%%&&&===&=").await.assert_page(400, unknown);
        get_raw(&app, "/authorize?client_id=%FF%FE%00").await.assert_page(400, unknown);
        get_raw(&app, "/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Frp.example%2Fcb").await.assert_page(400, unknown);
        get_raw(&app, "/authorize?client_id=a&client_id=b").await.assert_page(400, "Запрос некорректен");
        get_raw(&app, &format!("/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code")).await.assert_page(400, "<h1");
        get_raw(&app, &format!("/authorize?client_id={id}&redirect_uri=%FF&response_type=code")).await.assert_page(400, "<h1");
        // Huge values: a long client_id is just unknown; a long state or nonce never breaks anything.
        get_raw(&app, &format!("/authorize?client_id={}", "c".repeat(50_000))).await.assert_page(400, unknown);
        for name in ["state", "nonce", "login_hint", "scope", "acr_values", "claims", "redirect_uri", "code_challenge", "max_age", "prompt"] {
            let reply = get_raw(&app, &format!("/authorize?client_id={id}&response_type=code&scope=openid&{name}={}", "%D0%AF".repeat(9_000))).await;
            assert!((200..500).contains(&reply.status), "{name}: {reply:?}");
        }
        // A request line larger than the server accepts at all (and than HTTP clients send).
        let huge = format!("GET /authorize?client_id={id}&state={} HTTP/1.1\r\nHost: x\r\n\r\n", "s".repeat(1_200_000));
        let answer = raw_http(&app, huge.as_bytes()).await;
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{}", &answer[..answer.len().min(200)]);
        assert_eq!(get_raw(&app, "/health/live").await.status, 200);
        // POST: garbage, JSON, no content type.
        post_raw(&app, "/authorize", Some(FORM), b"\xff\xfe%%%&&".to_vec()).await.assert_page(400, unknown);
        post_raw(&app, "/authorize", Some("application/json"), br#"{"client_id":"robust"}"#.to_vec()).await.assert_page(400, unknown);
        post_raw(&app, "/authorize", None, b"client_id=a&client_id=a".to_vec()).await.assert_page(400, "Запрос некорректен");
    }

    async fn userinfo_refuses_malformed_bearer_tokens(app: TestApp) {
        let (id, secret) = app.client("robust", "openid").await;
        let get = |auth: Option<&str>| {
            let mut req = http().get(app.url("/userinfo"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            send(req)
        };
        // No token at all: a challenge, and no 5xx.
        let reply = get(None).await;
        assert!(matches!(reply.status, 400 | 401), "{reply:?}");
        assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{reply:?}");
        // Malformed requests (RFC 6750 §3.1): invalid_request.
        for auth in ["Bearer", "Bearer ", "Bearer     ", "Basic dXNlcjpwYXNz", "Token abc", "", "Bearer Иванов", "Bearer \u{80}"] {
            let value = reqwest::header::HeaderValue::from_bytes(auth.as_bytes()).expect("header value");
            let reply = send(http().get(app.url("/userinfo")).header("authorization", value)).await;
            reply.assert_oauth_error(400, "invalid_request");
            assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{auth:?}: {reply:?}");
        }
        // Tokens that are not ours or not tokens.
        let none_alg = unsigned_jwt(&app.base);
        let forged = {
            let claims = none_alg.split('.').nth(1).expect("jwt");
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt","kid":"rs256-x"}"#);
            format!("{header}.{claims}.c2lnbmF0dXJl")
        };
        for token in ["abc", "a.b.c", "...", "eyJ.eyJ.", &none_alg, &forged, &"x".repeat(20_000), "a.b.c.d.e", "a b c"] {
            let reply = get(Some(&format!("Bearer {token}"))).await;
            reply.assert_oauth_error(401, "invalid_token");
            let challenge = reply.header("www-authenticate").unwrap_or("");
            assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
        }
        // A real access token of a client (no user) is not good for userinfo.
        let cc = send(http().post(app.url("/token")).basic_auth(&id, Some(&secret)).form(&[("grant_type", "client_credentials")])).await;
        let client_token = serde_json::from_str::<serde_json::Value>(&cc.body).expect("json")["access_token"].as_str().expect("token").to_string();
        get(Some(&format!("Bearer {client_token}"))).await.assert_oauth_error(401, "invalid_token");
        // POST: token in the body, garbage bodies, the token in two places.
        let post = |body: &'static [u8]| send(http().post(app.url("/userinfo")).header("content-type", FORM).body(body));
        post(b"access_token=garbage").await.assert_oauth_error(401, "invalid_token");
        post(b"access_token=%FF%FE").await.assert_oauth_error(401, "invalid_token");
        // Garbage that carries no token is a request without authentication.
        let reply = post(b"\xff\xfe&&&").await;
        assert!(matches!(reply.status, 400 | 401), "{reply:?}");
        assert!(reply.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{reply:?}");
        post(b"access_token=a&access_token=b").await.assert_oauth_error(400, "invalid_request");
        let both = send(http().post(app.url("/userinfo")).bearer_auth("abc").form(&[("access_token", "abc")])).await;
        both.assert_oauth_error(400, "invalid_request");
    }

    async fn introspection_and_revocation_refuse_malformed_requests(app: TestApp) {
        let (id, secret) = app.client("robust", "openid").await;
        for path in ["/introspect", "/revoke"] {
            let authed = || http().post(app.url(path)).basic_auth(&id, Some(&secret));
            send(http().post(app.url(path)).form(&[("token", "abc")])).await.assert_oauth_error(401, "invalid_client");
            send(http().post(app.url(path)).basic_auth("nobody", Some("x")).form(&[("token", "abc")])).await.assert_oauth_error(401, "invalid_client");
            send(authed().json(&serde_json::json!({"token": "abc"}))).await.assert_oauth_error(400, "invalid_request");
            send(authed().body("token=abc")).await.assert_oauth_error(400, "invalid_request");
            send(authed().header("content-type", FORM).body("")).await.assert_oauth_error(400, "invalid_request");
            send(authed().header("content-type", FORM).body("token=")).await.assert_oauth_error(400, "invalid_request");
            send(authed().header("content-type", FORM).body("token=a&token=b")).await.assert_oauth_error(400, "invalid_request");
            for token in [b"garbage".to_vec(), b"a.b.c".to_vec(), b"%FF%FE".to_vec(), b"\xff\xfe\x00".to_vec(), unsigned_jwt(&app.base).into_bytes(), vec![b'z'; 30_000]] {
                let mut body = b"token_type_hint=access_token&token=".to_vec();
                body.extend_from_slice(&token);
                let reply = send(authed().header("content-type", FORM).body(body)).await;
                assert_eq!(reply.status, 200, "{path}: {reply:?}");
                if path == "/introspect" {
                    let json: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
                    assert_eq!(json, serde_json::json!({"active": false}));
                }
            }
        }
    }

    async fn logout_answers_bad_requests_with_a_page(app: TestApp) {
        let (id, _) = app.client("robust", "openid").await;
        let bad = "Не удалось выполнить выход";
        get_raw(&app, "/logout?id_token_hint=garbage").await.assert_page(400, bad);
        get_raw(&app, &format!("/logout?id_token_hint={}", unsigned_jwt(&app.base))).await.assert_page(400, bad);
        get_raw(&app, "/logout?client_id=nobody").await.assert_page(400, bad);
        get_raw(&app, "/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F").await.assert_page(400, bad);
        get_raw(&app, &format!("/logout?client_id={id}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye%3Fx%3D1")).await.assert_page(400, bad);
        get_raw(&app, "/logout?state=a&state=b").await.assert_page(400, bad);
        get_raw(&app, "/logout?client_id=%FF%FE").await.assert_page(400, bad);
        post_raw(&app, "/logout", Some(FORM), b"client_id=a&client_id=b".to_vec()).await.assert_page(400, bad);
        post_raw(&app, "/logout", Some(FORM), b"client_id=\xff\xfe".to_vec()).await.assert_page(400, bad);
        // Garbage without a session or a client simply shows the logged-out page.
        let reply = post_raw(&app, "/logout", Some(FORM), b"%%%&&&\xff=\xfe".to_vec()).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    async fn login_and_consent_forms_with_bad_fields_show_a_page(app: TestApp) {
        let (id, _) = app.client("robust", "openid").await;
        let malformed = "Запрос некорректен";
        let expired = "Время на вход истекло";
        for path in ["/login", "/consent"] {
            post_raw(&app, path, Some(FORM), Vec::new()).await.assert_page(400, malformed);
            post_raw(&app, path, None, Vec::new()).await.assert_page(400, malformed);
            post_raw(&app, path, Some(FORM), b"\xff\xfe%%%".to_vec()).await.assert_page(400, malformed);
            post_raw(&app, path, Some(FORM), b"tx=a&tx=b&csrf=c&login=l&password=p&decision=allow".to_vec()).await.assert_page(400, malformed);
            post_raw(&app, path, Some("application/json"), br#"{"tx":"a"}"#.to_vec()).await.assert_page(400, malformed);
            get_raw(&app, &format!("{path}?tx=unknown")).await.assert_page(400, expired);
            get_raw(&app, path).await.assert_page(400, expired);
            get_raw(&app, &format!("{path}?tx={}", "t".repeat(5_000))).await.assert_page(400, expired);
            get_raw(&app, &format!("{path}?tx=%FF%FE")).await.assert_page(400, expired);
            get_raw(&app, &format!("{path}?tx=a&tx=b")).await.assert_page(400, malformed);
        }
        // Unknown transactions, with a browser that holds a real CSRF cookie and token.
        let (browser, html) = login_page(&app, &id).await;
        let csrf = hidden(&html, "csrf");
        for tx in ["unknown", "", &"t".repeat(70), "%FF", "../../etc/passwd", "*"] {
            let form = [("tx", tx), ("csrf", csrf.as_str()), ("login", "+79001234567"), ("password", "x"), ("decision", "allow")];
            for path in ["/login", "/consent"] {
                let resp = browser.http.post(app.url(path)).form(&form).send().await.expect("answer");
                let reply = Reply { status: resp.status().as_u16(), headers: resp.headers().clone(), body: resp.text().await.expect("body") };
                reply.assert_page(400, expired);
            }
        }
        // A login with a NUL or other control character is just a failed login.
        for login in ["a\u{0}@example.ru", "+7900\u{0}1234567", "\u{0}", "112-233-445\u{0}95"] {
            let form = [("tx", hidden(&html, "tx")), ("csrf", csrf.clone()), ("login", login.to_string()), ("password", "Wrong-passw0rd!".to_string())];
            let resp = browser.http.post(app.url("/login")).form(&form).send().await.expect("answer");
            let reply = Reply { status: resp.status().as_u16(), headers: resp.headers().clone(), body: resp.text().await.expect("body") };
            assert_eq!(reply.status, 401, "{login:?}: {}", reply.excerpt());
            assert!(reply.body.contains("name=\"password\""), "the login form again: {}", reply.excerpt());
        }
        // Without the CSRF token the consent form is refused, readably.
        post_raw(&app, "/consent", Some(FORM), b"tx=unknown&csrf=x&decision=allow".to_vec()).await.assert_page(403, "<h1");
        // A real transaction with missing fields is still a page, not an error of the framework.
        let tx = hidden(&html, "tx");
        let resp = browser.http.post(app.url("/login")).form(&[("tx", tx.as_str()), ("csrf", csrf.as_str())]).send().await.expect("answer");
        let reply = Reply { status: resp.status().as_u16(), headers: resp.headers().clone(), body: resp.text().await.expect("body") };
        reply.assert_page(400, malformed);
    }

    async fn unknown_paths_get_a_404_page(app: TestApp) {
        for path in ["/nope", "/token/x", "/.well-known/nope", "/%FF%FE", "/assets/../../etc/passwd", "/login/", &format!("/{}", "p".repeat(10_000))] {
            get_raw(&app, path).await.assert_page(404, "Страница не найдена");
        }
        get_raw(&app, "/?lang=ru&lang=en").await.assert_page(400, "Запрос некорректен");
        let reply = post_raw(&app, "/nope", Some(FORM), b"a=b".to_vec()).await;
        reply.assert_page(404, "Страница не найдена");
        // A wrong method on a known path is a 4xx, not a crash.
        for (method, path) in [("DELETE", "/token"), ("PUT", "/authorize"), ("GET", "/token"), ("POST", "/jwks"), ("PATCH", "/userinfo")] {
            let reply = send(http().request(method.parse().expect("method"), app.url(path))).await;
            assert!((400..500).contains(&reply.status), "{method} {path}: {reply:?}");
        }
    }

    async fn malformed_http_does_not_take_the_server_down(app: TestApp) {
        let garbage: [&[u8]; 6] = [
            b"\x00\x01\x02\x03garbage\r\n\r\n",
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\nabc",
            b"POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            b"GET /authorize?\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
        ];
        for bytes in garbage {
            let text = raw_http(&app, bytes).await;
            assert!(!text.starts_with("HTTP/1.1 5"), "{:?} got {text}", String::from_utf8_lossy(bytes));
        }
        let live = get_raw(&app, "/health/live").await;
        assert_eq!(live.status, 200);
        let ready = get_raw(&app, "/health/ready").await;
        assert_eq!(ready.status, 200, "{ready:?}");
    }
}
