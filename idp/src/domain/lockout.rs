//! Lockout after failed passwords, counted per account and per client address.
//!
//! - **Per account.** Failures against one account count together whichever identifier
//!   (phone, e-mail, SNILS) and whichever address they come from; an identifier that names no
//!   account is counted under its own hash, so unknown identifiers lock exactly like known
//!   ones. Past `login.max_failures` the account is locked for `login.lockout_base_secs`,
//!   doubling with each further failure, never more than an hour; failures are forgotten an
//!   hour after the latest one.
//! - **Per address.** Failures from one client address count across all accounts, with the
//!   higher `login.max_failures_per_address` (many people may share one address).
//! - **Never forever.** Locks expire by themselves (at most an hour), a success clears the
//!   account's counter, and the owner can unlock by a code sent to a registered contact
//!   ([`release`]). After such an unlock the address that did it is *shielded* for
//!   `login.unlock_shield_secs`: attempts on that account from there are counted on their own
//!   key (account + address) and skip the address lock, so strangers failing from elsewhere
//!   keep the account locked only for themselves.
//!
//! Windows, locks and shields carry their times as values read against the injected clock
//! (the cache's own expiry only cleans up), so tests can move time past them.

use std::net::IpAddr;

use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::random_token;

/// Failures are counted together until this long passes without one.
pub const WINDOW_SECS: i64 = 3600;
/// How long the cache keeps a counter (clean-up only).
const COUNTER_TTL_SECS: u64 = 86_400;
/// The longest lock.
pub const MAX_WAIT_SECS: i64 = 3600;

/// The counters a password attempt is checked against and charged to.
#[derive(Clone, Debug)]
pub struct Counters {
    /// The account's key: `u:<id>`, `u:<id>@<address>` when shielded, or `id:<hash>` for an
    /// identifier that names no account.
    account: String,
    /// The address's key, unless the attempt is shielded or the address is unknown.
    address: Option<String>,
}

impl Counters {
    /// The counters for an attempt on `user_id` (None when the identifier names no account,
    /// whose hash is then `identifier_key`) from `addr`.
    pub async fn for_attempt(
        state: &AppState,
        user_id: Option<&str>,
        identifier_key: &str,
        addr: Option<IpAddr>,
    ) -> Result<Counters, CacheError> {
        let address = addr.map(address_key);
        let Some(user_id) = user_id else {
            return Ok(Counters {
                account: format!("id:{identifier_key}"),
                address,
            });
        };
        if let Some(a) = &address
            && shielded(state, user_id, a).await?
        {
            return Ok(Counters {
                account: format!("u:{user_id}@{a}"),
                address: None,
            });
        }
        Ok(Counters {
            account: format!("u:{user_id}"),
            address,
        })
    }

    /// Whether the account or the address is locked now.
    pub async fn locked(&self, state: &AppState) -> Result<bool, CacheError> {
        let now = state.clock.now();
        if is_locked(state, &self.account, now).await? {
            return Ok(true);
        }
        match &self.address {
            Some(a) => is_locked(state, a, now).await,
            None => Ok(false),
        }
    }

    /// Charges a failure to the account and the address; returns the account's new lock
    /// (seconds) if this failure set one.
    pub async fn failed(&self, state: &AppState) -> Result<Option<i64>, CacheError> {
        let cfg = &state.config.login;
        let wait = bump(state, &self.account, cfg.max_failures).await?;
        if wait.is_some() {
            state.metrics.lockout("account");
        }
        if let Some(a) = &self.address
            && bump(state, a, cfg.max_failures_per_address)
                .await?
                .is_some()
        {
            state.metrics.lockout("address");
        }
        Ok(wait)
    }

    /// A success clears the account's counter and lock (never the address's: an attacker
    /// could otherwise interleave logins to an account of their own).
    pub async fn succeeded(&self, state: &AppState) -> Result<(), CacheError> {
        clear(state, &self.account).await
    }
}

/// Unlock by code (or a finished recovery): clears the account's counter and lock, and
/// shields `addr` for this account for `login.unlock_shield_secs`.
pub async fn release(
    state: &AppState,
    user_id: &str,
    addr: Option<IpAddr>,
) -> Result<(), CacheError> {
    clear(state, &format!("u:{user_id}")).await?;
    if let Some(addr) = addr {
        let a = address_key(addr);
        clear(state, &format!("u:{user_id}@{a}")).await?;
        let ttl = state.config.login.unlock_shield_secs;
        let until = state.clock.now() + ttl;
        state
            .cache
            .put(
                &format!("lockout:shield:{user_id}:{a}"),
                until.to_string().as_bytes(),
                ttl as u64,
            )
            .await?;
    }
    Ok(())
}

/// The wait a lock lasts after the `failures`-th failure, if that failure locks: the base
/// wait at the threshold, doubling with each further failure, at most [`MAX_WAIT_SECS`].
pub fn lock_wait(failures: i64, threshold: i64, base_secs: i64) -> Option<i64> {
    if failures < threshold {
        return None;
    }
    let doublings = (failures - threshold).clamp(0, 20) as u32;
    Some(
        base_secs
            .max(1)
            .saturating_mul(1i64 << doublings)
            .min(MAX_WAIT_SECS),
    )
}

/// The counter key of a client address: an IPv4 address as is, an IPv6 one by its /64
/// (one subscriber usually holds a whole /64).
pub fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

async fn shielded(state: &AppState, user_id: &str, address: &str) -> Result<bool, CacheError> {
    let until = read_i64(
        state
            .cache
            .get(&format!("lockout:shield:{user_id}:{address}"))
            .await?,
    );
    Ok(until.is_some_and(|u| u > state.clock.now()))
}

async fn is_locked(state: &AppState, key: &str, now: i64) -> Result<bool, CacheError> {
    let until = read_i64(state.cache.get(&format!("lockout:until:{key}")).await?);
    Ok(until.is_some_and(|u| u > now))
}

/// Counts one failure on `key` in its current window and locks it past `threshold`.
async fn bump(state: &AppState, key: &str, threshold: i64) -> Result<Option<i64>, CacheError> {
    let now = state.clock.now();
    let window = current_window(state, key, now).await?;
    // The counter's own expiry only cleans up; the window decides (by the injected clock).
    let failures = state
        .cache
        .incr(&format!("lockout:n:{key}:{window}"), COUNTER_TTL_SECS)
        .await?;
    let Some(wait) = lock_wait(failures, threshold, state.config.login.lockout_base_secs) else {
        return Ok(None);
    };
    state
        .cache
        .put(
            &format!("lockout:until:{key}"),
            (now + wait).to_string().as_bytes(),
            wait as u64,
        )
        .await?;
    Ok(Some(wait))
}

/// The id of the current counting window of `key` (it goes on while failures keep coming
/// less than [`WINDOW_SECS`] apart; a new one gets a new random id, so its count starts at
/// zero), recording `now` as its latest failure.
async fn current_window(state: &AppState, key: &str, now: i64) -> Result<String, CacheError> {
    let k = format!("lockout:window:{key}");
    let window = state
        .cache
        .get(&k)
        .await?
        .and_then(|v| {
            let text = String::from_utf8(v).ok()?;
            let (id, last) = text.split_once(':')?;
            Some((id.to_string(), last.parse::<i64>().ok()?))
        })
        .filter(|(_, last)| window_goes_on(*last, now))
        .map_or_else(|| random_token(9), |(id, _)| id);
    state
        .cache
        .put(&k, format!("{window}:{now}").as_bytes(), WINDOW_SECS as u64)
        .await?;
    Ok(window)
}

/// Failures are forgotten [`WINDOW_SECS`] after the latest one.
fn window_goes_on(last_failure: i64, now: i64) -> bool {
    now < last_failure + WINDOW_SECS
}

/// Forgets the window (so the count starts again) and the lock of `key`.
async fn clear(state: &AppState, key: &str) -> Result<(), CacheError> {
    state.cache.delete(&format!("lockout:window:{key}")).await?;
    state.cache.delete(&format!("lockout:until:{key}")).await
}

fn read_i64(value: Option<Vec<u8>>) -> Option<i64> {
    value.and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_at_the_threshold_and_double_up_to_an_hour() {
        assert_eq!(lock_wait(4, 5, 30), None);
        assert_eq!(lock_wait(5, 5, 30), Some(30));
        assert_eq!(lock_wait(6, 5, 30), Some(60));
        assert_eq!(lock_wait(9, 5, 30), Some(480));
        assert_eq!(lock_wait(12, 5, 30), Some(3600));
        assert_eq!(lock_wait(1_000_000, 5, 30), Some(3600));
        assert_eq!(lock_wait(50, 50, 30), Some(30));
        assert_eq!(lock_wait(49, 50, 30), None);
    }

    #[test]
    fn addresses_are_keyed_by_ipv4_or_ipv6_prefix() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(address_key(v4), "ip:203.0.113.7");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b), "same /64");
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(address_key(mapped), "ip:203.0.113.7");
    }

    #[test]
    fn failures_are_forgotten_an_hour_after_the_latest() {
        assert!(window_goes_on(1000, 1000));
        assert!(window_goes_on(1000, 1000 + WINDOW_SECS - 1));
        assert!(!window_goes_on(1000, 1000 + WINDOW_SECS));
    }
}
