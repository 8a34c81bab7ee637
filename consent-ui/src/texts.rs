//! The fixed strings used inside the templates, one set per language.

use crate::Lang;

/// Every string a template shows, except data passed in by the server.
pub(crate) struct Texts {
    pub brand: &'static str,
    pub brand_sub: &'static str,
    /// The name of the other language, in that language (the language switch link).
    pub other_lang_name: &'static str,
    pub skip_link: &'static str,
    pub footer: &'static str,
    pub to_home: &'static str,
    pub quote_open: &'static str,
    pub quote_close: &'static str,

    pub login_title: &'static str,
    pub login_for_client: &'static str,
    pub login_label: &'static str,
    pub password_label: &'static str,
    pub show_password: &'static str,
    pub hide_password: &'static str,
    pub foreign_computer: &'static str,
    pub foreign_computer_hint: &'static str,
    pub login_submit: &'static str,

    pub consent_title: &'static str,
    pub logged_in_as: &'static str,
    pub consent_intro_before: &'static str,
    pub consent_intro_after: &'static str,
    pub consent_no_data: &'static str,
    pub consent_revoke_note: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,

    pub correlation_label: &'static str,

    pub logout_title: &'static str,
    pub logout_client_before: &'static str,
    pub logout_client_after: &'static str,
    pub logout_question: &'static str,
    pub logout_submit: &'static str,
    pub cancel: &'static str,

    pub logged_out_title: &'static str,
    pub logged_out_text: &'static str,

    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub home_not_logged_in: &'static str,
    pub home_for_developers: &'static str,
    pub home_issuer: &'static str,
    pub home_discovery: &'static str,
}

const RU: Texts = Texts {
    brand: "Госуслуги ID",
    brand_sub: "Единый вход",
    other_lang_name: "English",
    skip_link: "Перейти к содержимому",
    footer: "Госуслуги ID — поставщик удостоверений OpenID Connect",
    to_home: "На главную",
    quote_open: "«",
    quote_close: "»",

    login_title: "Вход",
    login_for_client: "Вход для продолжения на сайте",
    login_label: "Телефон, почта или СНИЛС",
    password_label: "Пароль",
    show_password: "Показать пароль",
    hide_password: "Скрыть пароль",
    foreign_computer: "Чужой компьютер",
    foreign_computer_hint: "Не запоминать вход: сессия закончится при закрытии браузера",
    login_submit: "Войти",

    consent_title: "Доступ к данным",
    logged_in_as: "Вы вошли как",
    consent_intro_before: "Сайт",
    consent_intro_after: "запрашивает доступ к вашим данным:",
    consent_no_data: "Сайт получит только подтверждение входа, без ваших персональных данных.",
    consent_revoke_note: "Разрешение можно отозвать в любое время в личном кабинете, в разделе «Разрешения».",
    allow: "Предоставить",
    deny: "Отказать",

    correlation_label: "Код обращения:",

    logout_title: "Выход",
    logout_client_before: "Сайт",
    logout_client_after: "просит завершить ваш сеанс.",
    logout_question: "Выйти из учётной записи Госуслуги ID на этом устройстве?",
    logout_submit: "Выйти",
    cancel: "Отмена",

    logged_out_title: "Вы вышли из системы",
    logged_out_text: "Сеанс завершён. Теперь это окно можно закрыть.",

    home_title: "Единый вход на сайты",
    home_intro: "Госуслуги ID — сервис единой идентификации и аутентификации по протоколу OpenID Connect. \
                 Сайты-участники направляют сюда пользователей для входа, а вы сами решаете, \
                 какие данные им передать.",
    home_not_logged_in: "Вы не вошли. Вход начинается на сайте, которым вы пользуетесь: \
                         выберите там «Войти через Госуслуги».",
    home_for_developers: "Для разработчиков",
    home_issuer: "Идентификатор поставщика (issuer):",
    home_discovery: "Настройки OpenID Connect (discovery):",
};

const EN: Texts = Texts {
    brand: "Gosuslugi ID",
    brand_sub: "Single sign-on",
    other_lang_name: "Русский",
    skip_link: "Skip to content",
    footer: "Gosuslugi ID — OpenID Connect identity provider",
    to_home: "Go to the home page",
    quote_open: "“",
    quote_close: "”",

    login_title: "Log in",
    login_for_client: "Log in to continue to the website",
    login_label: "Phone, e-mail or SNILS",
    password_label: "Password",
    show_password: "Show password",
    hide_password: "Hide password",
    foreign_computer: "Someone else's computer",
    foreign_computer_hint: "Do not remember me: the session ends when the browser is closed",
    login_submit: "Log in",

    consent_title: "Access to your data",
    logged_in_as: "You are logged in as",
    consent_intro_before: "The website",
    consent_intro_after: "is requesting access to your data:",
    consent_no_data: "The website will only receive confirmation that you have logged in, \
                      without your personal data.",
    consent_revoke_note: "You can revoke this permission at any time in your personal account, \
                          under “Permissions”.",
    allow: "Allow",
    deny: "Deny",

    correlation_label: "Reference:",

    logout_title: "Log out",
    logout_client_before: "The website",
    logout_client_after: "asks to end your session.",
    logout_question: "Log out of Gosuslugi ID on this device?",
    logout_submit: "Log out",
    cancel: "Cancel",

    logged_out_title: "You have logged out",
    logged_out_text: "Your session has ended. You can now close this window.",

    home_title: "Single sign-on for websites",
    home_intro: "Gosuslugi ID is an identification and authentication service using OpenID Connect. \
                 Participating websites send you here to log in, and you decide which data \
                 to share with them.",
    home_not_logged_in: "You are not logged in. Logging in starts on the website you use: \
                         choose “Log in with Gosuslugi” there.",
    home_for_developers: "For developers",
    home_issuer: "Issuer:",
    home_discovery: "OpenID Connect configuration (discovery):",
};

impl Texts {
    pub(crate) fn get(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}
