//! The durable job runner: workers spawned with the app claim due jobs from `store::jobs` and
//! run each by kind; [`run_due_jobs`] does one round of every kind, so tests drive it
//! deterministically. Two lanes, each with its own switch: the registry checks
//! (`[verification] worker`, `poll_ms`, `lease_secs`; one at a time, a registry that does not
//! answer retried with exponential backoff) and every other kind, back-channel logout today
//! (`[jobs] worker`, `poll_ms`, `lease_secs`; the claimed jobs run concurrently, so one slow
//! relying party does not keep the others past their lease).

use std::time::Duration;

use tokio::task::JoinSet;

use crate::app::AppState;
use crate::domain::backchannel;
use crate::domain::verification::{self, Step};
use crate::store::StoreError;
use crate::store::jobs::{self, Job, Kinds};

/// The kinds of the registry lane; the general lane runs all others.
const REGISTRY_KINDS: &[&str] = &[verification::IDENTITY_CHECK, verification::DOCUMENT_CHECK];
/// Jobs claimed per round and lane.
const BATCH: i64 = 20;
/// How long finished back-channel jobs are kept (payloads are erased when they finish).
const RETENTION_SECS: i64 = 7 * 86_400;

/// Runs until the app is dropped: the registry lane when `verification.worker` is on, the
/// general lane when `jobs.worker` is on (both by default, on every node).
pub fn spawn_worker(state: &AppState) {
    if state.config.verification.worker {
        spawn_lane(state, Lane::Registry);
    }
    if state.config.jobs.worker {
        spawn_lane(state, Lane::General);
    }
}

/// One round: claims the due jobs of every kind and runs one attempt of each; returns how
/// many ran.
pub async fn run_due_jobs(state: &AppState) -> Result<usize, StoreError> {
    Ok(run_registry_checks(state).await? + run_general(state).await?)
}

#[derive(Clone, Copy)]
enum Lane {
    Registry,
    General,
}

fn spawn_lane(state: &AppState, lane: Lane) {
    let weak = state.downgrade();
    tokio::spawn(async move {
        let mut next_purge = 0;
        loop {
            let Some(state) = AppState::upgrade(&weak) else {
                return;
            };
            let (ms, round) = match lane {
                Lane::Registry => (
                    state.config.verification.poll_ms,
                    run_registry_checks(&state).await,
                ),
                Lane::General => (state.config.jobs.poll_ms, run_general(&state).await),
            };
            if let Err(e) = round {
                tracing::warn!(error = %e, "job round failed");
            }
            if matches!(lane, Lane::General) && state.clock.now() >= next_purge {
                next_purge = state.clock.now() + 3600;
                purge(&state).await;
            }
            drop(state);
            tokio::time::sleep(Duration::from_millis(ms.max(50))).await;
        }
    });
}

/// The registry checks due now, one after another.
async fn run_registry_checks(state: &AppState) -> Result<usize, StoreError> {
    let cfg = &state.config.verification;
    let kinds = Kinds::Only(REGISTRY_KINDS);
    let now = state.clock.now();
    let due = jobs::claim_due_of(&state.db, kinds, now, cfg.lease_secs, BATCH).await?;
    let count = due.len();
    for job in due {
        match verification::run_check(state, &job).await {
            Ok(Step::Finished) => {}
            Ok(Step::Retry(reason)) => {
                let wait = backoff(cfg.retry_base_secs, job.attempts);
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, wait, reason = %reason, "job will be retried");
                jobs::retry(&state.db, &job, &reason, state.clock.now() + wait).await?;
            }
            // The lease runs out and the job is claimed again.
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job attempt failed")
            }
        }
    }
    Ok(count)
}

/// Every other kind due now, concurrently (each attempt bounded by its own timeout).
async fn run_general(state: &AppState) -> Result<usize, StoreError> {
    let kinds = Kinds::Except(REGISTRY_KINDS);
    let now = state.clock.now();
    let lease = state.config.jobs.lease_secs;
    let due = jobs::claim_due_of(&state.db, kinds, now, lease, BATCH).await?;
    let count = due.len();
    let mut running = JoinSet::new();
    for job in due {
        let state = state.clone();
        running.spawn(async move {
            let outcome = run_one(&state, &job).await;
            (job, outcome)
        });
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((_, Ok(()))) => {}
            // The lease runs out and the job is claimed again.
            Ok((job, Err(e))) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job attempt failed")
            }
            Err(e) => tracing::warn!(error = %e, "a job attempt did not complete"),
        }
    }
    Ok(count)
}

async fn run_one(state: &AppState, job: &Job) -> Result<(), StoreError> {
    match job.kind.as_str() {
        backchannel::JOB_KIND => backchannel::deliver(state, job).await,
        other => {
            tracing::error!(job = %job.id, kind = other, "unknown job kind; marked failed");
            let now = state.clock.now();
            jobs::finish(
                state.db.write(),
                job,
                "failed",
                Some("unknown job kind"),
                now,
            )
            .await?;
            Ok(())
        }
    }
}

/// Drops finished back-channel jobs older than [`RETENTION_SECS`] (at most a batch an hour
/// per node; what is left goes the next hour).
async fn purge(state: &AppState) {
    let before = state.clock.now() - RETENTION_SECS;
    if let Err(e) = jobs::purge_finished(&state.db, backchannel::JOB_KIND, before, 5000).await {
        tracing::warn!(error = %e, "purging finished jobs failed");
    }
}

/// `base`, `2·base`, `4·base`, … after attempts 1, 2, 3, …, at most six hours.
pub fn backoff(base: i64, attempts: i64) -> i64 {
    let shift = (attempts - 1).clamp(0, 20) as u32;
    base.saturating_mul(1i64 << shift).min(6 * 3600)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(super::backoff(60, 1), 60);
        assert_eq!(super::backoff(60, 2), 120);
        assert_eq!(super::backoff(60, 3), 240);
        assert_eq!(super::backoff(60, 40), 6 * 3600);
        assert_eq!(super::backoff(60, 0), 60);
    }
}
