//! Cabinet pages for sessions and devices (`/profile/sessions`), login history
//! (`/profile/logins`), the event feed (`/profile/history`) and notification settings
//! (`/profile/notifications`). The server formats every value (times, devices, labels); the
//! templates only lay them out. Forms carry `csrf` and `lang`; field names are a contract
//! with `idp/src/http/cabinet_sessions.rs`.

use askama::Template;

use crate::Lang;
use crate::cabinet::cabinet_nav;
use crate::texts::Texts;

/// What every one of these pages shows around its content.
pub struct CabinetFrame<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    pub errors: &'a [String],
    pub notice: Option<&'a str>,
}

pub struct SessionRow {
    pub sid: String,
    pub device: String,
    pub place: String,
    pub method: String,
    pub started: String,
    pub last_active: String,
    pub current: bool,
}

pub struct DeviceRow {
    pub id: String,
    pub device: String,
    pub place: String,
    pub added: String,
    pub last_used: String,
}

pub struct LoginRow {
    pub time: String,
    pub success: bool,
    pub outcome: String,
    pub method: String,
    pub device: String,
    pub place: String,
}

pub struct FeedRow {
    pub time: String,
    pub kind: String,
    pub status: String,
    /// `success`, `failure` or `info`, for styling.
    pub status_code: String,
    pub summary: String,
    pub change: String,
}

/// Links to the previous and next pages (empty: none).
#[derive(Default)]
pub struct Paging {
    pub page: i64,
    pub prev: String,
    pub next: String,
}

/// The feed's filter as typed, and the choices of the selects: (value, label, selected).
pub struct FeedFilter {
    pub from: String,
    pub to: String,
    pub kinds: Vec<(String, String, bool)>,
    pub statuses: Vec<(String, String, bool)>,
    /// The CSV export with the same filter.
    pub csv_url: String,
}

pub struct NotificationForm {
    /// (value, label, checked)
    pub kinds: Vec<(String, String, bool)>,
    pub email: bool,
    pub sms: bool,
    pub quiet_from: String,
    pub quiet_to: String,
}

/// "Logged in as" and the index of the language in `[ru, en]` pairs.
fn labels(lang: Lang) -> (&'static str, usize) {
    let i = match lang {
        Lang::Ru => 0,
        Lang::En => 1,
    };
    (["Вы вошли как", "Logged in as"][i], i)
}

#[derive(Template)]
#[template(path = "cabinet_sessions.html")]
struct SessionsView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    logged_in_as: &'static str,
    f: &'a CabinetFrame<'a>,
    sessions: &'a [SessionRow],
    devices: &'a [DeviceRow],
}

/// `/profile/sessions`: live sessions (the current one marked) and remembered devices.
pub fn render_sessions(
    f: &CabinetFrame<'_>,
    sessions: &[SessionRow],
    devices: &[DeviceRow],
) -> String {
    let (logged_in_as, i) = labels(f.lang);
    crate::pages::finish(SessionsView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: ["Сеансы и устройства", "Sessions and devices"][i],
        other_lang_url: format!("/profile/sessions?lang={}", f.lang.other().code()),
        nav: cabinet_nav(f.lang, "/profile/sessions"),
        logged_in_as,
        f,
        sessions,
        devices,
    })
}

#[derive(Template)]
#[template(path = "cabinet_logins.html")]
struct LoginsView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    logged_in_as: &'static str,
    f: &'a CabinetFrame<'a>,
    rows: &'a [LoginRow],
    paging: &'a Paging,
    keep_days: i64,
}

/// `/profile/logins`: every login, success or failure, newest first, one page.
pub fn render_logins(
    f: &CabinetFrame<'_>,
    rows: &[LoginRow],
    paging: &Paging,
    keep_days: i64,
) -> String {
    let (logged_in_as, i) = labels(f.lang);
    crate::pages::finish(LoginsView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: ["История входов", "Login history"][i],
        other_lang_url: format!(
            "/profile/logins?lang={}&page={}",
            f.lang.other().code(),
            paging.page
        ),
        nav: cabinet_nav(f.lang, "/profile/logins"),
        logged_in_as,
        f,
        rows,
        paging,
        keep_days,
    })
}

#[derive(Template)]
#[template(path = "cabinet_feed.html")]
struct FeedView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    logged_in_as: &'static str,
    f: &'a CabinetFrame<'a>,
    filter: &'a FeedFilter,
    rows: &'a [FeedRow],
    paging: &'a Paging,
}

/// `/profile/history`: the event feed with its filter, one page.
pub fn render_feed(
    f: &CabinetFrame<'_>,
    filter: &FeedFilter,
    rows: &[FeedRow],
    paging: &Paging,
) -> String {
    let (logged_in_as, i) = labels(f.lang);
    crate::pages::finish(FeedView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: ["Лента событий", "Event feed"][i],
        other_lang_url: format!("/profile/history?lang={}", f.lang.other().code()),
        nav: cabinet_nav(f.lang, "/profile/history"),
        logged_in_as,
        f,
        filter,
        rows,
        paging,
    })
}

#[derive(Template)]
#[template(path = "cabinet_notifications.html")]
struct NotificationsView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    logged_in_as: &'static str,
    f: &'a CabinetFrame<'a>,
    form: &'a NotificationForm,
}

/// `/profile/notifications`: which events notify, by which channels, and quiet hours.
pub fn render_notifications(f: &CabinetFrame<'_>, form: &NotificationForm) -> String {
    let (logged_in_as, i) = labels(f.lang);
    crate::pages::finish(NotificationsView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: ["Уведомления", "Notifications"][i],
        other_lang_url: format!("/profile/notifications?lang={}", f.lang.other().code()),
        nav: cabinet_nav(f.lang, "/profile/notifications"),
        logged_in_as,
        f,
        form,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lang: Lang) -> CabinetFrame<'static> {
        CabinetFrame {
            lang,
            csrf: "tok",
            user_display_name: "Иванов Иван",
            errors: &[],
            notice: Some("Готово"),
        }
    }

    #[test]
    fn sessions_page_marks_the_current_one_and_escapes() {
        let rows = [
            SessionRow {
                sid: "a".into(),
                device: "Chrome 120, Windows (компьютер)".into(),
                place: "10.0.0.1".into(),
                method: "пароль".into(),
                started: "x".into(),
                last_active: "y".into(),
                current: true,
            },
            SessionRow {
                sid: "b".into(),
                device: "<script>".into(),
                place: "10.0.0.2".into(),
                method: "пароль".into(),
                started: "x".into(),
                last_active: "y".into(),
                current: false,
            },
        ];
        let html = render_sessions(&frame(Lang::Ru), &rows, &[]);
        assert!(html.contains("Текущий сеанс"), "{html}");
        assert!(html.contains("value=\"b\""));
        assert!(!html.contains("<script>"));
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("Завершить все другие сеансы"));
    }

    #[test]
    fn every_page_renders_in_both_languages() {
        for lang in [Lang::Ru, Lang::En] {
            let f = frame(lang);
            let paging = Paging {
                page: 1,
                prev: String::new(),
                next: "/profile/logins?page=2".into(),
            };
            let html = render_logins(&f, &[], &paging, 180);
            assert!(html.contains("/profile/logins?page=2"));
            let filter = FeedFilter {
                from: "2026-01-01".into(),
                to: String::new(),
                kinds: vec![("login".into(), "Входы".into(), true)],
                statuses: vec![],
                csv_url: "/profile/history.csv?type=login".into(),
            };
            let html = render_feed(&f, &filter, &[], &paging);
            assert!(html.contains("value=\"2026-01-01\"") && html.contains("selected"));
            let form = NotificationForm {
                kinds: vec![("login".into(), "Входы".into(), true)],
                email: true,
                sms: false,
                quiet_from: "22:00".into(),
                quiet_to: "07:00".into(),
            };
            let html = render_notifications(&f, &form);
            assert!(html.contains("value=\"22:00\"") && html.contains("checked"));
            assert!(html.contains("<label"));
        }
    }
}
