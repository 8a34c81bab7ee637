//! The site's own sessions: a random cookie names an entry in an in-memory map that holds the
//! login in progress (state, nonce, PKCE verifier), the tokens once signed in, and a CSRF
//! token for the site's forms. Sessions are indexed by the provider's `sid` so a back-channel
//! logout can find and end them. Nothing secret ever goes to the browser but the cookie.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use openidconnect::CsrfToken;
use serde_json::{Map, Value};

use crate::oidc::{IdentityToken, LogoutEvent, PendingLogin};

/// The cookie that names the site session.
pub const COOKIE: &str = "rp_session";
/// Sessions unused for this long are forgotten.
const IDLE_SECS: i64 = 8 * 3600;
/// A login not completed within this time must start over.
pub const PENDING_TTL_SECS: i64 = 600;

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub id: IdentityToken,
    pub access_token: String,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub userinfo: Map<String, Value>,
    pub refreshed_at: Option<i64>,
}

/// One browser's state on the site.
#[derive(Clone, Debug)]
pub struct SiteSession {
    pub csrf: String,
    pub pending: Option<PendingLogin>,
    pub user: Option<SignedIn>,
    /// A one-time message for the next page.
    pub flash: Option<String>,
    /// The `state` sent with an RP-initiated logout, to recognise the return.
    pub logout_state: Option<String>,
    last_seen: i64,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, SiteSession>,
    by_sid: HashMap<String, HashSet<String>>,
    /// Logout token ids already honoured, with their expiry (replay protection).
    seen_jti: HashMap<String, i64>,
}

/// All sessions of the site.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    /// The session named by `cookie`, if it is live.
    pub fn load(&self, cookie: Option<&str>) -> Option<(String, SiteSession)> {
        let id = cookie?;
        let mut inner = self.lock();
        let s = inner.by_id.get_mut(id)?;
        s.last_seen = unix_now();
        Some((id.to_string(), s.clone()))
    }

    /// The session named by `cookie`, or a new one (then `true`: the cookie must be set).
    pub fn load_or_create(&self, cookie: Option<&str>) -> (String, SiteSession, bool) {
        if let Some((id, s)) = self.load(cookie) {
            return (id, s, false);
        }
        let now = unix_now();
        let mut inner = self.lock();
        inner.prune(now);
        let id = random();
        let s = SiteSession {
            csrf: random(),
            pending: None,
            user: None,
            flash: None,
            logout_state: None,
            last_seen: now,
        };
        inner.by_id.insert(id.clone(), s.clone());
        (id, s, true)
    }

    /// Changes a session in place; `None` if it is gone.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut SiteSession) -> R) -> Option<R> {
        self.lock().by_id.get_mut(id).map(f)
    }

    /// Completes a login: the session moves to a new id (no fixation) and is indexed by the
    /// provider's `sid`. Returns the new id.
    pub fn sign_in(&self, old_id: &str, user: SignedIn) -> String {
        let mut inner = self.lock();
        let mut s = inner.remove(old_id).unwrap_or_else(|| SiteSession {
            csrf: String::new(),
            pending: None,
            user: None,
            flash: None,
            logout_state: None,
            last_seen: 0,
        });
        let new_id = random();
        if let Some(sid) = &user.id.sid {
            inner
                .by_sid
                .entry(sid.clone())
                .or_default()
                .insert(new_id.clone());
        }
        s.csrf = random();
        s.user = Some(user);
        s.pending = None;
        s.last_seen = unix_now();
        inner.by_id.insert(new_id.clone(), s);
        new_id
    }

    /// Signs the person out of this session (the session itself stays, for its flash).
    pub fn sign_out(&self, id: &str) -> Option<SignedIn> {
        let mut inner = self.lock();
        let user = inner.by_id.get_mut(id)?.user.take()?;
        inner.unindex(id, &user);
        Some(user)
    }

    /// Honours a back-channel logout: every session of that provider session (or, without a
    /// `sid`, of that person) is signed out. Returns how many, or `None` for a replayed token.
    pub fn end_provider_session(&self, event: &LogoutEvent) -> Option<usize> {
        let now = unix_now();
        let mut inner = self.lock();
        inner.seen_jti.retain(|_, exp| *exp > now);
        if let Some(jti) = &event.jti {
            if inner.seen_jti.contains_key(jti) {
                return None;
            }
            inner
                .seen_jti
                .insert(jti.clone(), event.expires_at.max(now + 60));
        }
        let ids: Vec<String> = match &event.sid {
            Some(sid) => inner
                .by_sid
                .get(sid)
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            None => inner
                .by_id
                .iter()
                .filter(|(_, s)| s.user.as_ref().is_some_and(|u| u.id.sub == event.sub))
                .map(|(id, _)| id.clone())
                .collect(),
        };
        let mut ended = 0;
        for id in ids {
            let Some(s) = inner.by_id.get_mut(&id) else {
                continue;
            };
            let Some(user) = s.user.take() else {
                continue;
            };
            s.flash = Some(
                "Вы вышли из ЕСИА на другом сайте или в личном кабинете, поэтому сеанс на этом сайте завершён."
                    .into(),
            );
            inner.unindex(&id, &user);
            ended += 1;
        }
        Some(ended)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<SiteSession> {
        let s = self.by_id.remove(id)?;
        if let Some(user) = &s.user {
            self.unindex(id, user);
        }
        Some(s)
    }

    fn unindex(&mut self, id: &str, user: &SignedIn) {
        let Some(sid) = &user.id.sid else {
            return;
        };
        if let Some(ids) = self.by_sid.get_mut(sid) {
            ids.remove(id);
            if ids.is_empty() {
                self.by_sid.remove(sid);
            }
        }
    }

    fn prune(&mut self, now: i64) {
        let stale: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, s)| now - s.last_seen > IDLE_SECS)
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.remove(&id);
        }
    }
}

/// 32 random bytes, base64url: session ids, CSRF tokens, logout state.
pub fn random() -> String {
    CsrfToken::new_random_len(32).secret().clone()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The session cookie from a `Cookie` header.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` value for a session id.
pub fn set_cookie(id: &str, secure: bool) -> String {
    // Lax, not Strict: the provider's redirect to /callback is a cross-site top-level GET
    // that must carry the cookie.
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// Equality that does not stop at the first differing byte.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn user(sub: &str, sid: Option<&str>) -> SignedIn {
        SignedIn {
            id: IdentityToken {
                raw: "x.y.z".into(),
                sub: sub.into(),
                sid: sid.map(str::to_string),
                acr: None,
                amr: vec![],
                auth_time: None,
                expires_at: 0,
            },
            access_token: "at".into(),
            access_expires_at: None,
            refresh_token: None,
            userinfo: Map::new(),
            refreshed_at: None,
        }
    }

    fn event(sid: Option<&str>, sub: &str, jti: &str) -> LogoutEvent {
        LogoutEvent {
            sid: sid.map(str::to_string),
            sub: sub.into(),
            jti: Some(jti.into()),
            expires_at: unix_now() + 120,
        }
    }

    #[test]
    fn sign_in_rotates_the_id_and_back_channel_logout_ends_by_sid() {
        let sessions = Sessions::default();
        let (first, _, created) = sessions.load_or_create(None);
        assert!(created);
        let id = sessions.sign_in(&first, user("1", Some("sid-a")));
        assert_ne!(id, first);
        assert!(sessions.load(Some(&first)).is_none(), "the old id is dead");
        let (other, _, _) = sessions.load_or_create(None);
        let other = sessions.sign_in(&other, user("2", Some("sid-b")));

        assert_eq!(
            sessions.end_provider_session(&event(Some("sid-a"), "1", "j1")),
            Some(1)
        );
        assert!(sessions.load(Some(&id)).unwrap().1.user.is_none());
        assert!(
            sessions.load(Some(&other)).unwrap().1.user.is_some(),
            "another sid is untouched"
        );
        assert_eq!(
            sessions.end_provider_session(&event(Some("sid-a"), "1", "j1")),
            None,
            "replay"
        );
    }

    #[test]
    fn without_sid_the_subject_is_logged_out_everywhere() {
        let sessions = Sessions::default();
        let (a, _, _) = sessions.load_or_create(None);
        let a = sessions.sign_in(&a, user("7", None));
        let (b, _, _) = sessions.load_or_create(None);
        let b = sessions.sign_in(&b, user("7", Some("s")));
        assert_eq!(
            sessions.end_provider_session(&event(None, "7", "j2")),
            Some(2)
        );
        for id in [a, b] {
            let s = sessions.load(Some(&id)).unwrap().1;
            assert!(s.user.is_none() && s.flash.is_some());
        }
    }

    #[test]
    fn sign_out_unindexes() {
        let sessions = Sessions::default();
        let (a, _, _) = sessions.load_or_create(None);
        let a = sessions.sign_in(&a, user("1", Some("s1")));
        assert!(sessions.sign_out(&a).is_some());
        assert_eq!(
            sessions.end_provider_session(&event(Some("s1"), "1", "j3")),
            Some(0)
        );
    }

    #[test]
    fn cookies_parse_and_compare() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; rp_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
        assert!(set_cookie("v", true).ends_with("; Secure"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
