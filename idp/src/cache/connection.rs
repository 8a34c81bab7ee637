//! One way to talk to Redis, a single server or a Redis Cluster (`cache.cluster`), shared by
//! the short-lived store and the publisher of the invalidation bus.
//!
//! A single server goes through a reconnecting [`ConnectionManager`]; a cluster through
//! [`ClusterConnection`], which learns the slot map from the seed nodes, follows `MOVED`/`ASK`
//! and refreshes the map after a failover. Every command this crate sends names at most one
//! key (and the one transaction, `INCR` + `EXPIRE NX`, names the same key twice), so no key
//! needs a hash tag: each lands on the master of its own slot.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult};

use crate::config::CacheConfig;

/// How long one connection attempt and one answer may take (as for a single server).
const TIMEOUT: Duration = Duration::from_secs(2);
/// A whole cluster request, retries and redirections (a failover) included.
const CLUSTER_OVERALL_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConn {
    /// Connects to the server, or to the cluster through its seed nodes.
    pub async fn connect(config: &CacheConfig) -> Result<RedisConn, String> {
        let urls = config.urls();
        if config.cluster {
            let client = ClusterClientBuilder::new(urls)
                .connection_timeout(TIMEOUT)
                .response_timeout(TIMEOUT)
                .overall_response_timeout(Some(CLUSTER_OVERALL_TIMEOUT))
                .retries(3)
                .build()
                .map_err(|e| format!("invalid Redis Cluster seed URLs: {e}"))?;
            let conn = client
                .get_async_connection()
                .await
                .map_err(|e| format!("cannot connect to Redis Cluster: {e}"))?;
            return Ok(RedisConn::Cluster(conn));
        }
        let url = urls.first().ok_or("cache.url is not set")?;
        let client = redis::Client::open(*url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let settings = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, settings)
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        Ok(RedisConn::Single(conn))
    }

    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self.clone() {
            RedisConn::Single(mut c) => cmd.query_async(&mut c).await,
            RedisConn::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
    }

    /// A pipeline (or transaction); in a cluster all its keys must share one slot.
    pub async fn query_pipe<T: FromRedisValue>(&self, pipe: &Pipeline) -> RedisResult<T> {
        match self.clone() {
            RedisConn::Single(mut c) => pipe.query_async(&mut c).await,
            RedisConn::Cluster(mut c) => pipe.query_async(&mut c).await,
        }
    }

    /// Readiness: the server answers `PING`. A cluster answers `PING` on the masters the
    /// client is connected to, and a master reports `cluster_state:ok` (every slot served). A
    /// master that died is in neither check until the cluster marks it failed
    /// (`cluster-node-timeout`); from then on readiness fails until a replica takes over.
    pub async fn ping(&self) -> RedisResult<()> {
        match self.clone() {
            RedisConn::Single(mut c) => ping(&mut c).await,
            RedisConn::Cluster(mut c) => {
                ping(&mut c).await?;
                let info = c
                    .route_command(
                        redis::cmd("CLUSTER").arg("INFO").clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
                    )
                    .await?;
                let info: String = redis::from_redis_value(info)?;
                if cluster_state_ok(&info) {
                    Ok(())
                } else {
                    Err(redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "cluster_state is not ok",
                    )))
                }
            }
        }
    }
}

async fn ping(c: &mut impl ConnectionLike) -> RedisResult<()> {
    redis::cmd("PING")
        .query_async::<String>(c)
        .await
        .map(|_| ())
}

/// Whether `CLUSTER INFO` says the cluster serves every slot.
fn cluster_state_ok(info: &str) -> bool {
    info.lines().any(|l| l.trim() == "cluster_state:ok")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_state_is_read_from_cluster_info() {
        let ok = "cluster_enabled:1\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\n";
        assert!(cluster_state_ok(ok));
        assert!(!cluster_state_ok(&ok.replace("state:ok", "state:fail")));
        assert!(!cluster_state_ok(""));
    }
}
