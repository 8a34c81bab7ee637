//! The operator's commands: keys, clients, users. Output is plain text for people; `--json`
//! where scripts need it.

use clap::Subcommand;

use crate::AppState;
use crate::cache::invalidation::Change;
use crate::domain::clients::{ClientSpec, register_in};
use crate::domain::identifiers::{self, normalize_email, normalize_phone, parse_snils};
use crate::domain::keyring;
use crate::esia::systems;
use crate::jose::Alg;
use crate::protocol::acr::Level;
use crate::store::{clients, keys, users};

#[derive(Subcommand)]
pub enum KeysAction {
    /// List published signing keys and their windows.
    List,
    /// Create new RS256 and ES256 keys; the current ones keep verifying for keys.overlap_secs.
    Rotate {
        /// Publish now but start signing with the new keys only after this many seconds.
        #[arg(long, default_value_t = 0)]
        activate_in: i64,
    },
}

/// Parsed once per process, so the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum ClientsAction {
    /// Register a relying party.
    Create {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        name: String,
        /// The client secret; generated and printed when absent (confidential clients).
        #[arg(long)]
        secret: Option<String>,
        /// Repeatable.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Space-separated scopes the client may request.
        #[arg(long, default_value = "openid profile email phone")]
        scopes: String,
        /// A public client (browser or native app): PKCE, no secret.
        #[arg(long)]
        public: bool,
        /// Repeatable.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// private_key_jwt: URL of the client's JWKS.
        #[arg(long)]
        jwks_uri: Option<String>,
        /// private_key_jwt: the client's JWKS as JSON.
        #[arg(long)]
        jwks: Option<String>,
        /// Repeatable; default authorization_code, refresh_token (and client_credentials if confidential).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// RS256 (default) or ES256.
        #[arg(long)]
        id_token_alg: Option<String>,
        /// ES256 (default) or RS256.
        #[arg(long)]
        access_token_alg: Option<String>,
        /// Requirements on every login: any (default), mfa, standard, confirmed, or
        /// several ("mfa confirmed").
        #[arg(long)]
        auth_policy: Option<String>,
        /// An ESIA client system: a certificate (PEM or DER file) its `client_secret` is
        /// signed with. Repeatable (rotation).
        #[arg(long = "esia-certificate")]
        esia_certificates: Vec<std::path::PathBuf>,
        /// An ESIA client system: RS256 (default) or GOST3410_2012_256 for its ESIA tokens.
        #[arg(long)]
        esia_token_alg: Option<String>,
    },
    /// Certificates of an ESIA client system.
    #[command(subcommand)]
    EsiaCertificate(EsiaCertificateAction),
    List,
    Show {
        id: String,
    },
    Delete {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum EsiaCertificateAction {
    /// Register a certificate (PEM or DER file) for the client system.
    Add {
        client: String,
        file: std::path::PathBuf,
    },
    /// Remove a certificate by its id or its hash.
    Remove { client: String, id: String },
    /// The system's certificates.
    List { client: String },
}

/// Parsed once per process, so the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum UsersAction {
    /// Create a citizen's account.
    Create {
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        snils: Option<String>,
        #[arg(long)]
        inn: Option<String>,
        #[arg(long)]
        password: String,
        #[arg(long)]
        surname: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        middle_name: Option<String>,
        /// simplified, standard or confirmed.
        #[arg(long, default_value = "simplified")]
        level: String,
        /// YYYY-MM-DD
        #[arg(long)]
        birthdate: Option<String>,
        /// M or F
        #[arg(long)]
        gender: Option<String>,
    },
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

pub async fn keys(state: &AppState, action: KeysAction) -> Result<(), String> {
    let now = state.clock.now();
    match action {
        KeysAction::List => {
            for k in keys::published(&state.db, now)
                .await
                .map_err(|e| e.to_string())?
            {
                let status = if k.activates_at > now {
                    "next"
                } else if k.retires_at.is_some_and(|r| r <= now) {
                    "previous"
                } else {
                    "active"
                };
                println!(
                    "{:<22} {:<6} {:<8} activates {} retires {} expires {}",
                    k.kid,
                    k.alg,
                    status,
                    k.activates_at,
                    opt(k.retires_at),
                    opt(k.expires_at)
                );
            }
        }
        KeysAction::Rotate { activate_in } => {
            let kids = keyring::rotate(
                &state.db,
                &state.secrets,
                now,
                now + activate_in.max(0),
                state.config.keys.overlap_secs,
            )
            .await?;
            state.bus.publish(&Change::Keys).await;
            println!("new keys: {}", kids.join(", "));
        }
    }
    Ok(())
}

fn opt(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

pub async fn clients(state: &AppState, action: ClientsAction) -> Result<(), String> {
    match action {
        ClientsAction::Create {
            id,
            name,
            secret,
            redirect_uris,
            scopes,
            public,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            jwks_uri,
            jwks,
            grant_types,
            id_token_alg,
            access_token_alg,
            auth_policy,
            esia_certificates,
            esia_token_alg,
        } => {
            // Read and check the ESIA certificates before anything is created.
            let mut esia_files = Vec::new();
            for path in &esia_certificates {
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                systems::parse_certificate(&bytes, state.clock.now())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                esia_files.push(bytes);
            }
            if let Some(a) = &esia_token_alg {
                systems::parse_token_alg(a).ok_or(format!(
                    "unknown ESIA token algorithm {a} (RS256 or GOST3410_2012_256)"
                ))?;
            }
            let alg = |v: Option<String>| {
                v.map(|a| Alg::parse(&a).ok_or(format!("unknown algorithm {a} (RS256 or ES256)")))
                    .transpose()
            };
            let jwks = jwks
                .map(|j| serde_json::from_str(&j).map_err(|e| format!("--jwks is not JSON: {e}")))
                .transpose()?;
            let spec = ClientSpec {
                id,
                name,
                secret,
                public,
                redirect_uris,
                post_logout_redirect_uris,
                scopes,
                grant_types,
                backchannel_logout_uri,
                jwks,
                jwks_uri,
                id_token_alg: alg(id_token_alg)?,
                access_token_alg: alg(access_token_alg)?,
                auth_policy,
            };
            let (client, secret) = register_in(state, spec).await.map_err(|e| e.to_string())?;
            println!(
                "client {} created ({})",
                client.id,
                client.auth_method.as_str()
            );
            if let Some(s) = secret {
                println!("client_secret: {s}");
                println!("(shown once; only a keyed hash is stored)");
            }
            for bytes in &esia_files {
                let c = systems::add_certificate(state, &client.id, bytes)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("ESIA certificate {} ({}, hash {})", c.id, c.kind, c.hash);
            }
            if let Some(a) = &esia_token_alg {
                systems::set_token_alg(state, &client.id, a)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        ClientsAction::EsiaCertificate(action) => esia_certificate(state, action).await?,
        ClientsAction::List => {
            for c in clients::list(&state.db).await.map_err(|e| e.to_string())? {
                println!("{:<24} {:<20} {}", c.id, c.auth_method.as_str(), c.name);
            }
        }
        ClientsAction::Show { id } => {
            let c = clients::by_id(&state.db, &id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no client {id}"))?;
            let doc = serde_json::json!({
                "client_id": c.id,
                "client_name": c.name,
                "token_endpoint_auth_method": c.auth_method.as_str(),
                "redirect_uris": c.redirect_uris,
                "post_logout_redirect_uris": c.post_logout_redirect_uris,
                "scope": c.scopes.to_string(),
                "grant_types": c.grant_types,
                "backchannel_logout_uri": c.backchannel_logout_uri,
                "jwks_uri": c.jwks_uri,
                "jwks": c.jwks,
                "id_token_signed_response_alg": c.id_token_alg.as_str(),
                "access_token_signed_response_alg": c.access_token_alg.as_str(),
                "auth_policy": c.auth_policy.as_string(),
            });
            let mut doc = doc;
            let esia = systems::certificates(state, &c.id)
                .await
                .map_err(|e| e.to_string())?;
            if !esia.is_empty() {
                doc["esia_token_alg"] = systems::token_alg(state, &c.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .into();
                doc["esia_certificates"] = esia
                    .iter()
                    .map(|e| serde_json::json!({"id": e.id, "hash": e.hash, "kind": e.kind}))
                    .collect::<Vec<_>>()
                    .into();
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        ClientsAction::Delete { id } => {
            if clients::delete(&state.db, &id)
                .await
                .map_err(|e| e.to_string())?
            {
                state.clients.changed(&id).await;
                println!("client {id} deleted");
            } else {
                return Err(format!("no client {id}"));
            }
        }
    }
    Ok(())
}

async fn esia_certificate(state: &AppState, action: EsiaCertificateAction) -> Result<(), String> {
    match action {
        EsiaCertificateAction::Add { client, file } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let c = systems::add_certificate(state, &client, &bytes)
                .await
                .map_err(|e| format!("{}: {e}", file.display()))?;
            println!("ESIA certificate {} ({}, hash {})", c.id, c.kind, c.hash);
        }
        EsiaCertificateAction::Remove { client, id } => {
            if systems::remove_certificate(state, &client, &id)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("ESIA certificate {id} removed");
            } else {
                return Err(format!("no ESIA certificate {id} for {client}"));
            }
        }
        EsiaCertificateAction::List { client } => {
            for c in systems::certificates(state, &client)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{} {:<4} {} {}", c.id, c.kind, c.hash, c.subject);
            }
        }
    }
    Ok(())
}

pub async fn users(state: &AppState, action: UsersAction) -> Result<(), String> {
    match action {
        UsersAction::Create {
            phone,
            email,
            snils,
            inn,
            password,
            surname,
            given_name,
            middle_name,
            level,
            birthdate,
            gender,
        } => {
            let mut problems = Vec::new();
            let level = Level::parse(&level)
                .ok_or_else(|| "--level must be simplified, standard or confirmed".to_string())?;
            let phone = phone
                .map(|p| {
                    normalize_phone(&p).ok_or(format!("--phone {p} is not a Russian mobile number"))
                })
                .transpose()
                .unwrap_or_else(|e| {
                    problems.push(e);
                    None
                });
            let email = email
                .map(|e| normalize_email(&e).ok_or(format!("--email {e} is not an e-mail address")))
                .transpose()
                .unwrap_or_else(|e| {
                    problems.push(e);
                    None
                });
            let snils = snils
                .map(|s| parse_snils(&s).ok_or(format!("--snils {s}: wrong format or checksum")))
                .transpose()
                .unwrap_or_else(|e| {
                    problems.push(e);
                    None
                });
            if inn
                .as_deref()
                .is_some_and(|i| !identifiers::inn_checksum_ok(i))
            {
                problems.push("--inn: wrong checksum".into());
            }
            if phone.is_none() && email.is_none() {
                problems.push("--phone or --email is required".into());
            }
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
            let hash = state.passwords.hash(&password).await?;
            let new = users::NewUser {
                surname,
                given_name,
                middle_name,
                level: Some(level),
                phone,
                email,
                snils,
                inn,
                birthdate,
                birthplace: None,
                gender,
                password_hash: Some(hash),
            };
            let user = users::create(&state.db, &new, state.clock.now())
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::Conflict(_) => {
                        "the phone, e-mail or SNILS is already bound to an account".to_string()
                    }
                    other => other.to_string(),
                })?;
            println!(
                "user {} created (sub {}, level {})",
                user.person.full_name(),
                user.id,
                user.level.as_str()
            );
        }
        UsersAction::List { limit } => {
            for u in users::list(&state.db, limit)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{:<11} {:<10} {:<30} {:<14} {}",
                    u.id,
                    u.level.as_str(),
                    u.person.full_name(),
                    u.person.phone.as_deref().unwrap_or("-"),
                    u.person.email.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}
