//! Password hashing with Argon2id (PHC strings), on the blocking pool with bounded concurrency.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Argon2id parameters; the default is OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Outcome of a verification.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but hashed with other parameters: the caller should store `new_hash`.
    YesRehash(String),
}

/// Hashes and verifies passwords; at most one Argon2 computation per core at a time, so a
/// burst of logins queues instead of starving the async runtime.
#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl Passwords {
    pub fn new(params: Argon2Params) -> Result<Self, String> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let dummy = argon
            .hash_password(crate::crypto::random_token(16).as_bytes())
            .map_err(|e| format!("Argon2 failed: {e}"))?
            .to_string();
        Ok(Self {
            argon,
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::new(dummy),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, String> {
        let argon = self.argon.clone();
        let pw = password.to_owned();
        self.run(move || {
            argon
                .hash_password(pw.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Verifies `password` against `stored`; with `None` it verifies against a dummy hash so an
    /// unknown login costs the same time as a known one.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Verified {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_owned();
        let argon = self.argon.clone();
        let pw = password.to_owned();
        let outcome = self
            .run(move || {
                let Ok(parsed) = PasswordHash::new(&stored) else {
                    return Ok(Verified::No);
                };
                if argon.verify_password(pw.as_bytes(), &parsed).is_err() {
                    return Ok(Verified::No);
                }
                let current = argon.params();
                let same = Params::try_from(&parsed)
                    .map(|p| {
                        p.m_cost() == current.m_cost()
                            && p.t_cost() == current.t_cost()
                            && p.p_cost() == current.p_cost()
                    })
                    .unwrap_or(false)
                    && parsed.algorithm.as_str() == "argon2id";
                if same {
                    Ok(Verified::Yes)
                } else {
                    argon
                        .hash_password(pw.as_bytes())
                        .map(|h| Verified::YesRehash(h.to_string()))
                        .map_err(|e| e.to_string())
                }
            })
            .await
            .unwrap_or(Verified::No);
        if known { outcome } else { Verified::No }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| e.to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Params {
        Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn hash_verify_and_rehash_on_parameter_change() {
        let old = Passwords::new(cheap()).unwrap();
        let h = old.hash("Correct-horse1!").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(old.verify("Correct-horse1!", Some(&h)).await, Verified::Yes);
        assert_eq!(old.verify("wrong", Some(&h)).await, Verified::No);
        let new = Passwords::new(Argon2Params {
            memory_kib: 2048,
            ..cheap()
        })
        .unwrap();
        assert!(matches!(
            new.verify("Correct-horse1!", Some(&h)).await,
            Verified::YesRehash(_)
        ));
        assert_eq!(new.verify("Correct-horse1!", None).await, Verified::No);
    }
}
