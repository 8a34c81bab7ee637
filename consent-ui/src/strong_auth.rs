//! The pages of strong authentication: login by a one-time code ("Войти по коду из СМС":
//! name a phone or e-mail, then type the code) and the second step of two-step login (the
//! code from the authenticator app, or a recovery code). Russian first, English on request;
//! no inline script or style.
//!
//! Form field names are a contract with the server: `tx`, `csrf`, `lang`, `login`
//! (POST /login/code); `flow`, `code`, `action` = "confirm" | "resend" (POST
//! /login/code/verify); `pending`, `code` (POST /login/second).

use askama::Template;

use crate::Lang;
use crate::texts::Texts;

/// The step a page shows.
#[derive(Clone, Copy, Debug)]
pub enum StrongAuthStep<'a> {
    /// Name a phone or e-mail.
    Identify { login_value: &'a str },
    /// Type the code sent (`flow`: the hidden flow id).
    Code { flow: &'a str },
    /// Type the authenticator code or a recovery code (`pending`: the hidden id).
    SecondFactor { pending: &'a str },
}

/// A page of code login or of the second step.
pub struct StrongAuthPage<'a> {
    pub lang: Lang,
    pub step: StrongAuthStep<'a>,
    pub csrf: &'a str,
    /// The authorization transaction.
    pub tx: &'a str,
    /// Messages already in the page's language.
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// The language switch ("" for none).
    pub other_lang_url: &'a str,
}

/// Renders a page of code login or of the second step.
pub fn render_strong_auth(page: &StrongAuthPage) -> String {
    let ru = page.lang == Lang::Ru;
    let s = |r: &'static str, e: &'static str| if ru { r } else { e };
    let (step, title, lead, login_value, hidden) = match page.step {
        StrongAuthStep::Identify { login_value } => (
            "identify",
            s("Вход по коду", "Log in with a code"),
            s(
                "Введите телефон или адрес электронной почты из учётной записи: мы отправим код для входа.",
                "Enter the phone number or e-mail address of your account: we will send a login code.",
            ),
            login_value,
            "",
        ),
        StrongAuthStep::Code { flow } => (
            "code",
            s("Введите код", "Enter the code"),
            s(
                "Если телефон или адрес есть в учётной записи, на него отправлен код из 6 цифр. Он действует несколько минут.",
                "If the phone or address belongs to an account, a 6-digit code has been sent to it. It is valid for a few minutes.",
            ),
            "",
            flow,
        ),
        StrongAuthStep::SecondFactor { pending } => (
            "second",
            s("Подтверждение входа", "Confirm the login"),
            s(
                "Введите 6-значный код из приложения-аутентификатора или один из резервных кодов.",
                "Enter the 6-digit code from your authenticator app or one of your recovery codes.",
            ),
            "",
            pending,
        ),
    };
    let view = StrongAuthView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        title,
        other_lang_url: crate::pages::safe_href(page.other_lang_url),
        p: page,
        step,
        lead,
        login_value,
        hidden,
        identifier_label: s("Телефон или электронная почта", "Phone or e-mail"),
        code_label: s("Код", "Code"),
        get_code: s("Получить код", "Get a code"),
        next: s("Войти", "Log in"),
        resend: s("Отправить код ещё раз", "Send the code again"),
        back: s("Войти по паролю", "Log in with a password"),
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "strong_auth.html")]
struct StrongAuthView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: &'a str,
    p: &'a StrongAuthPage<'a>,
    step: &'static str,
    lead: &'static str,
    login_value: &'a str,
    hidden: &'a str,
    identifier_label: &'static str,
    code_label: &'static str,
    get_code: &'static str,
    next: &'static str,
    resend: &'static str,
    back: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(step: StrongAuthStep<'a>, lang: Lang, error: Option<&'a str>) -> String {
        render_strong_auth(&StrongAuthPage {
            lang,
            step,
            csrf: "c5rf",
            tx: "t1",
            error,
            notice: None,
            other_lang_url: "/login/code?tx=t1&lang=en",
        })
    }

    #[test]
    fn form_contracts() {
        let html = page(
            StrongAuthStep::Identify {
                login_value: "+79000000001",
            },
            Lang::Ru,
            None,
        );
        assert!(html.contains("action=\"/login/code\""));
        for f in [
            "name=\"tx\" value=\"t1\"",
            "name=\"csrf\" value=\"c5rf\"",
            "name=\"login\"",
        ] {
            assert!(html.contains(f), "{f}");
        }
        assert!(html.contains("Вход по коду"));
        let html = page(StrongAuthStep::Code { flow: "f1" }, Lang::En, None);
        assert!(html.contains("action=\"/login/code/verify\""));
        assert!(html.contains("name=\"flow\" value=\"f1\""));
        assert!(html.contains("value=\"resend\"") && html.contains("value=\"confirm\""));
        assert!(html.contains("Enter the code"));
        let html = page(
            StrongAuthStep::SecondFactor { pending: "p1" },
            Lang::Ru,
            None,
        );
        assert!(html.contains("action=\"/login/second\""));
        assert!(html.contains("name=\"pending\" value=\"p1\""));
        assert!(html.contains("href=\"/login?tx=t1&amp;lang=ru\""));
    }

    #[test]
    fn escapes_hostile_input() {
        let hostile = "<script>alert(1)</script>";
        let html = page(
            StrongAuthStep::Identify {
                login_value: hostile,
            },
            Lang::Ru,
            Some(hostile),
        );
        assert!(!html.contains(hostile));
        assert!(html.contains("role=\"alert\""));
    }
}
