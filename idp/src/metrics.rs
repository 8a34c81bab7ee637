//! Counters and histograms for `GET /metrics`, hand-rolled (no exporter crate: the usual
//! one drags a second TLS stack in through its push gateway). One [`Metrics`] per server, in
//! the application state; rendering is the Prometheus text format 0.0.4.
//!
//! Labels stay bounded: routes are the matched templates (`/api/admin/clients/{id}`, never
//! the raw path; unmatched requests are `route="unmatched"`), statuses are classes (`2xx`),
//! login methods are `amr` values and outcomes a fixed set.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// (route template, method, status class)
type HttpKey = (String, String, &'static str);

#[derive(Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<HttpKey, Histogram>>,
    logins: Mutex<BTreeMap<(String, String), u64>>,
    /// (grant type, protocol): `""` for `/token`, `"esia"` for ESIA's `/aas/oauth2/*te`.
    tokens: Mutex<BTreeMap<(String, &'static str), u64>>,
    lockouts: Mutex<BTreeMap<&'static str, u64>>,
    invalidations: AtomicU64,
    /// Queue depths read from the database, cached briefly so scrapes stay cheap.
    queues: Mutex<Option<(Instant, Queues)>>,
}

/// Rows waiting in the durable queues.
#[derive(Clone, Debug, Default)]
pub struct Queues {
    pub outbox_pending: i64,
    pub jobs_pending: i64,
    /// Jobs by (kind, status) for `pending`, `running` and `failed`.
    pub jobs: Vec<(String, String, i64)>,
}

/// How long a queue-depth reading is reused.
pub const QUEUE_CACHE: Duration = Duration::from_secs(5);

fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key).or_insert(0) += 1;
    }
}

impl Metrics {
    /// One answered request: its route template, method, status and duration.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        if let Ok(mut m) = self.http.lock() {
            m.entry((route.to_owned(), method.to_owned(), class(status)))
                .or_default()
                .observe(took.as_secs_f64());
        }
    }

    /// A login by `method` (the `amr` joined with `+`, e.g. `pwd+sms`) ending in `outcome`
    /// (`success`, or the failure's reason such as `wrong_password`).
    pub fn login(&self, method: &str, outcome: &str) {
        let method = if method.is_empty() { "unknown" } else { method };
        bump(&self.logins, (method.replace(' ', "+"), outcome.to_owned()));
    }

    /// A token response of `grant_type` from `/token`.
    pub fn token(&self, grant_type: &str) {
        bump(&self.tokens, (grant_type.to_owned(), ""));
    }

    /// A token response of `grant_type` from ESIA's token endpoints (`/aas/oauth2/te`,
    /// `/aas/oauth2/v3/te`): the same counter with `protocol="esia"`.
    pub fn esia_token(&self, grant_type: &str) {
        bump(&self.tokens, (grant_type.to_owned(), "esia"));
    }

    /// A lock set by failed logins: on an `account` or an `address` (passwords), or on an
    /// account's `second_factor` (wrong authenticator or recovery codes).
    pub fn lockout(&self, kind: &'static str) {
        bump(&self.lockouts, kind);
    }

    /// A cross-node invalidation message received.
    pub fn invalidation(&self) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
    }

    /// The cached queue depths, if read less than [`QUEUE_CACHE`] ago.
    pub fn cached_queues(&self) -> Option<Queues> {
        let g = self.queues.lock().ok()?;
        g.as_ref()
            .filter(|(at, _)| at.elapsed() < QUEUE_CACHE)
            .map(|(_, q)| q.clone())
    }

    pub fn store_queues(&self, q: Queues) {
        if let Ok(mut g) = self.queues.lock() {
            *g = Some((Instant::now(), q));
        }
    }

    /// The Prometheus text exposition; `queues` is `None` when the database did not answer.
    pub fn render(&self, queues: Option<Queues>) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "idp_http_requests_total",
            "counter",
            "HTTP requests by route template, method and status class.",
        );
        let http: Vec<(HttpKey, [u64; BUCKETS.len()], u64, f64)> = self
            .http
            .lock()
            .map(|m| {
                m.iter()
                    .map(|(k, h)| (k.clone(), h.buckets, h.count, h.sum))
                    .collect()
            })
            .unwrap_or_default();
        for ((route, method, status), _, count, _) in &http {
            let _ = writeln!(
                out,
                "idp_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                esc(route),
                esc(method)
            );
        }
        header(
            &mut out,
            "idp_http_request_duration_seconds",
            "histogram",
            "Time to answer, by route template, method and status class.",
        );
        for ((route, method, status), buckets, count, sum) in &http {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{status}\"",
                esc(route),
                esc(method)
            );
            for (le, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(
                    out,
                    "idp_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "idp_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "idp_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "idp_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        header(
            &mut out,
            "idp_logins_total",
            "counter",
            "Logins by method (amr, joined with +) and outcome (success or the failure reason).",
        );
        if let Ok(m) = self.logins.lock() {
            for ((method, outcome), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "idp_logins_total{{method=\"{}\",outcome=\"{}\"}} {n}",
                    esc(method),
                    esc(outcome)
                );
            }
        }
        header(
            &mut out,
            "idp_tokens_issued_total",
            "counter",
            "Successful token responses by grant type (protocol=\"esia\": ESIA's token endpoints).",
        );
        if let Ok(m) = self.tokens.lock() {
            for ((grant, protocol), n) in m.iter() {
                let protocol = if protocol.is_empty() {
                    String::new()
                } else {
                    format!(",protocol=\"{protocol}\"")
                };
                let _ = writeln!(
                    out,
                    "idp_tokens_issued_total{{grant_type=\"{}\"{protocol}}} {n}",
                    esc(grant)
                );
            }
        }
        header(
            &mut out,
            "idp_lockouts_total",
            "counter",
            "Locks set by failed logins: account, client address, or an account's second factor.",
        );
        if let Ok(m) = self.lockouts.lock() {
            for kind in ["account", "address", "second_factor"] {
                let n = m.get(kind).copied().unwrap_or(0);
                let _ = writeln!(out, "idp_lockouts_total{{kind=\"{kind}\"}} {n}");
            }
        }
        header(
            &mut out,
            "idp_cache_invalidations_received_total",
            "counter",
            "Cross-node cache invalidation messages received (Redis pub/sub).",
        );
        let _ = writeln!(
            out,
            "idp_cache_invalidations_received_total {}",
            self.invalidations.load(Ordering::Relaxed)
        );
        if let Some(q) = &queues {
            header(
                &mut out,
                "idp_outbox_pending",
                "gauge",
                "SMS and e-mail messages waiting for delivery.",
            );
            let _ = writeln!(out, "idp_outbox_pending {}", q.outbox_pending);
            header(
                &mut out,
                "idp_jobs_pending",
                "gauge",
                "Background jobs of every kind pending or running.",
            );
            let _ = writeln!(out, "idp_jobs_pending {}", q.jobs_pending);
            header(
                &mut out,
                "idp_jobs",
                "gauge",
                "Background jobs by kind and status (pending, running, failed).",
            );
            for (kind, status, n) in &q.jobs {
                let _ = writeln!(
                    out,
                    "idp_jobs{{kind=\"{}\",status=\"{}\"}} {n}",
                    esc(kind),
                    esc(status)
                );
            }
        }
        header(
            &mut out,
            "idp_database_up",
            "gauge",
            "Whether the last queue-depth reading from the database succeeded.",
        );
        let _ = writeln!(out, "idp_database_up {}", u8::from(queues.is_some()));
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Label value escaping of the text format.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("/token", "POST", 200, Duration::from_millis(7));
        m.request("/token", "POST", 400, Duration::from_millis(2));
        m.login("pwd sms", "success");
        m.token("authorization_code");
        m.esia_token("authorization_code");
        m.lockout("account");
        m.lockout("second_factor");
        let text = m.render(Some(Queues {
            outbox_pending: 3,
            jobs_pending: 1,
            jobs: vec![("backchannel_logout".into(), "failed".into(), 2)],
        }));
        assert!(text.contains(
            "idp_http_requests_total{route=\"/token\",method=\"POST\",status=\"2xx\"} 1"
        ));
        assert!(text.contains("idp_http_request_duration_seconds_bucket{route=\"/token\",method=\"POST\",status=\"2xx\",le=\"0.01\"} 1"));
        assert!(text.contains("idp_http_request_duration_seconds_bucket{route=\"/token\",method=\"POST\",status=\"2xx\",le=\"0.005\"} 0"));
        assert!(text.contains("idp_logins_total{method=\"pwd+sms\",outcome=\"success\"} 1"));
        assert!(text.contains("idp_tokens_issued_total{grant_type=\"authorization_code\"} 1"));
        assert!(text.contains(
            "idp_tokens_issued_total{grant_type=\"authorization_code\",protocol=\"esia\"} 1"
        ));
        assert!(text.contains("idp_lockouts_total{kind=\"account\"} 1"));
        assert!(text.contains("idp_lockouts_total{kind=\"address\"} 0"));
        assert!(text.contains("idp_lockouts_total{kind=\"second_factor\"} 1"));
        assert!(text.contains("idp_outbox_pending 3"));
        assert!(text.contains("idp_jobs{kind=\"backchannel_logout\",status=\"failed\"} 2"));
        assert_eq!(esc("a\"b\\"), "a\\\"b\\\\");
    }
}
