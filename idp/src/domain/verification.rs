//! The standard level: the person's data go to the state registries as a durable job; the
//! verdict changes the level, the documents' states and the account's data, and is sent by
//! e-mail and recorded in the event feed. Also single documents (driving licence, OMS policy,
//! …) checked the same way, without a level change.
//!
//! The rules for levels (docs/verification.md): a submission that changes verified data puts
//! the account in `verifying`. A standard account drops to simplified at once (its level rests
//! on data no longer verified) and a success brings it back to standard. A confirmed account
//! keeps its level only if the person is demonstrably the same: name, birth date, gender and
//! SNILS unchanged (a new passport, INN, birthplace or citizenship); otherwise it drops to
//! simplified and, once checked, becomes standard, to be confirmed again. Until a new document
//! is verified, the previously verified one stays on the account (and in claims).

pub mod confirm;
pub mod registry;
pub mod submission;

use serde_json::json;

use self::registry::{PersonData, Verdict, Verifier};
use self::submission::{Change, CurrentNames, UnverifiedIdentity};
use crate::app::AppState;
use crate::domain::documents::{CivilDate, DocumentKind, Problem, UnverifiedDocument};
use crate::domain::messages::{self, Channel, Template};
use crate::protocol::acr::Level;
use crate::store::documents::{self, REJECTED, VERIFIED, VERIFYING};
use crate::store::identity::{self, AccountIdentity};
use crate::store::jobs::{self, Job};
use crate::store::users::User;
use crate::store::{StoreError, events};

/// Job kinds.
pub const IDENTITY_CHECK: &str = "identity_check";
pub const DOCUMENT_CHECK: &str = "document_check";

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error("the data are malformed")]
    Invalid(Vec<Problem>),
    #[error("a check is already in progress")]
    InProgress,
    #[error("nothing differs from the verified data")]
    Unchanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VerificationError {
    /// The message for the person, in Russian.
    pub fn ru(&self) -> String {
        match self {
            VerificationError::Invalid(p) => p.iter().map(|p| p.ru).collect::<Vec<_>>().join(" "),
            VerificationError::InProgress => {
                "Данные уже на проверке. Дождитесь результата: он придёт по электронной почте."
                    .into()
            }
            VerificationError::Unchanged => "Эти данные уже подтверждены: изменений нет.".into(),
            VerificationError::Store(_) => "Сервис временно недоступен. Попробуйте позже.".into(),
        }
    }
}

/// A check that was queued.
#[derive(Debug)]
pub struct Queued {
    pub job_id: String,
    pub document_id: String,
    /// The account's level while the check runs.
    pub level: Level,
}

/// Sends the person's data to the registries: validates, stores the new identity document
/// as VERIFYING, applies the level rule, and queues the check — all in one transaction.
pub async fn submit(
    state: &AppState,
    user: &User,
    input: &UnverifiedIdentity,
) -> Result<Queued, VerificationError> {
    let now = state.clock.now();
    let names = CurrentNames {
        surname: &user.person.surname,
        given_name: &user.person.given_name,
        middle_name: user.person.middle_name.as_deref(),
    };
    let identity = input
        .validate(&names, CivilDate::from_unix(now))
        .map_err(VerificationError::Invalid)?;
    let account = account(state, &user.id).await?;
    if checking(state, &user.id, &account).await? {
        return Err(VerificationError::InProgress);
    }
    let kind = identity.document.kind;
    let verified_doc = documents::verified(&state.db, &user.id, kind).await?;
    let verified = (account.level >= Level::Standard)
        .then(|| (&account.person, verified_doc.as_ref().map(|d| &d.document)));
    let change = submission::classify(verified, &identity);
    if change == Change::None {
        return Err(VerificationError::Unchanged);
    }
    let level = submission::level_while_verifying(account.level, change);
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    let document_id =
        documents::insert(&mut *tx, &user.id, &identity.document, VERIFYING, now).await?;
    documents::remove_others(&mut *tx, &user.id, kind, &document_id, true).await?;
    identity::set_state(&mut *tx, &user.id, level, Some("verifying"), now).await?;
    let payload = json!({ "person": identity.person, "document_id": document_id });
    let job_id =
        jobs::enqueue(&mut *tx, IDENTITY_CHECK, Some(&user.id), &payload, now, now).await?;
    let detail = json!({
        "change": format!("{change:?}").to_lowercase(),
        "level_before": account.level.as_str(),
        "level": level.as_str(),
        "document": kind.as_str(),
        "job": job_id,
    });
    let summary = if level < account.level {
        "Данные отправлены на проверку; до её окончания уровень учётной записи понижен"
    } else {
        "Данные отправлены на проверку в государственные реестры"
    };
    record(&mut *tx, &user.id, "info", summary, &detail, "user", now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Queued {
        job_id,
        document_id,
        level,
    })
}

/// Adds a document that is not an identity document (driving licence, OMS policy, …) and
/// queues its check. The person's level does not depend on it.
pub async fn submit_document(
    state: &AppState,
    user: &User,
    input: &UnverifiedDocument,
) -> Result<Queued, VerificationError> {
    let now = state.clock.now();
    if input.kind.as_deref().is_none_or(|k| k.trim().is_empty()) {
        return Err(VerificationError::Invalid(vec![Problem::new(
            "kind",
            "Укажите вид документа.",
        )]));
    }
    let doc = input
        .validate(DocumentKind::RfPassport, CivilDate::from_unix(now))
        .map_err(VerificationError::Invalid)?;
    if doc.kind.is_identity() {
        return Err(VerificationError::Invalid(vec![Problem::new(
            "kind",
            "Документ, удостоверяющий личность, подаётся вместе с личными данными (POST /api/identity).",
        )]));
    }
    if jobs::for_user(&state.db, &user.id, 50)
        .await?
        .iter()
        .any(|j| {
            j.kind == DOCUMENT_CHECK
                && matches!(j.status.as_str(), "pending" | "running")
                && j.payload["kind"] == doc.kind.as_str()
        })
    {
        return Err(VerificationError::InProgress);
    }
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    let document_id = documents::insert(&mut *tx, &user.id, &doc, VERIFYING, now).await?;
    documents::remove_others(&mut *tx, &user.id, doc.kind, &document_id, true).await?;
    let payload = json!({ "document_id": document_id, "kind": doc.kind.as_str() });
    let job_id =
        jobs::enqueue(&mut *tx, DOCUMENT_CHECK, Some(&user.id), &payload, now, now).await?;
    let detail = json!({ "document": doc.kind.as_str(), "job": job_id });
    let summary = format!("Документ «{}» отправлен на проверку", doc.kind.ru());
    record(&mut *tx, &user.id, "info", &summary, &detail, "user", now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Queued {
        job_id,
        document_id,
        level: user.level,
    })
}

/// What running one attempt of a job came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The job is finished (its effects and its `done`/`failed` mark were committed together).
    Finished,
    /// The registry did not answer; run again later.
    Retry(String),
}

/// Runs one attempt of an identity or document check.
pub async fn run_check(state: &AppState, job: &Job) -> Result<Step, StoreError> {
    let document_id = job.payload["document_id"].as_str().unwrap_or_default();
    let person: Option<PersonData> = serde_json::from_value(job.payload["person"].clone()).ok();
    let user_id = job.user_id.clone().unwrap_or_default();
    let now = state.clock.now();
    let doc = documents::by_id(&state.db, document_id).await?;
    let Some(doc) = doc.filter(|d| d.verification == VERIFYING && d.user_id == user_id) else {
        // Superseded by a newer submission, or the account is gone.
        let mut tx = state.db.write().begin().await?;
        jobs::finish(
            &mut *tx,
            job,
            "done",
            Some("stale: the document was replaced"),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Step::Finished);
    };
    if job.kind == IDENTITY_CHECK && person.is_none() {
        let mut tx = state.db.write().begin().await?;
        jobs::finish(&mut *tx, job, "failed", Some("malformed payload"), now).await?;
        tx.commit().await?;
        return Ok(Step::Finished);
    }
    let verifier = Verifier::from_config(&state.config.verification);
    let verdict = verifier
        .check(
            &state.http,
            &job.id,
            person.as_ref(),
            &doc.document,
            job.attempts,
        )
        .await;
    let outcome = Outcome {
        job,
        user_id: &user_id,
        document_id,
        kind: doc.document.kind,
        person: person.as_ref(),
    };
    match verdict {
        Ok(Verdict::Verified) => outcome.verified(state).await,
        Ok(Verdict::Rejected(reason)) => outcome.rejected(state, &reason).await,
        Err(e) if job.attempts < state.config.verification.max_attempts => Ok(Step::Retry(e)),
        Err(e) => outcome.gave_up(state, &e).await,
    }
}

/// Applies a verdict to the account, in one transaction with the job's completion.
struct Outcome<'a> {
    job: &'a Job,
    user_id: &'a str,
    document_id: &'a str,
    kind: DocumentKind,
    person: Option<&'a PersonData>,
}

impl Outcome<'_> {
    async fn verified(&self, state: &AppState) -> Result<Step, StoreError> {
        let now = state.clock.now();
        let account = account(state, self.user_id).await?;
        let mut tx = state.db.write().begin().await?;
        let mut level = account.level;
        if let Some(person) = self.person {
            level = submission::level_after_success(account.level);
            match identity::apply_verified(&mut *tx, self.user_id, person, level, now).await {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => {
                    // The registries vouch that this SNILS is the submitter's own, so saying it is
                    // bound elsewhere tells them nothing about a stranger.
                    tx.rollback().await?;
                    return self
                        .rejected(state, "этот СНИЛС привязан к другой учётной записи; обратитесь в центр обслуживания")
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
        documents::set_verification(&mut *tx, self.document_id, VERIFIED, now).await?;
        documents::remove_others(&mut *tx, self.user_id, self.kind, self.document_id, false)
            .await?;
        let what = match self.person {
            Some(_) => format!("личные данные, СНИЛС и {} подтверждены", self.kind.ru()),
            None => format!("{} подтверждён", self.kind.ru()),
        };
        let detail =
            json!({ "document": self.kind.as_str(), "level": level.as_str(), "job": self.job.id });
        let summary = match self.person {
            Some(_) => format!("Проверка пройдена: учётная запись — {}", level_ru(level)),
            None => format!("Документ «{}» подтверждён", self.kind.ru()),
        };
        record(
            &mut *tx,
            self.user_id,
            "success",
            &summary,
            &detail,
            "registry",
            now,
        )
        .await?;
        notify(
            state,
            &mut tx,
            self.user_id,
            &Template::VerificationResult {
                ok: true,
                what: &what,
            },
            now,
        )
        .await?;
        self.finish(tx, "done", None, now).await
    }

    async fn rejected(&self, state: &AppState, reason: &str) -> Result<Step, StoreError> {
        let now = state.clock.now();
        let account = account(state, self.user_id).await?;
        let mut tx = state.db.write().begin().await?;
        documents::set_verification(&mut *tx, self.document_id, REJECTED, now).await?;
        if self.person.is_some() {
            identity::set_state(&mut *tx, self.user_id, account.level, Some("rejected"), now)
                .await?;
        }
        let detail =
            json!({ "document": self.kind.as_str(), "reason": reason, "job": self.job.id });
        let summary = format!("Проверка не пройдена: {reason}");
        record(
            &mut *tx,
            self.user_id,
            "failure",
            &summary,
            &detail,
            "registry",
            now,
        )
        .await?;
        notify(
            state,
            &mut tx,
            self.user_id,
            &Template::VerificationResult {
                ok: false,
                what: reason,
            },
            now,
        )
        .await?;
        self.finish(tx, "done", Some(reason), now).await
    }

    /// The registries never answered: the person is told and may submit again.
    async fn gave_up(&self, state: &AppState, error: &str) -> Result<Step, StoreError> {
        let now = state.clock.now();
        let account = account(state, self.user_id).await?;
        let mut tx = state.db.write().begin().await?;
        documents::set_verification(&mut *tx, self.document_id, documents::NOT_VERIFIED, now)
            .await?;
        if self.person.is_some() {
            identity::set_state(&mut *tx, self.user_id, account.level, Some("failed"), now).await?;
        }
        let detail = json!({ "document": self.kind.as_str(), "job": self.job.id, "attempts": self.job.attempts });
        let summary =
            "Государственные реестры не ответили; отправьте данные на проверку ещё раз позже";
        record(
            &mut *tx,
            self.user_id,
            "failure",
            summary,
            &detail,
            "registry",
            now,
        )
        .await?;
        let text = "Государственные реестры не ответили на запрос проверки. Отправьте данные на проверку ещё раз позже.";
        let notice = Template::Notice {
            subject: "Проверка данных не выполнена",
            text,
        };
        notify(state, &mut tx, self.user_id, &notice, now).await?;
        self.finish(tx, "failed", Some(error), now).await
    }

    async fn finish(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<Step, StoreError> {
        if jobs::finish(&mut *tx, self.job, status, error, now).await? {
            tx.commit().await?;
        } else {
            // The lease ran out and another worker owns the job now: its effects win.
            tx.rollback().await?;
        }
        Ok(Step::Finished)
    }
}

/// The account's data, level and check state.
async fn account(state: &AppState, user_id: &str) -> Result<AccountIdentity, StoreError> {
    identity::of_user(&state.db, user_id)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("account {user_id} not found")))
}

/// Whether an identity check is under way for the account.
async fn checking(
    state: &AppState,
    user_id: &str,
    account: &AccountIdentity,
) -> Result<bool, StoreError> {
    Ok(account.verification_status.as_deref() == Some("verifying")
        || jobs::open_for_user(&state.db, user_id, IDENTITY_CHECK).await?)
}

/// Records an event of kind `verification`.
pub(crate) async fn record<'e, E>(
    executor: E,
    user_id: &str,
    status: &str,
    summary: &str,
    detail: &serde_json::Value,
    source: &str,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let event = events::NewEvent {
        user_id,
        kind: "verification",
        status,
        summary,
        detail: Some(detail),
        source,
    };
    events::record(executor, &event, now).await
}

/// Queues `template` to the person's e-mail (or, without one, to the phone).
pub(crate) async fn notify(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    template: &Template<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let Some(user) = crate::store::users::by_id(&state.db, user_id).await? else {
        return Ok(());
    };
    match (&user.person.email, &user.person.phone) {
        (Some(email), _) => {
            messages::queue(&mut **tx, Channel::Email, email, template, now).await?
        }
        (None, Some(phone)) => {
            messages::queue(&mut **tx, Channel::Sms, phone, template, now).await?
        }
        (None, None) => return Ok(()),
    };
    Ok(())
}

/// The level's name in Russian.
pub fn level_ru(level: Level) -> &'static str {
    match level {
        Level::Simplified => "упрощённая",
        Level::Standard => "стандартная",
        Level::Confirmed => "подтверждённая",
    }
}

/// Adds the document scopes' claims (verified documents only) to `claims`; loads the
/// documents only when such a scope is asked for.
pub async fn release_documents(
    state: &AppState,
    user: &User,
    scopes: &crate::protocol::scope::ScopeSet,
    claims: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), StoreError> {
    use crate::protocol::doc_claims::{self, DocumentClaim};
    if !doc_claims::wanted(scopes) || user.level < Level::Standard {
        return Ok(());
    }
    let docs: Vec<DocumentClaim> = documents::for_user(&state.db, &user.id)
        .await?
        .into_iter()
        .map(|d| DocumentClaim {
            kind: d.document.kind.as_str().to_string(),
            verified: d.verification == VERIFIED,
            series: d.document.series,
            number: d.document.number,
            issue_date: d.document.issue_date.map(CivilDate::iso),
            issued_by: d.document.issued_by,
            issuer_code: d.document.issuer_code,
            expiry_date: d.document.expiry_date.map(CivilDate::iso),
        })
        .collect();
    let citizenship = identity::of_user(&state.db, &user.id)
        .await?
        .map(|a| a.person.citizenship);
    doc_claims::release(
        scopes,
        Some(user.level),
        citizenship.as_deref(),
        &docs,
        claims,
    );
    Ok(())
}
