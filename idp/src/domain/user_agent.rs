//! A small User-Agent reader for the cabinet: which browser, which operating system, which
//! kind of device. It knows the common browsers of Russian users (Яндекс Браузер, Chrome,
//! Edge, Firefox, Opera, Safari, Samsung Internet) and says "unknown" for the rest; it is for
//! people to recognise their devices, never for a security decision.

/// What a User-Agent string says about the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// "Chrome 120", "Яндекс Браузер 24", or None when unrecognised.
    pub browser: Option<String>,
    /// "Windows", "macOS", "Android 14", "iOS 17", ... or None.
    pub os: Option<String>,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Desktop,
    Phone,
    Tablet,
    /// A program, not a person's browser (curl, a bot).
    Program,
}

impl Kind {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Kind::Desktop, false) => "компьютер",
            (Kind::Desktop, true) => "computer",
            (Kind::Phone, false) => "телефон",
            (Kind::Phone, true) => "phone",
            (Kind::Tablet, false) => "планшет",
            (Kind::Tablet, true) => "tablet",
            (Kind::Program, false) => "программа",
            (Kind::Program, true) => "program",
        }
    }
}

/// The major version right after `token` (e.g. `Chrome/120.0.1` → "120").
fn version_after(ua: &str, token: &str) -> Option<String> {
    let start = ua.find(token)? + token.len();
    let v: String = ua[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!v.is_empty()).then_some(v)
}

fn named(name: &str, ua: &str, token: &str) -> String {
    match version_after(ua, token) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

fn browser(ua: &str) -> Option<String> {
    // Order matters: most browsers also claim "Chrome" and "Safari".
    const BROWSERS: [(&str, &str); 9] = [
        ("YaBrowser/", "Яндекс Браузер"),
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ];
    if let Some((token, name)) = BROWSERS.iter().find(|(t, _)| ua.contains(t)) {
        return Some(named(name, ua, token));
    }
    if ua.contains("Safari/") && ua.contains("Version/") {
        return Some(named("Safari", ua, "Version/"));
    }
    None
}

/// The OS and whether it is a phone or a tablet.
fn os(ua: &str) -> (Option<String>, Kind) {
    let mobile = ua.contains("Mobile");
    if ua.contains("iPad") {
        let v = version_after(ua, "CPU OS ");
        return (Some(with(v, "iPadOS")), Kind::Tablet);
    }
    if ua.contains("iPhone") || ua.contains("iPod") {
        let v = version_after(ua, "iPhone OS ").or_else(|| version_after(ua, "CPU OS "));
        return (Some(with(v, "iOS")), Kind::Phone);
    }
    if ua.contains("Android") {
        let v = version_after(ua, "Android ");
        let kind = if mobile { Kind::Phone } else { Kind::Tablet };
        return (Some(with(v, "Android")), kind);
    }
    if ua.contains("Windows Phone") {
        return (Some("Windows Phone".into()), Kind::Phone);
    }
    if ua.contains("Windows") {
        return (Some("Windows".into()), Kind::Desktop);
    }
    if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        return (Some("macOS".into()), Kind::Desktop);
    }
    if ua.contains("CrOS") {
        return (Some("ChromeOS".into()), Kind::Desktop);
    }
    if ua.contains("Linux") || ua.contains("X11") {
        return (Some("Linux".into()), Kind::Desktop);
    }
    (None, Kind::Desktop)
}

fn with(version: Option<String>, name: &str) -> String {
    match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

/// Reads a User-Agent header value.
pub fn parse(ua: &str) -> Device {
    let lower = ua.to_ascii_lowercase();
    let program = [
        "bot", "crawler", "spider", "curl/", "wget/", "python", "okhttp", "java/",
    ]
    .iter()
    .any(|p| lower.contains(p));
    if program || (!ua.starts_with("Mozilla/") && !ua.starts_with("Opera/")) {
        return Device {
            browser: None,
            os: None,
            kind: Kind::Program,
        };
    }
    let (os, kind) = os(ua);
    Device {
        browser: browser(ua),
        os,
        kind,
    }
}

/// One line for people: "Chrome 120, Windows (компьютер)"; "неизвестное устройство" when the
/// header is missing.
pub fn describe(ua: Option<&str>, en: bool) -> String {
    let Some(ua) = ua.filter(|u| !u.trim().is_empty()) else {
        return if en {
            "unknown device"
        } else {
            "неизвестное устройство"
        }
        .to_string();
    };
    let d = parse(ua);
    if d.kind == Kind::Program {
        return if en { "program" } else { "программа" }.to_string();
    }
    let parts: Vec<String> = [d.browser, d.os].into_iter().flatten().collect();
    let what = if parts.is_empty() {
        if en { "browser" } else { "браузер" }.to_string()
    } else {
        parts.join(", ")
    };
    format!("{what} ({})", d.kind.label(en))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ua: &str) -> (Option<String>, Option<String>, Kind) {
        let d = parse(ua);
        (d.browser, d.os, d.kind)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn common_browsers() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                (s("Chrome 120"), s("Windows"), Kind::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36",
                (s("Яндекс Браузер 24"), s("Windows"), Kind::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
                (s("Edge 120"), s("Windows"), Kind::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                (s("Firefox 121"), s("Linux"), Kind::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
                (s("Safari 17"), s("macOS"), Kind::Desktop),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                (s("Safari 17"), s("iOS 17"), Kind::Phone),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
                (s("Chrome 120"), s("iPadOS 16"), Kind::Tablet),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
                (s("Samsung Internet 23"), s("Android 14"), Kind::Phone),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; Tab S8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/79.0",
                (s("Opera 79"), s("Android 13"), Kind::Tablet),
            ),
            ("curl/8.5.0", (None, None, Kind::Program)),
            (
                "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                (None, None, Kind::Program),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0",
                (None, s("Linux"), Kind::Desktop),
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(d(ua), want, "{ua}");
        }
    }

    #[test]
    fn one_line_for_people() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(
            describe(Some(chrome), false),
            "Chrome 120, Windows (компьютер)"
        );
        assert_eq!(
            describe(Some(chrome), true),
            "Chrome 120, Windows (computer)"
        );
        assert_eq!(describe(None, false), "неизвестное устройство");
        assert_eq!(describe(Some("curl/8"), false), "программа");
        assert_eq!(
            describe(
                Some("Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"),
                false
            ),
            "Linux (компьютер)"
        );
    }
}
