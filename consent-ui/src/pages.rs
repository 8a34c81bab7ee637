//! The pages: what the server fills in, and the functions that render them.

use askama::Template;

use crate::texts::Texts;
use crate::{Lang, scope_label};

/// The login form (`POST action` with `tx`, `csrf`, `login`, `password`, `foreign_computer`).
pub struct LoginPage<'a> {
    pub lang: Lang,
    /// Form POST target, e.g. "/login".
    pub action: &'a str,
    /// Hidden field "tx".
    pub tx: &'a str,
    /// Hidden field "csrf".
    pub csrf: &'a str,
    /// Shown as "Вход для продолжения на сайте «…»".
    pub client_name: Option<&'a str>,
    /// Prefilled login (from login_hint or the previous attempt).
    pub login_value: &'a str,
    /// An error message already in the right language (see [`crate::message`]).
    pub error: Option<&'a str>,
    /// The login is locked after failed passwords: the error offers the unlock by code.
    pub locked: bool,
    pub other_lang_url: &'a str,
}

/// The consent form (`POST action` with `tx`, `csrf` and `decision` = "allow" / "deny").
pub struct ConsentPage<'a> {
    pub lang: Lang,
    /// Form POST target, e.g. "/consent".
    pub action: &'a str,
    pub tx: &'a str,
    pub csrf: &'a str,
    pub client_name: &'a str,
    /// Requested scope names; each is shown with [`scope_label`] (skipping "openid"), duplicates once.
    pub scopes: &'a [String],
    /// Who is logged in, e.g. "Иванов Иван".
    pub user_display_name: &'a str,
    pub other_lang_url: &'a str,
}

/// An error page. Title and message come from the server, already in the right language.
pub struct ErrorPage<'a> {
    pub lang: Lang,
    pub title: &'a str,
    pub message: &'a str,
    /// Shown small: "Код обращения: …" / "Reference: …".
    pub correlation_id: Option<&'a str>,
}

/// "Log out?" (`POST action` with `csrf`, the `hidden` fields and `confirm` = "yes").
pub struct LogoutConfirmPage<'a> {
    pub lang: Lang,
    /// Form POST target, e.g. "/logout".
    pub action: &'a str,
    pub csrf: &'a str,
    /// Extra hidden fields to carry through (name, value). Entries named "csrf" or "confirm" are
    /// dropped: the form sets those itself.
    pub hidden: &'a [(&'a str, &'a str)],
    /// The website that asked for the logout, if known.
    pub client_name: Option<&'a str>,
}

/// "You have logged out".
pub struct LoggedOutPage {
    pub lang: Lang,
}

/// The landing page of the provider.
pub struct HomePage<'a> {
    pub lang: Lang,
    pub issuer: &'a str,
    /// When logged in: "Вы вошли как …" and a logout form (POST /logout with `csrf`, `confirm=yes`).
    pub user_display_name: Option<&'a str>,
    pub csrf: &'a str,
    pub other_lang_url: &'a str,
    /// Banks a logged-in person may confirm their identity through: (id, name).
    pub upstreams: &'a [(String, String)],
}

// The askama views. Every view has the fields `base.html` uses: `lang`, `t`, `title`, `other_lang_url`.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a LoginPage<'a>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a ConsentPage<'a>,
    items: Vec<String>,
    perm: Option<crate::permissions::PermissionBlock>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a ErrorPage<'a>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct LogoutConfirmView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a LogoutConfirmPage<'a>,
    hidden: Vec<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'a str,
    other_lang_url: &'a str,
    p: &'a HomePage<'a>,
    discovery_href: String,
    discovery_url: String,
}

/// Renders the login page.
pub fn render_login(page: &LoginPage) -> String {
    let t = Texts::get(page.lang);
    finish(LoginView {
        lang: page.lang.code(),
        t,
        title: t.login_title,
        other_lang_url: safe_href(page.other_lang_url),
        p: page,
    })
}

/// Renders the consent page.
pub fn render_consent(page: &ConsentPage) -> String {
    render_consent_with(page, None)
}

/// Renders the consent page with an ESIA permission request: its purposes, actions and
/// validity are shown beside the data items.
pub fn render_consent_with(
    page: &ConsentPage,
    permission: Option<&crate::ConsentPermission>,
) -> String {
    let t = Texts::get(page.lang);
    let mut items: Vec<String> = Vec::with_capacity(page.scopes.len());
    for label in page.scopes.iter().filter_map(|s| scope_label(s, page.lang)) {
        if !items.contains(&label) {
            items.push(label);
        }
    }
    finish(ConsentView {
        lang: page.lang.code(),
        t,
        title: t.consent_title,
        other_lang_url: safe_href(page.other_lang_url),
        p: page,
        items,
        perm: permission.map(|x| crate::permissions::block(x, page.lang)),
    })
}

/// Renders an error page.
pub fn render_error(page: &ErrorPage) -> String {
    finish(ErrorView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        title: page.title,
        other_lang_url: "",
        p: page,
    })
}

/// Renders the "Log out?" confirmation page.
pub fn render_logout_confirm(page: &LogoutConfirmPage) -> String {
    let t = Texts::get(page.lang);
    let hidden = page
        .hidden
        .iter()
        .copied()
        .filter(|(name, _)| *name != "csrf" && *name != "confirm")
        .collect();
    finish(LogoutConfirmView {
        lang: page.lang.code(),
        t,
        title: t.logout_title,
        other_lang_url: "",
        p: page,
        hidden,
    })
}

/// Renders the "You have logged out" page.
pub fn render_logged_out(page: &LoggedOutPage) -> String {
    let t = Texts::get(page.lang);
    finish(LoggedOutView {
        lang: page.lang.code(),
        t,
        title: t.logged_out_title,
        other_lang_url: "",
    })
}

/// Renders the landing page of the provider.
pub fn render_home(page: &HomePage) -> String {
    let t = Texts::get(page.lang);
    let (discovery_href, discovery_url) = discovery_links(page.issuer);
    finish(HomeView {
        lang: page.lang.code(),
        t,
        title: t.home_title,
        other_lang_url: safe_href(page.other_lang_url),
        p: page,
        discovery_href,
        discovery_url,
    })
}

/// Renders a view; rendering only fails on a formatter error, which plain templates never raise.
pub(crate) fn finish(view: impl Template) -> String {
    view.render().unwrap_or_else(|_| {
        String::from(
            "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Ошибка</title></head>\
             <body><p>Внутренняя ошибка. Попробуйте позже.</p></body></html>",
        )
    })
}

/// `url` if it is relative or http(s); "" (no link) for other schemes such as `javascript:`.
pub(crate) fn safe_href(url: &str) -> &str {
    let url = url.trim_matches(|c: char| c <= ' ');
    match url.find([':', '/', '?', '#']) {
        Some(i) if url[i..].starts_with(':') => {
            let scheme = &url[..i];
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
                url
            } else {
                ""
            }
        }
        _ => url,
    }
}

const DISCOVERY: &str = "/.well-known/openid-configuration";

/// The discovery document as a same-origin link (the issuer's path + DISCOVERY) and as the full URL to show.
fn discovery_links(issuer: &str) -> (String, String) {
    let issuer = issuer.trim().trim_end_matches('/');
    let path = issuer
        .split_once("://")
        .map(|(_, rest)| rest.find('/').map_or("", |i| &rest[i..]))
        .unwrap_or("");
    let path = path.trim_start_matches('/');
    let href = if path.is_empty() {
        DISCOVERY.to_owned()
    } else {
        format!("/{path}{DISCOVERY}")
    };
    (href, format!("{issuer}{DISCOVERY}"))
}

#[cfg(test)]
mod tests {
    use super::{discovery_links, safe_href};

    #[test]
    fn safe_href_keeps_relative_and_http() {
        assert_eq!(safe_href("/login?tx=1&lang=en"), "/login?tx=1&lang=en");
        assert_eq!(safe_href("?lang=en"), "?lang=en");
        assert_eq!(
            safe_href("https://idp.example/?lang=en"),
            "https://idp.example/?lang=en"
        );
        assert_eq!(safe_href("/a:b"), "/a:b");
        assert_eq!(safe_href("javascript:alert(1)"), "");
        assert_eq!(safe_href(" JavaScript:alert(1)"), "");
        assert_eq!(safe_href("data:text/html,x"), "");
        assert_eq!(safe_href(""), "");
    }

    #[test]
    fn discovery() {
        assert_eq!(
            discovery_links("http://localhost:8080"),
            (
                "/.well-known/openid-configuration".to_owned(),
                "http://localhost:8080/.well-known/openid-configuration".to_owned()
            )
        );
        assert_eq!(
            discovery_links("https://idp.example/esia/"),
            (
                "/esia/.well-known/openid-configuration".to_owned(),
                "https://idp.example/esia/.well-known/openid-configuration".to_owned()
            )
        );
        assert_eq!(
            discovery_links("https://idp.example//evil.example").0,
            "/evil.example/.well-known/openid-configuration"
        );
    }
}
