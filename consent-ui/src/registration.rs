//! The registration pages: the form (names and contacts), the code, "check your mail", the
//! e-mail link confirmation, the password (with a strength meter and a generator) and
//! "registration complete". Russian first, English on request; no inline script or style.
//!
//! Form field names are a contract with the server: `tx`, `csrf`, `lang`, `surname`,
//! `given_name`, `middle_name`, `phone`, `email` (POST /register); `reg`, `code`, `action` =
//! "confirm" | "resend" (POST /register/code); `address`, `token` (POST /register/email);
//! `reg`, `password`, `password_again`, `action` = "submit" | "generate" (POST /register/password).

mod texts;

use askama::Template;

use self::texts::RegTexts;
use crate::Lang;
use crate::texts::Texts;

/// The registration form.
pub struct RegisterPage<'a> {
    pub lang: Lang,
    /// The authorization transaction to continue afterwards ("" when none).
    pub tx: &'a str,
    pub csrf: &'a str,
    pub client_name: Option<&'a str>,
    pub surname: &'a str,
    pub given_name: &'a str,
    pub middle_name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    /// Messages already in the page's language.
    pub errors: &'a [String],
    /// Names of the fields to mark invalid.
    pub invalid: &'a [&'a str],
    pub other_lang_url: &'a str,
}

/// Which contact a code was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeChannel {
    Sms,
    Email,
}

/// "Enter the code we sent".
pub struct CodePage<'a> {
    pub lang: Lang,
    pub reg: &'a str,
    pub csrf: &'a str,
    pub channel: CodeChannel,
    /// The phone or address the code went to.
    pub destination: &'a str,
    pub errors: &'a [String],
    /// A neutral notice, e.g. "a new code was sent".
    pub notice: Option<&'a str>,
    pub other_lang_url: &'a str,
}

/// "Check your mail": the link was sent; a resend button.
pub struct LinkSentPage<'a> {
    pub lang: Lang,
    pub reg: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub errors: &'a [String],
    pub notice: Option<&'a str>,
    pub other_lang_url: &'a str,
}

/// The e-mail link opened: a button confirms (so mail scanners that follow links spend nothing).
pub struct LinkConfirmPage<'a> {
    pub lang: Lang,
    pub address: &'a str,
    pub token: &'a str,
    pub csrf: &'a str,
    pub errors: &'a [String],
}

/// The password form.
pub struct PasswordPage<'a> {
    pub lang: Lang,
    pub reg: &'a str,
    pub csrf: &'a str,
    pub errors: &'a [String],
    /// 0..=4 after an attempt (the meter), None before.
    pub strength: Option<u8>,
    /// A generated password, shown once and pre-filled.
    pub generated: Option<&'a str>,
    pub other_lang_url: &'a str,
}

/// "Registration complete".
pub struct RegisteredPage<'a> {
    pub lang: Lang,
    pub user_display_name: &'a str,
    /// The registration came from a website whose login has since expired.
    pub client_expired: bool,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a RegisterPage<'a>,
    login_url: String,
    bad_surname: bool,
    bad_given_name: bool,
    bad_middle_name: bool,
    bad_phone: bool,
    bad_email: bool,
}

#[derive(Template)]
#[template(path = "register_code.html")]
struct CodeView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a CodePage<'a>,
    sent_to: &'static str,
}

#[derive(Template)]
#[template(path = "register_sent.html")]
struct LinkSentView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a LinkSentPage<'a>,
}

#[derive(Template)]
#[template(path = "register_confirm.html")]
struct LinkConfirmView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a LinkConfirmPage<'a>,
}

#[derive(Template)]
#[template(path = "register_password.html")]
struct PasswordView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a PasswordPage<'a>,
    prefill: &'a str,
    strength: u8,
    strength_label: &'static str,
    strength_labels: String,
}

#[derive(Template)]
#[template(path = "register_done.html")]
struct RegisteredView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RegTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a RegisteredPage<'a>,
}

/// Renders the registration form.
pub fn render_register(page: &RegisterPage) -> String {
    let r = RegTexts::get(page.lang);
    let bad = |f: &str| page.invalid.contains(&f);
    let login_url = if page.tx.is_empty() {
        "/".to_string()
    } else {
        format!("/login?tx={}", page.tx)
    };
    finish(RegisterView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title: r.register_title,
        other_lang_url: page.other_lang_url,
        p: page,
        login_url,
        bad_surname: bad("surname"),
        bad_given_name: bad("given_name"),
        bad_middle_name: bad("middle_name"),
        bad_phone: bad("phone"),
        bad_email: bad("email"),
    })
}

/// Renders "enter the code".
pub fn render_register_code(page: &CodePage) -> String {
    let r = RegTexts::get(page.lang);
    let (title, sent_to) = match page.channel {
        CodeChannel::Sms => (r.phone_title, r.code_sent_sms),
        CodeChannel::Email => (r.email_code_title, r.code_sent_email),
    };
    finish(CodeView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title,
        other_lang_url: page.other_lang_url,
        p: page,
        sent_to,
    })
}

/// Renders "check your mail".
pub fn render_register_sent(page: &LinkSentPage) -> String {
    let r = RegTexts::get(page.lang);
    finish(LinkSentView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title: r.sent_title,
        other_lang_url: page.other_lang_url,
        p: page,
    })
}

/// Renders the e-mail link confirmation.
pub fn render_register_confirm(page: &LinkConfirmPage) -> String {
    let r = RegTexts::get(page.lang);
    finish(LinkConfirmView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title: r.link_title,
        other_lang_url: "",
        p: page,
    })
}

/// Renders the password form.
pub fn render_register_password(page: &PasswordPage) -> String {
    let r = RegTexts::get(page.lang);
    let strength = page.strength.unwrap_or(0).min(4);
    finish(PasswordView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title: r.password_title,
        other_lang_url: page.other_lang_url,
        p: page,
        prefill: page.generated.unwrap_or(""),
        strength,
        strength_label: r.strength_labels[strength as usize],
        strength_labels: r.strength_labels.join("|"),
    })
}

/// Renders "registration complete".
pub fn render_registered(page: &RegisteredPage) -> String {
    let r = RegTexts::get(page.lang);
    finish(RegisteredView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        r,
        title: r.done_title,
        other_lang_url: "",
        p: page,
    })
}

/// Renders a view; plain templates never fail, but a failure still yields a page.
fn finish(view: impl Template) -> String {
    view.render().unwrap_or_else(|_| {
        String::from(
            "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Ошибка</title></head>\
             <body><p>Внутренняя ошибка. Попробуйте позже.</p></body></html>",
        )
    })
}

/// The label of a strength score (0..=4) in `lang`, e.g. "Высокая" for 4.
pub fn strength_label(score: u8, lang: Lang) -> &'static str {
    RegTexts::get(lang).strength_labels[score.min(4) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(lang: Lang, errors: &[String], invalid: &[&str]) -> String {
        render_register(&RegisterPage {
            lang,
            tx: "TX1",
            csrf: "CSRF1",
            client_name: Some("ФНС"),
            surname: "<script>",
            given_name: "Иван",
            middle_name: "",
            phone: "+79001234567",
            email: "",
            errors,
            invalid,
            other_lang_url: "/register?tx=TX1&lang=en",
        })
    }

    #[test]
    fn register_form_contract_and_escaping() {
        let errors = vec!["Укажите имя".to_string()];
        let html = form(Lang::Ru, &errors, &["given_name"]);
        for field in [
            "tx",
            "csrf",
            "lang",
            "surname",
            "given_name",
            "middle_name",
            "phone",
            "email",
        ] {
            assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
        }
        assert!(html.contains("action=\"/register\""));
        assert!(html.contains("value=\"TX1\""));
        assert!(html.contains("Укажите имя"));
        assert!(!html.contains("<script>"), "escaped");
        assert!(html.contains("href=\"/login?tx=TX1\""));
        assert_eq!(html.matches("aria-invalid=\"true\"").count(), 1);
        let en = form(Lang::En, &[], &[]);
        assert!(en.contains("Registration") && en.contains("lang=\"en\""));
    }

    #[test]
    fn password_page_meter_and_generated_password() {
        let html = render_register_password(&PasswordPage {
            lang: Lang::Ru,
            reg: "R1",
            csrf: "C1",
            errors: &[],
            strength: Some(4),
            generated: Some("Ab3!xYz9-Qw"),
            other_lang_url: "",
        });
        assert!(html.contains("Высокая"));
        assert!(html.contains("value=\"4\""));
        assert!(html.contains("strength--4"));
        assert_eq!(
            html.matches("Ab3!xYz9-Qw").count(),
            3,
            "shown once, pre-filled twice"
        );
        assert!(html.contains("name=\"action\" value=\"generate\""));
        assert!(html.contains("formnovalidate"));
        let before = render_register_password(&PasswordPage {
            lang: Lang::En,
            reg: "R1",
            csrf: "C1",
            errors: &[],
            strength: None,
            generated: None,
            other_lang_url: "",
        });
        assert!(before.contains("Create a password"));
        assert!(
            before.contains("aria-live=\"polite\" hidden"),
            "the meter waits for input or an attempt"
        );
    }

    #[test]
    fn code_pages() {
        let html = render_register_code(&CodePage {
            lang: Lang::Ru,
            reg: "R1",
            csrf: "C1",
            channel: CodeChannel::Sms,
            destination: "+79001234567",
            errors: &["Неверный код. Осталось попыток: 2.".to_string()],
            notice: None,
            other_lang_url: "",
        });
        assert!(html.contains("+79001234567") && html.contains("Осталось попыток: 2"));
        assert!(html.contains("value=\"resend\"") && html.contains("value=\"confirm\""));
        assert!(html.contains("autocomplete=\"one-time-code\""));
        assert_eq!(strength_label(4, Lang::Ru), "Высокая");
        assert_eq!(strength_label(9, Lang::En), "Strong");
    }
}
