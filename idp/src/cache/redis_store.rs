//! The Redis store, through a reconnecting connection manager. Every key is prefixed.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::CacheError;

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
}

fn err(e: redis::RedisError) -> CacheError {
    CacheError(e.to_string())
}

impl RedisCache {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl: u64) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        c.set_ex::<_, _, ()>(self.key(key), value, ttl.max(1))
            .await
            .map_err(err)
    }

    pub async fn put_new(&self, key: &str, value: &[u8], ttl: u64) -> Result<bool, CacheError> {
        let mut c = self.conn.clone();
        let r: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl.max(1))
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(r.is_some())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut c = self.conn.clone();
        c.get(self.key(key)).await.map_err(err)
    }

    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut c = self.conn.clone();
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut c)
            .await
            .map_err(err)
    }

    pub async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        c.del::<_, ()>(self.key(key)).await.map_err(err)
    }

    pub async fn incr(&self, key: &str, ttl: u64) -> Result<i64, CacheError> {
        let mut c = self.conn.clone();
        let k = self.key(key);
        let (n, _): (i64, i64) = redis::pipe()
            .atomic()
            .incr(&k, 1)
            .cmd("EXPIRE")
            .arg(&k)
            .arg(ttl.max(1))
            .arg("NX")
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(n)
    }

    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(|_| ())
            .map_err(err)
    }
}
