//! One-time codes: six digits by SMS (or a long token in an e-mail link), single use, an
//! attempt cap per code, a resend cool-down and a daily cap per subject.

use crate::app::AppState;
use crate::crypto::{constant_time_eq, random_bytes, random_token};
use crate::store::StoreError;
use crate::store::codes::{self, NewCode};

/// How a kind of code behaves.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub ttl: i64,
    pub max_attempts: i64,
    pub resend_after: i64,
    pub daily_cap: i64,
    /// 6 for a typed code; 0 for a link token.
    pub digits: usize,
}

/// An SMS code: 5 minutes, 3 attempts, a new one after a minute, 10 a day.
pub const SMS: Policy = Policy {
    ttl: 300,
    max_attempts: 3,
    resend_after: 60,
    daily_cap: 10,
    digits: 6,
};
/// A code sent by e-mail to type in: 10 minutes.
pub const EMAIL_CODE: Policy = Policy {
    ttl: 600,
    max_attempts: 3,
    resend_after: 60,
    daily_cap: 10,
    digits: 6,
};
/// An e-mail confirmation link: 3 days.
pub const EMAIL_LINK: Policy = Policy {
    ttl: 3 * 86_400,
    max_attempts: 5,
    resend_after: 60,
    daily_cap: 10,
    digits: 0,
};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("a new code can be requested in {0} s")]
    TooSoon(i64),
    #[error("too many codes today")]
    DailyCap,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a code for `purpose` proving `subject`; returns the code in clear (to send).
pub async fn issue(
    state: &AppState,
    purpose: &str,
    subject: &str,
    policy: Policy,
    payload: Option<&serde_json::Value>,
) -> Result<String, IssueError> {
    let now = state.clock.now();
    let (last, today) = codes::recent(&state.db, purpose, subject, now - 86_400).await?;
    if let Some(last) = last {
        let wait = last + policy.resend_after - now;
        if wait > 0 {
            return Err(IssueError::TooSoon(wait));
        }
    }
    if today >= policy.daily_cap {
        return Err(IssueError::DailyCap);
    }
    let code = if policy.digits == 0 {
        random_token(24)
    } else {
        numeric(policy.digits)
    };
    let hash = state
        .secrets
        .code_hash(&format!("{purpose}:{subject}"), &code);
    let payload = payload.map(|p| p.to_string());
    codes::insert(
        &state.db,
        &NewCode {
            purpose,
            subject,
            code_hash: &hash,
            max_attempts: policy.max_attempts,
            payload: payload.as_deref(),
            expires_at: now + policy.ttl,
        },
        now,
    )
    .await?;
    Ok(code)
}

/// What checking a code found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Right: the code is now spent. Carries the payload stored with it.
    Accepted(Option<serde_json::Value>),
    Wrong {
        remaining: i64,
    },
    Expired,
    /// No attempts left (or already used): a new code is needed.
    Exhausted,
    /// No code was ever sent for this subject.
    Missing,
}

/// Checks `code` against the newest code for (purpose, subject). Every check of a live code
/// spends an attempt first, so guessing is capped even under concurrency.
pub async fn check(
    state: &AppState,
    purpose: &str,
    subject: &str,
    code: &str,
) -> Result<Checked, StoreError> {
    let now = state.clock.now();
    let Some(row) = codes::newest(&state.db, purpose, subject).await? else {
        return Ok(Checked::Missing);
    };
    if row.used_at.is_some() {
        return Ok(Checked::Exhausted);
    }
    if row.expires_at <= now {
        return Ok(Checked::Expired);
    }
    if !codes::spend_attempt(&state.db, &row.id).await? {
        return Ok(Checked::Exhausted);
    }
    let hash = state
        .secrets
        .code_hash(&format!("{purpose}:{subject}"), code.trim());
    if !constant_time_eq(hash.as_bytes(), row.code_hash.as_bytes()) {
        return Ok(Checked::Wrong {
            remaining: (row.max_attempts - row.attempts - 1).max(0),
        });
    }
    if !codes::mark_used(&state.db, &row.id, now).await? {
        return Ok(Checked::Exhausted);
    }
    Ok(Checked::Accepted(
        row.payload.and_then(|p| serde_json::from_str(&p).ok()),
    ))
}

fn numeric(digits: usize) -> String {
    let b = random_bytes(8);
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let modulus = 10u64.pow(digits as u32);
    format!("{:0width$}", n % modulus, width = digits)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numeric_codes_have_six_digits() {
        for _ in 0..100 {
            let c = super::numeric(6);
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|d| d.is_ascii_digit()));
        }
    }
}
