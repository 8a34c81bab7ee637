//! Password hashing with Argon2id (PHC strings), on dedicated threads with bounded concurrency.

use std::sync::{Arc, Mutex, OnceLock, mpsc};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

type Job = Box<dyn FnOnce(&Argon2<'static>, &mut Vec<Block>) + Send>;

/// The Argon2 memory is given back after this long without work.
const IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Argon2 block arrays kept between jobs, shared by the password threads (at most one per
/// thread); emptied when the threads go idle.
type Pool = Arc<Mutex<Vec<Vec<Block>>>>;

/// Hashes and verifies passwords on a few dedicated threads (one per core) that reuse Argon2
/// memory between jobs: a burst of logins queues instead of starving the async runtime, and no
/// login pays for faulting in 19 MiB of fresh memory. After [`IDLE`] without work the memory
/// is freed, and [`return_large_frees_to_the_os`] makes sure the allocator really gives it
/// back (docs/performance.md, "Several nodes": the soak's memory).
#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    dummy_hash: Arc<OnceLock<String>>,
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
        return_large_frees_to_the_os();
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let pool: Pool = Arc::default();
        for i in 0..cores {
            let rx = rx.clone();
            let argon = argon.clone();
            let pool = pool.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job, so the thread
                        // that times out is the one that saw no job for IDLE: all are idle.
                        let job = match rx.lock() {
                            Ok(r) => r.recv_timeout(IDLE),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => {
                                let mut blocks = take_buffer(&pool);
                                job(&argon, &mut blocks);
                                if let Ok(mut p) = pool.lock() {
                                    p.push(blocks);
                                }
                            }
                            // Idle: give every thread's Argon2 memory back.
                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                if let Ok(mut p) = pool.lock() {
                                    *p = Vec::new();
                                }
                            }
                            Err(mpsc::RecvTimeoutError::Disconnected) => return, // the app is gone
                        }
                    }
                })
                .map_err(|e| format!("cannot start the password threads: {e}"))?;
        }
        Ok(Self {
            argon,
            jobs: Arc::new(Mutex::new(tx)),
            dummy_hash: Arc::new(OnceLock::new()),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, String> {
        let pw = password.to_owned();
        self.run(move |argon, blocks| hash_with(argon, blocks, &pw))
            .await?
    }

    /// Verifies `password` against `stored`; with `None` it verifies against a dummy hash so an
    /// unknown login costs the same time as a known one.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Verified {
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s.to_owned(),
            None => self.dummy().await,
        };
        let pw = password.to_owned();
        let outcome = self
            .run(move |argon, blocks| verify_with(argon, blocks, &pw, &stored))
            .await
            .unwrap_or(Verified::No);
        if known { outcome } else { Verified::No }
    }

    /// A hash of a random password with the current parameters, made on first need.
    async fn dummy(&self) -> String {
        if let Some(h) = self.dummy_hash.get() {
            return h.clone();
        }
        let made = self
            .hash(&crate::crypto::random_token(16))
            .await
            .unwrap_or_default();
        self.dummy_hash.get_or_init(|| made).clone()
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Argon2<'static>, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |argon, blocks| {
            let _ = tx.send(f(argon, blocks));
        });
        self.jobs
            .lock()
            .map_err(|_| "password threads unavailable".to_string())?
            .send(job)
            .map_err(|_| "password threads stopped".to_string())?;
        rx.await.map_err(|_| "password thread failed".to_string())
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> &Params {
        self.argon.params()
    }
}

/// Hashes into reused memory and formats the PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
/// A kept block array, or an empty one that Argon2 will size on first use.
fn take_buffer(pool: &Pool) -> Vec<Block> {
    pool.lock()
        .ok()
        .and_then(|mut p| p.pop())
        .unwrap_or_default()
}

/// glibc's malloc raises its mmap threshold each time a large mmapped block is freed, so after
/// the first freed 19 MiB Argon2 array later ones come from the heap and stay resident when
/// freed (the soak's +21 MiB on one node). Fixing the threshold at 1 MiB keeps large blocks
/// mmapped, so freeing them returns the memory. Process-wide and idempotent; other
/// allocators and platforms need nothing.
fn return_large_frees_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            #[allow(unsafe_code)]
            // SAFETY: mallopt only sets an allocator tunable; it is thread-safe in glibc and
            // has no pointer arguments.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        });
    }
}

fn hash_with(
    argon: &Argon2<'static>,
    blocks: &mut Vec<Block>,
    password: &str,
) -> Result<String, String> {
    use argon2::password_hash::phc::{Output, ParamsString, Salt};
    let salt = crate::crypto::random_bytes(16);
    let params = argon.params();
    if blocks.len() != params.block_count() {
        *blocks = vec![Block::default(); params.block_count()];
    }
    let mut out = [0u8; 32];
    argon
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut blocks[..])
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash into reused memory when the stored parameters are the current ones;
/// otherwise verifies the usual way and returns a rehash.
fn verify_with(
    argon: &Argon2<'static>,
    blocks: &mut Vec<Block>,
    password: &str,
    stored: &str,
) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    let current = argon.params();
    let same = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed)
            .map(|p| {
                p.m_cost() == current.m_cost()
                    && p.t_cost() == current.t_cost()
                    && p.p_cost() == current.p_cost()
            })
            .unwrap_or(false);
    if same {
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Verified::No;
        };
        let needed = current.block_count();
        if blocks.len() != needed {
            *blocks = vec![Block::default(); needed];
        }
        let mut out = vec![0u8; expected.len()];
        if argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt.as_ref(),
                &mut out,
                &mut blocks[..],
            )
            .is_err()
        {
            return Verified::No;
        }
        return if crate::crypto::constant_time_eq(&out, expected.as_ref()) {
            Verified::Yes
        } else {
            Verified::No
        };
    }
    if argon.verify_password(password.as_bytes(), &parsed).is_err() {
        return Verified::No;
    }
    argon
        .hash_password(password.as_bytes())
        .map(|h| Verified::YesRehash(h.to_string()))
        .unwrap_or(Verified::No)
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
