//! The pages of password recovery ("Не знаю пароль") and of the unlock of a locked login:
//! name an identifier, type the code, answer the secret question, set a new password, done.
//! Russian first, English on request; no inline script or style.
//!
//! Form field names are a contract with the server: `tx`, `csrf`, `lang`, `login`
//! (POST /recover, /unlock); `flow`, `code`, `action` = "confirm" | "resend"
//! (POST /recover/code, /unlock/code); `flow`, `answer` (POST /recover/answer); `flow`,
//! `password`, `password_again` (POST /recover/password).

use askama::Template;

use crate::Lang;
use crate::texts::Texts;

/// Which flow a page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryFlow {
    /// "Не знаю пароль": `/recover`.
    Recover,
    /// Unlock a login locked after failed passwords: `/unlock`.
    Unlock,
}

/// The step a page shows.
#[derive(Clone, Copy, Debug)]
pub enum RecoveryStep<'a> {
    /// Name a phone, e-mail, SNILS or INN.
    Identify { login_value: &'a str },
    /// Type the code (or ask for a new one).
    Code,
    /// Answer the secret question.
    Answer { question: &'a str },
    /// The new password, typed twice.
    NewPassword,
    /// Finished; a link to log in (`continue_url`: back to the login page or the home page).
    Done { continue_url: &'a str },
}

/// A page of either flow.
pub struct RecoveryPage<'a> {
    pub lang: Lang,
    pub flow: RecoveryFlow,
    pub step: RecoveryStep<'a>,
    pub csrf: &'a str,
    /// The authorization transaction ("" when none), carried by the first form.
    pub tx: &'a str,
    /// The flow id (hidden `flow`); "" on the first step.
    pub flow_id: &'a str,
    /// Messages already in the page's language.
    pub errors: &'a [String],
    /// A neutral notice, e.g. "a new code was sent".
    pub notice: Option<&'a str>,
    /// The language switch ("" for none: steps after the first are forms in progress).
    pub other_lang_url: &'a str,
}

/// Messages of these pages (refusals and notices), rendered in the page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryMessage {
    Unrecognised,
    DailyCap,
    WrongCode { remaining: i64 },
    CodeExpired,
    CodeExhausted,
    WrongAnswer { remaining: u32 },
    AnswersExhausted,
    Gone,
    Resent,
    AlreadySent { wait_secs: i64 },
}

impl RecoveryMessage {
    pub fn text(self, lang: Lang) -> String {
        let ru = lang == Lang::Ru;
        match self {
            RecoveryMessage::Unrecognised => pick(
                ru,
                "Введите телефон, адрес электронной почты, СНИЛС или ИНН.",
                "Enter a phone number, e-mail address, SNILS or INN.",
            ),
            RecoveryMessage::DailyCap => pick(
                ru,
                "Превышено число запросов кода на сегодня. Попробуйте завтра или обратитесь в центр обслуживания.",
                "Too many codes have been requested today. Try again tomorrow or visit a service centre.",
            ),
            RecoveryMessage::WrongCode { remaining } if remaining > 0 => {
                if ru {
                    format!("Неверный код. Осталось попыток: {remaining}.")
                } else {
                    format!("Wrong code. Attempts left: {remaining}.")
                }
            }
            RecoveryMessage::WrongCode { .. } => pick(
                ru,
                "Неверный код. Попытки закончились: запросите новый код.",
                "Wrong code. No attempts left: request a new code.",
            ),
            RecoveryMessage::CodeExpired => pick(
                ru,
                "Срок действия кода истёк. Запросите новый код.",
                "The code has expired. Request a new code.",
            ),
            RecoveryMessage::CodeExhausted => pick(
                ru,
                "Попытки ввода этого кода закончились. Запросите новый код.",
                "No attempts are left for this code. Request a new code.",
            ),
            RecoveryMessage::WrongAnswer { remaining } => {
                if ru {
                    format!("Неверный ответ на контрольный вопрос. Осталось попыток: {remaining}.")
                } else {
                    format!("Wrong answer to the secret question. Attempts left: {remaining}.")
                }
            }
            RecoveryMessage::AnswersExhausted => pick(
                ru,
                "Слишком много неверных ответов на контрольный вопрос. Начните заново.",
                "Too many wrong answers to the secret question. Start again.",
            ),
            RecoveryMessage::Gone => pick(
                ru,
                "Время на этот шаг истекло или он уже пройден. Начните заново.",
                "The time for this step has run out or it was already completed. Start again.",
            ),
            RecoveryMessage::Resent => {
                pick(ru, "Новый код отправлен.", "A new code has been sent.")
            }
            RecoveryMessage::AlreadySent { wait_secs } => {
                if ru {
                    format!("Код уже отправлен. Новый можно запросить через {wait_secs} с.")
                } else {
                    format!(
                        "A code has already been sent. A new one can be requested in {wait_secs} s."
                    )
                }
            }
        }
    }
}

fn pick(ru: bool, ru_text: &str, en_text: &str) -> String {
    if ru { ru_text } else { en_text }.to_string()
}

/// Renders a page of recovery or unlock.
pub fn render_recovery(page: &RecoveryPage) -> String {
    let t = Texts::get(page.lang);
    let r = RecoveryTexts::get(page.lang);
    let (base, title, intro) = match page.flow {
        RecoveryFlow::Recover => ("/recover", r.recover_title, r.recover_intro),
        RecoveryFlow::Unlock => ("/unlock", r.unlock_title, r.unlock_intro),
    };
    let (step, title, login_value, question, continue_url) = match page.step {
        RecoveryStep::Identify { login_value } => ("identify", title, login_value, "", ""),
        RecoveryStep::Code => ("code", r.code_title, "", "", ""),
        RecoveryStep::Answer { question } => ("answer", r.answer_title, "", question, ""),
        RecoveryStep::NewPassword => ("password", r.password_title, "", "", ""),
        RecoveryStep::Done { continue_url } => {
            let title = match page.flow {
                RecoveryFlow::Recover => r.done_recover_title,
                RecoveryFlow::Unlock => r.done_unlock_title,
            };
            ("done", title, "", "", continue_url)
        }
    };
    let done_text = match page.flow {
        RecoveryFlow::Recover => r.done_recover_text,
        RecoveryFlow::Unlock => r.done_unlock_text,
    };
    let view = RecoveryView {
        lang: page.lang.code(),
        t,
        r,
        title,
        other_lang_url: crate::pages::safe_href(page.other_lang_url),
        p: page,
        step,
        base,
        intro,
        done_text,
        login_value,
        question,
        continue_url: crate::pages::safe_href(continue_url),
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryView<'a> {
    lang: &'static str,
    t: &'static Texts,
    r: &'static RecoveryTexts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a RecoveryPage<'a>,
    step: &'static str,
    /// "/recover" or "/unlock": the forms post to it and its sub-paths.
    base: &'static str,
    intro: &'static str,
    done_text: &'static str,
    login_value: &'a str,
    question: &'a str,
    continue_url: &'a str,
}

/// Fixed strings of these pages.
struct RecoveryTexts {
    recover_title: &'static str,
    recover_intro: &'static str,
    unlock_title: &'static str,
    unlock_intro: &'static str,
    identifier_label: &'static str,
    identifier_hint: &'static str,
    get_code: &'static str,
    no_contacts: &'static str,
    code_title: &'static str,
    code_sent: &'static str,
    code_label: &'static str,
    code_hint: &'static str,
    next: &'static str,
    resend: &'static str,
    answer_title: &'static str,
    answer_label: &'static str,
    answer_hint: &'static str,
    password_title: &'static str,
    password_intro: &'static str,
    password_rules: &'static str,
    new_password: &'static str,
    password_again: &'static str,
    save_password: &'static str,
    done_recover_title: &'static str,
    done_recover_text: &'static str,
    done_unlock_title: &'static str,
    done_unlock_text: &'static str,
    log_in: &'static str,
    start_again: &'static str,
}

const RU: RecoveryTexts = RecoveryTexts {
    recover_title: "Восстановление пароля",
    recover_intro: "Укажите телефон, электронную почту, СНИЛС или ИНН из вашей учётной записи. \
                    Мы отправим код на подтверждённый телефон или почту.",
    unlock_title: "Разблокировка входа",
    unlock_intro: "Вход временно заблокирован после нескольких неудачных попыток ввода пароля. \
                   Укажите телефон, электронную почту, СНИЛС или ИНН: мы отправим код, \
                   который снимет блокировку.",
    identifier_label: "Телефон, почта, СНИЛС или ИНН",
    identifier_hint: "Например: +7 900 123-45-67, ivan@mail.ru или 123-456-789 64",
    get_code: "Получить код",
    no_contacts: "Нет доступа ни к телефону, ни к почте? Восстановить доступ можно в центре \
                  обслуживания с паспортом и СНИЛС.",
    code_title: "Введите код",
    code_sent: "Если такая учётная запись существует, мы отправили код на телефон или \
                электронную почту, указанные в ней. Код действует 5 минут.",
    code_label: "Код из сообщения",
    code_hint: "6 цифр",
    next: "Продолжить",
    resend: "Отправить код ещё раз",
    answer_title: "Контрольный вопрос",
    answer_label: "Ответ",
    answer_hint: "Регистр букв не важен",
    password_title: "Новый пароль",
    password_intro: "Придумайте новый пароль. Старый пароль вводить не нужно.",
    password_rules: "Не короче 8 символов: строчные и заглавные латинские буквы, цифры и знаки \
                     препинания, без простых последовательностей вроде qwe или zxc.",
    new_password: "Новый пароль",
    password_again: "Повторите пароль",
    save_password: "Сохранить пароль",
    done_recover_title: "Пароль изменён",
    done_recover_text: "Новый пароль сохранён. Все сеансы входа на других устройствах завершены.",
    done_unlock_title: "Вход разблокирован",
    done_unlock_text: "Блокировка снята. Теперь можно войти с вашим паролем.",
    log_in: "Войти",
    start_again: "Начать заново",
};

const EN: RecoveryTexts = RecoveryTexts {
    recover_title: "Password recovery",
    recover_intro: "Enter the phone, e-mail, SNILS or INN of your account. We will send a code \
                    to its confirmed phone or e-mail.",
    unlock_title: "Unlock login",
    unlock_intro: "Logging in is temporarily locked after several wrong passwords. Enter your \
                   phone, e-mail, SNILS or INN: we will send a code that lifts the lock.",
    identifier_label: "Phone, e-mail, SNILS or INN",
    identifier_hint: "For example: +7 900 123-45-67, ivan@mail.ru or 123-456-789 64",
    get_code: "Get a code",
    no_contacts: "No access to your phone or e-mail? A service centre can restore access with \
                  your passport and SNILS.",
    code_title: "Enter the code",
    code_sent: "If such an account exists, we have sent a code to its phone or e-mail. The code \
                is valid for 5 minutes.",
    code_label: "Code from the message",
    code_hint: "6 digits",
    next: "Continue",
    resend: "Send the code again",
    answer_title: "Secret question",
    answer_label: "Answer",
    answer_hint: "Letter case does not matter",
    password_title: "New password",
    password_intro: "Choose a new password. You do not need the old one.",
    password_rules: "At least 8 characters: lower- and upper-case Latin letters, digits and \
                     punctuation, without simple key sequences such as qwe or zxc.",
    new_password: "New password",
    password_again: "Repeat the password",
    save_password: "Save the password",
    done_recover_title: "Password changed",
    done_recover_text: "The new password is saved. All sessions on other devices have ended.",
    done_unlock_title: "Login unlocked",
    done_unlock_text: "The lock is lifted. You can now log in with your password.",
    log_in: "Log in",
    start_again: "Start again",
};

impl RecoveryTexts {
    fn get(lang: Lang) -> &'static RecoveryTexts {
        match lang {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(
        flow: RecoveryFlow,
        step: RecoveryStep<'a>,
        errors: &'a [String],
    ) -> RecoveryPage<'a> {
        RecoveryPage {
            lang: Lang::Ru,
            flow,
            step,
            csrf: "csrf-1",
            tx: "tx-1",
            flow_id: "flow-1",
            errors,
            notice: None,
            other_lang_url: "/recover?tx=tx-1&lang=en",
        }
    }

    #[test]
    fn identify_form_contract() {
        let html = render_recovery(&page(
            RecoveryFlow::Recover,
            RecoveryStep::Identify {
                login_value: "+79001234567",
            },
            &[],
        ));
        assert!(html.contains("method=\"post\" action=\"/recover\""));
        assert!(html.contains("name=\"tx\" value=\"tx-1\""));
        assert!(html.contains("name=\"csrf\" value=\"csrf-1\""));
        assert!(html.contains("name=\"login\" type=\"text\" value=\"+79001234567\""));
        assert!(html.contains("Восстановление пароля"));
        let unlock = render_recovery(&page(
            RecoveryFlow::Unlock,
            RecoveryStep::Identify { login_value: "" },
            &[],
        ));
        assert!(unlock.contains("action=\"/unlock\""));
        assert!(unlock.contains("Разблокировка входа"));
    }

    #[test]
    fn later_steps_carry_the_flow_and_escape_data() {
        let errors = vec!["<b>нет</b>".to_string()];
        let html = render_recovery(&page(
            RecoveryFlow::Recover,
            RecoveryStep::Answer {
                question: "<script>alert(1)</script>",
            },
            &errors,
        ));
        assert!(html.contains("action=\"/recover/answer\""));
        assert!(html.contains("name=\"flow\" value=\"flow-1\""));
        assert!(!html.contains("<script>alert(1)"));
        assert!(!html.contains("<b>нет</b>"));
        let code = render_recovery(&page(RecoveryFlow::Unlock, RecoveryStep::Code, &[]));
        assert!(code.contains("action=\"/unlock/code\""));
        assert!(code.contains("value=\"resend\""));
        assert!(code.contains("Если такая учётная запись существует"));
        let pw = render_recovery(&page(RecoveryFlow::Recover, RecoveryStep::NewPassword, &[]));
        assert!(pw.contains("name=\"password_again\""));
        let done = render_recovery(&page(
            RecoveryFlow::Recover,
            RecoveryStep::Done {
                continue_url: "javascript:alert(1)",
            },
            &[],
        ));
        assert!(done.contains("Пароль изменён"));
        assert!(!done.contains("javascript:"));
    }

    #[test]
    fn messages_in_both_languages() {
        let m = RecoveryMessage::WrongCode { remaining: 2 };
        assert_eq!(m.text(Lang::Ru), "Неверный код. Осталось попыток: 2.");
        assert_eq!(m.text(Lang::En), "Wrong code. Attempts left: 2.");
        assert!(
            RecoveryMessage::WrongCode { remaining: 0 }
                .text(Lang::Ru)
                .contains("запросите новый")
        );
        assert!(
            RecoveryMessage::AlreadySent { wait_secs: 42 }
                .text(Lang::Ru)
                .contains("42")
        );
    }
}
