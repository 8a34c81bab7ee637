//! The site's settings: which partner it plays (the tax service or the pension fund), what it
//! asks the provider for, and where it and the provider live.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use url::Url;

/// ESIA account levels as the site sees them in `acr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Simplified,
    Standard,
    Confirmed,
}

impl Level {
    const ALL: [Level; 3] = [Level::Simplified, Level::Standard, Level::Confirmed];

    /// The `acr` value naming this level.
    pub fn acr(self) -> &'static str {
        match self {
            Level::Simplified => "urn:esia:loa:simplified",
            Level::Standard => "urn:esia:loa:standard",
            Level::Confirmed => "urn:esia:loa:confirmed",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.acr() == acr)
    }

    /// The short name used in URLs (`/login?level=confirmed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Simplified => "simplified",
            Level::Standard => "standard",
            Level::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// "Стандартная учётная запись".
    pub fn title_ru(self) -> &'static str {
        match self {
            Level::Simplified => "Упрощённая учётная запись",
            Level::Standard => "Стандартная учётная запись",
            Level::Confirmed => "Подтверждённая учётная запись",
        }
    }
}

/// Which partner the site plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PersonaKind {
    /// ФНС — личный кабинет налогоплательщика.
    Fns,
    /// СФР — пенсионный фонд.
    Sfr,
}

/// A section of the site that needs a higher account level than the login itself (step-up).
pub struct Protected {
    pub title: &'static str,
    pub level: Level,
    pub content: &'static str,
}

/// The ESIA-style `permissions` request: a purpose and a validity for the data asked.
pub struct Permissions {
    pub sysname: &'static str,
    pub purpose: &'static str,
    pub purpose_ru: &'static str,
    pub expire_minutes: u32,
}

/// A partner site as registered by `idp dev`.
pub struct Persona {
    pub kind: PersonaKind,
    pub title: &'static str,
    pub short: &'static str,
    pub tagline: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    /// Scopes besides `openid`, each with the data item it names on the consent screen.
    pub scopes: &'static [(&'static str, &'static str)],
    pub level: Level,
    pub permissions: Option<Permissions>,
    pub protected: Option<Protected>,
}

pub const FNS: Persona = Persona {
    kind: PersonaKind::Fns,
    title: "ФНС — личный кабинет налогоплательщика",
    short: "ФНС России",
    tagline: "Налоги, декларации и уведомления онлайн",
    client_id: "fns-lk",
    client_secret: "fns-demo-secret",
    scopes: &[("fullname", "ФИО"), ("inn", "ИНН")],
    level: Level::Standard,
    permissions: None,
    protected: Some(Protected {
        title: "Справка о доходах и суммах налога",
        level: Level::Confirmed,
        content: "Справка о доходах за 2025 год сформирована и подписана усиленной электронной подписью ФНС России.",
    }),
};

pub const SFR: Persona = Persona {
    kind: PersonaKind::Sfr,
    title: "СФР — пенсионный фонд",
    short: "Социальный фонд России",
    tagline: "Пенсионный счёт, выплаты и пособия",
    client_id: "sfr-pension",
    client_secret: "sfr-demo-secret",
    scopes: &[
        ("fullname", "ФИО"),
        ("snils", "СНИЛС"),
        ("birthdate", "Дата рождения"),
    ],
    level: Level::Confirmed,
    permissions: Some(Permissions {
        sysname: "SFR_PENSION_ACCOUNT",
        purpose: "IDENTIFICATION",
        purpose_ru: "Идентификация для доступа к индивидуальному лицевому счёту",
        expire_minutes: 43_200,
    }),
    protected: None,
};

impl Persona {
    pub fn of(kind: PersonaKind) -> &'static Persona {
        match kind {
            PersonaKind::Fns => &FNS,
            PersonaKind::Sfr => &SFR,
        }
    }

    /// `openid` plus the persona's scopes, space-separated.
    pub fn scope_string(&self) -> String {
        std::iter::once("openid")
            .chain(self.scopes.iter().map(|(s, _)| *s))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Permissions {
    /// The JSON array ESIA expects (esia.md §2), for the given scopes.
    pub fn json(&self, scopes: &[(&str, &str)]) -> serde_json::Value {
        json!([{
            "sysname": self.sysname,
            "expire": self.expire_minutes,
            "actions": [{ "sysname": "ALL_ACTIONS_TO_DATA" }],
            "purposes": [{ "sysname": self.purpose }],
            "scopes": scopes.iter().map(|(s, _)| json!({ "sysname": s })).collect::<Vec<_>>(),
        }])
    }

    /// The `permissions` request parameter: base64url of the JSON, without padding.
    pub fn encoded(&self, scopes: &[(&str, &str)]) -> String {
        URL_SAFE_NO_PAD.encode(self.json(scopes).to_string())
    }

    /// "30 дней".
    pub fn validity_ru(&self) -> String {
        let days = self.expire_minutes / (24 * 60);
        let word = match (days % 10, days % 100) {
            (1, n) if n != 11 => "день",
            (2..=4, n) if !(12..=14).contains(&n) => "дня",
            _ => "дней",
        };
        format!("{days} {word}")
    }
}

/// Everything the running site needs to know.
pub struct Settings {
    pub issuer: String,
    pub listen: SocketAddr,
    /// The site's own origin as browsers reach it, without a trailing slash.
    pub public_url: String,
    pub persona: &'static Persona,
    pub client_id: String,
    pub client_secret: String,
}

impl Settings {
    pub fn new(
        issuer: &str,
        listen: SocketAddr,
        public_url: Option<&str>,
        kind: PersonaKind,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Result<Settings, String> {
        let issuer = issuer.trim_end_matches('/').to_string();
        Url::parse(&issuer).map_err(|e| format!("--issuer {issuer}: {e}"))?;
        let public_url = match public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None if listen.ip().is_unspecified() => format!("http://127.0.0.1:{}", listen.port()),
            None => format!("http://{listen}"),
        };
        let parsed =
            Url::parse(&public_url).map_err(|e| format!("--public-url {public_url}: {e}"))?;
        if parsed.path() != "/" || parsed.query().is_some() {
            return Err(format!(
                "--public-url {public_url} must be an origin (no path or query)"
            ));
        }
        let persona = Persona::of(kind);
        Ok(Settings {
            issuer,
            listen,
            public_url,
            persona,
            client_id: client_id.unwrap_or_else(|| persona.client_id.to_string()),
            client_secret: client_secret.unwrap_or_else(|| persona.client_secret.to_string()),
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.public_url)
    }

    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.public_url)
    }

    /// Cookies get `Secure` when the site is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn permissions_are_base64url_json_in_the_esia_shape() {
        let p = SFR.permissions.as_ref().unwrap();
        let text = p.encoded(SFR.scopes);
        assert!(!text.contains('=') && !text.contains('+') && !text.contains('/'));
        let decoded: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap();
        assert_eq!(decoded[0]["expire"], 43_200);
        assert_eq!(decoded[0]["purposes"][0]["sysname"], "IDENTIFICATION");
        assert_eq!(decoded[0]["actions"][0]["sysname"], "ALL_ACTIONS_TO_DATA");
        let scopes: Vec<&str> = decoded[0]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sysname"].as_str().unwrap())
            .collect();
        assert_eq!(scopes, ["fullname", "snils", "birthdate"]);
        assert_eq!(p.validity_ru(), "30 дней");
    }

    #[test]
    fn personas_ask_what_the_issue_says() {
        assert_eq!(FNS.scope_string(), "openid fullname inn");
        assert_eq!(FNS.level.acr(), "urn:esia:loa:standard");
        assert_eq!(SFR.scope_string(), "openid fullname snils birthdate");
        assert_eq!(SFR.level.acr(), "urn:esia:loa:confirmed");
    }

    #[test]
    fn public_url_defaults_to_the_listen_address() {
        let s = Settings::new(
            "http://127.0.0.1:8080/",
            "127.0.0.1:8081".parse().unwrap(),
            None,
            PersonaKind::Fns,
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.issuer, "http://127.0.0.1:8080");
        assert_eq!(s.redirect_uri(), "http://127.0.0.1:8081/callback");
        assert_eq!(s.post_logout_redirect_uri(), "http://127.0.0.1:8081/");
        assert_eq!(s.client_id, "fns-lk");
        assert!(!s.secure_cookies());
        let bad = Settings::new(
            "http://127.0.0.1:8080",
            "127.0.0.1:8081".parse().unwrap(),
            Some("http://rp.example/app"),
            PersonaKind::Sfr,
            None,
            None,
        );
        assert!(bad.is_err());
    }

    #[test]
    fn levels_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::from_acr(l.acr()), Some(l));
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert!(Level::Confirmed > Level::Standard);
    }
}
