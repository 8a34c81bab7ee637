//! The pages of strong authentication: login by a one-time code ("Войти по коду из СМС":
//! name a phone or e-mail, then type the code) and the second step of two-step login (the
//! code from the authenticator app, or a recovery code). Russian first, English on request;
//! no inline script or style.
//!
//! Form field names are a contract with the server: `tx`, `csrf`, `lang`, `login`
//! (POST /login/code); `flow`, `code`, `action` = "confirm" | "resend" (POST
//! /login/code/verify); `pending`, `code`, `method` = "totp" | "sms", `action` = "send_sms"
//! (POST /login/second); the level-too-low page posts `tx`, `csrf` to /login/level.

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
    /// The second step (`pending`: the hidden id): the person's factors, preferred first.
    SecondFactor {
        pending: &'a str,
        choice: SecondChoice<'a>,
    },
}

/// The second factors offered on the second step.
#[derive(Clone, Copy, Debug)]
pub struct SecondChoice<'a> {
    /// `totp`, `sms`, `passkey`, `signature`, in the order to show.
    pub methods: &'a [&'a str],
    /// The masked phone SMS codes go to.
    pub phone_hint: &'a str,
    /// An SMS code was sent: show its field.
    pub sms_sent: bool,
}

/// One block of the second step.
struct Method {
    kind: &'static str,
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
        StrongAuthStep::SecondFactor { pending, .. } => (
            "second",
            s("Подтверждение входа", "Confirm the login"),
            s(
                "Подтвердите вход вторым способом. Выберите удобный.",
                "Confirm the login with a second factor. Choose one.",
            ),
            "",
            pending,
        ),
    };
    let (methods, phone_hint, sms_sent) = match page.step {
        StrongAuthStep::SecondFactor { choice, .. } => (
            choice
                .methods
                .iter()
                .filter_map(|m| {
                    ["totp", "sms", "passkey", "signature"]
                        .into_iter()
                        .find(|k| k == m)
                })
                .map(|kind| Method { kind })
                .collect(),
            choice.phone_hint,
            choice.sms_sent,
        ),
        _ => (Vec::new(), "", false),
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
        methods,
        phone_hint,
        sms_sent,
        totp_title: s("Код из приложения", "Code from the app"),
        totp_lead: s(
            "Введите 6-значный код из приложения-аутентификатора или один из резервных кодов.",
            "Enter the 6-digit code from your authenticator app or one of your recovery codes.",
        ),
        sms_title: s("Код из СМС", "SMS code"),
        sms_send: s("Получить код по СМС", "Send a code by SMS"),
        sms_lead: s("Код придёт на номер", "The code goes to"),
        passkey_title: s("Ключ доступа", "Passkey"),
        passkey_button: s("Подтвердить ключом доступа", "Confirm with a passkey"),
        signature_title: s("Электронная подпись", "Electronic signature"),
        signature_link: s(
            "Подтвердить электронной подписью",
            "Confirm with an electronic signature",
        ),
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
    methods: Vec<Method>,
    phone_hint: &'a str,
    sms_sent: bool,
    totp_title: &'static str,
    totp_lead: &'static str,
    sms_title: &'static str,
    sms_send: &'static str,
    sms_lead: &'static str,
    passkey_title: &'static str,
    passkey_button: &'static str,
    signature_title: &'static str,
    signature_link: &'static str,
}

/// The page "your account level is too low for this site".
pub struct LevelTooLowPage<'a> {
    pub lang: Lang,
    pub tx: &'a str,
    pub csrf: &'a str,
    pub client_name: Option<&'a str>,
    /// `standard` or `confirmed`.
    pub wanted: &'a str,
    /// The account's level.
    pub level: &'a str,
    pub other_lang_url: &'a str,
}

/// Renders the level-too-low page: what the site needs, how to raise the level, and the
/// button back to the site (POST /login/level).
pub fn render_level_too_low(page: &LevelTooLowPage) -> String {
    let ru = page.lang == Lang::Ru;
    let s = |r: &'static str, e: &'static str| if ru { r } else { e };
    let level_name = |l: &str| match l {
        "confirmed" => s("подтверждённая", "confirmed"),
        "standard" => s("стандартная", "standard"),
        _ => s("упрощённая", "simplified"),
    };
    let site = page
        .client_name
        .unwrap_or(s("Сайт", "The site"))
        .to_string();
    let view = LevelTooLowView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        title: s(
            "Нужен более высокий уровень учётной записи",
            "A higher account level is needed",
        ),
        other_lang_url: crate::pages::safe_href(page.other_lang_url),
        p: page,
        site,
        needs: s(
            "требует учётную запись уровня",
            "requires an account of level",
        ),
        wanted_name: level_name(page.wanted),
        yours: s("Ваша учётная запись", "Your account is"),
        level_name: level_name(page.level),
        standard: page.wanted == "standard",
        how_standard: crate::levels::how_standard(page.lang),
        identity_link: s("Заполнить личные данные", "Fill in personal data"),
        how_confirmed: crate::levels::how_confirmed(page.lang),
        ways: crate::levels::ways(page.lang),
        back: s("Вернуться на сайт", "Back to the site"),
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "level_too_low.html")]
struct LevelTooLowView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: &'a str,
    p: &'a LevelTooLowPage<'a>,
    site: String,
    needs: &'static str,
    wanted_name: &'static str,
    yours: &'static str,
    level_name: &'static str,
    standard: bool,
    how_standard: &'static str,
    identity_link: &'static str,
    how_confirmed: &'static str,
    ways: [&'static str; 4],
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
        let choice = SecondChoice {
            methods: &["sms", "totp", "passkey", "signature"],
            phone_hint: "+7 *** ***-01-01",
            sms_sent: false,
        };
        let html = page(
            StrongAuthStep::SecondFactor {
                pending: "p1",
                choice,
            },
            Lang::Ru,
            None,
        );
        assert!(html.contains("action=\"/login/second\""));
        assert!(html.contains("name=\"pending\" value=\"p1\""));
        assert!(html.contains("value=\"send_sms\""));
        assert!(html.contains("href=\"/login?tx=t1&amp;lang=ru\""));
        assert!(
            html.find("send_sms") < html.find("value=\"totp\""),
            "preferred first"
        );
        assert!(html.contains("data-passkey-second data-pending=\"p1\""));
        assert!(html.contains("/assets/passkeys.js"));
        assert!(html.contains("href=\"/login/signature?tx=t1&amp;lang=ru\""));
        let html = page(
            StrongAuthStep::SecondFactor {
                pending: "p1",
                choice: SecondChoice {
                    methods: &["sms"],
                    phone_hint: "",
                    sms_sent: true,
                },
            },
            Lang::Ru,
            None,
        );
        assert!(html.contains("value=\"sms\"") && !html.contains("data-passkey-second"));
        let html = render_level_too_low(&LevelTooLowPage {
            lang: Lang::Ru,
            tx: "t1",
            csrf: "c5rf",
            client_name: Some("Налоговая"),
            wanted: "confirmed",
            level: "standard",
            other_lang_url: "",
        });
        assert!(html.contains("action=\"/login/level\"") && html.contains("подтверждённая"));
        assert!(html.contains("name=\"tx\" value=\"t1\"") && html.contains("центре обслуживания"));
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
