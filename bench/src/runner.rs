//! Drives prepared workers for a fixed time: a warm-up that is not counted, then the
//! measured window. Only operations that start and finish inside the window count. The CPU
//! time of the load generator and (given its pid) of the server is read from /proc over the
//! same window, so a run shows which side was the bottleneck.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::mix::Op;
use crate::scenario::Worker;

/// How long workers may take to finish their last request after the window.
const GRACE: Duration = Duration::from_secs(10);

/// What one run measured.
pub struct Measured {
    /// Latency of each successful operation in the window, in microseconds.
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// The measured window.
    pub window: Duration,
    /// CPU seconds per wall second over the window (1.0 = one core busy).
    pub server_cpu: Option<f64>,
    pub loadgen_cpu: Option<f64>,
    /// Cores' worth of CPU used by every other process on the machine (noise).
    pub other_cpu: Option<f64>,
    /// Cores' worth of CPU of the backing services given by `--backing-pid` (PostgreSQL,
    /// Redis), not counted in `other_cpu`.
    pub backing_cpu: Option<f64>,
    /// The same successes and errors by operation kind (for `mixed`, one entry per kind).
    pub by_op: BTreeMap<Op, Tally>,
}

/// Successful operations' latencies (microseconds) and errors of one kind.
#[derive(Default, Debug, Clone)]
pub struct Tally {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
}

struct WorkerResult {
    by_op: BTreeMap<Op, Tally>,
    first_error: Option<String>,
}

pub async fn run(
    workers: Vec<Worker>,
    warmup: Duration,
    window: Duration,
    server_pids: &[u32],
    backing_pids: &[u32],
) -> Measured {
    let server_pids = server_pids.to_vec();
    let backing_pids = backing_pids.to_vec();
    let start = Instant::now();
    let from = start + warmup;
    let end = from + window;
    let mut set = JoinSet::new();
    for w in workers {
        set.spawn(drive(w, from, end));
    }
    let monitor = tokio::spawn(async move {
        sleep_until(from.into()).await;
        let a = CpuSample::take(&server_pids).with_backing(&backing_pids);
        sleep_until(end.into()).await;
        let b = CpuSample::take(&server_pids).with_backing(&backing_pids);
        a.usage_until(&b)
    });
    let mut out = Measured {
        latencies_us: Vec::new(),
        errors: 0,
        first_error: None,
        window,
        server_cpu: None,
        loadgen_cpu: None,
        other_cpu: None,
        backing_cpu: None,
        by_op: BTreeMap::new(),
    };
    // Workers stop at `end`; one stuck on a request that never finishes is cut off after a
    // grace period and counted as an error.
    let grace = tokio::time::Instant::from(end) + GRACE;
    loop {
        let joined = match tokio::time::timeout_at(grace, set.join_next()).await {
            Ok(Some(j)) => j,
            Ok(None) => break,
            Err(_) => {
                out.errors += set.len() as u64;
                out.first_error
                    .get_or_insert_with(|| "a request did not finish by the end of the run".into());
                set.abort_all();
                break;
            }
        };
        match joined {
            Ok(r) => {
                for (op, t) in r.by_op {
                    out.latencies_us.extend_from_slice(&t.latencies_us);
                    out.errors += t.errors;
                    let all = out.by_op.entry(op).or_default();
                    all.latencies_us.extend(t.latencies_us);
                    all.errors += t.errors;
                }
                if out.first_error.is_none() {
                    out.first_error = r.first_error;
                }
            }
            Err(e) => {
                out.errors += 1;
                out.first_error
                    .get_or_insert_with(|| format!("worker failed: {e}"));
            }
        }
    }
    if let Ok(usage) = monitor.await {
        out.server_cpu = usage.server;
        out.loadgen_cpu = usage.own;
        out.other_cpu = usage.other;
        out.backing_cpu = usage.backing;
    }
    out
}

async fn drive(mut worker: Worker, from: Instant, end: Instant) -> WorkerResult {
    let mut r = WorkerResult {
        by_op: BTreeMap::new(),
        first_error: None,
    };
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let (op, outcome) = worker.once().await;
        let t1 = Instant::now();
        if t0 < from || t1 > end {
            continue;
        }
        let tally = r.by_op.entry(op).or_insert_with(|| Tally {
            latencies_us: Vec::with_capacity(4096),
            errors: 0,
        });
        match outcome {
            Ok(()) => {
                let us = t1.duration_since(t0).as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(us).unwrap_or(u32::MAX));
            }
            Err(e) => {
                tally.errors += 1;
                r.first_error.get_or_insert_with(|| format!("{op}: {e}"));
            }
        }
    }
    r
}

/// CPU time consumed so far by this process, the server and the whole machine.
pub struct CpuSample {
    at: Instant,
    own: Option<f64>,
    server: Option<f64>,
    machine: Option<f64>,
    /// CPU seconds of each backing process (the given pids and their children).
    backing: Option<std::collections::HashMap<u32, f64>>,
}

/// CPU seconds per wall second over an interval (1.0 = one core busy all the time).
pub struct Usage {
    pub own: Option<f64>,
    pub server: Option<f64>,
    /// Everything else on the machine: other people's builds and tests show up here.
    pub other: Option<f64>,
    /// The backing services (PostgreSQL with its backends, Redis), when given.
    pub backing: Option<f64>,
}

impl CpuSample {
    /// `server_pids`: the server's processes (several nodes: their CPU is summed; none: not
    /// measured).
    pub fn take(server_pids: &[u32]) -> Self {
        let server = if server_pids.is_empty() {
            None
        } else {
            server_pids
                .iter()
                .map(|p| cpu_seconds(&p.to_string()))
                .sum::<Option<f64>>()
        };
        Self {
            at: Instant::now(),
            own: cpu_seconds("self"),
            server,
            backing: None,
            machine: std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|t| machine_busy_seconds(&t)),
        }
    }

    /// Also samples `parents` and their direct children (PostgreSQL's backends are children
    /// of the postmaster); nothing when `parents` is empty.
    pub fn with_backing(mut self, parents: &[u32]) -> Self {
        if !parents.is_empty() {
            let mut pids: Vec<u32> = parents.to_vec();
            pids.extend(children_of(parents));
            self.backing = Some(
                pids.into_iter()
                    .filter_map(|p| Some((p, cpu_seconds(&p.to_string())?)))
                    .collect(),
            );
        }
        self
    }

    pub fn usage_until(&self, later: &CpuSample) -> Usage {
        let wall = later.at.duration_since(self.at).as_secs_f64();
        let rate = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if wall > 0.0 => Some((b - a) / wall),
            _ => None,
        };
        let own = rate(self.own, later.own);
        let server = rate(self.server, later.server);
        let machine = rate(self.machine, later.machine);
        // A process born in between counts whole; one gone in between is lost (rare: the
        // nodes keep their pooled database connections).
        let backing = match (&self.backing, &later.backing) {
            (Some(a), Some(b)) if wall > 0.0 => Some(
                b.iter()
                    .map(|(pid, t)| t - a.get(pid).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / wall,
            ),
            _ => None,
        };
        let other = machine.map(|m| {
            (m - own.unwrap_or(0.0) - server.unwrap_or(0.0) - backing.unwrap_or(0.0)).max(0.0)
        });
        Usage {
            own,
            server,
            other,
            backing,
        }
    }
}

/// Busy CPU seconds of all cores since boot: the first line of /proc/stat less idle and iowait.
fn machine_busy_seconds(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: f64 = ticks.iter().sum();
    Some((total - ticks.get(3)? - ticks.get(4)?) / 100.0)
}

/// User plus system CPU seconds of a process (all its threads), from /proc/PID/stat.
/// Linux reports them in USER_HZ ticks, which is 100 on every mainstream architecture.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&text)
}

/// Processes whose parent is one of `parents` (from /proc/*/stat).
fn children_of(parents: &[u32]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|t| parse_stat_ppid(&t))
                .is_some_and(|pp| parents.contains(&pp))
        })
        .collect()
}

/// The parent pid (field 4) of a /proc/PID/stat line.
fn parse_stat_ppid(text: &str) -> Option<u32> {
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn parse_stat_cpu(text: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_the_command_name() {
        let line = "4242 (idp (dev) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_stat_cpu(line), Some(3.0));
        assert_eq!(parse_stat_ppid(line), Some(1));
    }

    #[test]
    fn finds_its_own_children() {
        let child = std::process::Command::new("sleep").arg("5").spawn();
        let Ok(mut child) = child else { return };
        let found = children_of(&[std::process::id()]).contains(&child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found, "a spawned child is found by its parent pid");
    }

    #[test]
    fn machine_busy_excludes_idle_and_iowait() {
        let stat = "cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(machine_busy_seconds(stat), Some(1.7));
    }

    #[test]
    fn reads_own_cpu_time() {
        assert!(cpu_seconds("self").is_some());
    }
}
