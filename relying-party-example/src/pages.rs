//! The site's HTML, in Russian: the landing page with the "Войти через ЕСИА" button, the
//! signed-in page (claims, account level, login methods, tokens), userinfo, the step-up
//! section, and the error pages (in [`problems`]). Every value is escaped; there are no
//! inline scripts or styles (the stylesheet is `/assets/site.css`).

mod problems;

use std::fmt::Write;

use serde_json::{Map, Value};

pub use problems::Problem;

use crate::config::{Level, Persona, Protected, Settings};
use crate::session::SignedIn;

pub const STYLESHEET: &str = include_str!("../assets/site.css");

/// The landing page for a visitor who is not signed in.
pub fn landing(settings: &Settings, flash: Option<&str>) -> String {
    let p = settings.persona;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(p.title),
        esc(p.tagline)
    );
    b.push_str("<p>Войдите с учётной записью портала Госуслуг. Сайт получит из ЕСИА:</p><ul class=\"items\">");
    for (scope, item) in p.scopes {
        let _ = write!(
            b,
            "<li>{} <span class=\"code\">{}</span></li>",
            esc(item),
            esc(scope)
        );
    }
    let _ = write!(
        b,
        "</ul><p>Нужна учётная запись не ниже уровня «{}» (<span class=\"code\">acr_values={}</span>).</p>",
        esc(p.level.title_ru()),
        esc(p.level.acr())
    );
    if let Some(perm) = &p.permissions {
        b.push_str("<h2>Запрос разрешения</h2><table class=\"claims\">");
        row(
            &mut b,
            "purpose",
            "Цель",
            &format!("{} ({})", perm.purpose_ru, perm.purpose),
        );
        row(&mut b, "validity", "Срок действия", &perm.validity_ru());
        row(
            &mut b,
            "permissions",
            "Параметр permissions (base64url JSON)",
            &perm.encoded(p.scopes),
        );
        b.push_str("</table>");
    }
    b.push_str(
        "<div class=\"actions\"><a class=\"esia-btn\" id=\"esia-login\" href=\"/login\">\
         <span class=\"esia-btn__logo\" aria-hidden=\"true\">ГУ</span>\
         <span>Войти через ЕСИА<span class=\"esia-btn__sub\">Госуслуги</span></span></a>\
         <a class=\"btn\" href=\"/login?silent=1\">Проверить вход без пароля</a></div>",
    );
    layout(settings, "Вход", "landing", flash, &b)
}

/// The signed-in page: who the person is, how they logged in, and what the site can do.
pub fn profile(settings: &Settings, user: &SignedIn, csrf: &str, flash: Option<&str>) -> String {
    let p = settings.persona;
    let name = claim_text(&user.userinfo, "name").unwrap_or_else(|| "гражданин".into());
    let mut b = String::new();
    let _ = write!(b, "<h1>Здравствуйте, {}!</h1>", esc(&name));
    b.push_str("<h2>Данные из ЕСИА</h2><table class=\"claims\">");
    for (key, value) in &user.userinfo {
        if matches!(key.as_str(), "sub" | "updated_at" | "account_level") {
            continue;
        }
        row(&mut b, key, label(key), &display_value(key, value));
    }
    b.push_str("</table><h2>Вход</h2><table class=\"claims\">");
    let level = user.id.acr.as_deref().and_then(Level::from_acr);
    let level_text = match (level, &user.id.acr) {
        (Some(l), Some(acr)) => format!("{} ({acr})", l.title_ru()),
        (None, Some(acr)) => acr.clone(),
        (_, None) => "не указан".into(),
    };
    row(&mut b, "acr", "Уровень учётной записи", &level_text);
    let methods: Vec<String> = user
        .id
        .amr
        .iter()
        .map(|m| format!("{} ({m})", amr_label(m)))
        .collect();
    row(&mut b, "amr", "Способы входа", &methods.join(", "));
    if let Some(t) = user.id.auth_time {
        row(&mut b, "auth_time", "Время входа", &time(t));
    }
    row(&mut b, "sub", "Идентификатор (sub)", &user.id.sub);
    if let Some(sid) = &user.id.sid {
        row(&mut b, "sid", "Сеанс ЕСИА (sid)", sid);
    }
    row(
        &mut b,
        "id_token_expires_at",
        "ID token действует до",
        &time(user.id.expires_at),
    );
    if let Some(exp) = user.access_expires_at {
        row(
            &mut b,
            "access_expires_at",
            "Access token действует до",
            &time(exp),
        );
    }
    row(
        &mut b,
        "refresh_token",
        "Refresh token",
        if user.refresh_token.is_some() {
            "есть"
        } else {
            "нет"
        },
    );
    b.push_str("</table><div class=\"actions\">");
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/refresh\"><input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
         <button class=\"btn\" type=\"submit\">Обновить токены</button></form>\
         <a class=\"btn\" href=\"/userinfo\">Запросить данные (userinfo)</a>",
        c = esc(csrf)
    );
    if let Some(prot) = &p.protected {
        let _ = write!(
            b,
            "<a class=\"btn\" href=\"/protected\">{}</a>",
            esc(prot.title)
        );
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
         <button class=\"btn\" type=\"submit\">Выйти</button></form></div>",
        c = esc(csrf)
    );
    layout(settings, "Личный кабинет", "profile", flash, &b)
}

/// The userinfo response, as a table and as the raw JSON.
pub fn userinfo(settings: &Settings, claims: &Map<String, Value>) -> String {
    let mut b = String::from(
        "<h1>Данные из userinfo</h1><p>Ответ <span class=\"code\">GET /userinfo</span> с access token этого сеанса:</p><table class=\"claims\">",
    );
    for (key, value) in claims {
        row(&mut b, key, label(key), &display_value(key, value));
    }
    let json = serde_json::to_string_pretty(claims).unwrap_or_default();
    let _ = write!(
        b,
        "</table><pre>{}</pre><div class=\"actions\"><a class=\"btn\" href=\"/\">Назад</a></div>",
        esc(&json)
    );
    layout(settings, "userinfo", "userinfo", None, &b)
}

/// A section the current account level unlocks.
pub fn protected(settings: &Settings, section: &Protected) -> String {
    let b = format!(
        "<h1>{}</h1><p>{}</p><div class=\"actions\"><a class=\"btn\" href=\"/\">Назад</a></div>",
        esc(section.title),
        esc(section.content)
    );
    layout(settings, section.title, "protected", None, &b)
}

/// The section needs a higher level than this login has: offer a new login that asks for it.
pub fn step_up(settings: &Settings, section: &Protected, current: Option<Level>) -> String {
    let current = current.map(Level::title_ru).unwrap_or("неизвестен");
    let b = format!(
        "<h1>Нужен более высокий уровень входа</h1>\
         <p>Раздел «{}» доступен только с уровнем «{}». Вы вошли с уровнем «{}».</p>\
         <p>Сайт запросит у ЕСИА вход с <span class=\"code\">acr_values={}</span>. Если ваша учётная запись \
         ещё не подтверждена, ЕСИА ответит, что уровень недостаточен.</p>\
         <div class=\"actions\"><a class=\"esia-btn\" href=\"/login?level={}\">Войти с подтверждённой учётной записью</a>\
         <a class=\"btn\" href=\"/\">Назад</a></div>",
        esc(section.title),
        esc(section.level.title_ru()),
        esc(current),
        esc(section.level.acr()),
        esc(section.level.as_str()),
    );
    layout(settings, "Повышение уровня", "step-up", None, &b)
}

/// The frame around every page. `kind` names the page for tests and styling.
pub fn layout(
    settings: &Settings,
    title: &str,
    kind: &str,
    flash: Option<&str>,
    body: &str,
) -> String {
    let p: &Persona = settings.persona;
    let mark = match p.kind {
        crate::config::PersonaKind::Fns => ("persona-fns", "ФНС"),
        crate::config::PersonaKind::Sfr => ("persona-sfr", "СФР"),
    };
    let flash = flash
        .map(|f| format!("<div class=\"flash\" role=\"status\">{}</div>", esc(f)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {short}</title><link rel=\"stylesheet\" href=\"/assets/site.css\"></head>\
         <body class=\"{class}\"><header class=\"top\"><div class=\"top__inner brand\">\
         <span class=\"brand__mark\">{mark}</span><a href=\"/\"><span>{name}</span></a>\
         <span class=\"brand__sub\">{short}</span></div></header>\
         <main class=\"page\" data-page=\"{kind}\">{flash}{body}</main>\
         <footer class=\"foot\">Демонстрационный сайт партнёра. Провайдер входа: {issuer}</footer></body></html>",
        title = esc(title),
        short = esc(p.short),
        class = mark.0,
        mark = mark.1,
        name = esc(p.title),
        kind = esc(kind),
        issuer = esc(&settings.issuer),
    )
}

fn row(b: &mut String, key: &str, label: &str, value: &str) {
    let _ = write!(
        b,
        "<tr data-claim=\"{}\"><th>{}</th><td>{}</td></tr>",
        esc(key),
        esc(label),
        esc(value)
    );
}

/// Russian labels for the claims the provider releases.
pub fn label(claim: &str) -> &str {
    match claim {
        "name" => "ФИО",
        "family_name" => "Фамилия",
        "given_name" => "Имя",
        "middle_name" => "Отчество",
        "birthdate" => "Дата рождения",
        "birthplace" => "Место рождения",
        "gender" => "Пол",
        "snils" => "СНИЛС",
        "inn" => "ИНН",
        "email" => "Электронная почта",
        "email_verified" => "Почта подтверждена",
        "phone_number" => "Мобильный телефон",
        "phone_number_verified" => "Телефон подтверждён",
        "account_level" => "Уровень учётной записи",
        "sub" => "Идентификатор (sub)",
        "updated_at" => "Данные обновлены",
        other => other,
    }
}

/// Login methods (`amr`, RFC 8176, and ESIA's own names).
pub fn amr_label(method: &str) -> &str {
    match method {
        "pwd" | "PWD" => "пароль",
        "otp" => "одноразовый код",
        "sms" => "код из SMS",
        "mfa" => "двухэтапный вход",
        "hwk" => "аппаратный ключ",
        "swk" => "программный ключ",
        "fpt" | "face" => "биометрия",
        "sc" | "DS" => "электронная подпись",
        "pin" => "PIN-код",
        "user" => "подтверждение присутствия",
        _ => "другой способ",
    }
}

fn display_value(key: &str, value: &Value) -> String {
    match (key, value) {
        ("gender", Value::String(g)) if g == "male" => "мужской".into(),
        ("gender", Value::String(g)) if g == "female" => "женский".into(),
        ("account_level", Value::String(l)) => Level::parse(l)
            .map(|l| l.title_ru().to_string())
            .unwrap_or_else(|| l.clone()),
        (_, Value::Bool(true)) => "да".into(),
        (_, Value::Bool(false)) => "нет".into(),
        ("updated_at", Value::Number(n)) => n.as_i64().map(time).unwrap_or_default(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

fn claim_text(claims: &Map<String, Value>, key: &str) -> Option<String> {
    claims.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Unix seconds as `2026-03-01 12:00:00 UTC`.
pub fn time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// HTML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::config::PersonaKind;

    fn settings(kind: PersonaKind) -> Settings {
        Settings::new(
            "http://127.0.0.1:8080",
            "127.0.0.1:8081".parse().unwrap(),
            None,
            kind,
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn escapes_everything() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(time(1_767_225_599), "2025-12-31 23:59:59 UTC");
    }

    #[test]
    fn landing_has_the_button_and_no_inline_script() {
        let html = landing(&settings(PersonaKind::Sfr), Some("<b>hi</b>"));
        assert!(html.contains("Войти через ЕСИА"));
        assert!(html.contains("&lt;b&gt;hi&lt;/b&gt;"));
        assert!(html.contains("30 дней"));
        assert!(!html.contains("<script") && !html.contains("style="));
    }
}
