//! Registering relying parties (the CLI and the demo seed use this).

use crate::app::AppState;
use crate::crypto::{ServerSecrets, random_token};
use crate::domain::assurance::Policy;
use crate::jose::Alg;
use crate::protocol::client::{AuthMethod, Client};
use crate::protocol::scope::ScopeSet;
use crate::store::{Db, StoreError, clients};

/// What an operator supplies to register a client.
#[derive(Clone, Debug, Default)]
pub struct ClientSpec {
    pub id: String,
    pub name: String,
    /// A chosen secret; generated when absent for a confidential client.
    pub secret: Option<String>,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: String,
    pub grant_types: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub id_token_alg: Option<Alg>,
    pub access_token_alg: Option<Alg>,
    /// `auth_policy`: `any` (default), `mfa`, a minimum level, or both (`mfa confirmed`).
    pub auth_policy: Option<String>,
}

/// Validates and stores a client. Returns it with the secret in clear (shown once).
pub async fn register(
    db: &Db,
    secrets: &ServerSecrets,
    spec: ClientSpec,
    now: i64,
) -> Result<(Client, Option<String>), RegisterError> {
    let mut problems = Vec::new();
    if spec.id.is_empty()
        || spec.id.len() > 128
        || !spec
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        problems
            .push("the client id must be 1-128 characters of letters, digits, - _ . :".to_string());
    }
    for uri in spec
        .redirect_uris
        .iter()
        .chain(&spec.post_logout_redirect_uris)
        .chain(spec.backchannel_logout_uri.iter())
    {
        match url::Url::parse(uri) {
            Ok(u) if u.fragment().is_none() && matches!(u.scheme(), "https" | "http") => {}
            Ok(u)
                if u.fragment().is_none()
                    && !matches!(u.scheme(), "javascript" | "data" | "file") => {} // native app schemes
            _ => problems.push(format!("{uri} is not an absolute URI without fragment")),
        }
    }
    let scopes =
        ScopeSet::parse(&spec.scopes).map_err(|e| RegisterError::Invalid(e.to_string()))?;
    let auth_method = if spec.public {
        AuthMethod::None
    } else if spec.jwks.is_some() || spec.jwks_uri.is_some() {
        AuthMethod::PrivateKeyJwt
    } else {
        AuthMethod::ClientSecret
    };
    if spec.public && spec.secret.is_some() {
        problems.push("a public client has no secret".into());
    }
    let auth_policy = match Policy::parse(spec.auth_policy.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => {
            problems.push(e);
            Policy::default()
        }
    };
    if !problems.is_empty() {
        return Err(RegisterError::Invalid(problems.join("; ")));
    }
    let secret = (auth_method == AuthMethod::ClientSecret)
        .then(|| spec.secret.clone().unwrap_or_else(|| random_token(32)));
    let grant_types = if spec.grant_types.is_empty() {
        let mut g = vec![
            "authorization_code".to_string(),
            "refresh_token".to_string(),
        ];
        if !spec.public {
            g.push("client_credentials".into());
        }
        g
    } else {
        spec.grant_types.clone()
    };
    let client = Client {
        id: spec.id,
        name: if spec.name.is_empty() {
            "Unnamed".into()
        } else {
            spec.name
        },
        secret_hash: secret.as_deref().map(|s| secrets.hash_client_secret(s)),
        auth_method,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        scopes,
        grant_types,
        backchannel_logout_uri: spec.backchannel_logout_uri,
        jwks: spec.jwks,
        jwks_uri: spec.jwks_uri,
        id_token_alg: spec.id_token_alg.unwrap_or(Alg::RS256),
        access_token_alg: spec.access_token_alg.unwrap_or(Alg::ES256),
        created_at: now,
        auth_policy,
    };
    clients::create(db, &client).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            RegisterError::Invalid(format!("a client with id {} already exists", client.id))
        }
        other => RegisterError::Store(other),
    })?;
    Ok((client, secret))
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Convenience for handlers that hold the app state.
pub async fn register_in(
    state: &AppState,
    spec: ClientSpec,
) -> Result<(Client, Option<String>), RegisterError> {
    register(&state.db, &state.secrets, spec, state.clock.now()).await
}
