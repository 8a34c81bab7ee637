//! Cross-node invalidation of the in-process caches of read-mostly data (clients, keys).
//!
//! With Redis every node subscribes to `{cache.prefix}invalidate` (`idp:invalidate` by
//! default). A change (a client deleted or changed through the admin API or the CLI, a key
//! rotation) is published there; each node drops the client from its [`ClientCache`] or
//! reloads its key set from the database. After a lost subscription (Redis restarted) a node
//! drops everything once it is subscribed again, since messages may have been missed.
//! Without Redis (one node) there is nobody to tell: [`Bus::publish`] does nothing.
//!
//! With Redis Cluster (`cache.cluster = true`) a `PUBLISH` on any node reaches the subscribers
//! of every node (Redis 7 broadcasts classic pub/sub over the cluster bus), so a node publishes
//! through its cluster connection and subscribes on one seed node of `cache.url`. When that
//! seed goes away it subscribes on the next seed (round robin) and, as after any lost
//! subscription, drops everything once subscribed again.
//!
//! Bound: normally the time of one Redis round trip; if a message is lost (Redis down at
//! that moment), the caches' own expiry still holds: 5 s for clients
//! ([`ClientCache::TTL`]) and `keys.reload_secs` for keys.
//!
//! [`ClientCache`]: crate::store::clients::ClientCache
//! [`ClientCache::TTL`]: crate::store::clients::ClientCache::TTL

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;

use super::connection::RedisConn;
use crate::app::{AppState, Inner};
use crate::config::CacheConfig;

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A client (relying party) was changed or deleted.
    Client(String),
    /// Signing keys were rotated or retired.
    Keys,
    /// Anything may have changed (used after a lost subscription).
    All,
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Change::Client(id) => format!("client:{id}"),
            Change::Keys => "keys".into(),
            Change::All => "all".into(),
        }
    }

    fn decode(text: &str) -> Option<Change> {
        match text {
            "keys" => Some(Change::Keys),
            "all" => Some(Change::All),
            t => t
                .strip_prefix("client:")
                .map(|id| Change::Client(id.into())),
        }
    }
}

struct RedisBus {
    /// Where to subscribe: the server, or each seed node of a cluster in turn.
    subscribe_to: Vec<redis::Client>,
    conn: RedisConn,
    channel: String,
}

/// The publisher side, cheap to clone; `Bus::default()` is the one-node no-op.
#[derive(Clone, Default)]
pub struct Bus(Option<Arc<RedisBus>>);

impl Bus {
    /// A bus over Redis (one server or a cluster) when `cache.url` is given.
    pub async fn connect(config: &CacheConfig) -> Result<Bus, String> {
        if config.url.is_none() {
            return Ok(Bus(None));
        }
        let subscribe_to = config
            .urls()
            .into_iter()
            .map(redis::Client::open)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("invalid Redis URL: {e}"))?;
        let conn = RedisConn::connect(config).await?;
        Ok(Bus(Some(Arc::new(RedisBus {
            subscribe_to,
            conn,
            channel: format!("{}invalidate", config.prefix),
        }))))
    }

    /// Tells every node (this one included) about `change`; waits for Redis to take it.
    /// A failure is logged, not returned: the caches' expiry bounds staleness anyway.
    pub async fn publish(&self, change: &Change) {
        let Some(bus) = &self.0 else { return };
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&bus.channel).arg(change.encode());
        let sent = bus.conn.query::<i64>(&cmd);
        match tokio::time::timeout(Duration::from_secs(3), sent).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "publishing a cache invalidation failed"),
            Err(_) => tracing::warn!("publishing a cache invalidation timed out"),
        }
    }

    /// [`Bus::publish`] without waiting (from synchronous code inside the server).
    pub fn publish_later(&self, change: Change) {
        if self.0.is_none() {
            return;
        }
        let bus = self.clone();
        tokio::spawn(async move { bus.publish(&change).await });
    }

    /// Starts the subscriber of this node (it ends when the application is dropped) and waits
    /// up to two seconds for it to be subscribed, so a node that serves also hears changes.
    pub async fn listen(&self, state: &AppState) {
        let Some(bus) = self.0.clone() else { return };
        let weak = state.downgrade();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move { subscribe_forever(bus, weak, tx).await });
        if tokio::time::timeout(Duration::from_secs(2), rx)
            .await
            .is_err()
        {
            tracing::warn!("not yet subscribed to cache invalidations; going on");
        }
    }
}

async fn subscribe_forever(
    bus: Arc<RedisBus>,
    weak: Weak<Inner>,
    subscribed: tokio::sync::oneshot::Sender<()>,
) {
    let mut subscribed = Some(subscribed);
    let mut first = true;
    for turn in 0.. {
        if weak.strong_count() == 0 {
            return;
        }
        // A lost or failed subscription moves on to the next seed node (a cluster's).
        let seeds = bus.subscribe_to.len().max(1);
        let Some(client) = bus.subscribe_to.get(turn % seeds) else {
            tracing::warn!("no Redis server to subscribe to cache invalidations on");
            return;
        };
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&bus.channel).await {
                Ok(()) => {
                    if !first {
                        tracing::info!("cache invalidation channel subscribed again");
                        apply(&weak, Change::All).await;
                    }
                    first = false;
                    if let Some(tx) = subscribed.take() {
                        let _ = tx.send(());
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let text = String::from_utf8_lossy(msg.get_payload_bytes()).into_owned();
                        match Change::decode(&text) {
                            Some(change) => {
                                if !apply(&weak, change).await {
                                    return;
                                }
                            }
                            None => tracing::warn!("unknown cache invalidation message"),
                        }
                    }
                    tracing::warn!("cache invalidation channel lost; resubscribing");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to cache invalidations"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect for cache invalidations"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Applies `change` to this node's caches; false when the application is gone.
async fn apply(weak: &Weak<Inner>, change: Change) -> bool {
    let Some(state) = AppState::upgrade(weak) else {
        return false;
    };
    state.metrics.invalidation();
    match &change {
        Change::Client(id) => state.clients.forget_local(id),
        Change::Keys | Change::All => {
            if change == Change::All {
                state.clients.clear_local();
            }
            if let Err(e) = state.keys.reload(&state.db, state.clock.now()).await {
                tracing::warn!(error = %e, "key reload after an invalidation failed");
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for c in [Change::Client("a:b".into()), Change::Keys, Change::All] {
            assert_eq!(Change::decode(&c.encode()), Some(c));
        }
        assert_eq!(Change::decode("bogus"), None);
    }
}
