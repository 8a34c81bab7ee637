//! The production shape under faults (issue 7): several `idp serve` processes on a private
//! PostgreSQL and a private Redis (`tests/src/cluster.rs`). Bounded in requests, loopback only;
//! what each fault does is written up in docs/operations.md ("Faults").

mod authorize_redis_down;
mod backchannel;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tests::cluster::{Cluster, Response};

mod redis_cluster;

/// Polls `check` until it holds or `limit` passes (a bound for liveness, not a timing assertion).
async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tokens(r: &Response) -> (String, String) {
    let v = r.json();
    (
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
        v["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_string(),
    )
}

/// A failure is clean when an answer came (no hang, no dropped connection) and it is not an
/// internal error: a 4xx, or a 503 with a protocol error `temporarily_unavailable` (JSON) or
/// an error page (HTML), or a redirect (to the client with `error=…`, or to a page).
fn clean(r: &Response) -> bool {
    match r.status.as_u16() {
        200..=499 => true,
        503 => {
            r.error().as_deref() == Some("temporarily_unavailable")
                || r.content_type.starts_with("text/html")
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_code_refresh_and_keys_cross_nodes() {
    let c = Cluster::start(3).await;
    let browser = c.browser();

    // The login transaction lives in Redis: authorize at A, the form from B, the password at C.
    let (code, verifier) = c.log_in(&browser, [0, 1, 2]).await.expect("login");
    // A code issued by C is redeemed at B.
    let r = c.redeem(1, &code, &verifier).await.expect("token");
    assert_eq!(r.status, StatusCode::OK, "{r}");
    let (access, refresh) = tokens(&r);

    // Refresh at C; the rotated-out token is refused at A.
    let r = c.refresh(2, &refresh).await.expect("refresh");
    assert_eq!(r.status, StatusCode::OK, "{r}");
    let (_, refresh2) = tokens(&r);
    // The access token from B works at A's userinfo.
    let u = tests::cluster::send(c.http.get(c.url(0, "/userinfo")).bearer_auth(&access))
        .await
        .expect("userinfo");
    assert_eq!(u.status, StatusCode::OK, "{u}");
    assert!(u.json()["sub"].is_string(), "{u}");

    // The SSO session (a cookie, stored in the database) is valid on every node.
    for node in 0..3 {
        let (code, v) = c.sso_code(&browser, node).await.expect("sso");
        let r = c.redeem((node + 1) % 3, &code, &v).await.expect("token");
        assert_eq!(r.status, StatusCode::OK, "{r}");
    }

    // Key rotation by the CLI against the shared database: every node publishes the new keys
    // within keys.reload_secs (1 s here; 30 s by default) — polled up to 15 s.
    let before = c.kids(1).await;
    assert!(!before.is_empty());
    c.admin(&["keys", "rotate", "--activate-in", "5"]);
    for node in [1, 2] {
        eventually(
            "the rotated key in every node's JWKS",
            Duration::from_secs(15),
            || {
                let before = before.clone();
                let c = &c;
                async move { c.kids(node).await.iter().any(|k| !before.contains(k)) }
            },
        )
        .await;
    }
    // The code is single use on every node (a replay also revokes its grant).
    let again = c.redeem(0, &code, &verifier).await.expect("token");
    assert_eq!(again.error().as_deref(), Some("invalid_grant"), "{again}");
    // The old refresh token, replayed, is refused (and revokes its grant).
    let r = c.refresh(0, &refresh).await.expect("refresh");
    assert_eq!(r.error().as_deref(), Some("invalid_grant"), "{r}");
    let r = c.refresh(1, &refresh2).await.expect("refresh");
    assert_eq!(r.error().as_deref(), Some("invalid_grant"), "{r}");
}

/// What a load worker saw: every effect it got a success for.
#[derive(Default)]
struct Ledger {
    /// Codes that were redeemed successfully.
    redeemed: Vec<(String, String)>,
    /// Refresh tokens that were accepted (rotated out).
    consumed: Vec<String>,
    /// The current refresh token of each chain whose last answer was a success.
    live: Vec<String>,
    /// Successes per node after the fault.
    after_fault: HashMap<usize, usize>,
    /// Answers that were not clean, and transport errors on nodes that were up.
    unclean: Vec<String>,
}

/// A worker: `rounds` steps of "get a code by SSO, redeem it, then refresh a few times",
/// each request on the next node round robin. A request without an answer (its node died)
/// ends the chain: its effect is unknown, so its token is not used again. Any other failure
/// must be clean (see [`clean`]) and also ends the chain.
async fn worker(
    c: Arc<Cluster>,
    browser: reqwest::Client,
    rounds: usize,
    progress: Arc<AtomicUsize>,
    fault: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    dead: Option<String>,
) -> Ledger {
    let mut l = Ledger::default();
    let mut chain: Option<(String, usize)> = None;
    for _ in 0..rounds {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        progress.fetch_add(1, Ordering::Relaxed);
        let faulted = fault.load(Ordering::Relaxed);
        let node = c.pick();
        // (answer, the refresh token it rotated and its use count)
        let result: Result<(Response, Option<(String, usize)>), String> = match chain.take() {
            Some((rt, uses)) => c.refresh(node, &rt).await.map(|r| (r, Some((rt, uses)))),
            None => match c.try_sso_code(&browser, node).await {
                Ok(Ok((code, v))) => {
                    let r = c.redeem(c.pick(), &code, &v).await;
                    if matches!(&r, Ok(r) if r.status == StatusCode::OK) {
                        l.redeemed.push((code, v));
                    }
                    r.map(|r| (r, None))
                }
                Ok(Err(answer)) => {
                    let loc = answer.location().unwrap_or_default();
                    if !(clean(&answer) && (loc.is_empty() || loc.contains("error="))) {
                        l.unclean
                            .push(format!("authorize at node {node}: {answer}"));
                    }
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok((r, prev)) if r.status == StatusCode::OK => {
                if let Some((old, _)) = &prev {
                    l.consumed.push(old.clone());
                }
                if faulted {
                    *l.after_fault.entry(node).or_default() += 1;
                }
                let uses = prev.map(|p| p.1 + 1).unwrap_or(0);
                let (_, rt) = tokens(&r);
                if uses < 4 {
                    chain = Some((rt, uses));
                } else {
                    l.live.push(rt);
                }
            }
            Ok((r, _)) => {
                if !clean(&r) {
                    l.unclean.push(format!("node {node}: {r}"));
                }
            }
            Err(e) => {
                // No answer: acceptable only from the node that was killed.
                let from_dead =
                    fault.load(Ordering::Relaxed) && dead.as_deref().is_some_and(|d| e.contains(d));
                if !from_dead {
                    l.unclean.push(format!("node {node}: {e}"));
                }
            }
        }
    }
    if let Some((rt, _)) = chain {
        l.live.push(rt);
    }
    l
}

/// Checks the ledgers against the database through the protocol: each chain's latest token
/// works exactly once, no accepted token or redeemed code is accepted again.
async fn audit(c: &Cluster, ledgers: &[Ledger]) {
    eprintln!(
        "audit: {} live chains, {} rotated tokens, {} codes",
        ledgers.iter().map(|l| l.live.len()).sum::<usize>(),
        ledgers.iter().map(|l| l.consumed.len()).sum::<usize>(),
        ledgers.iter().map(|l| l.redeemed.len()).sum::<usize>()
    );
    let mut latest = Vec::new();
    for l in ledgers {
        for rt in &l.live {
            let r = c.refresh(0, rt).await.expect("refresh");
            assert_eq!(
                r.status,
                StatusCode::OK,
                "a live refresh token was lost: {r}"
            );
            latest.push(tokens(&r).1);
        }
    }
    for l in ledgers {
        for rt in &l.consumed {
            let r = c.refresh(1, rt).await.expect("refresh");
            assert_ne!(
                r.status,
                StatusCode::OK,
                "a refresh token was accepted twice"
            );
        }
        for (code, v) in &l.redeemed {
            let r = c.redeem(0, code, v).await.expect("token");
            assert_ne!(r.status, StatusCode::OK, "a code was redeemed twice");
        }
        assert!(l.unclean.is_empty(), "unclean answers: {:?}", l.unclean);
    }
    let _ = latest;
}

/// Load on every node until `stop` (at most `MAX_ROUNDS` steps per worker).
struct Load {
    handles: Vec<tokio::task::JoinHandle<Ledger>>,
    progress: Arc<AtomicUsize>,
    fault: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

const MAX_ROUNDS: usize = 600;

impl Load {
    async fn start(c: &Arc<Cluster>, workers: usize, dead: Option<String>) -> Load {
        let progress = Arc::new(AtomicUsize::new(0));
        let fault = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let browser = c.browser();
        c.log_in(&browser, [0, 1, 0]).await.expect("login");
        let handles = (0..workers)
            .map(|_| {
                tokio::spawn(worker(
                    c.clone(),
                    browser.clone(),
                    MAX_ROUNDS,
                    progress.clone(),
                    fault.clone(),
                    stop.clone(),
                    dead.clone(),
                ))
            })
            .collect();
        Load {
            handles,
            progress,
            fault,
            stop,
        }
    }

    /// Waits until `more` further steps were made (or the workers ran out of steps).
    async fn steps(&self, more: usize) {
        let target = self.progress.load(Ordering::Relaxed) + more;
        eventually("load progress", Duration::from_secs(60), || async {
            self.progress.load(Ordering::Relaxed) >= target
                || self.handles.iter().all(|h| h.is_finished())
        })
        .await;
    }

    fn fault(&self) {
        self.fault.store(true, Ordering::Relaxed);
    }

    async fn finish(self) -> Vec<Ledger> {
        self.stop.store(true, Ordering::Relaxed);
        let mut ledgers = Vec::new();
        for h in self.handles {
            ledgers.push(h.await.expect("worker"));
        }
        ledgers
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_mid_load() {
    let t = Instant::now();
    let c = Arc::new(Cluster::start(3).await);
    eprintln!("cluster up in {:?}", t.elapsed());
    let load = Load::start(&c, 4, Some(c.nodes[2].base.clone())).await;
    load.steps(60).await;
    load.fault();
    // SIGKILL node 2 while requests are in flight on it.
    c.nodes[2].process.kill();
    eprintln!("node killed at {:?}", t.elapsed());
    load.steps(120).await;
    let ledgers = load.finish().await;
    let mut after = HashMap::<usize, usize>::new();
    for l in &ledgers {
        for (n, k) in &l.after_fault {
            *after.entry(*n).or_default() += k;
        }
    }
    assert!(
        after.get(&0).copied().unwrap_or(0) > 0 && after.get(&1).copied().unwrap_or(0) > 0,
        "the surviving nodes kept serving: {after:?}"
    );
    audit(&c, &ledgers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_restarted_mid_load() {
    let cluster = Cluster::start(2).await;
    let browser = cluster.browser();
    cluster.log_in(&browser, [0, 1, 0]).await.expect("login");
    // Flows in flight when Redis goes: a login form shown, a code not yet redeemed.
    let other = cluster.browser();
    let (r, _) = cluster.authorize(&other, 0, &[]).await.expect("authorize");
    let form = cluster
        .follow(&other, 1, &r.location().expect("to login"))
        .await
        .expect("form");
    assert_eq!(form.status, StatusCode::OK, "{form}");
    let (pending_code, pending_v) = cluster.sso_code(&browser, 1).await.expect("code");

    cluster.redis.down();
    // While Redis is down: answers come, and they are clean (no hang, no 500).
    for node in 0..2 {
        let r = cluster
            .authorize(&browser, node, &[("prompt", "none")])
            .await;
        let r = r.expect("an answer while Redis is down").0;
        assert!(clean(&r), "authorize without Redis: {r}");
        eprintln!("authorize without Redis: {r}");
        let loc = r.location().unwrap_or_default();
        assert!(!loc.contains("code="), "a code issued without Redis: {r}");
    }
    cluster.redis.up();

    // The login in flight fails cleanly (its transaction is gone): a page, no code.
    let tx = tests::browser::hidden(&form.body, "tx");
    let csrf = tests::browser::hidden(&form.body, "csrf");
    let posted = tests::cluster::send(other.post(cluster.url(0, "/login")).form(&[
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", tests::cluster::PHONE),
        ("password", tests::PASSWORD),
    ]))
    .await;
    // The Redis client reconnects in the background; the first request may still see it gone.
    let posted = posted.expect("an answer");
    eprintln!(
        "login posted after the Redis restart: {} {:?}",
        posted.status, posted.location
    );
    assert!(clean(&posted), "{posted}");
    assert!(
        !posted.location().unwrap_or_default().contains("code="),
        "{posted}"
    );
    // The code issued before the restart is gone: invalid_grant (retryable by a new login).
    eventually("Redis reconnects", Duration::from_secs(20), || {
        let c = &cluster;
        let (code, v) = (&pending_code, &pending_v);
        async move {
            matches!(c.redeem(1, code, v).await, Ok(r) if r.error().as_deref() == Some("invalid_grant"))
        }
    })
    .await;
    // The person is still logged in (sessions are in the database) on both nodes.
    for node in 0..2 {
        let (code, v) = cluster
            .sso_code(&browser, node)
            .await
            .expect("still logged in");
        let r = cluster.redeem(1 - node, &code, &v).await.expect("token");
        assert_eq!(r.status, StatusCode::OK, "{r}");
    }
    // Load across a second restart: every answer is clean, effects audited.
    let c = Arc::new(cluster);
    let load = Load::start(&c, 3, None).await;
    load.steps(40).await;
    load.fault();
    let c2 = c.clone();
    tokio::task::spawn_blocking(move || c2.restart_redis())
        .await
        .expect("restart");
    load.steps(60).await;
    let ledgers = load.finish().await;
    audit(&c, &ledgers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_mid_load() {
    let c = Arc::new(Cluster::start(2).await);
    let browser = c.browser();
    let (code, v) = c.log_in(&browser, [0, 1, 0]).await.expect("login");
    let r = c.redeem(1, &code, &v).await.expect("token");
    let (access, refresh) = tokens(&r);

    let load = Load::start(&c, 3, None).await;
    load.steps(40).await;
    load.fault();
    c.pg.down();
    // While PostgreSQL is down: 503 with a protocol error, on the token endpoint, userinfo,
    // readiness and a page.
    for node in 0..2 {
        let r = c.refresh(node, &refresh).await.expect("an answer");
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r}");
        assert_eq!(r.error().as_deref(), Some("temporarily_unavailable"), "{r}");
        let u = tests::cluster::send(c.http.get(c.url(node, "/userinfo")).bearer_auth(&access))
            .await
            .expect("an answer");
        assert_eq!(u.status, StatusCode::SERVICE_UNAVAILABLE, "{u}");
        let h = tests::cluster::send(c.http.get(c.url(node, "/health/ready")))
            .await
            .expect("an answer");
        assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE, "{h}");
        let page = tests::cluster::send(browser.get(c.url(node, "/profile")))
            .await
            .expect("an answer");
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
        assert!(page.content_type.starts_with("text/html"), "{page}");
        let live = tests::cluster::send(c.http.get(c.url(node, "/health/live")))
            .await
            .expect("an answer");
        assert_eq!(live.status, StatusCode::OK, "{live}");
    }
    c.pg.up();
    // Recovery on its own: the refresh token that was refused while down still works.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match c.refresh(0, &refresh).await {
            Ok(r) if r.status == StatusCode::OK => break,
            Ok(r) => assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "recovering: {r}"),
            Err(e) => panic!("no answer while PostgreSQL restarts: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after PostgreSQL returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for node in 0..2 {
        eventually("ready again", Duration::from_secs(30), || {
            let c = &c;
            async move {
                matches!(tests::cluster::send(c.http.get(c.url(node, "/health/ready"))).await,
                    Ok(r) if r.status == StatusCode::OK)
            }
        })
        .await;
    }
    load.steps(40).await;
    let ledgers = load.finish().await;
    audit(&c, &ledgers).await;
}
