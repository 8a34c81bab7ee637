//! Demo data for `idp dev`: a citizen at each account level and the example relying party's
//! two personas. Seeding is idempotent: what exists is left alone.

use crate::app::AppState;
use crate::domain::clients::{ClientSpec, RegisterError, register_in};
use crate::domain::documents::{CivilDate, DocumentKind, UnverifiedDocument};
use crate::domain::identifiers::Login;
use crate::protocol::acr::Level;
use crate::store::users::{self, NewUser};
use crate::store::{StoreError, clients, documents};

/// The password of every demo citizen (it satisfies the ESIA password rules).
pub const DEMO_PASSWORD: &str = "Gosuslugi-2026!";

/// A demo citizen as printed at start.
pub struct DemoCitizen {
    pub level: Level,
    pub name: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub snils: Option<&'static str>,
    /// A verified RF passport: (series, number, issue date, issued by, division code).
    pub passport: Option<DemoPassport>,
}

/// An RF passport as seeded: series, number, issue date (`YYYY-MM-DD`), issuer, division code.
pub type DemoPassport = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const CITIZENS: &[DemoCitizen] = &[
    DemoCitizen {
        level: Level::Simplified,
        name: "Смирнова Анна",
        phone: "+79000000001",
        email: "simplified@example.ru",
        snils: None,
        passport: None,
    },
    DemoCitizen {
        level: Level::Standard,
        name: "Петров Пётр Петрович",
        phone: "+79000000002",
        email: "standard@example.ru",
        snils: Some("112-233-445 95"),
        passport: Some((
            "4505",
            "654321",
            "2005-05-20",
            "ОВД района Хамовники г. Москвы",
            "772-001",
        )),
    },
    DemoCitizen {
        level: Level::Confirmed,
        name: "Иванов Иван Иванович",
        phone: "+79000000003",
        email: "confirmed@example.ru",
        snils: Some("165-432-198 67"),
        passport: Some((
            "4506",
            "112233",
            "2005-06-15",
            "ОВД Тверского района г. Москвы",
            "770-001",
        )),
    },
];

/// A demo relying party: (client id, name, secret, scopes).
pub struct DemoClient {
    pub id: &'static str,
    pub name: &'static str,
    pub secret: &'static str,
    pub scopes: &'static str,
}

pub const CLIENTS: &[DemoClient] = &[
    DemoClient {
        id: "fns-lk",
        name: "ФНС — личный кабинет налогоплательщика",
        secret: "fns-demo-secret",
        scopes: "openid profile email phone fullname inn snils birthdate gender mobile id_doc offline_access",
    },
    DemoClient {
        id: "sfr-pension",
        name: "СФР — пенсионный фонд",
        secret: "sfr-demo-secret",
        scopes: "openid profile email phone fullname snils birthdate birthplace gender inn mobile id_doc offline_access",
    },
];

/// Where the example relying party runs by default.
pub const EXAMPLE_RP_ORIGINS: &[&str] = &["http://127.0.0.1:8081", "http://localhost:8081"];

pub async fn seed(state: &AppState) -> Result<(), String> {
    for c in CITIZENS {
        seed_citizen(state, c)
            .await
            .map_err(|e| format!("seeding {}: {e}", c.email))?;
    }
    for c in CLIENTS {
        if clients::by_id(&state.db, c.id)
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            continue;
        }
        let spec = ClientSpec {
            id: c.id.into(),
            name: c.name.into(),
            secret: Some(c.secret.into()),
            redirect_uris: EXAMPLE_RP_ORIGINS
                .iter()
                .map(|o| format!("{o}/callback"))
                .collect(),
            post_logout_redirect_uris: EXAMPLE_RP_ORIGINS.iter().map(|o| format!("{o}/")).collect(),
            scopes: c.scopes.into(),
            backchannel_logout_uri: Some(format!("{}/backchannel-logout", EXAMPLE_RP_ORIGINS[0])),
            ..ClientSpec::default()
        };
        match register_in(state, spec).await {
            Ok(_) | Err(RegisterError::Invalid(_)) => {}
            Err(RegisterError::Store(e)) => return Err(e.to_string()),
        }
    }
    Ok(())
}

async fn seed_citizen(state: &AppState, c: &DemoCitizen) -> Result<(), StoreError> {
    let login = Login::Phone(c.phone.into());
    if users::by_login(&state.db, &login).await?.is_none() {
        create_citizen(state, c).await?;
    }
    // Also for data directories seeded before demo citizens had passports.
    if let (Some(p), Some(user)) = (c.passport, users::by_login(&state.db, &login).await?) {
        seed_passport(state, &user.id, p).await?;
    }
    Ok(())
}

/// Gives the citizen a verified RF passport unless they already have one.
async fn seed_passport(state: &AppState, user_id: &str, p: DemoPassport) -> Result<(), StoreError> {
    if documents::verified(&state.db, user_id, DocumentKind::RfPassport)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let now = state.clock.now();
    let (series, number, issue_date, issued_by, issuer_code) = p;
    let typed = UnverifiedDocument {
        kind: Some(DocumentKind::RfPassport.as_str().into()),
        series: Some(series.into()),
        number: Some(number.into()),
        issue_date: Some(issue_date.into()),
        issued_by: Some(issued_by.into()),
        issuer_code: Some(issuer_code.into()),
        expiry_date: None,
    };
    let doc = typed
        .validate(DocumentKind::RfPassport, CivilDate::from_unix(now))
        .map_err(|p| StoreError::Internal(format!("demo passport is malformed: {p:?}")))?;
    documents::insert(state.db.write(), user_id, &doc, documents::VERIFIED, now).await?;
    Ok(())
}

async fn create_citizen(state: &AppState, c: &DemoCitizen) -> Result<(), StoreError> {
    let mut parts = c.name.split(' ');
    let surname = parts.next().unwrap_or_default().to_string();
    let given_name = parts.next().unwrap_or_default().to_string();
    let middle_name = parts.next().map(str::to_string);
    let hash = state
        .passwords
        .hash(DEMO_PASSWORD)
        .await
        .map_err(StoreError::Internal)?;
    let verified = c.level >= Level::Standard;
    let user = NewUser {
        surname,
        given_name,
        middle_name,
        level: Some(c.level),
        phone: Some(c.phone.into()),
        email: Some(c.email.into()),
        snils: c.snils.and_then(crate::domain::identifiers::parse_snils),
        inn: verified.then(|| {
            if c.level == Level::Confirmed {
                "770123456703"
            } else {
                "500100732259"
            }
            .to_string()
        }),
        birthdate: verified.then(|| "1985-04-12".to_string()),
        birthplace: verified.then(|| "г. Москва".to_string()),
        gender: Some(
            if c.name.starts_with("Смирнова") {
                "F"
            } else {
                "M"
            }
            .to_string(),
        ),
        password_hash: Some(hash),
    };
    match users::create(&state.db, &user, state.clock.now()).await {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
