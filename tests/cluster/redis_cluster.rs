//! Redis Cluster as the short-lived store and the invalidation bus (issue 7): two `idp serve`
//! nodes on the private PostgreSQL and a private three-master Redis Cluster
//! (`RedisCluster` in `tests/src/cluster.rs`; docs/operations.md "Redis Cluster").

use std::time::{Duration, Instant};

use idp::cache::Cache;
use idp::config::CacheConfig;
use reqwest::StatusCode;
use tests::cluster::{Cluster, ClusterOptions, PHONE, RedisCluster, Response, send};

use super::{clean, eventually, tokens};

/// With `keys.reload_secs` this long, only the invalidation channel can bring a rotated key
/// to a node's JWKS within the test's bound.
const NO_RELOAD_SECS: u64 = 3600;
/// The documented bound of a delivered invalidation is a round trip; polled up to this.
const INVALIDATION_BOUND: Duration = Duration::from_secs(5);

async fn start(masters: usize, replicas: usize) -> Cluster {
    Cluster::start_with(
        2,
        ClusterOptions {
            redis_cluster: Some((masters, replicas)),
            keys_reload_secs: NO_RELOAD_SECS,
        },
    )
    .await
}

fn redis(c: &Cluster) -> &RedisCluster {
    c.redis_cluster
        .as_ref()
        .expect("started with a Redis Cluster")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cluster_carries_logins_codes_refresh_and_invalidations() {
    let c = start(3, 0).await;
    let browser = c.browser();

    // A wrong password counts a failure: INCR + EXPIRE NX, one transaction on one key.
    let r = wrong_password(&c, &browser).await;
    assert!(clean(&r) && r.status.as_u16() < 500, "{r}");

    // A login started on node 0 finishes on node 1, which issues the code.
    let (code, verifier) = c.log_in(&browser, [0, 1, 1]).await.expect("login");
    // Redeemed on node 0.
    let r = c.redeem(0, &code, &verifier).await.expect("token");
    assert_eq!(r.status, StatusCode::OK, "{r}");
    let (_, refresh) = tokens(&r);

    // A refresh on node 1 rotates; the rotated-out token is refused on node 0.
    let r = c.refresh(1, &refresh).await.expect("refresh");
    assert_eq!(r.status, StatusCode::OK, "{r}");
    let r = c.refresh(0, &refresh).await.expect("refresh");
    assert_eq!(r.error().as_deref(), Some("invalid_grant"), "{r}");
    // A second redemption of the code, on the other node, fails (and revokes the grant).
    let again = c.redeem(1, &code, &verifier).await.expect("token");
    assert_eq!(again.error().as_deref(), Some("invalid_grant"), "{again}");

    // More logins by single sign-on, codes crossing nodes: their keys hash over the slots.
    for i in 0..8 {
        let (code, v) = c.sso_code(&browser, i % 2).await.expect("sso");
        let r = c.redeem((i + 1) % 2, &code, &v).await.expect("token");
        assert_eq!(r.status, StatusCode::OK, "{r}");
    }
    let held: Vec<(u16, u64)> = redis(&c)
        .masters()
        .into_iter()
        .map(|p| (p, redis(&c).dbsize(p)))
        .collect();
    let holding = held.iter().filter(|(_, n)| *n > 0).count();
    assert!(holding >= 2, "keys on fewer than two masters: {held:?}");

    // A rotation by the CLI reaches both nodes through PUBLISH on the cluster (the periodic
    // reload is an hour away).
    rotation_reaches_every_node(&c).await;

    // A master down with no replica leaves slots unserved: readiness fails on both nodes.
    let victim = redis(&c).masters()[1];
    redis(&c).kill(victim);
    let c = &c;
    for node in 0..2 {
        eventually("readiness fails", Duration::from_secs(15), || async move {
            let r = send(c.http.get(c.url(node, "/health/ready")))
                .await
                .expect("ready");
            r.status == StatusCode::SERVICE_UNAVAILABLE && r.json()["cache"] == "down"
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cluster_failover_then_logins_and_invalidations_work_again() {
    let c = start(3, 1).await;
    let browser = c.browser();
    let (code, v) = c.log_in(&browser, [0, 1, 0]).await.expect("login");
    let r = c.redeem(1, &code, &v).await.expect("token");
    assert_eq!(r.status, StatusCode::OK, "{r}");

    // Kill the first seed: a master, and the node both idp nodes are subscribed on.
    let rc = redis(&c);
    let victim = rc.ports[0];
    assert!(rc.masters().contains(&victim), "first seed is a master");
    rc.kill(victim);
    // Its replica takes over (node timeout 2 s); requests meanwhile may fail, but cleanly.
    let killed_at = Instant::now();
    let deadline = killed_at + Duration::from_secs(45);
    let mut failures = Vec::new();
    let mut ok_rounds = 0;
    while ok_rounds < 4 {
        assert!(
            Instant::now() < deadline,
            "logins did not recover after the failover: {failures:?}"
        );
        let fresh = c.browser();
        match c
            .log_in(&fresh, [ok_rounds % 2, 1, (ok_rounds + 1) % 2])
            .await
        {
            Ok((code, v)) => {
                let r = c.redeem(ok_rounds % 2, &code, &v).await.expect("token");
                if r.status == StatusCode::OK {
                    ok_rounds += 1;
                    continue;
                }
                assert!(clean(&r), "{r}");
                failures.push(r.to_string());
            }
            Err(e) => {
                assert!(!e.starts_with("transport"), "{e}");
                failures.push(e);
            }
        }
        ok_rounds = 0;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!(
        "logins recovered {:?} after the master was killed; clean failures meanwhile: {failures:?}",
        killed_at.elapsed()
    );
    rc.wait_ok(Duration::from_secs(30));
    assert_eq!(rc.masters().len(), 3, "a replica was promoted");
    let c = &c;
    for node in 0..2 {
        eventually("ready again", Duration::from_secs(15), || async move {
            let r = send(c.http.get(c.url(node, "/health/ready")))
                .await
                .expect("ready");
            r.status == StatusCode::OK
        })
        .await;
    }
    // The subscribers moved to another seed node and still hear rotations.
    rotation_reaches_every_node(c).await;
}

/// Every `Cache` operation straight on a three-master cluster, with keys that land on
/// different masters: values, put-if-absent, take once (one of two concurrent takers), the
/// counter transaction and its first TTL, and readiness.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_cache_operation_works_on_redis_cluster() {
    let rc = RedisCluster::start(3);
    let config = CacheConfig {
        url: Some(rc.seeds()),
        prefix: "contract:".into(),
        cluster: true,
    };
    let cache = Cache::connect(&config).await.expect("connect");
    cache.ping().await.expect("ping");
    for i in 0..30 {
        let key = format!("k{i}");
        cache.put(&key, b"v", 60).await.expect("put");
        assert_eq!(
            cache.get(&key).await.expect("get").as_deref(),
            Some(&b"v"[..])
        );
        assert!(!cache.put_new(&key, b"w", 60).await.expect("put_new"));
        assert!(
            cache
                .put_new(&format!("n{i}"), b"w", 60)
                .await
                .expect("put_new")
        );
        let first = cache.clone();
        let second = cache.clone();
        let (a, b) = tokio::join!(first.take(&key), second.take(&key));
        let taken = [a.expect("take"), b.expect("take")];
        assert_eq!(
            taken.iter().flatten().count(),
            1,
            "one taker wins: {taken:?}"
        );
        cache.delete(&format!("n{i}")).await.expect("delete");
        assert_eq!(cache.get(&format!("n{i}")).await.expect("get"), None);
        for n in 1..=3 {
            assert_eq!(cache.incr(&format!("c{i}"), 60).await.expect("incr"), n);
        }
    }
    cache.incr("c0", 600).await.expect("incr");
    let ttl = rc.cli(rc.ports[0], &["-c", "pttl", "contract:c0"]);
    let ttl: i64 = ttl.trim().parse().expect("PTTL");
    assert!(
        ttl > 0 && ttl <= 60_000,
        "the counter keeps its first TTL: {ttl}"
    );
    let held: Vec<u64> = rc.ports.iter().map(|&p| rc.dbsize(p)).collect();
    assert!(
        held.iter().filter(|&&n| n > 0).count() >= 2,
        "keys spread over the masters: {held:?}"
    );
    // A dead master fails readiness once the cluster marks it failed (node timeout 2 s).
    rc.kill(rc.ports[2]);
    let cache = &cache;
    eventually(
        "the cache reported down",
        Duration::from_secs(15),
        || async move {
            let probe = tokio::time::timeout(Duration::from_secs(1), cache.ping()).await;
            !matches!(probe, Ok(Ok(())))
        },
    )
    .await;
}

/// `idp keys rotate` against the shared database; both nodes' JWKS show the new key within
/// [`INVALIDATION_BOUND`] although neither reloads keys by itself in that time.
async fn rotation_reaches_every_node(c: &Cluster) {
    let before = c.kids(0).await;
    assert!(!before.is_empty());
    assert_eq!(before, c.kids(1).await);
    c.admin(&["keys", "rotate", "--activate-in", "5"]);
    for node in 0..2 {
        let before = &before;
        eventually(
            "the rotated key in the node's JWKS",
            INVALIDATION_BOUND,
            || async move { c.kids(node).await.iter().any(|k| !before.contains(k)) },
        )
        .await;
    }
}

/// A login form from node 0 with a wrong password posted to node 1.
async fn wrong_password(c: &Cluster, browser: &reqwest::Client) -> Response {
    let (r, _) = c.authorize(browser, 0, &[]).await.expect("authorize");
    let loc = r.location().expect("to the login page");
    let form = c.follow(browser, 0, &loc).await.expect("login form");
    assert_eq!(form.status, StatusCode::OK, "{form}");
    let tx = tests::browser::hidden(&form.body, "tx");
    let csrf = tests::browser::hidden(&form.body, "csrf");
    send(browser.post(c.url(1, "/login")).form(&[
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
        ("login", PHONE),
        ("password", "not-the-password-1"),
    ]))
    .await
    .expect("login post")
}
