//! Results: one `Report` per run (a human table or one JSON line), and the markdown summary
//! of a whole `run.sh` session set against the issue's floors and the Node.js figures. A run
//! of several operation kinds (`mixed`) also reports each kind (`ops`); the JSON lines only
//! gain fields, so older lines still read.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::runner::Measured;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Report {
    pub scenario: String,
    /// `hyper` or `reqwest`; absent for argon2.
    pub client: Option<String>,
    pub connections: usize,
    /// The measured window, in seconds.
    pub seconds: f64,
    /// Successful operations in the window.
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Successful operations per second.
    pub rate: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Cores' worth of CPU the server used over the window.
    pub server_cpu: Option<f64>,
    pub loadgen_cpu: Option<f64>,
    /// Cores' worth of CPU that other processes on the machine used meanwhile (noise).
    #[serde(default)]
    pub other_cpu: Option<f64>,
    /// Cores' worth of CPU of PostgreSQL and Redis (`--backing-pid`), when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_cpu: Option<f64>,
    /// The weights of a `mixed` run (`login=1,code=3,...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    /// Per operation kind, when the run had more than one; the fields above are the total.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpReport>,
}

/// Throughput and latency of one operation kind within a run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct OpReport {
    /// `login`, `code`, `refresh`, `userinfo`, `introspection`, `client-credentials`.
    pub op: String,
    pub ok: u64,
    pub errors: u64,
    /// Successful operations of this kind per second of the window.
    pub rate: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentiles of latencies in microseconds, in milliseconds.
struct Percentiles {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Percentiles {
    fn of(mut lat: Vec<u32>) -> Self {
        lat.sort_unstable();
        let pct = |q: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let rank = ((q * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
            f64::from(lat[rank - 1]) / 1000.0
        };
        Self {
            p50: pct(0.50),
            p90: pct(0.90),
            p99: pct(0.99),
            max: pct(1.0),
        }
    }
}

fn rate(ok: usize, secs: f64) -> f64 {
    if secs > 0.0 { ok as f64 / secs } else { 0.0 }
}

impl Report {
    pub fn new(scenario: &str, client: Option<String>, connections: usize, m: Measured) -> Self {
        let secs = m.window.as_secs_f64();
        let ops = if m.by_op.len() > 1 {
            m.by_op
                .into_iter()
                .map(|(op, t)| {
                    let ok = t.latencies_us.len();
                    let p = Percentiles::of(t.latencies_us);
                    OpReport {
                        op: op.name().to_owned(),
                        ok: ok as u64,
                        errors: t.errors,
                        rate: rate(ok, secs),
                        p50_ms: p.p50,
                        p90_ms: p.p90,
                        p99_ms: p.p99,
                        max_ms: p.max,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let ok = m.latencies_us.len();
        let p = Percentiles::of(m.latencies_us);
        Self {
            scenario: scenario.to_owned(),
            client,
            connections,
            seconds: secs,
            ok: ok as u64,
            errors: m.errors,
            first_error: m.first_error,
            rate: rate(ok, secs),
            p50_ms: p.p50,
            p90_ms: p.p90,
            p99_ms: p.p99,
            max_ms: p.max,
            server_cpu: m.server_cpu,
            loadgen_cpu: m.loadgen_cpu,
            other_cpu: m.other_cpu,
            backing_cpu: m.backing_cpu,
            mix: None,
            ops,
        }
    }

    /// Server CPU time per successful operation, in microseconds: the cost to optimise.
    pub fn server_us_per_op(&self) -> Option<f64> {
        self.server_cpu
            .filter(|_| self.rate > 0.0)
            .map(|c| c * 1e6 / self.rate)
    }

    /// CPU time per operation of the side doing the work: the server, or for `argon2` the
    /// load generator itself.
    pub fn work_us_per_op(&self) -> Option<f64> {
        if self.scenario == "argon2" {
            self.loadgen_cpu
                .filter(|_| self.rate > 0.0)
                .map(|c| c * 1e6 / self.rate)
        } else {
            self.server_us_per_op()
        }
    }

    /// Operations per second one whole core would do at this CPU cost: the figure that
    /// other load on a shared machine does not move.
    pub fn capacity(&self) -> Option<f64> {
        self.work_us_per_op().filter(|u| *u > 0.0).map(|u| 1e6 / u)
    }

    /// A small table for people.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<26} {:>6} {:>10} {:>11} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>7} {:>7}",
            "scenario",
            "conns",
            "ok",
            "per second",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "errors",
            "server",
            "server/op",
            "loadgen",
            "other"
        );
        let _ = writeln!(
            s,
            "{:<26} {:>6} {:>10} {:>11.0} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>7} {:>9} {:>7} {:>7}",
            self.scenario,
            self.connections,
            self.ok,
            self.rate,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.errors,
            cpu(self.server_cpu),
            us(self.server_us_per_op()),
            cpu(self.loadgen_cpu),
            cpu(self.other_cpu)
        );
        for o in &self.ops {
            let _ = writeln!(
                s,
                "{:<26} {:>6} {:>10} {:>11.0} {:>8.2} {:>8.2} {:>8.2} {:>8}",
                format!("  {}", o.op),
                "",
                o.ok,
                o.rate,
                o.p50_ms,
                o.p90_ms,
                o.p99_ms,
                o.errors
            );
        }
        if let Some(m) = &self.mix {
            let _ = writeln!(s, "mix: {m}");
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(s, "first error: {e}");
        }
        s
    }
}

/// The issue's floor and the Node.js provider's figure for a scenario, in operations/s.
fn floor_and_node(scenario: &str) -> (Option<f64>, Option<f64>) {
    match scenario {
        "client-credentials" => (Some(10_000.0), Some(1_400.0)),
        "client-credentials-rs256" => (Some(3_000.0), None),
        "refresh" => (Some(4_000.0), Some(800.0)),
        "userinfo" => (Some(10_000.0), Some(3_400.0)),
        "introspection" => (Some(10_000.0), Some(3_800.0)),
        _ => (None, None),
    }
}

/// The markdown table of a set of runs, plus memory rows (KiB of VmRSS) when given.
pub fn summary(
    reports: &[Report],
    idle_rss_kib: Option<u64>,
    after_rss_kib: Option<u64>,
) -> String {
    let argon = reports.iter().find(|r| r.scenario == "argon2");
    let mut s = String::new();
    s.push_str("| Scenario | Floor | Measured | One core's capacity | Result | Node.js provider | p50 / p90 / p99 ms | Errors | Server CPU | CPU per op | Loadgen CPU | Other processes |\n");
    s.push_str("|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|\n");
    for r in reports {
        // Login is held to 90% of Argon2 alone, on the wall clock and per CPU second.
        let (floor, capacity_floor, node) = match r.scenario.as_str() {
            "login" => (
                argon.map(|a| 0.9 * a.rate),
                argon.and_then(Report::capacity).map(|c| 0.9 * c),
                None,
            ),
            other => {
                let (f, n) = floor_and_node(other);
                (f, f, n)
            }
        };
        let floor_text = match (r.scenario.as_str(), floor) {
            ("login", Some(f)) => format!("{f:.1}/s (90% of argon2)"),
            (_, Some(f)) => format!("{f:.0}/s"),
            ("argon2", None) => "reference".to_string(),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            s,
            "| {} ({} conns) | {} | {} | {} | {} | {} | {:.2} / {:.2} / {:.2} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.connections,
            floor_text,
            per_second(Some(r.rate)),
            per_second(r.capacity()),
            verdict(r, floor, capacity_floor),
            node.map_or("-".to_string(), |n| format!("{n:.0}/s")),
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.errors,
            cpu(r.server_cpu),
            us(r.work_us_per_op()),
            cpu(r.loadgen_cpu),
            cpu(r.other_cpu),
        );
        for o in &r.ops {
            let _ = writeln!(
                s,
                "| {} / {} | - | {} | - | - | - | {:.2} / {:.2} / {:.2} | {} | - | - | - | - |",
                r.scenario,
                o.op,
                per_second(Some(o.rate)),
                o.p50_ms,
                o.p90_ms,
                o.p99_ms,
                o.errors,
            );
        }
    }
    for (label, kib) in [
        ("idle memory after start", idle_rss_kib),
        ("memory after the runs", after_rss_kib),
    ] {
        let Some(kib) = kib else { continue };
        let mb = kib as f64 / 1024.0;
        let idle = label.starts_with("idle");
        let verdict = match (idle, mb < 30.0) {
            (true, true) => "met",
            (true, false) => "**missed**",
            (false, _) => "-",
        };
        let floor = if idle { "< 30 MiB" } else { "-" };
        let _ = writeln!(
            s,
            "| {label} (VmRSS) | {floor} | {mb:.1} MiB | - | {verdict} | - | - | - | - | - | - | - |"
        );
    }
    s
}

/// Met when the wall-clock rate reaches the floor. When only the one-core capacity does, the
/// server had less than a whole core (others' work on a shared machine): said so, not hidden.
fn verdict(r: &Report, floor: Option<f64>, capacity_floor: Option<f64>) -> String {
    let Some(f) = floor else {
        return "-".to_string();
    };
    let pct = |v: f64, f: f64| 100.0 * v / f;
    if r.errors > 0 {
        return format!("**missed** ({} errors)", r.errors);
    }
    if r.rate >= f {
        return format!("met ({:.0}%)", pct(r.rate, f));
    }
    match (r.capacity(), capacity_floor) {
        (Some(c), Some(cf)) if c >= cf => format!(
            "met per core ({:.0}%), wall clock {:.0}%",
            pct(c, cf),
            pct(r.rate, f)
        ),
        (Some(c), Some(cf)) => format!(
            "**missed** ({:.0}%; per core {:.0}%)",
            pct(r.rate, f),
            pct(c, cf)
        ),
        _ => format!("**missed** ({:.0}%)", pct(r.rate, f)),
    }
}

fn per_second(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}/s"),
        Some(v) => format!("{v:.1}/s"),
        None => "-".to_string(),
    }
}

fn cpu(c: Option<f64>) -> String {
    c.map_or("-".to_string(), |c| format!("{:.0}%", c * 100.0))
}

fn us(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.0} µs"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::mix::Op;
    use crate::runner::Tally;

    fn report(scenario: &str, lat: Vec<u32>, errors: u64) -> Report {
        let m = Measured {
            latencies_us: lat,
            errors,
            first_error: None,
            window: Duration::from_secs(1),
            server_cpu: Some(1.0),
            loadgen_cpu: None,
            other_cpu: None,
            backing_cpu: None,
            by_op: BTreeMap::new(),
        };
        Report::new(scenario, None, 1, m)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let r = report("userinfo", (1..=100).map(|i| i * 1000).collect(), 0);
        assert_eq!(
            (r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(r.rate, 100.0);
        assert_eq!(r.server_us_per_op(), Some(10_000.0));
    }

    #[test]
    fn login_floor_is_ninety_percent_of_argon2() {
        let argon = report("argon2", vec![1000; 40], 0);
        let ok = report("login", vec![1000; 36], 0);
        let slow = report("login", vec![1000; 35], 0);
        let s = summary(&[argon, ok, slow], Some(20 * 1024), None);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[3].contains("| met (100%)"), "{}", lines[3]);
        assert!(lines[4].contains("**missed** (97%"), "{}", lines[4]);
        assert!(lines[5].contains("20.0 MiB | - | met"), "{}", lines[5]);
    }

    #[test]
    fn a_busy_machine_is_reported_not_hidden() {
        // 5,000/s on the wall clock, but at 50 µs of server CPU each: 20,000/s per core.
        let mut r = report("userinfo", vec![10; 5_000], 0);
        r.server_cpu = Some(0.25);
        assert_eq!(r.capacity(), Some(20_000.0));
        let s = summary(&[r], None, None);
        assert!(s.contains("met per core (200%), wall clock 50%"), "{s}");
    }

    #[test]
    fn errors_fail_a_floor() {
        let r = report("userinfo", vec![10; 20_000], 3);
        assert!(summary(&[r], None, None).contains("**missed**"));
    }

    fn mixed(by_op: &[(Op, Vec<u32>, u64)]) -> Report {
        let mut all = Vec::new();
        let mut map = BTreeMap::new();
        for (op, lat, errors) in by_op {
            all.extend_from_slice(lat);
            map.insert(
                *op,
                Tally {
                    latencies_us: lat.clone(),
                    errors: *errors,
                },
            );
        }
        let m = Measured {
            latencies_us: all,
            errors: by_op.iter().map(|(_, _, e)| e).sum(),
            first_error: None,
            window: Duration::from_secs(2),
            server_cpu: None,
            loadgen_cpu: None,
            other_cpu: None,
            backing_cpu: None,
            by_op: map,
        };
        Report::new("mixed", None, 4, m)
    }

    #[test]
    fn a_mixed_run_reports_each_kind_and_the_total() {
        let r = mixed(&[
            (Op::Userinfo, (1..=100).map(|i| i * 1000).collect(), 0),
            (Op::Login, vec![250_000; 4], 1),
        ]);
        assert_eq!((r.ok, r.errors, r.rate), (104, 1, 52.0));
        // Kinds in `Op` order: login first.
        let names: Vec<&str> = r.ops.iter().map(|o| o.op.as_str()).collect();
        assert_eq!(names, ["login", "userinfo"]);
        let login = &r.ops[0];
        assert_eq!((login.ok, login.errors, login.rate), (4, 1, 2.0));
        assert_eq!(login.p99_ms, 250.0);
        let userinfo = &r.ops[1];
        assert_eq!(
            (
                userinfo.rate,
                userinfo.p50_ms,
                userinfo.p90_ms,
                userinfo.p99_ms
            ),
            (50.0, 50.0, 90.0, 99.0)
        );
        assert!(r.table().contains("  userinfo"), "{}", r.table());
        let s = summary(&[r], None, None);
        assert!(s.contains("| mixed / login | - | 2.0/s |"), "{s}");
        assert!(s.contains("| mixed / userinfo | - | 50.0/s |"), "{s}");
    }

    #[test]
    fn one_kind_runs_keep_their_old_json_and_old_lines_still_read() {
        let single = report("userinfo", vec![1000; 10], 0);
        assert!(single.ops.is_empty());
        let json = serde_json::to_string(&single).unwrap_or_default();
        assert!(
            !json.contains("\"ops\"") && !json.contains("\"mix\""),
            "{json}"
        );
        // A line written before `ops`, `mix` and `backing_cpu` existed.
        let old = r#"{"scenario":"refresh","client":"hyper","connections":64,"seconds":5.0,"ok":100,"errors":0,"first_error":null,"rate":20.0,"p50_ms":1.0,"p90_ms":2.0,"p99_ms":3.0,"max_ms":4.0,"server_cpu":0.5,"loadgen_cpu":0.2}"#;
        let parsed: Report = serde_json::from_str(old).unwrap();
        assert!(parsed.ops.is_empty() && parsed.mix.is_none() && parsed.other_cpu.is_none());
        // A mixed line round-trips with its kinds.
        let mut m = mixed(&[
            (Op::Code, vec![2000; 3], 0),
            (Op::Refresh, vec![1000; 5], 2),
        ]);
        m.mix = Some("code=1,refresh=1".into());
        let back: Report = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.ops, m.ops);
        assert_eq!(back.mix.as_deref(), Some("code=1,refresh=1"));
        assert_eq!(back.ops[1].errors, 2);
    }
}
