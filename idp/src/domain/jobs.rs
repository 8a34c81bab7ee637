//! The durable job runner: a worker spawned with the app claims due jobs from `store::jobs`
//! and runs each by kind; [`run_due_jobs`] does one round, so tests drive it deterministically.
//! A registry that does not answer is retried with exponential backoff.

use std::time::Duration;

use crate::app::AppState;
use crate::domain::verification::{self, Step};
use crate::store::StoreError;
use crate::store::jobs::{self, Job};

/// Runs until the app is dropped (when `verification.worker` is on).
pub fn spawn_worker(state: &AppState) {
    if !state.config.verification.worker {
        return;
    }
    let weak = state.downgrade();
    tokio::spawn(async move {
        loop {
            let Some(state) = AppState::upgrade(&weak) else {
                return;
            };
            let poll = Duration::from_millis(state.config.verification.poll_ms.max(50));
            if let Err(e) = run_due_jobs(&state).await {
                tracing::warn!(error = %e, "job round failed");
            }
            drop(state);
            tokio::time::sleep(poll).await;
        }
    });
}

/// One round: claims the due jobs and runs one attempt of each; returns how many ran.
pub async fn run_due_jobs(state: &AppState) -> Result<usize, StoreError> {
    let cfg = &state.config.verification;
    let due = jobs::claim_due(&state.db, state.clock.now(), cfg.lease_secs, 20).await?;
    let count = due.len();
    for job in due {
        match run(state, &job).await {
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

async fn run(state: &AppState, job: &Job) -> Result<Step, StoreError> {
    match job.kind.as_str() {
        verification::IDENTITY_CHECK | verification::DOCUMENT_CHECK => {
            verification::run_check(state, job).await
        }
        other => {
            tracing::error!(job = %job.id, kind = other, "unknown job kind; marked failed");
            let mut tx = state.db.write().begin().await?;
            jobs::finish(
                &mut *tx,
                job,
                "failed",
                Some("unknown job kind"),
                state.clock.now(),
            )
            .await?;
            tx.commit().await?;
            Ok(Step::Finished)
        }
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
