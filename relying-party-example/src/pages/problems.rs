//! Error pages: one clear page, in Russian with an English line, for every way a login can
//! fail: the provider's OAuth errors, a lost or forged `state`, a wrong `iss`, an expired
//! session, an unreachable provider.

use axum::http::StatusCode;

use super::{esc, layout};
use crate::config::{Level, Settings};

/// Why the site cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `access_denied`: the person refused consent.
    ConsentDenied,
    /// `login_required` (or `interaction_required`, `consent_required`) after `prompt=none`.
    LoginRequired {
        code: String,
    },
    /// `unmet_authentication_requirements`: the account level is below what the site needs.
    LevelTooLow {
        wanted: Level,
    },
    /// `invalid_grant` or a rejected access token: the provider ended the session.
    SessionExpired,
    /// The callback's `state` is not the one this browser's login sent.
    StateMismatch,
    /// The callback's `iss` is missing or names another provider (RFC 9207).
    IssuerMismatch,
    /// Any other error code the provider returned.
    Provider {
        code: String,
        description: Option<String>,
    },
    /// The provider cannot be reached or answered nonsense.
    Unavailable,
    /// The page needs a signed-in person.
    NotSignedIn,
    /// A form of this site without its CSRF token.
    Forbidden,
    NotFound,
}

impl Problem {
    /// The page for an `error` code the provider sent back to the callback.
    pub fn from_provider(code: &str, description: Option<String>, wanted: Level) -> Problem {
        match code {
            "access_denied" => Problem::ConsentDenied,
            "login_required" | "interaction_required" | "consent_required" => {
                Problem::LoginRequired { code: code.into() }
            }
            "unmet_authentication_requirements" => Problem::LevelTooLow { wanted },
            "invalid_grant" => Problem::SessionExpired,
            _ => Problem::Provider {
                code: code.into(),
                description,
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Problem::ConsentDenied | Problem::LevelTooLow { .. } | Problem::Forbidden => {
                StatusCode::FORBIDDEN
            }
            Problem::LoginRequired { .. } | Problem::SessionExpired | Problem::NotSignedIn => {
                StatusCode::UNAUTHORIZED
            }
            Problem::StateMismatch | Problem::IssuerMismatch => StatusCode::BAD_REQUEST,
            Problem::Provider { .. } | Problem::Unavailable => StatusCode::BAD_GATEWAY,
            Problem::NotFound => StatusCode::NOT_FOUND,
        }
    }

    /// The `data-page` name of the page (stable, for tests and monitoring).
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::ConsentDenied => "consent-denied",
            Problem::LoginRequired { .. } => "login-required",
            Problem::LevelTooLow { .. } => "level-too-low",
            Problem::SessionExpired => "session-expired",
            Problem::StateMismatch => "state-mismatch",
            Problem::IssuerMismatch => "issuer-mismatch",
            Problem::Provider { .. } => "provider-error",
            Problem::Unavailable => "provider-unavailable",
            Problem::NotSignedIn => "not-signed-in",
            Problem::Forbidden => "forbidden",
            Problem::NotFound => "not-found",
        }
    }

    /// The whole page.
    pub fn render(&self, settings: &Settings) -> String {
        let (title, text, english) = self.words(settings);
        let mut body = format!(
            "<div class=\"problem\"><h1>{}</h1><p>{}</p>",
            esc(title),
            esc(&text)
        );
        match self {
            Problem::LoginRequired { code } => body.push_str(&technical(code, None)),
            Problem::Provider { code, description } => {
                body.push_str(&technical(code, description.as_deref()))
            }
            Problem::LevelTooLow { wanted } => body.push_str(&format!(
                "<p>Как повысить уровень: стандартная учётная запись — после проверки СНИЛС и паспорта; \
                 подтверждённая — в центре обслуживания, через онлайн-банк или электронной подписью.</p>\
                 <p>Требуется: <span class=\"code\">{}</span></p>",
                esc(wanted.acr())
            )),
            _ => {}
        }
        body.push_str(&format!("<p class=\"en\" lang=\"en\">{}</p>", esc(english)));
        body.push_str("<div class=\"actions\">");
        body.push_str(&self.actions(settings));
        body.push_str("</div></div>");
        layout(settings, title, self.kind(), None, &body)
    }

    fn words(&self, settings: &Settings) -> (&'static str, String, &'static str) {
        let short = settings.persona.short;
        match self {
            Problem::ConsentDenied => (
                "Вы отказали в доступе к данным",
                format!("Без вашего согласия ЕСИА не передаёт сайту «{short}» ваши данные, поэтому войти не получилось. Если передумаете, войдите снова и нажмите «Разрешить»."),
                "You declined to share your data, so the sign-in did not complete.",
            ),
            Problem::LoginRequired { .. } => (
                "Вы не вошли в ЕСИА",
                "Сайт проверил вход без формы ввода пароля (prompt=none), но вход в ЕСИА не выполнен или нужно ваше участие. Войдите обычным способом.".into(),
                "You are not signed in at the identity provider; sign in with your password.",
            ),
            Problem::LevelTooLow { wanted } => (
                "Недостаточный уровень учётной записи",
                format!("Для входа нужна {}, а у вашей учётной записи на Госуслугах уровень ниже. Повысьте уровень в личном кабинете ЕСИА и войдите снова.", wanted.title_ru().to_lowercase()),
                "Your account level is too low for this site; raise it at the identity provider.",
            ),
            Problem::SessionExpired => (
                "Сеанс истёк",
                "ЕСИА больше не принимает токены этого сеанса: вы вышли из ЕСИА, отозвали разрешение, или сеанс истёк. Войдите снова.".into(),
                "Your session has expired or was ended at the identity provider.",
            ),
            Problem::StateMismatch => (
                "Ответ ЕСИА не относится к вашему входу",
                "Параметр state в ответе не совпадает с сохранённым при начале входа: вход начат в другом окне, уже завершён или прошло больше 10 минут. Это защита от подмены ответа (CSRF). Начните вход заново.".into(),
                "The response does not match a sign-in started in this browser (state mismatch).",
            ),
            Problem::IssuerMismatch => (
                "Ответ пришёл не от того провайдера",
                "Параметр iss в ответе не совпадает с адресом ЕСИА, с которым работает сайт (RFC 9207, защита от подмены провайдера). Вход отменён.".into(),
                "The response came from an unexpected identity provider (iss mismatch).",
            ),
            Problem::Provider { code, .. } => (
                "ЕСИА вернула ошибку",
                describe(code).into(),
                "The identity provider returned an error.",
            ),
            Problem::Unavailable => (
                "ЕСИА временно недоступна",
                "Не удалось связаться с провайдером входа. Попробуйте позже.".into(),
                "The identity provider is unavailable; try again later.",
            ),
            Problem::NotSignedIn => (
                "Вы не вошли на сайт",
                "Эта страница доступна после входа через ЕСИА.".into(),
                "Please sign in first.",
            ),
            Problem::Forbidden => (
                "Форма устарела",
                "Страница была открыта слишком давно или в другом сеансе. Обновите страницу и повторите действие.".into(),
                "The form has expired; reload the page and try again.",
            ),
            Problem::NotFound => (
                "Страница не найдена",
                "Такой страницы на сайте нет.".into(),
                "Page not found.",
            ),
        }
    }

    fn actions(&self, settings: &Settings) -> String {
        let home = "<a class=\"btn\" href=\"/\">На главную</a>";
        let login = "<a class=\"esia-btn\" href=\"/login\">Войти через ЕСИА</a>";
        match self {
            Problem::LevelTooLow { .. } => format!(
                "<a class=\"esia-btn\" id=\"raise-level\" href=\"{}/\">Повысить уровень в ЕСИА</a>{home}",
                esc(&settings.issuer)
            ),
            Problem::ConsentDenied
            | Problem::LoginRequired { .. }
            | Problem::SessionExpired
            | Problem::StateMismatch
            | Problem::NotSignedIn => format!("{login}{home}"),
            _ => home.into(),
        }
    }
}

fn technical(code: &str, description: Option<&str>) -> String {
    let mut t = format!(
        "<p>Код ошибки: <span class=\"code\" data-error=\"{0}\">{0}</span></p>",
        esc(code)
    );
    if let Some(d) = description {
        t.push_str(&format!(
            "<p>Описание: <span class=\"code\">{}</span></p>",
            esc(d)
        ));
    }
    t
}

/// What each OAuth / OpenID Connect error code means for the person.
pub fn describe(code: &str) -> &'static str {
    match code {
        "invalid_request" => "Запрос сайта к ЕСИА составлен неверно. Сообщите в поддержку сайта.",
        "unauthorized_client" => {
            "Сайту не разрешён такой способ входа. Сообщите в поддержку сайта."
        }
        "invalid_client" => {
            "ЕСИА не узнала сайт (неверный идентификатор или секрет). Сообщите в поддержку сайта."
        }
        "invalid_scope" => {
            "Сайт запросил данные, которые ему не разрешены. Сообщите в поддержку сайта."
        }
        "unsupported_response_type" => "ЕСИА не поддерживает запрошенный способ ответа.",
        "request_not_supported" | "request_uri_not_supported" => {
            "ЕСИА не поддерживает запросы в виде объекта (request, request_uri)."
        }
        "server_error" => "Во время входа в ЕСИА произошла ошибка. Попробуйте позже.",
        "temporarily_unavailable" => {
            "ЕСИА временно перегружена или на обслуживании. Попробуйте позже."
        }
        _ => "Вход не выполнен.",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn every_provider_code_has_its_page() {
        let table = [
            ("access_denied", "consent-denied", 403),
            ("login_required", "login-required", 401),
            ("interaction_required", "login-required", 401),
            ("consent_required", "login-required", 401),
            ("unmet_authentication_requirements", "level-too-low", 403),
            ("invalid_grant", "session-expired", 401),
            ("invalid_scope", "provider-error", 502),
            ("server_error", "provider-error", 502),
        ];
        for (code, kind, status) in table {
            let p = Problem::from_provider(code, None, Level::Confirmed);
            assert_eq!(p.kind(), kind, "{code}");
            assert_eq!(p.status().as_u16(), status, "{code}");
        }
    }

    #[test]
    fn provider_text_is_escaped() {
        let settings = Settings::new(
            "http://127.0.0.1:8080",
            "127.0.0.1:8081".parse().unwrap(),
            None,
            crate::config::PersonaKind::Fns,
            None,
            None,
        )
        .unwrap();
        let html = Problem::Provider {
            code: "x<y".into(),
            description: Some("<script>alert(1)</script>".into()),
        }
        .render(&settings);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        let low = Problem::LevelTooLow {
            wanted: Level::Confirmed,
        }
        .render(&settings);
        assert!(low.contains("подтверждённая учётная запись"));
        assert!(low.contains("href=\"http://127.0.0.1:8080/\""));
    }
}
