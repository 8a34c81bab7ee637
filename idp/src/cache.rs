//! Short-lived state (login transactions, authorization codes, replay caches, failure
//! counters) behind one interface: an in-process map for one node, or Redis (one server or a
//! Redis Cluster, `connection.rs`) for several. "Take once" is atomic in both (a locked
//! remove; Redis `GETDEL`).

mod connection;
pub mod invalidation;
mod memory;
mod redis_store;

pub use memory::MemoryCache;
pub use redis_store::RedisCache;

use crate::config::CacheConfig;

#[derive(Debug, thiserror::Error)]
#[error("short-lived state store unavailable: {0}")]
pub struct CacheError(pub String);

#[derive(Clone)]
pub enum Cache {
    Memory(MemoryCache),
    Redis(RedisCache),
}

impl Cache {
    /// Connects to Redis (one server or a cluster) when `cache.url` is given, else an
    /// in-process store.
    pub async fn connect(config: &CacheConfig) -> Result<Cache, String> {
        match config.url {
            None => Ok(Cache::Memory(MemoryCache::new())),
            Some(_) => RedisCache::connect(config).await.map(Cache::Redis),
        }
    }

    /// Stores `value` under `key` for `ttl` seconds, replacing any previous value.
    pub async fn put(&self, key: &str, value: &[u8], ttl: u64) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                m.put(key, value, ttl);
                Ok(())
            }
            Cache::Redis(r) => r.put(key, value, ttl).await,
        }
    }

    /// Stores only if absent; returns whether it was stored (replay caches).
    pub async fn put_new(&self, key: &str, value: &[u8], ttl: u64) -> Result<bool, CacheError> {
        match self {
            Cache::Memory(m) => Ok(m.put_new(key, value, ttl)),
            Cache::Redis(r) => r.put_new(key, value, ttl).await,
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self {
            Cache::Memory(m) => Ok(m.get(key)),
            Cache::Redis(r) => r.get(key).await,
        }
    }

    /// Reads and deletes in one atomic step: of two concurrent takers, one gets the value.
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self {
            Cache::Memory(m) => Ok(m.take(key)),
            Cache::Redis(r) => r.take(key).await,
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), CacheError> {
        match self {
            Cache::Memory(m) => {
                m.take(key);
                Ok(())
            }
            Cache::Redis(r) => r.delete(key).await,
        }
    }

    /// Increments a counter that expires `ttl` seconds after its first increment.
    pub async fn incr(&self, key: &str, ttl: u64) -> Result<i64, CacheError> {
        match self {
            Cache::Memory(m) => Ok(m.incr(key, ttl)),
            Cache::Redis(r) => r.incr(key, ttl).await,
        }
    }

    /// Whether the store answers (for readiness).
    pub async fn ping(&self) -> Result<(), CacheError> {
        match self {
            Cache::Memory(_) => Ok(()),
            Cache::Redis(r) => r.ping().await,
        }
    }

    /// JSON convenience: store a serialisable value.
    pub async fn put_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: u64,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value).map_err(|e| CacheError(e.to_string()))?;
        self.put(key, &bytes, ttl).await
    }

    /// JSON convenience: read a value; an undecodable one reads as absent.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        Ok(self
            .get(key)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// JSON convenience: take a value once.
    pub async fn take_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        Ok(self
            .take(key)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }
}
