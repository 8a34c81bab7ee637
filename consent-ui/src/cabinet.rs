//! The personal cabinet's frame: the one navigation every cabinet page shows (the partial
//! `templates/cabinet_nav.html`), and the security hub that links to each security setting.
//!
//! A cabinet page's template extends `base.html` and includes `cabinet_nav.html`, which
//! reads `nav` (from [`cabinet_nav`]) and `lang`.

use askama::Template;

use crate::Lang;
use crate::texts::Texts;

/// One link of the cabinet navigation: path, Russian and English label.
struct Item(&'static str, &'static str, &'static str);

/// The cabinet's sections, in the order of the navigation.
const ITEMS: [Item; 14] = [
    Item("/profile", "Обзор", "Overview"),
    Item(
        "/profile/identity",
        "Личные данные и документы",
        "Personal data and documents",
    ),
    Item("/profile/contacts", "Контакты", "Contacts"),
    Item("/profile/addresses", "Адреса", "Addresses"),
    Item("/profile/vehicles", "Транспорт", "Vehicles"),
    Item("/profile/kids", "Дети", "Children"),
    Item("/profile/orgs", "Организации", "Organisations"),
    Item("/profile/security", "Безопасность", "Security"),
    Item("/profile/permissions", "Разрешения", "Permissions"),
    Item(
        "/profile/sessions",
        "Сеансы и устройства",
        "Sessions and devices",
    ),
    Item("/profile/logins", "История входов", "Login history"),
    Item("/profile/history", "Лента событий", "Event feed"),
    Item("/profile/notifications", "Уведомления", "Notifications"),
    Item(
        "/profile/delete",
        "Удаление учётной записи",
        "Delete the account",
    ),
];

/// The navigation as `(path, label, is_current)`, `current` being the page's path (a
/// sub-page such as `/profile/security/totp` marks its section).
pub fn cabinet_nav(lang: Lang, current: &str) -> Vec<(&'static str, &'static str, bool)> {
    let section = ITEMS
        .iter()
        .filter(|i| current == i.0 || current.starts_with(&format!("{}/", i.0)))
        .map(|i| i.0)
        .max_by_key(|p| p.len());
    ITEMS
        .iter()
        .map(|i| {
            let label = match lang {
                Lang::Ru => i.1,
                Lang::En => i.2,
            };
            (i.0, label, Some(i.0) == section)
        })
        .collect()
}

/// A link on the security hub: path, title and one line of explanation, per language.
struct SecurityLink(&'static str, [&'static str; 2], [&'static str; 2]);

const SECURITY_LINKS: [SecurityLink; 6] = [
    SecurityLink(
        "/profile/security/password",
        ["Пароль", "Password"],
        [
            "Смена пароля; после смены другие сеансы завершаются.",
            "Change the password; other sessions end afterwards.",
        ],
    ),
    SecurityLink(
        "/profile/security/two-step",
        [
            "Двухэтапный вход и приложение-аутентификатор",
            "Two-step login and authenticator app",
        ],
        [
            "Второй шаг после пароля: код из приложения (QR-код), SMS, ключ доступа или электронная подпись.",
            "A second step after the password: an app code (QR code), SMS, a passkey or an electronic signature.",
        ],
    ),
    SecurityLink(
        "/profile/security/passkeys",
        ["Ключи доступа", "Passkeys"],
        [
            "Вход без пароля с помощью отпечатка, лица или PIN-кода устройства.",
            "Log in without a password with your device's fingerprint, face or PIN.",
        ],
    ),
    SecurityLink(
        "/profile/security/signature",
        [
            "Сертификаты электронной подписи",
            "Electronic signature certificates",
        ],
        [
            "Сертификаты, которыми вы входили, и вход по электронной подписи.",
            "Certificates you logged in with, and login by electronic signature.",
        ],
    ),
    SecurityLink(
        "/profile/security/question",
        ["Контрольный вопрос", "Secret question"],
        [
            "Вопрос для восстановления доступа.",
            "A question for account recovery.",
        ],
    ),
    SecurityLink(
        "/profile/notifications",
        ["Уведомления о входе", "Login notifications"],
        [
            "Письмо о каждом входе с указанием устройства и места.",
            "An e-mail on each login naming the device and place.",
        ],
    ),
];

#[derive(Template)]
#[template(path = "cabinet_security.html")]
struct SecurityView {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    user_display_name: String,
    links: Vec<(&'static str, &'static str, &'static str)>,
}

/// Renders the security hub at `/profile/security`.
pub fn render_security_hub(lang: Lang, user_display_name: &str) -> String {
    let i = match lang {
        Lang::Ru => 0,
        Lang::En => 1,
    };
    let view = SecurityView {
        lang: lang.code(),
        t: Texts::get(lang),
        title: ["Безопасность", "Security"][i],
        other_lang_url: format!("/profile/security?lang={}", lang.other().code()),
        nav: cabinet_nav(lang, "/profile/security"),
        user_display_name: user_display_name.to_owned(),
        links: SECURITY_LINKS
            .iter()
            .map(|l| (l.0, l.1[i], l.2[i]))
            .collect(),
    };
    crate::pages::finish(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sub_page_marks_its_section() {
        let nav = cabinet_nav(Lang::Ru, "/profile/security/totp");
        let current: Vec<_> = nav.iter().filter(|n| n.2).map(|n| n.0).collect();
        assert_eq!(current, ["/profile/security"]);
        let nav = cabinet_nav(Lang::En, "/profile");
        let current: Vec<_> = nav.iter().filter(|n| n.2).map(|n| n.1).collect();
        assert_eq!(current, ["Overview"]);
    }

    #[test]
    fn the_security_hub_links_every_setting() {
        let html = render_security_hub(Lang::Ru, "Иванов Иван");
        for l in SECURITY_LINKS {
            assert!(html.contains(l.0), "{}", l.0);
        }
        assert!(html.contains("aria-current=\"page\""));
        assert!(html.contains("Иванов Иван"));
    }
}
