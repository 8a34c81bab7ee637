//! Language choice: Russian first, English on request.

/// A language the pages are available in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Russian, the default.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// Picks the language: an explicit `lang` parameter ("ru"/"en") wins, then the first supported tag of
    /// OIDC `ui_locales` (space-separated, e.g. "en-US ru"), then Accept-Language (with q-values), else Ru.
    ///
    /// Tags are matched by their primary subtag, case-insensitively ("en-GB", "EN", "ru_RU" all count).
    /// An unsupported or empty value at one level falls through to the next.
    pub fn negotiate(
        explicit: Option<&str>,
        ui_locales: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        explicit
            .and_then(|v| Lang::from_tag(v.trim()))
            .or_else(|| ui_locales.and_then(|v| v.split_whitespace().find_map(Lang::from_tag)))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(Lang::Ru)
    }

    /// The BCP 47 code used in `<html lang>` and in `?lang=`: "ru" / "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The other supported language (for the language switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Ru => Lang::En,
            Lang::En => Lang::Ru,
        }
    }

    /// A language tag such as "ru", "en-US" or "EN_gb", matched by its primary subtag.
    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ru") {
            Some(Lang::Ru)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// The supported language with the highest q-value in an Accept-Language header (first one on ties).
/// `*` stands for the default (Russian); entries with q=0 or a malformed q are ignored.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let lang = if tag == "*" {
            Some(Lang::Ru)
        } else {
            Lang::from_tag(tag)
        };
        let Some(lang) = lang else { continue };
        let mut q = 1.0_f32;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
        if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((lang, q));
        }
    }
    best.map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn default_is_russian() {
        assert_eq!(Lang::negotiate(None, None, None), Lang::Ru);
        assert_eq!(Lang::negotiate(Some(""), Some(""), Some("")), Lang::Ru);
        assert_eq!(Lang::negotiate(None, None, Some("fr, de;q=0.5")), Lang::Ru);
    }

    #[test]
    fn explicit_wins() {
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ru"), Some("ru")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(Some("ru"), Some("en"), Some("en")),
            Lang::Ru
        );
        assert_eq!(Lang::negotiate(Some(" EN "), None, None), Lang::En);
    }

    #[test]
    fn unsupported_explicit_falls_through() {
        assert_eq!(Lang::negotiate(Some("fr"), Some("en"), None), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), None, Some("en")), Lang::En);
    }

    #[test]
    fn ui_locales_first_supported_tag() {
        assert_eq!(
            Lang::negotiate(None, Some("en-US ru"), Some("ru")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr-CA  ru-RU en"), Some("en")),
            Lang::Ru
        );
        assert_eq!(Lang::negotiate(None, Some("fr de"), Some("en")), Lang::En);
    }

    #[test]
    fn accept_language_q_values() {
        assert_eq!(
            Lang::negotiate(None, None, Some("en-US,en;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("ru;q=0.5, en;q=0.8")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("fr, en ; Q=0.3")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ru;q=0.1")),
            Lang::Ru
        );
        assert_eq!(Lang::negotiate(None, None, Some("en;q=0")), Lang::Ru);
        assert_eq!(Lang::negotiate(None, None, Some("en;q=abc")), Lang::Ru);
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0.5, *;q=0.9")),
            Lang::Ru
        );
        // Ties go to the first listed.
        assert_eq!(Lang::negotiate(None, None, Some("en, ru")), Lang::En);
    }

    #[test]
    fn codes() {
        assert_eq!(Lang::Ru.code(), "ru");
        assert_eq!(Lang::En.code(), "en");
        assert_eq!(Lang::Ru.other(), Lang::En);
        assert_eq!(Lang::En.other(), Lang::Ru);
    }
}
