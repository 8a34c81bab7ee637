//! Back-channel logout is a durable job: the node delivering it is SIGKILLed while the relying
//! party holds the request, and a node started afterwards delivers it once the lease runs out
//! (`jobs.lease_secs`, 20 s by default), with the same `jti` (at least once, deduplicable).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::cluster::{Cluster, REDIRECT_URI, send};
use tokio::sync::mpsc::UnboundedReceiver;

const CLIENT: &str = "cluster-bcl";
const SECRET: &str = "cluster-bcl-secret-0123456789abcdef";

/// A relying party's back-channel endpoint that, while `hold` is set, takes the token and
/// never answers; afterwards it answers 200. Every token it sees is forwarded.
struct Rp {
    uri: String,
    hold: Arc<AtomicBool>,
    tokens: UnboundedReceiver<String>,
}

impl Rp {
    async fn start() -> Rp {
        use axum::routing::post;
        let (tx, tokens) = tokio::sync::mpsc::unbounded_channel();
        let hold = Arc::new(AtomicBool::new(true));
        let held = hold.clone();
        let router = axum::Router::new().route(
            "/backchannel",
            post(
                move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                    let tx = tx.clone();
                    let hold = held.load(Ordering::SeqCst);
                    async move {
                        let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                        if hold {
                            std::future::pending::<()>().await;
                        }
                        StatusCode::OK
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let uri = format!(
            "http://{}/backchannel",
            listener.local_addr().expect("addr")
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Rp { uri, hold, tokens }
    }

    /// The next token's (header, claims).
    async fn next(&mut self, within: Duration) -> (Value, Value) {
        let token = tokio::time::timeout(within, self.tokens.recv())
            .await
            .unwrap_or_else(|_| panic!("no logout token within {within:?}"))
            .expect("listener open");
        (part(&token, 0), part(&token, 1))
    }
}

fn part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

/// A code for [`CLIENT`] from the browser's SSO session at `node`, redeemed: the ID token.
async fn id_token(c: &Cluster, browser: &reqwest::Client, node: usize) -> String {
    let verifier = "cluster-bcl-verifier-0123456789-0123456789-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let url = url::Url::parse_with_params(
        &c.url(node, "/authorize"),
        &[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
            ("nonce", "n"),
            ("prompt", "none"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("url");
    let r = send(browser.get(url)).await.expect("authorize");
    let back = url::Url::parse(&r.location().unwrap_or_else(|| panic!("authorize: {r}")))
        .expect("redirect");
    let code = tests::browser::param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let r = send(
        c.http
            .post(c.url(node, "/token"))
            .basic_auth(CLIENT, Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ]),
    )
    .await
    .expect("token");
    assert_eq!(r.status, StatusCode::OK, "{r}");
    r.json()["id_token"].as_str().expect("id_token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_logout_survives_the_node_killed_mid_delivery() {
    let t = std::time::Instant::now();
    let mut c = Cluster::start(1).await;
    eprintln!("cluster up in {:?}", t.elapsed());
    let mut rp = Rp::start().await;
    c.admin(&[
        "clients",
        "create",
        "--id",
        CLIENT,
        "--secret",
        SECRET,
        "--scopes",
        "openid",
        "--redirect-uri",
        REDIRECT_URI,
        "--backchannel-logout-uri",
        &rp.uri,
    ]);
    let browser = c.browser();
    c.log_in(&browser, [0, 0, 0]).await.expect("login");
    let id_token = id_token(&c, &browser, 0).await;
    let sid = part(&id_token, 1)["sid"].as_str().expect("sid").to_owned();
    let logout = url::Url::parse_with_params(&c.url(0, "/logout"), &[("id_token_hint", &id_token)])
        .expect("url");
    let r = send(browser.get(logout)).await.expect("logout");
    assert_eq!(r.status, StatusCode::OK, "{r}");

    // Node 0's worker claims the job and posts; the relying party holds the request, and the
    // node is killed mid-delivery.
    let (_, first) = rp.next(Duration::from_secs(15)).await;
    c.nodes[0].process.kill();
    eprintln!("node 0 killed mid-delivery at {:?}", t.elapsed());
    rp.hold.store(false, Ordering::SeqCst);

    // A node started afterwards finds the job running under a dead lease and delivers it.
    let node = c.add_node().await;
    let (header, second) = rp.next(Duration::from_secs(60)).await;
    eprintln!("delivered by node {node} at {:?}", t.elapsed());
    assert_eq!(second["sid"], sid.as_str(), "{second}");
    assert_eq!(second["aud"], CLIENT, "{second}");
    assert_eq!(
        second["events"],
        json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    assert!(second.get("nonce").is_none(), "{second}");
    assert_eq!(second["jti"], first["jti"], "one logout, one jti");
    assert_eq!(header["typ"], "logout+jwt");
    let kid = header["kid"].as_str().expect("kid").to_owned();
    assert!(
        c.kids(node).await.contains(&kid),
        "signed with a published key"
    );
    // Delivered: nothing more comes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(rp.tokens.try_recv().is_err(), "delivered again after a 200");
}
