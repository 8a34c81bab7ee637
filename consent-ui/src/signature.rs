//! The login page by electronic signature (ЭЦП / КЭП): the challenge to sign, a textarea
//! and a file field for the base64 (or PEM) CMS detached signature. No JavaScript needed;
//! `assets/app.js` exposes `window.IdpSignature` for a real browser signing plug-in.

use askama::Template;

use crate::Lang;
use crate::pages::{finish, safe_href};
use crate::texts::Texts;

/// What the page shows.
pub struct SignaturePage<'a> {
    pub lang: Lang,
    pub tx: &'a str,
    pub csrf: &'a str,
    pub client_name: Option<&'a str>,
    /// The exact text to sign (UTF-8, no trailing newline).
    pub challenge: &'a str,
    /// A refusal, already in the page's language.
    pub error: Option<&'a str>,
    pub other_lang_url: &'a str,
}

#[derive(Template)]
#[template(path = "login_signature.html")]
struct SignatureView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    ru: bool,
    p: &'a SignaturePage<'a>,
    other_lang_url: &'a str,
}

pub fn render_login_signature(page: &SignaturePage) -> String {
    let ru = page.lang == Lang::Ru;
    finish(SignatureView {
        lang: page.lang.code(),
        t: Texts::get(page.lang),
        title: if ru {
            "Вход с электронной подписью"
        } else {
            "Log in with an electronic signature"
        },
        ru,
        p: page,
        other_lang_url: safe_href(page.other_lang_url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_challenge_and_escapes_the_error() {
        let html = render_login_signature(&SignaturePage {
            lang: Lang::Ru,
            tx: "t1",
            csrf: "c1",
            client_name: None,
            challenge: "gosuslugi-id-login:1:abc",
            error: Some("<ошибка>"),
            other_lang_url: "",
        });
        assert!(html.contains("gosuslugi-id-login:1:abc"), "{html}");
        assert!(html.contains("&#60;ошибка&#62;"), "{html}");
        assert!(!html.contains("<ошибка>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
