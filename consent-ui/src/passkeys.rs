//! The passkeys page of the personal account (`/profile/security/passkeys`): the list with
//! names, creation and last-use dates, renaming and removal (after the password) as plain
//! forms, and the "add a passkey" button, which needs JavaScript (WebAuthn is a browser API);
//! without it the page says so. Russian first, English on request.
//!
//! Form field names are a contract with the server: every form posts `csrf`, `lang`,
//! `action` (`rename` with `name`, or `remove` with `password`) and `id`.

use askama::Template;

use crate::Lang;
use crate::security_pages::SecurityFrame;
use crate::texts::Texts;

/// One passkey as the page shows it (dates already formatted).
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// What the passkeys page shows.
pub struct PasskeysPage<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    /// Messages already in the page's language.
    pub errors: &'a [String],
    pub notice: Option<&'a str>,
    pub passkeys: &'a [PasskeyRow],
}

#[derive(Template)]
#[template(path = "passkeys.html")]
struct PasskeysView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    f: SecurityFrame<'a>,
    p: &'a PasskeysPage<'a>,
    ru: bool,
}

impl PasskeysView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }
}

/// Renders `/profile/security/passkeys`.
pub fn render_passkeys(p: &PasskeysPage) -> String {
    let path = "/profile/security/passkeys";
    let ru = p.lang == Lang::Ru;
    let view = PasskeysView {
        lang: p.lang.code(),
        t: Texts::get(p.lang),
        title: if ru {
            "Ключи доступа"
        } else {
            "Passkeys"
        },
        other_lang_url: format!("{path}?lang={}", p.lang.other().code()),
        nav: crate::cabinet::cabinet_nav(p.lang, path),
        f: SecurityFrame {
            lang: p.lang,
            csrf: p.csrf,
            user_display_name: p.user_display_name,
            errors: p.errors,
            notice: p.notice,
        },
        p,
        ru,
    };
    crate::pages::finish(view)
}
