//! The registration pages: the form (names and contacts), the code, "check your mail", the
//! e-mail link confirmation, the password (with a strength meter and a generator) and
//! "registration complete". Russian first, English on request; no inline script or style.
//!
//! Form field names are a contract with the server: `tx`, `csrf`, `lang`, `surname`,
//! `given_name`, `middle_name`, `phone`, `email` (POST /register); `reg`, `code`, `action` =
//! "confirm" | "resend" (POST /register/code); `address`, `token` (POST /register/email);
//! `reg`, `password`, `password_again`, `action` = "submit" | "generate" (POST /register/password).

use askama::Template;

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

/// Fixed strings of the registration pages.
struct RegTexts {
    register_title: &'static str,
    register_for_client: &'static str,
    register_intro: &'static str,
    surname: &'static str,
    given_name: &'static str,
    middle_name: &'static str,
    optional: &'static str,
    phone: &'static str,
    phone_hint: &'static str,
    email: &'static str,
    email_hint: &'static str,
    next: &'static str,
    have_account: &'static str,
    log_in: &'static str,
    phone_title: &'static str,
    email_code_title: &'static str,
    code_sent_sms: &'static str,
    code_sent_email: &'static str,
    code_label: &'static str,
    code_hint: &'static str,
    confirm: &'static str,
    resend: &'static str,
    start_again: &'static str,
    sent_title: &'static str,
    sent_text: &'static str,
    sent_hint: &'static str,
    resend_email: &'static str,
    link_title: &'static str,
    link_text: &'static str,
    link_submit: &'static str,
    password_title: &'static str,
    password_rules: &'static str,
    password: &'static str,
    password_again: &'static str,
    strength: &'static str,
    strength_labels: [&'static str; 5],
    generated_before: &'static str,
    generated_after: &'static str,
    submit: &'static str,
    generate: &'static str,
    done_title: &'static str,
    done_text: &'static str,
    done_level: &'static str,
    done_client_expired: &'static str,
}

const RU: RegTexts = RegTexts {
    register_title: "Регистрация",
    register_for_client: "Регистрация для входа на сайт",
    register_intro: "Создайте упрощённую учётную запись: укажите ФИО и мобильный телефон или электронную почту.",
    surname: "Фамилия",
    given_name: "Имя",
    middle_name: "Отчество",
    optional: "(если есть)",
    phone: "Мобильный телефон",
    phone_hint: "Пришлём код в SMS. Например: +7 900 123-45-67",
    email: "Электронная почта",
    email_hint: "Если телефон не указан, пришлём ссылку для подтверждения.",
    next: "Продолжить",
    have_account: "Уже есть учётная запись?",
    log_in: "Войти",
    phone_title: "Подтверждение телефона",
    email_code_title: "Подтверждение почты",
    code_sent_sms: "Код отправлен в SMS на номер",
    code_sent_email: "Код отправлен на адрес",
    code_label: "Код из сообщения",
    code_hint: "6 цифр. Код действует 5 минут.",
    confirm: "Подтвердить",
    resend: "Отправить код ещё раз",
    start_again: "Начать регистрацию заново",
    sent_title: "Проверьте почту",
    sent_text: "Мы отправили письмо со ссылкой для подтверждения на адрес",
    sent_hint: "Ссылка действует 3 дня. Откройте её, чтобы продолжить регистрацию.",
    resend_email: "Отправить письмо ещё раз",
    link_title: "Подтверждение почты",
    link_text: "Подтвердите адрес, чтобы продолжить регистрацию:",
    link_submit: "Подтвердить и продолжить",
    password_title: "Создание пароля",
    password_rules: "Не короче 8 символов: строчные и заглавные латинские буквы, цифры и знаки препинания. Без простых последовательностей клавиш (qwe, zxc, 123).",
    password: "Пароль",
    password_again: "Пароль ещё раз",
    strength: "Надёжность пароля:",
    strength_labels: ["Очень низкая", "Низкая", "Средняя", "Хорошая", "Высокая"],
    generated_before: "Сгенерированный пароль:",
    generated_after: "Он показан один раз: сохраните его в надёжном месте.",
    submit: "Зарегистрироваться",
    generate: "Сгенерировать пароль",
    done_title: "Регистрация завершена",
    done_text: "Учётная запись создана, вы вошли как",
    done_level: "Уровень учётной записи: упрощённая. Чтобы получить доступ ко всем услугам, добавьте паспорт и СНИЛС в личном кабинете.",
    done_client_expired: "Время на вход на сайт истекло: вернитесь на сайт и войдите снова.",
};

const EN: RegTexts = RegTexts {
    register_title: "Registration",
    register_for_client: "Register to log in to the website",
    register_intro: "Create a simplified account: enter your full name and a mobile phone or an e-mail address.",
    surname: "Surname",
    given_name: "First name",
    middle_name: "Middle name",
    optional: "(if any)",
    phone: "Mobile phone",
    phone_hint: "We will send a code by SMS. Example: +7 900 123-45-67",
    email: "E-mail",
    email_hint: "Without a phone, we will send a confirmation link.",
    next: "Continue",
    have_account: "Already have an account?",
    log_in: "Log in",
    phone_title: "Confirm your phone",
    email_code_title: "Confirm your e-mail",
    code_sent_sms: "The code was sent by SMS to",
    code_sent_email: "The code was sent to",
    code_label: "Code from the message",
    code_hint: "6 digits. The code is valid for 5 minutes.",
    confirm: "Confirm",
    resend: "Send the code again",
    start_again: "Start the registration again",
    sent_title: "Check your mail",
    sent_text: "We have sent an e-mail with a confirmation link to",
    sent_hint: "The link is valid for 3 days. Open it to continue the registration.",
    resend_email: "Send the e-mail again",
    link_title: "Confirm your e-mail",
    link_text: "Confirm the address to continue the registration:",
    link_submit: "Confirm and continue",
    password_title: "Create a password",
    password_rules: "At least 8 characters: lower- and upper-case Latin letters, digits and punctuation. No simple key sequences (qwe, zxc, 123).",
    password: "Password",
    password_again: "Password again",
    strength: "Password strength:",
    strength_labels: ["Very weak", "Weak", "Fair", "Good", "Strong"],
    generated_before: "Generated password:",
    generated_after: "It is shown once: keep it somewhere safe.",
    submit: "Register",
    generate: "Generate a password",
    done_title: "Registration complete",
    done_text: "Your account has been created; you are logged in as",
    done_level: "Account level: simplified. To use every service, add your passport and SNILS in your personal account.",
    done_client_expired: "The time for logging in to the website has run out: go back to the website and log in again.",
};

impl RegTexts {
    fn get(lang: Lang) -> &'static RegTexts {
        match lang {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
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
