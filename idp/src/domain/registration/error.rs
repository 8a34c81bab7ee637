//! Why a registration step did not go through, and what the person is told (Russian and
//! English). Contact problems share one neutral message, so nothing tells a stranger whose
//! a phone or e-mail is.

use super::FormProblem;
use crate::cache::CacheError;
use crate::domain::codes::IssueError;
use crate::domain::password_policy::Problem;
use crate::store::StoreError;

/// Why a step did not go through; every variant has a message for the person.
#[derive(Debug, thiserror::Error)]
pub enum RegError {
    #[error("the form has problems")]
    Form(Vec<FormProblem>),
    /// A contact is bound to an account or cannot be bound now: one neutral message.
    #[error("contact unavailable")]
    Unavailable,
    #[error("a new code can be requested in {0} s")]
    TooSoon(i64),
    #[error("daily cap of codes reached")]
    DailyCap,
    #[error("too many codes from this address")]
    AddressCap,
    #[error("wrong code")]
    WrongCode { remaining: i64 },
    #[error("code expired")]
    CodeExpired,
    #[error("no attempts left")]
    CodeExhausted,
    #[error("the link is not valid")]
    BadLink,
    #[error("the link expired")]
    LinkExpired,
    #[error("the password is refused")]
    Password(Vec<Problem>),
    /// The draft is gone (took too long, or already finished).
    #[error("registration expired")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<IssueError> for RegError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::TooSoon(s) => RegError::TooSoon(s),
            IssueError::DailyCap => RegError::DailyCap,
            IssueError::Store(e) => RegError::Store(e),
        }
    }
}

/// The neutral refusal, the same whatever the reason (no enumeration).
pub const UNAVAILABLE_RU: &str = "Указанный телефон или адрес электронной почты нельзя использовать для регистрации. Если это ваши данные, восстановите доступ к своей учётной записи.";
pub const UNAVAILABLE_EN: &str = "This phone number or e-mail address cannot be used for registration. If it is yours, recover access to your account.";

impl RegError {
    /// The messages for the person: several for a form or a password, else one.
    pub fn messages(&self, russian: bool) -> Vec<String> {
        let one = |ru: &str, en: &str| vec![if russian { ru } else { en }.to_string()];
        match self {
            RegError::Form(ps) => ps
                .iter()
                .map(|p| if russian { p.ru() } else { p.en() })
                .collect(),
            RegError::Password(ps) => ps
                .iter()
                .map(|p| if russian { p.ru() } else { p.en() })
                .collect(),
            RegError::Unavailable => one(UNAVAILABLE_RU, UNAVAILABLE_EN),
            RegError::TooSoon(s) => vec![if russian {
                format!("Новый код можно запросить через {s} с.")
            } else {
                format!("A new code can be requested in {s} s.")
            }],
            RegError::DailyCap => one(
                "Превышено число кодов на сегодня. Попробуйте завтра.",
                "Too many codes today. Please try again tomorrow.",
            ),
            RegError::AddressCap => one(
                "Слишком много запросов с вашего адреса. Попробуйте через час.",
                "Too many requests from your address. Please try again in an hour.",
            ),
            RegError::WrongCode { remaining } if *remaining > 0 => vec![if russian {
                format!("Неверный код. Осталось попыток: {remaining}.")
            } else {
                format!("Wrong code. Attempts left: {remaining}.")
            }],
            RegError::WrongCode { .. } | RegError::CodeExhausted => one(
                "Неверный код. Попытки исчерпаны: запросите новый код.",
                "Wrong code. No attempts left: request a new code.",
            ),
            RegError::CodeExpired => one(
                "Срок действия кода истёк. Запросите новый код.",
                "The code has expired. Request a new one.",
            ),
            RegError::BadLink => one(
                "Ссылка недействительна или уже использована. Запросите новое письмо или начните регистрацию заново.",
                "The link is not valid or has been used. Request a new e-mail or start the registration again.",
            ),
            RegError::LinkExpired => one(
                "Срок действия ссылки (3 дня) истёк. Начните регистрацию заново.",
                "The link has expired (it is valid for 3 days). Start the registration again.",
            ),
            RegError::Expired => one(
                "Время на регистрацию истекло. Начните регистрацию заново.",
                "The time for registration has run out. Please start again.",
            ),
            RegError::Store(_) | RegError::Cache(_) => one(
                "Сервис временно недоступен. Попробуйте через несколько минут.",
                "The service is temporarily unavailable. Please try again in a few minutes.",
            ),
        }
    }
}
