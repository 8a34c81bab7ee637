//! The pages of identity confirmation through a bank (an upstream OpenID provider): the
//! outcome after the bank sent the person back, and the refusals before going there.

use askama::Template;

use crate::Lang;
use crate::pages::{finish, safe_href};
use crate::texts::Texts;

/// What to tell the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamMessage {
    /// The account became confirmed.
    Confirmed,
    /// The bank's data matched, but this bank does not confirm identity.
    Matched,
    /// The bank's data differs from the account's.
    Mismatch,
    /// The account must reach the standard level (verified SNILS) first.
    NeedStandard,
    AlreadyConfirmed,
    /// A check of the account's data is still under way.
    Verifying,
    /// The answer did not belong to a login started in this browser, or it expired.
    BadState,
    /// The person cancelled at the bank, or the bank refused.
    Denied,
    /// The bank could not be reached or answered something we cannot trust.
    BankFailed,
    /// Not logged in.
    LoginRequired,
}

impl UpstreamMessage {
    fn success(self) -> bool {
        matches!(
            self,
            Self::Confirmed | Self::Matched | Self::AlreadyConfirmed
        )
    }

    /// (title, text) with `{bank}` for the bank's name.
    fn texts(self, lang: Lang) -> (&'static str, &'static str) {
        let ru = lang == Lang::Ru;
        match (self, ru) {
            (Self::Confirmed, true) => (
                "Личность подтверждена",
                "Банк «{bank}» подтвердил вашу личность. Учётная запись стала подтверждённой: вам доступны все услуги.",
            ),
            (Self::Confirmed, false) => (
                "Identity confirmed",
                "The bank “{bank}” confirmed your identity. Your account is now confirmed: all services are available.",
            ),
            (Self::Matched, true) => (
                "Данные совпадают",
                "Данные банка «{bank}» совпадают с вашими, но этот банк не подтверждает личность. Уровень учётной записи не изменился.",
            ),
            (Self::Matched, false) => (
                "The data match",
                "The data of the bank “{bank}” match yours, but this bank does not confirm identity. Your account level has not changed.",
            ),
            (Self::Mismatch, true) => (
                "Данные не совпадают",
                "СНИЛС или ФИО, которые сообщил банк «{bank}», не совпадают с данными вашей учётной записи. Ничего не изменилось. Проверьте данные в профиле или подтвердите личность в центре обслуживания.",
            ),
            (Self::Mismatch, false) => (
                "The data do not match",
                "The SNILS or name the bank “{bank}” reported differ from your account. Nothing has changed. Check your profile or confirm your identity at a service centre.",
            ),
            (Self::NeedStandard, true) => (
                "Сначала нужна стандартная учётная запись",
                "Подтвердить личность через банк можно только со стандартной учётной записью: сначала укажите в профиле паспорт и СНИЛС и дождитесь их проверки.",
            ),
            (Self::NeedStandard, false) => (
                "A standard account is needed first",
                "Only a standard account can be confirmed through a bank: add your passport and SNILS in the profile and wait for them to be verified.",
            ),
            (Self::AlreadyConfirmed, true) => (
                "Учётная запись уже подтверждена",
                "Ваша учётная запись уже подтверждённая, ничего делать не нужно.",
            ),
            (Self::AlreadyConfirmed, false) => (
                "Already confirmed",
                "Your account is already confirmed; nothing else is needed.",
            ),
            (Self::Verifying, true) => (
                "Идёт проверка данных",
                "Ваши данные сейчас проверяются. Подтвердите личность через банк, когда проверка завершится.",
            ),
            (Self::Verifying, false) => (
                "A check is in progress",
                "Your data are being verified. Confirm your identity through the bank once the check is over.",
            ),
            (Self::BadState, true) => (
                "Ссылка недействительна",
                "Ответ банка не относится к входу, начатому в этом браузере, или устарел. Начните подтверждение заново.",
            ),
            (Self::BadState, false) => (
                "The link is not valid",
                "The bank's answer does not belong to a login started in this browser, or it has expired. Please start again.",
            ),
            (Self::Denied, true) => (
                "Подтверждение отменено",
                "Вход в банк «{bank}» не завершён. Ничего не изменилось.",
            ),
            (Self::Denied, false) => (
                "Confirmation cancelled",
                "The login at the bank “{bank}” was not completed. Nothing has changed.",
            ),
            (Self::BankFailed, true) => (
                "Банк не ответил",
                "Не удалось получить подтверждение от банка «{bank}». Ничего не изменилось. Попробуйте позже.",
            ),
            (Self::BankFailed, false) => (
                "The bank did not answer",
                "We could not get a confirmation from the bank “{bank}”. Nothing has changed. Please try later.",
            ),
            (Self::LoginRequired, true) => (
                "Войдите в учётную запись",
                "Чтобы подтвердить личность через банк, сначала войдите в свою учётную запись.",
            ),
            (Self::LoginRequired, false) => (
                "Please log in",
                "To confirm your identity through a bank, log in to your account first.",
            ),
        }
    }
}

/// The outcome page.
pub struct UpstreamPage<'a> {
    pub lang: Lang,
    pub message: UpstreamMessage,
    /// The bank's name.
    pub bank: &'a str,
    /// Where to go on (back to the website's login flow), or "".
    pub continue_url: &'a str,
    pub other_lang_url: &'a str,
}

#[derive(Template)]
#[template(path = "upstream.html")]
struct UpstreamView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    text: String,
    success: bool,
    continue_url: &'a str,
    continue_label: &'static str,
    other_lang_url: &'a str,
}

pub fn render_upstream(page: &UpstreamPage) -> String {
    let (title, text) = page.message.texts(page.lang);
    finish(UpstreamView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        title,
        text: text.replace("{bank}", page.bank),
        success: page.message.success(),
        continue_url: safe_href(page.continue_url),
        continue_label: if page.lang == Lang::Ru {
            "Продолжить вход на сайт"
        } else {
            "Continue to the website"
        },
        other_lang_url: safe_href(page.other_lang_url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_bank_and_escapes_it() {
        let html = render_upstream(&UpstreamPage {
            lang: Lang::Ru,
            message: UpstreamMessage::Mismatch,
            bank: "<Банк>",
            continue_url: "",
            other_lang_url: "",
        });
        assert!(html.contains("Данные не совпадают"), "{html}");
        assert!(html.contains("Банк") && !html.contains("<Банк>"), "{html}");
        assert!(html.contains("alert--error"), "{html}");
    }
}
