//! "Не знаю пароль" (password recovery) and the unlock of a locked login, both by a code sent
//! to a registered contact.
//!
//! A flow is a short-lived record in the cache that moves through stages: the person names
//! an identifier ([`start`]), types the code ([`submit_code`]); to unlock, that is all; to
//! recover, the secret question follows when one is set ([`submit_answer`]), then the new
//! password typed twice ([`submit_password`]). Each step takes the flow out of the cache
//! (atomically) and puts it back only if it goes on, so no step can be skipped or replayed.
//!
//! No enumeration: an identifier that names no account (or an account without a confirmed
//! contact) gets a flow and a code exactly like a real one, only the code is never sent; the
//! page, the status, the cool-downs and the attempt counts are the same, and starting takes
//! at least [`START_FLOOR`] either way.

mod finish;
pub mod lookup;

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use self::lookup::{Contact, Named};
use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::random_token;
use crate::domain::codes::{self, Checked, IssueError};
use crate::domain::lockout;
use crate::domain::messages::{self, Template};
use crate::domain::password_policy::{self, Problem};
use crate::store::users;
use crate::store::{StoreError, events, recovery};

/// How long a person has to finish a flow.
pub const FLOW_TTL_SECS: i64 = 15 * 60;
/// Wrong answers to the secret question before the flow ends.
pub const MAX_WRONG_ANSWERS: u32 = 3;
/// Starting (or resending) takes at least this long, whether or not the account exists.
pub const START_FLOOR: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// "Не знаю пароль": a new password without the old one.
    Recover,
    /// Unlock a login locked after failed passwords.
    Unlock,
}

impl Kind {
    fn purpose(self) -> &'static str {
        match self {
            Kind::Recover => "recovery",
            Kind::Unlock => "unlock",
        }
    }
}

/// Where a flow stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// A code was sent (or would have been); waiting for it.
    Code,
    /// The code was right; waiting for the answer to the secret question.
    Answer { wrong: u32 },
    /// The code (and answer) were right; waiting for the new password.
    NewPassword,
}

/// One person's recovery or unlock in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flow {
    pub id: String,
    pub kind: Kind,
    pub stage: Stage,
    /// The authorization transaction to go back to, when the person came from a login page.
    pub auth_tx: Option<String>,
    /// The subject of the codes: the named identifier's key.
    subject: String,
    /// The account, when the identifier names one that has a confirmed contact.
    user_id: Option<String>,
    contact: Option<Contact>,
    expires_at: i64,
}

/// The page to show next.
#[derive(Debug)]
pub enum Next {
    /// Start again: name the identifier.
    Identify,
    Code(Flow),
    /// The secret question, with its text.
    Answer(Flow, String),
    NewPassword(Flow),
    Done {
        kind: Kind,
        auth_tx: Option<String>,
    },
}

/// A refusal of what the person typed: nothing changed, the next page says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a phone, e-mail, SNILS, INN or passport.
    Unrecognised,
    /// Too many codes for this identifier today.
    DailyCap,
    WrongCode {
        remaining: i64,
    },
    CodeExpired,
    /// No attempts left on this code: a new one is needed.
    CodeExhausted,
    WrongAnswer {
        remaining: u32,
    },
    /// Too many wrong answers: the flow ended.
    AnswersExhausted,
    WeakPassword(Vec<Problem>),
    /// The flow expired, ended, or was at another step.
    Gone,
}

/// Something for the person to know that is not a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A new code went out.
    Resent,
    /// A code went out less than a minute ago; a new one can be asked for in this many seconds.
    AlreadySent(i64),
}

#[derive(Debug)]
pub struct Outcome {
    pub next: Next,
    pub refusal: Option<Refusal>,
    pub notice: Option<Notice>,
}

impl Outcome {
    fn go(next: Next) -> Self {
        Self {
            next,
            refusal: None,
            notice: None,
        }
    }

    fn refuse(next: Next, refusal: Refusal) -> Self {
        Self {
            next,
            refusal: Some(refusal),
            notice: None,
        }
    }
}

/// A server-side failure (answered 500/503).
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Starts a flow for the identifier `text`: a code goes to the account's contact, if there is
/// such an account; the outcome looks the same either way.
pub async fn start(
    state: &AppState,
    kind: Kind,
    text: &str,
    auth_tx: Option<String>,
) -> Result<Outcome, Fault> {
    let began = tokio::time::Instant::now();
    let outcome = start_now(state, kind, text, auth_tx).await;
    tokio::time::sleep_until(began + START_FLOOR).await;
    outcome
}

async fn start_now(
    state: &AppState,
    kind: Kind,
    text: &str,
    auth_tx: Option<String>,
) -> Result<Outcome, Fault> {
    let Some(named) = Named::parse(text) else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Unrecognised));
    };
    let user = lookup::find(state, &named).await?;
    let contact = user
        .as_ref()
        .and_then(|u| lookup::contact_for(&named, &u.person));
    let flow = Flow {
        id: random_token(16),
        kind,
        stage: Stage::Code,
        auth_tx,
        subject: named.key(),
        user_id: user.filter(|_| contact.is_some()).map(|u| u.id),
        contact,
        expires_at: state.clock.now() + FLOW_TTL_SECS,
    };
    let notice = match send_code(state, &flow).await? {
        Ok(notice) => notice,
        Err(refusal) => return Ok(Outcome::refuse(Next::Identify, refusal)),
    };
    save(state, &flow).await?;
    Ok(Outcome {
        next: Next::Code(flow),
        refusal: None,
        notice,
    })
}

/// Sends a new code for the flow (after the cool-down).
pub async fn resend(state: &AppState, flow_id: &str) -> Result<Outcome, Fault> {
    let began = tokio::time::Instant::now();
    let Some(flow) = load(state, flow_id)
        .await?
        .filter(|f| f.stage == Stage::Code)
    else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Gone));
    };
    let outcome = match send_code(state, &flow).await? {
        Ok(notice) => Outcome {
            notice: Some(notice.unwrap_or(Notice::Resent)),
            ..Outcome::go(Next::Code(flow))
        },
        Err(refusal) => Outcome::refuse(Next::Code(flow), refusal),
    };
    tokio::time::sleep_until(began + START_FLOOR).await;
    Ok(outcome)
}

/// Checks the code. To unlock, a right code clears the lock; to recover, it leads on.
pub async fn submit_code(
    state: &AppState,
    flow_id: &str,
    code: &str,
    addr: Option<IpAddr>,
) -> Result<Outcome, Fault> {
    let Some(flow) = take(state, flow_id, |s| *s == Stage::Code).await? else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Gone));
    };
    let refusal = match codes::check(state, flow.kind.purpose(), &flow.subject, code).await? {
        Checked::Accepted(_) => match flow.user_id.clone() {
            Some(user_id) => return code_accepted(state, flow, &user_id, addr).await,
            // Only a guess can get here (the code was never sent): like a spent code.
            None => Refusal::CodeExhausted,
        },
        Checked::Wrong { remaining } => Refusal::WrongCode { remaining },
        Checked::Expired => Refusal::CodeExpired,
        Checked::Exhausted | Checked::Missing => Refusal::CodeExhausted,
    };
    save(state, &flow).await?;
    Ok(Outcome::refuse(Next::Code(flow), refusal))
}

async fn code_accepted(
    state: &AppState,
    mut flow: Flow,
    user_id: &str,
    addr: Option<IpAddr>,
) -> Result<Outcome, Fault> {
    if flow.kind == Kind::Unlock {
        lockout::release(state, user_id, addr).await?;
        record(state, user_id, "Вход разблокирован кодом подтверждения").await?;
        return Ok(Outcome::go(Next::Done {
            kind: flow.kind,
            auth_tx: flow.auth_tx,
        }));
    }
    match recovery::secret_question(&state.db, user_id).await? {
        Some(q) => {
            flow.stage = Stage::Answer { wrong: 0 };
            save(state, &flow).await?;
            Ok(Outcome::go(Next::Answer(flow, q.question)))
        }
        None => {
            flow.stage = Stage::NewPassword;
            save(state, &flow).await?;
            Ok(Outcome::go(Next::NewPassword(flow)))
        }
    }
}

/// Checks the answer to the secret question.
pub async fn submit_answer(
    state: &AppState,
    flow_id: &str,
    answer: &str,
) -> Result<Outcome, Fault> {
    let taken = take(state, flow_id, |s| matches!(s, Stage::Answer { .. })).await?;
    let Some((mut flow, user_id)) = taken.and_then(|f| f.user_id.clone().map(|u| (f, u))) else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Gone));
    };
    let Some(question) = recovery::secret_question(&state.db, &user_id).await? else {
        // Cleared meanwhile: nothing left to ask.
        flow.stage = Stage::NewPassword;
        save(state, &flow).await?;
        return Ok(Outcome::go(Next::NewPassword(flow)));
    };
    if crate::domain::secret_question::matches(state, &question, answer).await {
        flow.stage = Stage::NewPassword;
        save(state, &flow).await?;
        return Ok(Outcome::go(Next::NewPassword(flow)));
    }
    let wrong = match flow.stage {
        Stage::Answer { wrong } => wrong + 1,
        _ => MAX_WRONG_ANSWERS,
    };
    if wrong >= MAX_WRONG_ANSWERS {
        return Ok(Outcome::refuse(Next::Identify, Refusal::AnswersExhausted));
    }
    flow.stage = Stage::Answer { wrong };
    save(state, &flow).await?;
    let refusal = Refusal::WrongAnswer {
        remaining: MAX_WRONG_ANSWERS - wrong,
    };
    Ok(Outcome::refuse(
        Next::Answer(flow, question.question),
        refusal,
    ))
}

/// Sets the new password (typed twice) and ends every session of the account.
pub async fn submit_password(
    state: &AppState,
    flow_id: &str,
    password: &str,
    again: &str,
    addr: Option<IpAddr>,
) -> Result<Outcome, Fault> {
    let taken = take(state, flow_id, |s| *s == Stage::NewPassword).await?;
    let Some((flow, user_id)) = taken.and_then(|f| f.user_id.clone().map(|u| (f, u))) else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Gone));
    };
    let Some(user) = users::by_id(&state.db, &user_id).await? else {
        return Ok(Outcome::refuse(Next::Identify, Refusal::Gone));
    };
    let problems = password_policy::check(password, again, &finish::personal_data(&user));
    if !problems.is_empty() {
        save(state, &flow).await?;
        return Ok(Outcome::refuse(
            Next::NewPassword(flow),
            Refusal::WeakPassword(problems),
        ));
    }
    let hash = state.passwords.hash(password).await.map_err(Fault::Hash)?;
    finish::replace_password(state, &user, flow.contact.as_ref(), &hash).await?;
    finish::end_all_sessions(state, &user.id).await?;
    lockout::release(state, &user.id, addr).await?;
    Ok(Outcome::go(Next::Done {
        kind: flow.kind,
        auth_tx: flow.auth_tx,
    }))
}

/// Issues a code for the flow and sends it to the contact, if there is one. `Ok(Err(_))` is
/// a refusal (daily cap); `Ok(Ok(Some(AlreadySent)))` means the cool-down is still running.
async fn send_code(
    state: &AppState,
    flow: &Flow,
) -> Result<Result<Option<Notice>, Refusal>, Fault> {
    // One policy (the SMS one: 5 minutes, 3 attempts) whatever the channel, so expiry and
    // attempts say nothing about whether, or where, a code was sent.
    let code = match codes::issue(state, flow.kind.purpose(), &flow.subject, codes::SMS, None).await
    {
        Ok(code) => code,
        Err(IssueError::TooSoon(wait)) => return Ok(Ok(Some(Notice::AlreadySent(wait)))),
        Err(IssueError::DailyCap) => return Ok(Err(Refusal::DailyCap)),
        Err(IssueError::Store(e)) => return Err(e.into()),
    };
    if let Some(c) = &flow.contact {
        let template = match flow.kind {
            Kind::Recover => Template::RecoveryCode { code: &code },
            Kind::Unlock => Template::UnlockCode { code: &code },
        };
        messages::queue(
            state.db.write(),
            c.channel(),
            c.address(),
            &template,
            state.clock.now(),
        )
        .await?;
    }
    Ok(Ok(None))
}

async fn record(state: &AppState, user_id: &str, summary: &str) -> Result<(), StoreError> {
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id,
            kind: "security",
            status: "success",
            summary,
            detail: None,
            source: "user",
        },
        state.clock.now(),
    )
    .await
}

fn key(id: &str) -> String {
    format!("recovery:{id}")
}

/// A live flow by id (not past its end by the injected clock).
pub async fn load(state: &AppState, id: &str) -> Result<Option<Flow>, CacheError> {
    let flow: Option<Flow> = state.cache.get_json(&key(id)).await?;
    Ok(flow.filter(|f| f.expires_at > state.clock.now()))
}

/// Takes the flow out of the cache if it is live and at a stage `at` accepts.
async fn take(
    state: &AppState,
    id: &str,
    at: impl Fn(&Stage) -> bool,
) -> Result<Option<Flow>, CacheError> {
    if id.is_empty() {
        return Ok(None);
    }
    let flow: Option<Flow> = state.cache.take_json(&key(id)).await?;
    Ok(flow.filter(|f| f.expires_at > state.clock.now() && at(&f.stage)))
}

async fn save(state: &AppState, flow: &Flow) -> Result<(), CacheError> {
    let ttl = (flow.expires_at - state.clock.now()).max(1);
    state.cache.put_json(&key(&flow.id), flow, ttl as u64).await
}
