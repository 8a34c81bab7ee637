//! The security pages of the personal account, linked from the security hub
//! (`/profile/security`): two-step login with an authenticator app (a QR code drawn here as
//! inline SVG, the secret for typing in, the first code, ten recovery codes shown once,
//! disabling after the password, the login settings), the password, the secret question and
//! the electronic-signature certificates. Russian first, English on request; every form
//! works without JavaScript.
//!
//! Form field names are a contract with the server. Every form posts `csrf` and `lang`;
//! `/profile/security/two-step` posts `action` = `enrol`, `confirm` (with `code`), `cancel`,
//! `disable` (with `password`) or `settings` (with `always` = `1`/`0` and `preferred`);
//! `/profile/security/password` posts `current`, `password`, `again`;
//! `/profile/security/question` posts `action` = `set` (with `password`, `question`,
//! `answer`) or `clear` (with `password`).

use askama::Template;
use qrcode::{Color, EcLevel, QrCode};

use crate::Lang;
use crate::texts::Texts;

/// What every security page shows around its body.
pub struct SecurityFrame<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub user_display_name: &'a str,
    /// Messages already in the page's language.
    pub errors: &'a [String],
    pub notice: Option<&'a str>,
}

/// The two-step login page's state.
pub struct TwoStepPage<'a> {
    /// A confirmed authenticator exists.
    pub totp_enabled: bool,
    /// Unused recovery codes.
    pub recovery_left: i64,
    /// An enrolment waiting for its first code: (base32 secret, `otpauth://` URI).
    pub enrolment: Option<(&'a str, &'a str)>,
    /// Recovery codes just issued (shown once), or empty.
    pub recovery_codes: &'a [String],
    /// The second step on every login (else only on new devices and when a site asks).
    pub always: bool,
    /// The preferred second factor, one of `totp`, `sms`, `passkey`, `signature`.
    pub preferred: Option<&'a str>,
    /// Each second factor with whether the person can use it now.
    pub methods: &'a [(&'a str, bool)],
}

/// A certificate the person logged in with.
pub struct CertificateRow {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// Already formatted (UTC).
    pub valid_from: String,
    pub valid_to: String,
    pub last_used: String,
}

/// The name of a second factor for people.
pub fn second_factor_name(method: &str, lang: Lang) -> &'static str {
    let ru = lang == Lang::Ru;
    match (method, ru) {
        ("totp", true) => "Код из приложения-аутентификатора",
        ("totp", false) => "A code from an authenticator app",
        ("sms", true) => "Код в SMS",
        ("sms", false) => "A code by SMS",
        ("passkey", true) => "Ключ доступа",
        ("passkey", false) => "A passkey",
        ("signature", true) => "Электронная подпись",
        ("signature", false) => "An electronic signature",
        (_, true) => "Не выбран",
        (_, false) => "Not chosen",
    }
}

/// The QR code of `data` as an inline SVG element (no `style` attribute: colours are
/// `fill` attributes, so it passes a strict CSP), with a four-module quiet zone.
pub fn qr_svg(data: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 8;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    let label = escape(label);
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" role=\"img\" aria-label=\"{label}\" \
         viewBox=\"0 0 {size} {size}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#ffffff\"/>\
         <path fill=\"#000000\" d=\"{path}\"/></svg>",
        px = size * 5,
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A base32 secret in groups of four for typing.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tr(lang: Lang, ru: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ru { ru } else { en }
}

#[derive(Template)]
#[template(path = "security_two_step.html")]
struct TwoStepView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    f: &'a SecurityFrame<'a>,
    p: &'a TwoStepPage<'a>,
    ru: bool,
    qr: String,
    secret_grouped: String,
    methods: Vec<(&'a str, &'static str, bool, bool)>,
}

impl TwoStepView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }
}

/// Renders `/profile/security/two-step`.
pub fn render_security_two_step(f: &SecurityFrame, p: &TwoStepPage) -> String {
    let path = "/profile/security/two-step";
    let (qr, secret_grouped) = match p.enrolment {
        Some((secret, uri)) => (
            qr_svg(
                uri,
                tr(
                    f.lang,
                    "QR-код для приложения-аутентификатора",
                    "QR code for the authenticator app",
                ),
            )
            .unwrap_or_default(),
            grouped(secret),
        ),
        None => (String::new(), String::new()),
    };
    let view = TwoStepView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: tr(f.lang, "Двухэтапный вход", "Two-step login"),
        other_lang_url: format!("{path}?lang={}", f.lang.other().code()),
        nav: crate::cabinet::cabinet_nav(f.lang, path),
        f,
        p,
        ru: f.lang == Lang::Ru,
        qr,
        secret_grouped,
        methods: p
            .methods
            .iter()
            .map(|(m, available)| {
                (
                    *m,
                    second_factor_name(m, f.lang),
                    *available,
                    p.preferred == Some(*m),
                )
            })
            .collect(),
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "security_password.html")]
struct PasswordView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    f: &'a SecurityFrame<'a>,
    ru: bool,
}

impl PasswordView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }
}

/// Renders `/profile/security/password`.
pub fn render_security_password(f: &SecurityFrame) -> String {
    let path = "/profile/security/password";
    let view = PasswordView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: tr(f.lang, "Смена пароля", "Change the password"),
        other_lang_url: format!("{path}?lang={}", f.lang.other().code()),
        nav: crate::cabinet::cabinet_nav(f.lang, path),
        f,
        ru: f.lang == Lang::Ru,
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "security_question.html")]
struct QuestionView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    f: &'a SecurityFrame<'a>,
    ru: bool,
    current: Option<&'a str>,
    typed: &'a str,
}

impl QuestionView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }
}

/// Renders `/profile/security/question`: the current question (if any) and the forms;
/// `typed` is the question as typed before a refusal.
pub fn render_security_question(f: &SecurityFrame, current: Option<&str>, typed: &str) -> String {
    let path = "/profile/security/question";
    let view = QuestionView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: tr(f.lang, "Контрольный вопрос", "Secret question"),
        other_lang_url: format!("{path}?lang={}", f.lang.other().code()),
        nav: crate::cabinet::cabinet_nav(f.lang, path),
        f,
        ru: f.lang == Lang::Ru,
        current,
        typed,
    };
    crate::pages::finish(view)
}

#[derive(Template)]
#[template(path = "security_signature.html")]
struct SignatureView<'a> {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    other_lang_url: String,
    nav: Vec<(&'static str, &'static str, bool)>,
    f: &'a SecurityFrame<'a>,
    ru: bool,
    rows: &'a [CertificateRow],
}

impl SignatureView<'_> {
    fn tr(&self, ru: &'static str, en: &'static str) -> &'static str {
        if self.ru { ru } else { en }
    }
}

/// Renders `/profile/security/signature`: the certificates the person logged in with.
pub fn render_security_signature(f: &SecurityFrame, rows: &[CertificateRow]) -> String {
    let path = "/profile/security/signature";
    let view = SignatureView {
        lang: f.lang.code(),
        t: Texts::get(f.lang),
        title: tr(
            f.lang,
            "Сертификаты электронной подписи",
            "Electronic signature certificates",
        ),
        other_lang_url: format!("{path}?lang={}", f.lang.other().code()),
        nav: crate::cabinet::cabinet_nav(f.lang, path),
        f,
        ru: f.lang == Lang::Ru,
        rows,
    };
    crate::pages::finish(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lang: Lang) -> SecurityFrame<'static> {
        SecurityFrame {
            lang,
            csrf: "CSRF1",
            user_display_name: "Иванов <Иван>",
            errors: &[],
            notice: None,
        }
    }

    #[test]
    fn the_qr_code_is_svg_without_style() {
        let svg = qr_svg("otpauth://totp/x:y?secret=ABC&issuer=x", "QR").expect("qr");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains("style"));
        assert!(svg.contains("fill=\"#000000\""));
    }

    #[test]
    fn enrolment_shows_qr_secret_and_link() {
        let methods = [("totp", false), ("sms", true)];
        let page = TwoStepPage {
            totp_enabled: false,
            recovery_left: 0,
            enrolment: Some((
                "ABCDEFGHIJKLMNOP",
                "otpauth://totp/a:b?secret=ABCDEFGHIJKLMNOP&x=1",
            )),
            recovery_codes: &[],
            always: true,
            preferred: None,
            methods: &methods,
        };
        for lang in [Lang::Ru, Lang::En] {
            let html = render_security_two_step(&frame(lang), &page);
            assert!(html.contains("<svg xmlns"), "{html}");
            assert!(html.contains("ABCD EFGH IJKL MNOP"));
            assert!(html.contains("href=\"otpauth://totp/a:b?secret=ABCDEFGHIJKLMNOP&#38;x=1\""));
            assert!(html.contains("name=\"code\""));
            assert!(html.contains("value=\"CSRF1\""));
            assert!(!html.contains("style="));
            assert!(!html.contains("<Иван>"));
        }
    }

    #[test]
    fn every_page_has_its_fields() {
        let html = render_security_password(&frame(Lang::Ru));
        for f in ["csrf", "current", "password", "again"] {
            assert!(html.contains(&format!("name=\"{f}\"")), "{f}");
        }
        let html = render_security_question(&frame(Lang::En), Some("Кличка?"), "");
        for f in ["csrf", "question", "answer", "password"] {
            assert!(html.contains(&format!("name=\"{f}\"")), "{f}");
        }
        assert!(html.contains("Кличка?"));
        let rows = [CertificateRow {
            subject: "CN=Иванов".into(),
            issuer: "CN=УЦ".into(),
            serial: "0a1b".into(),
            valid_from: "2026-01-01".into(),
            valid_to: "2027-01-01".into(),
            last_used: "2026-11-22 10:00".into(),
        }];
        let html = render_security_signature(&frame(Lang::Ru), &rows);
        assert!(html.contains("0a1b") && html.contains("/login/signature"));
    }
}
