//! The secret question ("контрольный вопрос"): set or cleared by its owner after re-entering
//! the password, asked during password recovery after the code. The answer is compared
//! case-insensitively: it is normalised (trimmed, lower-case, runs of spaces as one, ё as е)
//! and only an Argon2id hash of the normalised form is stored.

use std::net::IpAddr;

use crate::app::AppState;
use crate::crypto::password::Verified;
use crate::domain::login::{self, LoginError};
use crate::store::recovery::{self, SecretQuestion};
use crate::store::users::User;
use crate::store::{StoreError, events};

pub const MAX_QUESTION_CHARS: usize = 200;
pub const MIN_ANSWER_CHARS: usize = 2;
pub const MAX_ANSWER_CHARS: usize = 100;

/// Why a question or answer is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    QuestionEmpty,
    QuestionTooLong,
    AnswerTooShort,
    AnswerTooLong,
}

impl Problem {
    pub fn code(self) -> &'static str {
        match self {
            Problem::QuestionEmpty => "question_empty",
            Problem::QuestionTooLong => "question_too_long",
            Problem::AnswerTooShort => "answer_too_short",
            Problem::AnswerTooLong => "answer_too_long",
        }
    }

    pub fn ru(self) -> String {
        match self {
            Problem::QuestionEmpty => "Введите контрольный вопрос".into(),
            Problem::QuestionTooLong => {
                format!("Вопрос должен быть не длиннее {MAX_QUESTION_CHARS} символов")
            }
            Problem::AnswerTooShort => {
                format!("Ответ должен быть не короче {MIN_ANSWER_CHARS} символов")
            }
            Problem::AnswerTooLong => {
                format!("Ответ должен быть не длиннее {MAX_ANSWER_CHARS} символов")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("wrong password")]
    WrongPassword,
    #[error("too many failures; locked")]
    Locked,
    #[error("invalid question or answer")]
    Invalid(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error("hashing failed: {0}")]
    Hash(String),
}

impl From<LoginError> for SetError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Failed => SetError::WrongPassword,
            LoginError::Locked => SetError::Locked,
            LoginError::Store(e) => SetError::Store(e),
            LoginError::Cache(e) => SetError::Cache(e),
        }
    }
}

/// The text compared: trimmed, lower-case, single spaces, ё read as е.
pub fn normalize_answer(answer: &str) -> String {
    answer
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('ё', "е")
}

/// Checks a new question and answer; returns the trimmed question.
pub fn validate(question: &str, answer: &str) -> Result<String, Problem> {
    let question = question.split_whitespace().collect::<Vec<_>>().join(" ");
    let answer = normalize_answer(answer);
    if question.is_empty() {
        return Err(Problem::QuestionEmpty);
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(Problem::QuestionTooLong);
    }
    match answer.chars().count() {
        n if n < MIN_ANSWER_CHARS => Err(Problem::AnswerTooShort),
        n if n > MAX_ANSWER_CHARS => Err(Problem::AnswerTooLong),
        _ => Ok(question),
    }
}

/// Sets (`Some((question, answer))`) or clears (`None`) the user's secret question after
/// checking `password` (with the login lockout); records the change in the event feed.
pub async fn set(
    state: &AppState,
    user: &User,
    new: Option<(&str, &str)>,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<(), SetError> {
    let value = match new {
        Some((q, a)) => {
            let question = validate(q, a).map_err(SetError::Invalid)?;
            Some((question, normalize_answer(a)))
        }
        None => None,
    };
    login::confirm_password(state, user, password, addr).await?;
    let value = match value {
        Some((question, answer)) => Some(SecretQuestion {
            question,
            answer_hash: state
                .passwords
                .hash(&answer)
                .await
                .map_err(SetError::Hash)?,
        }),
        None => None,
    };
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    recovery::set_secret_question(&mut *tx, &user.id, value.as_ref(), now).await?;
    let summary = if value.is_some() {
        "Установлен контрольный вопрос"
    } else {
        "Контрольный вопрос удалён"
    };
    events::record(
        &mut *tx,
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary,
            detail: None,
            source: "user",
        },
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Whether `answer` matches the stored answer (case-insensitively).
pub async fn matches(state: &AppState, stored: &SecretQuestion, answer: &str) -> bool {
    let answer = normalize_answer(answer);
    if answer.chars().count() > MAX_ANSWER_CHARS {
        return false;
    }
    !matches!(
        state
            .passwords
            .verify(&answer, Some(&stored.answer_hash))
            .await,
        Verified::No
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_compare_case_insensitively() {
        assert_eq!(normalize_answer("  Ёжик   в ТУМАНЕ "), "ежик в тумане");
        assert_eq!(normalize_answer("Moscow"), normalize_answer("mOSCOW"));
    }

    #[test]
    fn questions_and_answers_are_checked() {
        assert_eq!(
            validate("  Девичья   фамилия матери? ", "Петрова"),
            Ok("Девичья фамилия матери?".to_string())
        );
        assert_eq!(validate("   ", "Петрова"), Err(Problem::QuestionEmpty));
        assert_eq!(validate("Вопрос?", " a "), Err(Problem::AnswerTooShort));
        assert_eq!(
            validate(&"в".repeat(MAX_QUESTION_CHARS + 1), "ответ"),
            Err(Problem::QuestionTooLong)
        );
        assert_eq!(
            validate("Вопрос?", &"о".repeat(MAX_ANSWER_CHARS + 1)),
            Err(Problem::AnswerTooLong)
        );
    }
}
