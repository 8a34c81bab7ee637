//! The in-process store: a sharded map with per-entry expiry, swept lazily.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

#[derive(Clone)]
pub struct MemoryCache {
    shards: Arc<Vec<Mutex<HashMap<String, Entry>>>>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCache {
    pub fn new() -> Self {
        Self {
            shards: Arc::new((0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect()),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        let h = key.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        let shard = &self.shards[(h as usize) % SHARDS];
        // A poisoned lock only means another thread panicked mid-operation on a plain map.
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 1024 && h % 64 == 0 {
            let now = Instant::now();
            map.retain(|_, e| e.expires > now);
        }
        map
    }

    pub fn put(&self, key: &str, value: &[u8], ttl: u64) {
        let expires = Instant::now() + Duration::from_secs(ttl);
        self.shard(key).insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires,
            },
        );
    }

    pub fn put_new(&self, key: &str, value: &[u8], ttl: u64) -> bool {
        let mut map = self.shard(key);
        let now = Instant::now();
        if map.get(key).is_some_and(|e| e.expires > now) {
            return false;
        }
        map.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires: now + Duration::from_secs(ttl),
            },
        );
        true
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let map = self.shard(key);
        map.get(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value.clone())
    }

    pub fn take(&self, key: &str) -> Option<Vec<u8>> {
        self.shard(key)
            .remove(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value)
    }

    pub fn incr(&self, key: &str, ttl: u64) -> i64 {
        let mut map = self.shard(key);
        let now = Instant::now();
        let entry = map.entry(key.to_owned()).or_insert_with(|| Entry {
            value: b"0".to_vec(),
            expires: now + Duration::from_secs(ttl),
        });
        if entry.expires <= now {
            *entry = Entry {
                value: b"0".to_vec(),
                expires: now + Duration::from_secs(ttl),
            };
        }
        let n = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            + 1;
        entry.value = n.to_string().into_bytes();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_once_and_expiry_hides_values() {
        let c = MemoryCache::new();
        c.put("a", b"1", 60);
        assert_eq!(c.take("a").as_deref(), Some(&b"1"[..]));
        assert_eq!(c.take("a"), None);
        c.put("b", b"2", 0);
        assert_eq!(c.get("b"), None);
        assert!(c.put_new("c", b"x", 60));
        assert!(!c.put_new("c", b"y", 60));
        assert_eq!(c.incr("n", 60), 1);
        assert_eq!(c.incr("n", 60), 2);
    }

    #[test]
    fn concurrent_takers_get_one_value() {
        let c = MemoryCache::new();
        c.put("code", b"v", 60);
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| c.take("code").is_some() as usize))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }
}
