//! User-visible strings the server needs outside the templates (error pages, login errors).

use crate::Lang;

/// `(key, Russian, English)`.
const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "login_failed",
        "Неверный логин или пароль",
        "Wrong login or password",
    ),
    (
        "login_locked",
        "Слишком много неудачных попыток. Повторите позже.",
        "Too many failed attempts. Please try again later.",
    ),
    (
        "csrf_failed",
        "Форма устарела. Обновите страницу и попробуйте снова.",
        "The form has expired. Reload the page and try again.",
    ),
    (
        "tx_expired",
        "Время на вход истекло. Вернитесь на сайт и начните вход заново.",
        "The time for logging in has run out. Go back to the website and start again.",
    ),
    ("error_title", "Ошибка", "Error"),
    ("bad_request_title", "Некорректный запрос", "Bad request"),
    (
        "bad_request",
        "Запрос некорректен. Вернитесь на сайт и попробуйте снова.",
        "The request is invalid. Go back to the website and try again.",
    ),
    (
        "unknown_client",
        "Сайт, с которого вы пришли, не зарегистрирован в системе единого входа.",
        "The website you came from is not registered with the single sign-on service.",
    ),
    (
        "bad_redirect_uri",
        "Адрес возврата не зарегистрирован для этого сайта. Вход невозможен.",
        "The return address is not registered for this website. Logging in is not possible.",
    ),
    (
        "server_error",
        "Внутренняя ошибка. Попробуйте позже.",
        "Internal error. Please try again later.",
    ),
    (
        "unavailable",
        "Сервис временно недоступен. Попробуйте через несколько минут.",
        "The service is temporarily unavailable. Please try again in a few minutes.",
    ),
    ("not_found", "Страница не найдена", "Page not found"),
    (
        "logout_bad_request",
        "Не удалось выполнить выход: запрос некорректен.",
        "Could not log out: the request is invalid.",
    ),
    (
        "login_required",
        "Введите логин и пароль.",
        "Enter your login and password.",
    ),
    (
        "access_denied",
        "Вы отказали в доступе к данным.",
        "You have denied access to your data.",
    ),
];

/// All user-visible strings the server needs outside templates (error pages, login errors), by key.
///
/// Keys: "login_failed", "login_locked", "csrf_failed", "tx_expired", "error_title", "bad_request_title",
/// "bad_request", "unknown_client", "bad_redirect_uri", "server_error", "unavailable", "not_found",
/// "logout_bad_request", "login_required", "access_denied". Unknown key: returns the key.
///
/// The result borrows from `key` (so that an unknown key can be returned as is); with a string literal
/// key, as the server uses it, the result is `&'static str`.
pub fn message(key: &str, lang: Lang) -> &str {
    MESSAGES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(key, |(_, ru, en)| match lang {
            Lang::Ru => ru,
            Lang::En => en,
        })
}

#[cfg(test)]
mod tests {
    use super::{MESSAGES, message};
    use crate::Lang;

    #[test]
    fn known_keys() {
        assert_eq!(
            message("login_failed", Lang::Ru),
            "Неверный логин или пароль"
        );
        assert_eq!(message("login_failed", Lang::En), "Wrong login or password");
        assert_eq!(
            message("csrf_failed", Lang::Ru),
            "Форма устарела. Обновите страницу и попробуйте снова."
        );
        assert_eq!(message("error_title", Lang::Ru), "Ошибка");
        assert_eq!(message("not_found", Lang::En), "Page not found");
        for key in [
            "login_failed",
            "login_locked",
            "csrf_failed",
            "tx_expired",
            "error_title",
            "bad_request_title",
            "unknown_client",
            "bad_redirect_uri",
            "server_error",
            "unavailable",
            "not_found",
            "logout_bad_request",
            "bad_request",
        ] {
            assert_ne!(message(key, Lang::Ru), key);
            assert_ne!(message(key, Lang::En), key);
            assert_ne!(message(key, Lang::Ru), message(key, Lang::En));
        }
    }

    #[test]
    fn unknown_key_is_returned() {
        assert_eq!(message("no_such_key", Lang::Ru), "no_such_key");
    }

    #[test]
    fn no_duplicate_keys() {
        for (i, (key, _, _)) in MESSAGES.iter().enumerate() {
            assert!(MESSAGES[i + 1..].iter().all(|(k, _, _)| k != key), "{key}");
        }
    }
}
