//! Rendering tests: form contracts, escaping, languages, and the CSP rules for templates and assets.

use std::fs;
use std::path::Path;

use crate::*;

const HOSTILE: &str = "<script>alert(1)</script>";
const HOSTILE_ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";
const ATTR_BREAK: &str = "\"><img src=x onerror=alert(1)>";

fn assert_common(html: &str, lang: Lang) {
    assert!(html.starts_with("<!DOCTYPE html>"), "doctype");
    assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())));
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/style.css\">"));
    assert!(html.contains("<script src=\"/assets/app.js\" defer></script>"));
    let (name, sub) = match lang {
        Lang::Ru => ("Госуслуги ID", "Единый вход"),
        Lang::En => ("Gosuslugi ID", "Single sign-on"),
    };
    assert!(html.contains(name) && html.contains(sub), "header");
    assert_csp_safe("rendered page", html);
}

/// The start tags and end tags of `html`, lower-cased, with quoted attribute values blanked out
/// (escaped data inside a value, such as `" onerror=`, is inert and must not count as an attribute).
fn tags(html: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut chars = html.chars();
    while chars.by_ref().any(|c| c == '<') {
        let mut tag = String::from("<");
        let mut quote = None;
        for c in chars.by_ref() {
            match quote {
                Some(q) if c == q => {
                    quote = None;
                    tag.push(c);
                }
                Some(_) => {}
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    tag.push(c);
                }
                None if c == '>' => break,
                None => tag.extend(c.to_lowercase()),
            }
        }
        tags.push(tag);
    }
    tags
}

/// No inline script bodies, inline styles, inline event handlers or external resources.
fn assert_csp_safe(what: &str, html: &str) {
    let lower = html.to_lowercase();
    assert!(!lower.contains("<style"), "{what}: <style> element");
    assert!(!lower.contains("javascript:"), "{what}: javascript: URL");
    for (i, _) in lower.match_indices("<script") {
        let tag_end = i + lower[i..].find('>').expect("unclosed <script");
        assert!(
            lower[i..tag_end].contains(" src=\"/assets/"),
            "{what}: script without local src"
        );
        assert!(
            lower[tag_end + 1..].starts_with("</script>"),
            "{what}: inline script body"
        );
    }
    for tag in tags(html) {
        let attrs = tag.split(|c: char| c.is_whitespace() || c == '}' || c == '%');
        for attr in attrs.skip(1) {
            let name = attr.split('=').next().unwrap_or_default();
            assert!(name != "style", "{what}: style attribute in {tag}");
            assert!(
                !(name.starts_with("on") && attr.contains('=')),
                "{what}: inline handler in {tag}"
            );
        }
    }
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
    ] {
        assert!(
            !lower.contains(external),
            "{what}: external resource {external}"
        );
    }
}

#[test]
fn csp_check_catches_violations() {
    let bad = [
        "<p style=\"color:red\">x</p>",
        "<p STYLE='x'>x</p>",
        "<button onclick=\"x()\">x</button>",
        "<script>alert(1)</script>",
        "<script src=\"/assets/app.js\">alert(1)</script>",
        "<script src=\"https://cdn.example/x.js\"></script>",
        "<link rel=\"stylesheet\" href=\"https://fonts.example/css\">",
        "<style>p{}</style>",
    ];
    for html in bad {
        let caught = std::panic::catch_unwind(|| assert_csp_safe("probe", html)).is_err();
        assert!(caught, "not caught: {html}");
    }
    assert_csp_safe(
        "probe",
        "<input value=\"&#34; onerror=alert(1)\" class=\"a\">",
    );
}

fn login_page<'a>(
    lang: Lang,
    client: Option<&'a str>,
    error: Option<&'a str>,
    login: &'a str,
) -> LoginPage<'a> {
    LoginPage {
        lang,
        action: "/login",
        tx: "tx-123",
        csrf: "csrf-456",
        client_name: client,
        login_value: login,
        error,
        locked: false,
        other_lang_url: "/login?tx=tx-123&lang=en",
    }
}

#[test]
fn login_form_contract() {
    let html = render_login(&login_page(
        Lang::Ru,
        Some("Портал города"),
        None,
        "+79001234567",
    ));
    assert_common(&html, Lang::Ru);
    assert!(html.contains("method=\"post\" action=\"/login\""));
    assert!(html.contains("<input type=\"hidden\" name=\"tx\" value=\"tx-123\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrf-456\">"));
    assert!(html.contains("name=\"login\" type=\"text\" value=\"+79001234567\""));
    assert!(html.contains("autocomplete=\"username webauthn\""));
    assert!(html.contains("name=\"password\" type=\"password\""));
    assert!(html.contains("autocomplete=\"current-password\""));
    assert!(html.contains("name=\"foreign_computer\" type=\"checkbox\" value=\"1\""));
    assert!(
        html.contains(
            "<label class=\"field__label\" for=\"login\">Телефон, почта или СНИЛС</label>"
        )
    );
    assert!(html.contains("<label class=\"field__label\" for=\"password\">Пароль</label>"));
    assert!(html.contains(
        "<label class=\"check__label\" for=\"foreign_computer\">Чужой компьютер</label>"
    ));
    assert!(html.contains("сессия закончится при закрытии браузера"));
    assert!(html.contains(">Войти</button>"));
    assert!(html.contains("Вход для продолжения на сайте"));
    assert!(html.contains("«Портал города»"));
    // The language switch keeps the query string (escaped for the attribute).
    assert!(html.contains("href=\"/login?tx=tx-123&#38;lang=en\""));
    assert!(html.contains(">English</a>"));
    assert!(!html.contains("role=\"alert\""));
}

#[test]
fn login_in_english_with_error() {
    let error = message("login_failed", Lang::En);
    let html = render_login(&login_page(Lang::En, None, Some(error), ""));
    assert_common(&html, Lang::En);
    assert!(html.contains("Phone, e-mail or SNILS"));
    assert!(
        html.contains("Someone else's computer") || html.contains("Someone else&#39;s computer")
    );
    assert!(html.contains(">Log in</button>"));
    assert!(html.contains("role=\"alert\" id=\"login-error\">Wrong login or password</div>"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains(">Русский</a>"));
    assert!(!html.contains("Вход для продолжения"));
}

#[test]
fn login_escapes_hostile_input() {
    let page = LoginPage {
        tx: ATTR_BREAK,
        csrf: ATTR_BREAK,
        other_lang_url: "javascript:alert(1)",
        ..login_page(Lang::Ru, Some(HOSTILE), Some(HOSTILE), ATTR_BREAK)
    };
    let html = render_login(&page);
    assert!(!html.contains(HOSTILE));
    assert!(html.contains(HOSTILE_ESCAPED));
    assert!(!html.contains(ATTR_BREAK));
    assert!(!html.contains("<img"));
    // The dangerous language link is dropped, and the check in assert_common covers the rest.
    assert!(!html.contains("lang-switch"));
    assert_common(&html, Lang::Ru);
}

fn consent_page<'a>(
    lang: Lang,
    client: &'a str,
    scopes: &'a [String],
    user: &'a str,
) -> ConsentPage<'a> {
    ConsentPage {
        lang,
        action: "/consent",
        tx: "tx-1",
        csrf: "c-2",
        client_name: client,
        scopes,
        user_display_name: user,
        other_lang_url: "?lang=en",
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn consent_form_contract() {
    let scopes = strings(&[
        "openid",
        "fullname",
        "snils",
        "email",
        "fullname",
        "custom_scope",
    ]);
    let html = render_consent(&consent_page(Lang::Ru, "Портал", &scopes, "Иванов Иван"));
    assert_common(&html, Lang::Ru);
    assert!(html.contains("method=\"post\" action=\"/consent\""));
    assert!(html.contains("<input type=\"hidden\" name=\"tx\" value=\"tx-1\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"c-2\">"));
    assert!(
        html.contains("type=\"submit\" name=\"decision\" value=\"allow\">Предоставить</button>")
    );
    assert!(html.contains("type=\"submit\" name=\"decision\" value=\"deny\">Отказать</button>"));
    assert!(html.contains(
        "Сайт <strong class=\"client-name\">«Портал»</strong> запрашивает доступ к вашим данным:"
    ));
    assert!(html.contains("Иванов Иван"));
    assert!(html.contains("«Разрешения»"));
    assert!(html.contains("<li class=\"scope-list__item\">ФИО</li>"));
    assert!(html.contains("<li class=\"scope-list__item\">СНИЛС</li>"));
    assert!(html.contains("<li class=\"scope-list__item\">Адрес электронной почты</li>"));
    assert!(html.contains("<li class=\"scope-list__item\">custom_scope</li>"));
    assert!(!html.contains(">openid<"));
    assert_eq!(
        html.matches("<li class=\"scope-list__item\">ФИО</li>")
            .count(),
        1
    );
}

#[test]
fn consent_only_openid_and_english() {
    let scopes = strings(&["openid"]);
    let html = render_consent(&consent_page(Lang::En, "Portal", &scopes, "Ivanov Ivan"));
    assert_common(&html, Lang::En);
    assert!(!html.contains("scope-list"));
    assert!(html.contains("only receive confirmation"));
    assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
    assert!(html.contains("“Portal”"));
}

#[test]
fn consent_escapes_hostile_input() {
    let scopes = strings(&[HOSTILE, "fullname"]);
    let html = render_consent(&ConsentPage {
        tx: ATTR_BREAK,
        csrf: ATTR_BREAK,
        ..consent_page(Lang::Ru, HOSTILE, &scopes, HOSTILE)
    });
    assert!(!html.contains(HOSTILE));
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 3);
    assert!(!html.contains(ATTR_BREAK));
    assert_common(&html, Lang::Ru);
}

#[test]
fn error_page() {
    let html = render_error(&ErrorPage {
        lang: Lang::Ru,
        title: message("bad_request_title", Lang::Ru),
        message: message("unknown_client", Lang::Ru),
        correlation_id: Some("abc-123"),
    });
    assert_common(&html, Lang::Ru);
    assert!(html.contains("<title>Некорректный запрос — Госуслуги ID</title>"));
    assert!(html.contains("не зарегистрирован в системе единого входа"));
    assert!(html.contains("Код обращения: <code class=\"reference\">abc-123</code>"));

    let html = render_error(&ErrorPage {
        lang: Lang::En,
        title: HOSTILE,
        message: HOSTILE,
        correlation_id: Some(HOSTILE),
    });
    assert_common(&html, Lang::En);
    assert!(!html.contains(HOSTILE));
    assert!(html.contains("Reference:"));

    let html = render_error(&ErrorPage {
        lang: Lang::En,
        title: "Error",
        message: "x",
        correlation_id: None,
    });
    assert!(!html.contains("Reference:"));
}

#[test]
fn logout_confirm_page() {
    let hidden = [
        ("post_logout_redirect_uri", "https://rp.example/bye?a=1&b=2"),
        ("state", ATTR_BREAK),
        ("csrf", "attacker"),
        ("confirm", "no"),
    ];
    let html = render_logout_confirm(&LogoutConfirmPage {
        lang: Lang::Ru,
        action: "/logout",
        csrf: "tok",
        hidden: &hidden,
        client_name: Some(HOSTILE),
    });
    assert_common(&html, Lang::Ru);
    assert!(html.contains("method=\"post\" action=\"/logout\""));
    assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
    assert!(html.contains(
        "<input type=\"hidden\" name=\"post_logout_redirect_uri\" value=\"https://rp.example/bye?a=1&#38;b=2\">"
    ));
    assert!(html.contains("name=\"state\" value=\"&#34;&#62;&#60;img"));
    assert_eq!(html.matches("name=\"csrf\"").count(), 1);
    assert!(!html.contains("attacker") && !html.contains("value=\"no\""));
    assert!(html.contains("type=\"submit\" name=\"confirm\" value=\"yes\">Выйти</button>"));
    assert!(html.contains("href=\"/\">Отмена</a>"));
    assert!(!html.contains(HOSTILE) && html.contains(HOSTILE_ESCAPED));

    let html = render_logout_confirm(&LogoutConfirmPage {
        lang: Lang::En,
        action: "/logout",
        csrf: "tok",
        hidden: &[],
        client_name: None,
    });
    assert_common(&html, Lang::En);
    assert!(html.contains(">Log out</button>") && html.contains(">Cancel</a>"));
}

#[test]
fn logged_out_page() {
    let html = render_logged_out(&LoggedOutPage { lang: Lang::Ru });
    assert_common(&html, Lang::Ru);
    assert!(html.contains("Вы вышли из системы"));
    let html = render_logged_out(&LoggedOutPage { lang: Lang::En });
    assert_common(&html, Lang::En);
    assert!(html.contains("You have logged out"));
}

#[test]
fn home_page() {
    let html = render_home(&HomePage {
        lang: Lang::Ru,
        issuer: "https://idp.example",
        user_display_name: Some("Иванов Иван"),
        csrf: "tok",
        other_lang_url: "/?lang=en",
        upstreams: &[],
    });
    assert_common(&html, Lang::Ru);
    assert!(html.contains("Вы вошли как <strong>Иванов Иван</strong>"));
    assert!(html.contains("method=\"post\" action=\"/logout\""));
    assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"confirm\" value=\"yes\">"));
    assert!(html.contains("href=\"/.well-known/openid-configuration\""));
    assert!(html.contains("https://idp.example/.well-known/openid-configuration"));

    let html = render_home(&HomePage {
        lang: Lang::En,
        issuer: HOSTILE,
        user_display_name: None,
        csrf: "tok",
        other_lang_url: "/?lang=ru",
        upstreams: &[],
    });
    assert_common(&html, Lang::En);
    assert!(!html.contains("/logout"));
    assert!(html.contains("You are not logged in"));
    assert!(!html.contains(HOSTILE));
}

#[test]
fn templates_are_csp_safe() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut count = 0;
    for entry in fs::read_dir(&dir).expect("templates dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "html") {
            let text = fs::read_to_string(&path).expect("template");
            assert_csp_safe(&path.display().to_string(), &text);
            count += 1;
        }
    }
    assert!(
        count >= 7,
        "expected base + 6 page templates, found {count}"
    );
}

#[test]
fn assets_are_self_contained() {
    let css = STYLESHEET.to_lowercase();
    assert!(css.contains("#0d4cd3"));
    assert!(!css.contains("@import"));
    assert!(
        !css.contains("url("),
        "no external or data: resources in CSS"
    );
    assert!(!css.contains("expression("));
    for forbidden in [
        "eval(",
        "new function",
        "innerhtml",
        "document.write",
        "http://",
        "https://",
    ] {
        assert!(
            !SCRIPT.to_lowercase().contains(forbidden),
            "app.js uses {forbidden}"
        );
    }
}
