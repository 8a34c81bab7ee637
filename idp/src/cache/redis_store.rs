//! The Redis store, on one server or a Redis Cluster ([`RedisConn`]). Every key is prefixed
//! (`{cache.prefix}{kind}:{id}`, e.g. `idp:code:<sha256>`); every operation names one key,
//! so in a cluster each key simply lives on the master of its own slot.

use super::CacheError;
use super::connection::RedisConn;
use crate::config::CacheConfig;

#[derive(Clone)]
pub struct RedisCache {
    conn: RedisConn,
    prefix: String,
}

fn err(e: redis::RedisError) -> CacheError {
    CacheError(e.to_string())
}

impl RedisCache {
    pub async fn connect(config: &CacheConfig) -> Result<Self, String> {
        Ok(Self {
            conn: RedisConn::connect(config).await?,
            prefix: config.prefix.clone(),
        })
    }

    fn key(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl: u64) -> Result<(), CacheError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("EX").arg(ttl.max(1));
        self.conn.query::<()>(&cmd).await.map_err(err)
    }

    pub async fn put_new(&self, key: &str, value: &[u8], ttl: u64) -> Result<bool, CacheError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl.max(1));
        let r: Option<String> = self.conn.query(&cmd).await.map_err(err)?;
        Ok(r.is_some())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        self.conn.query(&cmd).await.map_err(err)
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(self.key(key));
        self.conn.query(&cmd).await.map_err(err)
    }

    pub async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        self.conn.query::<()>(&cmd).await.map_err(err)
    }

    /// `INCR` and `EXPIRE … NX` in one transaction on one key (one slot in a cluster).
    pub async fn incr(&self, key: &str, ttl: u64) -> Result<i64, CacheError> {
        let k = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&k, 1)
            .cmd("EXPIRE")
            .arg(&k)
            .arg(ttl.max(1))
            .arg("NX");
        let (n, _): (i64, i64) = self.conn.query_pipe(&pipe).await.map_err(err)?;
        Ok(n)
    }

    pub async fn ping(&self) -> Result<(), CacheError> {
        self.conn.ping().await.map_err(err)
    }
}
