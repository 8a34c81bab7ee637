//! Permissions (разрешения): the words for ESIA purposes and actions, the permission block of
//! the consent page, and the cabinet page `/profile/permissions` (active, expired and revoked
//! permissions with a "Отозвать" form each, and the history of grants and revocations).

use askama::Template;

use crate::texts::Texts;
use crate::{Lang, cabinet_nav, format_utc, scope_label};

/// ESIA purpose sysnames in plain words (Russian, English).
const PURPOSES: [(&str, &str, &str); 8] = [
    ("IDENTIFICATION", "Идентификация личности", "Identification"),
    (
        "VERIFY_USER",
        "Проверка данных пользователя",
        "Verifying the person's data",
    ),
    (
        "APIPGU",
        "Получение государственных услуг",
        "Public services",
    ),
    ("CREDIT", "Оформление кредита", "Applying for a loan"),
    (
        "INSURANCE",
        "Оформление страхования",
        "Taking out insurance",
    ),
    ("EMPLOYMENT", "Трудоустройство", "Employment"),
    (
        "BANK_ACCOUNT",
        "Открытие банковского счёта",
        "Opening a bank account",
    ),
    (
        "PENSION",
        "Пенсионное обеспечение и выплаты",
        "Pensions and benefits",
    ),
];

/// ESIA action sysnames in plain words.
const ACTIONS: [(&str, &str, &str); 3] = [
    (
        "ALL_ACTIONS_TO_DATA",
        "Любые действия с данными",
        "Any use of the data",
    ),
    ("USE_DATA", "Использование данных", "Using the data"),
    (
        "SHARE_DATA",
        "Передача данных третьим лицам",
        "Sharing the data with third parties",
    ),
];

fn pick(
    table: &[(&str, &'static str, &'static str)],
    key: &str,
    lang: Lang,
) -> Option<&'static str> {
    table.iter().find(|e| e.0 == key).map(|e| match lang {
        Lang::Ru => e.1,
        Lang::En => e.2,
    })
}

/// A purpose sysname in plain words, `None` if unknown.
pub fn purpose_label(sysname: &str, lang: Lang) -> Option<&'static str> {
    pick(&PURPOSES, sysname, lang)
}

/// An action sysname in plain words, `None` if unknown.
pub fn action_label(sysname: &str, lang: Lang) -> Option<&'static str> {
    pick(&ACTIONS, sysname, lang)
}

/// Labels of sysnames; unknown ones shown as they are.
fn labels(list: &[String], lang: Lang, f: fn(&str, Lang) -> Option<&'static str>) -> Vec<String> {
    list.iter()
        .map(|s| f(s, lang).map_or_else(|| s.clone(), str::to_owned))
        .collect()
}

/// The data items of scope names in plain words, each once.
fn items(scopes: &[String], lang: Lang) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in scopes.iter().filter_map(|s| scope_label(s, lang)) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// A date for people: "22.12.2026" / "2026-12-22" (UTC).
pub fn format_date(secs: i64, lang: Lang) -> String {
    let iso = format_utc(secs);
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    match lang {
        Lang::Ru => format!("{d}.{m}.{y}"),
        Lang::En => format!("{y}-{m}-{d}"),
    }
}

/// A validity in days/hours/minutes: "30 дн.", "2 ч", "15 мин".
fn duration(minutes: i64, lang: Lang) -> String {
    let (n, unit) = if minutes % (24 * 60) == 0 {
        (minutes / (24 * 60), ["дн.", "days"])
    } else if minutes % 60 == 0 {
        (minutes / 60, ["ч", "hours"])
    } else {
        (minutes, ["мин", "minutes"])
    };
    format!("{n} {}", unit[usize::from(lang == Lang::En)])
}

/// The permission request shown on the consent page.
pub struct ConsentPermission<'a> {
    /// Purpose sysnames.
    pub purposes: &'a [String],
    /// Action sysnames.
    pub actions: &'a [String],
    /// Validity in minutes.
    pub expire_minutes: i64,
    /// When the permission would end if given now (Unix seconds).
    pub until: i64,
}

/// The permission block of the consent page in the page's language.
pub(crate) struct PermissionBlock {
    pub purposes: Vec<String>,
    pub actions: Vec<String>,
    pub validity: String,
    pub labels: [&'static str; 3],
}

pub(crate) fn block(p: &ConsentPermission, lang: Lang) -> PermissionBlock {
    let until = format_date(p.until, lang);
    let validity = match lang {
        Lang::Ru => format!("{} (до {until})", duration(p.expire_minutes, lang)),
        Lang::En => format!("{} (until {until})", duration(p.expire_minutes, lang)),
    };
    PermissionBlock {
        purposes: labels(p.purposes, lang, purpose_label),
        actions: labels(p.actions, lang, action_label),
        validity,
        labels: match lang {
            Lang::Ru => ["Цель", "Действия с данными", "Срок действия разрешения"],
            Lang::En => ["Purpose", "Use of the data", "Valid for"],
        },
    }
}

/// One permission on the cabinet page.
pub struct PermissionRow {
    pub client_id: String,
    pub client_name: String,
    /// Scope names.
    pub scopes: Vec<String>,
    /// Purpose sysnames.
    pub purposes: Vec<String>,
    /// Action sysnames.
    pub actions: Vec<String>,
    pub granted_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// One line of the consent history.
pub struct PermissionHistoryRow {
    pub client_name: String,
    /// "granted" or "revoked".
    pub action: String,
    pub scopes: Vec<String>,
    pub at: i64,
}

/// The page `/profile/permissions`.
pub struct PermissionsPage<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    pub active: &'a [PermissionRow],
    pub expired: &'a [PermissionRow],
    pub revoked: &'a [PermissionRow],
    pub history: &'a [PermissionHistoryRow],
    /// "revoked" after a revocation, "none" when there was nothing to revoke.
    pub done: Option<&'a str>,
}

struct Row {
    client_id: String,
    client_name: String,
    items: String,
    purposes: String,
    actions: String,
    granted: String,
    expires: String,
    revoked: String,
}

struct HistoryLine {
    time: String,
    text: String,
}

#[derive(Template)]
#[template(path = "permissions.html")]
struct PermissionsView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: &'static str,
    nav: Vec<(&'static str, &'static str, bool)>,
    p: &'a PermissionsPage<'a>,
    w: &'static Words,
    notice: Option<&'static str>,
    sections: Vec<(&'static str, &'static str, Vec<Row>, bool)>,
    history: Vec<HistoryLine>,
}

/// The page's own words.
struct Words {
    title: &'static str,
    intro: &'static str,
    logged_in_as: &'static str,
    data: &'static str,
    purpose: &'static str,
    actions: &'static str,
    granted: &'static str,
    expires: &'static str,
    no_expiry: &'static str,
    revoked: &'static str,
    revoke: &'static str,
    revoke_note: &'static str,
    none: &'static str,
    history: &'static str,
    time: &'static str,
    change: &'static str,
    done_revoked: &'static str,
    done_none: &'static str,
    sections: [&'static str; 3],
    granted_to: &'static str,
    revoked_from: &'static str,
}

const RU: Words = Words {
    title: "Разрешения",
    intro: "Сайты и организации, которым вы разрешили доступ к своим данным. Отзыв разрешения сразу прекращает доступ: сайт больше не получит ваши данные.",
    logged_in_as: "Вы вошли как",
    data: "Данные",
    purpose: "Цель",
    actions: "Действия",
    granted: "Выдано",
    expires: "Действует до",
    no_expiry: "бессрочно",
    revoked: "Отозвано",
    revoke: "Отозвать",
    revoke_note: "Отозвать разрешение для",
    none: "Нет.",
    history: "История разрешений",
    time: "Когда",
    change: "Что произошло",
    done_revoked: "Разрешение отозвано: доступ сайта к вашим данным прекращён.",
    done_none: "Действующего разрешения для этого сайта нет.",
    sections: ["Действующие", "Истёкшие", "Отозванные"],
    granted_to: "Выдано разрешение для",
    revoked_from: "Отозвано разрешение для",
};

const EN: Words = Words {
    title: "Permissions",
    intro: "Sites and organisations you allowed to access your data. Revoking a permission ends the access at once: the site gets no more of your data.",
    logged_in_as: "Logged in as",
    data: "Data",
    purpose: "Purpose",
    actions: "Use",
    granted: "Granted",
    expires: "Valid until",
    no_expiry: "no end date",
    revoked: "Revoked",
    revoke: "Revoke",
    revoke_note: "Revoke the permission for",
    none: "None.",
    history: "Permission history",
    time: "When",
    change: "What happened",
    done_revoked: "The permission is revoked: the site no longer has access to your data.",
    done_none: "There is no active permission for this site.",
    sections: ["Active", "Expired", "Revoked"],
    granted_to: "Permission granted to",
    revoked_from: "Permission revoked for",
};

fn row(r: &PermissionRow, lang: Lang, w: &Words) -> Row {
    let join = |v: Vec<String>| v.join(", ");
    Row {
        client_id: r.client_id.clone(),
        client_name: r.client_name.clone(),
        items: join(items(&r.scopes, lang)),
        purposes: join(labels(&r.purposes, lang, purpose_label)),
        actions: join(labels(&r.actions, lang, action_label)),
        granted: format_date(r.granted_at, lang),
        expires: r
            .expires_at
            .map_or_else(|| w.no_expiry.to_owned(), |e| format_date(e, lang)),
        revoked: r
            .revoked_at
            .map(|e| format_date(e, lang))
            .unwrap_or_default(),
    }
}

/// Renders `/profile/permissions`.
pub fn render_permissions(page: &PermissionsPage) -> String {
    let lang = page.lang;
    let w: &'static Words = match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    };
    let rows = |list: &[PermissionRow]| list.iter().map(|r| row(r, lang, w)).collect();
    let history = page
        .history
        .iter()
        .map(|h| {
            let what = if h.action == "revoked" {
                w.revoked_from
            } else {
                w.granted_to
            };
            let data = items(&h.scopes, lang).join(", ");
            HistoryLine {
                time: format_utc(h.at),
                text: if data.is_empty() {
                    format!("{what} «{}»", h.client_name)
                } else {
                    format!("{what} «{}»: {data}", h.client_name)
                },
            }
        })
        .collect();
    let view = PermissionsView {
        lang: lang.code(),
        t: Texts::get(lang),
        title: w.title,
        other_lang_url: match lang {
            Lang::Ru => "/profile/permissions?lang=en",
            Lang::En => "/profile/permissions?lang=ru",
        },
        nav: cabinet_nav(lang, "/profile/permissions"),
        p: page,
        w,
        notice: match page.done {
            Some("revoked") => Some(w.done_revoked),
            Some("none") => Some(w.done_none),
            _ => None,
        },
        sections: vec![
            ("active", w.sections[0], rows(page.active), true),
            ("expired", w.sections[1], rows(page.expired), false),
            ("revoked", w.sections[2], rows(page.revoked), false),
        ],
        history,
    };
    crate::pages::finish(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(id: &str, revoked: Option<i64>) -> PermissionRow {
        PermissionRow {
            client_id: id.into(),
            client_name: format!("Сайт <{id}>"),
            scopes: vec!["fullname".into(), "birthdate".into()],
            purposes: vec!["IDENTIFICATION".into()],
            actions: vec!["USE_DATA".into()],
            granted_at: 1_790_000_000,
            expires_at: Some(1_792_592_000),
            revoked_at: revoked,
        }
    }

    #[test]
    fn the_page_lists_each_status_and_revokes_only_active_ones() {
        let active = [perm("a", None)];
        let revoked = [perm("r", Some(1_791_000_000))];
        let history = [PermissionHistoryRow {
            client_name: "Сайт r".into(),
            action: "revoked".into(),
            scopes: vec!["fullname".into()],
            at: 1_791_000_000,
        }];
        let html = render_permissions(&PermissionsPage {
            lang: Lang::Ru,
            csrf: "tok",
            user_display_name: "Иванов Иван",
            active: &active,
            expired: &[],
            revoked: &revoked,
            history: &history,
            done: Some("revoked"),
        });
        assert!(html.contains("Разрешение отозвано"));
        assert!(html.contains("Сайт &#60;a&#62;"), "names are escaped");
        assert!(html.contains("Идентификация личности"));
        assert!(html.contains("Использование данных"));
        assert_eq!(html.matches("name=\"client_id\"").count(), 1);
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("Отозвано разрешение для «Сайт r»"));
        assert!(html.contains("aria-current=\"page\""));
    }

    #[test]
    fn the_consent_block_says_how_long() {
        let purposes = ["CREDIT".to_string()];
        let actions = ["SHARE_DATA".to_string()];
        let b = block(
            &ConsentPermission {
                purposes: &purposes,
                actions: &actions,
                expire_minutes: 43_200,
                until: 0,
            },
            Lang::Ru,
        );
        assert_eq!(b.validity, "30 дн. (до 01.01.1970)");
        assert_eq!(b.purposes, ["Оформление кредита"]);
        assert_eq!(b.actions, ["Передача данных третьим лицам"]);
        assert_eq!(format_date(0, Lang::En), "1970-01-01");
    }
}
