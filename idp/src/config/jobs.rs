//! The `[jobs]` section: the durable job worker every node runs (back-channel logout and any
//! job kind other than the registry checks, which keep `[verification] worker`/`poll_ms`).

use serde::{Deserialize, Serialize};

/// The job worker of this node (docs/operations.md "Jobs").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Run the worker in the background; on by default in `idp serve` and `idp dev`, safe on
    /// every node (jobs are claimed with a lease). Off: jobs run only through `run_due_jobs`.
    pub worker: bool,
    /// How often the worker looks for due jobs.
    pub poll_ms: u64,
    /// A claimed job is given back to the queue (another node may take it) if not finished
    /// within this lease; longer than one delivery's 5 s timeout.
    pub lease_secs: i64,
    /// The first wait after a relying party did not take a logout token; doubled each time,
    /// up to 6 h.
    pub backchannel_retry_base_secs: i64,
    /// Attempts before a back-channel logout is given up (marked failed and logged).
    pub backchannel_max_attempts: i64,
    /// Age after which a back-channel logout is given up, whatever the attempts.
    pub backchannel_max_age_secs: i64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            worker: true,
            poll_ms: 1000,
            lease_secs: 20,
            backchannel_retry_base_secs: 10,
            backchannel_max_attempts: 20,
            backchannel_max_age_secs: 86_400,
        }
    }
}

impl JobsConfig {
    /// Adds this section's problems to the start-up report.
    pub fn check(&self, problems: &mut Vec<String>) {
        if self.lease_secs < 10 {
            problems.push("jobs.lease_secs must be at least 10 (a delivery may take 5 s)".into());
        }
        if self.poll_ms < 50 {
            problems.push("jobs.poll_ms must be at least 50".into());
        }
        for (name, v) in [
            (
                "jobs.backchannel_retry_base_secs",
                self.backchannel_retry_base_secs,
            ),
            (
                "jobs.backchannel_max_attempts",
                self.backchannel_max_attempts,
            ),
            (
                "jobs.backchannel_max_age_secs",
                self.backchannel_max_age_secs,
            ),
        ] {
            if v <= 0 {
                problems.push(format!("{name} must be positive"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JobsConfig;

    #[test]
    fn defaults_are_valid_and_nonsense_is_reported() {
        let mut problems = Vec::new();
        JobsConfig::default().check(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad = JobsConfig {
            lease_secs: 3,
            backchannel_max_attempts: 0,
            ..JobsConfig::default()
        };
        bad.check(&mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
