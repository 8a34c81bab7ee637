//! The site's client of the provider, over the `openidconnect` crate: discovery (with the
//! JWKS), the authorization URL (code + PKCE + nonce + state), the code exchange with ID
//! token verification, refresh, userinfo, the RP-initiated logout URL, and back-channel
//! logout tokens (in [`logout_token`]).
//!
//! Discovery is lazy and repeated when an ID token names a key the cached JWKS lacks, so the
//! site starts before the provider and survives the provider's key rotation.

pub mod http;
mod id_token;
mod logout_token;

use std::sync::{Arc, RwLock};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthenticationContextClass, AuthorizationCode,
    ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenFields,
    IssuerUrl, LanguageTag, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier,
    TokenResponse, UserInfoClaims, UserInfoError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

pub use logout_token::LogoutEvent;

use crate::config::{Level, Settings};
use crate::session::unix_now;
use http::{HttpError, adapter};
use id_token::{NonceCheck, verify_id_token};

/// The ID token claim the site needs beyond the standard ones: the provider's session id.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SessionIdClaim {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}
impl AdditionalClaims for SessionIdClaim {}

/// The ESIA claims userinfo adds to the standard ones.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct EsiaClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthplace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_level: Option<String>,
}
impl AdditionalClaims for EsiaClaims {}

type EsiaIdToken = IdToken<
    SessionIdClaim,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type EsiaIdTokenFields = IdTokenFields<
    SessionIdClaim,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type EsiaTokenResponse = StandardTokenResponse<EsiaIdTokenFields, CoreTokenType>;
type EsiaClient = Client<
    SessionIdClaim,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    EsiaTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What went wrong talking to the provider.
#[derive(Debug)]
pub enum OidcError {
    /// Discovery or a request could not reach the provider.
    Unavailable(String),
    /// The token endpoint answered with an OAuth error (`invalid_grant`, `invalid_client`, …).
    Rejected {
        code: String,
        description: Option<String>,
    },
    /// The access token is no longer accepted (userinfo answered 401).
    TokenRejected,
    /// An ID token or logout token failed verification.
    Invalid(String),
}

impl std::fmt::Display for OidcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OidcError::Unavailable(e) => write!(f, "provider unavailable: {e}"),
            OidcError::Rejected { code, description } => {
                write!(f, "{code}: {}", description.as_deref().unwrap_or(""))
            }
            OidcError::TokenRejected => f.write_str("the access token was rejected"),
            OidcError::Invalid(e) => write!(f, "verification failed: {e}"),
        }
    }
}

/// A login the browser is on its way to complete, kept server-side until the callback.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The level asked with `acr_values`.
    pub level: Level,
    pub created_at: i64,
}

/// What the site asks for when it starts a login.
pub struct LoginRequest<'a> {
    pub scopes: &'a [(&'a str, &'a str)],
    pub level: Level,
    /// `prompt=none`: only check whether the person is already logged in at the provider.
    pub silent: bool,
    /// The ESIA-style `permissions` parameter (base64url JSON).
    pub permissions: Option<String>,
}

/// The verified facts of an ID token.
#[derive(Clone, Debug)]
pub struct IdentityToken {
    pub raw: String,
    pub sub: String,
    pub sid: Option<String>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub auth_time: Option<i64>,
    pub expires_at: i64,
}

/// A token response after verification.
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub access_token: String,
    pub access_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    pub id: Option<IdentityToken>,
}

struct Discovered {
    client: EsiaClient,
    end_session: Option<EndSessionUrl>,
}

/// The provider as the site knows it.
pub struct Provider {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    post_logout_redirect_uri: String,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

impl Provider {
    pub fn new(settings: &Settings) -> Result<Provider, String> {
        Ok(Provider {
            issuer: settings.issuer.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            redirect_uri: settings.redirect_uri(),
            post_logout_redirect_uri: settings.post_logout_redirect_uri(),
            http: http::reqwest_client()?,
            discovered: RwLock::new(None),
        })
    }

    /// Fetches the discovery document and JWKS now (at start; later calls reuse them).
    pub async fn discover(&self) -> Result<(), OidcError> {
        self.rediscover().await.map(|_| ())
    }

    /// The authorization URL and what the callback will need to check the answer.
    pub async fn start_login(
        &self,
        req: &LoginRequest<'_>,
    ) -> Result<(Url, PendingLogin), OidcError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut auth = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_auth_context_value(AuthenticationContextClass::new(req.level.acr().into()))
            .add_ui_locale(LanguageTag::new("ru".into()));
        for (scope, _) in req.scopes {
            auth = auth.add_scope(Scope::new((*scope).to_string()));
        }
        if req.silent {
            auth = auth.add_prompt(CoreAuthPrompt::None);
        }
        if let Some(p) = &req.permissions {
            auth = auth.add_extra_param("permissions", p.clone());
        }
        let (url, state, nonce) = auth.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            level: req.level,
            created_at: unix_now(),
        };
        Ok((url, pending))
    }

    /// Redeems the code with the PKCE verifier and verifies the ID token (signature, `iss`,
    /// `aud`, `exp`, `nonce`, `at_hash`).
    pub async fn finish_login(
        &self,
        pending: &PendingLogin,
        code: String,
    ) -> Result<TokenSet, OidcError> {
        let d = self.discovered().await?;
        let tokens = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&adapter(self.http.clone()))
            .await
            .map_err(token_error)?;
        let nonce = Nonce::new(pending.nonce.clone());
        let set = self
            .verify_response(d, &tokens, NonceCheck::Expect(&nonce))
            .await?;
        if set.id.is_none() {
            return Err(OidcError::Invalid(
                "the token response has no id_token".into(),
            ));
        }
        Ok(set)
    }

    /// Uses the refresh token; a new ID token must name the same person.
    pub async fn refresh(&self, refresh_token: &str, sub: &str) -> Result<TokenSet, OidcError> {
        let d = self.discovered().await?;
        let rt = RefreshToken::new(refresh_token.to_string());
        let tokens = d
            .client
            .exchange_refresh_token(&rt)
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .request_async(&adapter(self.http.clone()))
            .await
            .map_err(token_error)?;
        let set = self
            .verify_response(d, &tokens, NonceCheck::Refreshed)
            .await?;
        if set.id.as_ref().is_some_and(|id| id.sub != sub) {
            return Err(OidcError::Invalid(
                "the refreshed ID token names another person".into(),
            ));
        }
        Ok(set)
    }

    /// The userinfo claims as JSON (standard and ESIA ones); `sub` must match the ID token's.
    pub async fn userinfo(
        &self,
        access_token: &str,
        sub: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let d = self.discovered().await?;
        let claims: UserInfoClaims<EsiaClaims, CoreGenderClaim> = d
            .client
            .user_info(
                AccessToken::new(access_token.to_string()),
                Some(SubjectIdentifier::new(sub.to_string())),
            )
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .request_async(&adapter(self.http.clone()))
            .await
            .map_err(|e| match e {
                UserInfoError::Response(status, _, _) if status.as_u16() == 401 => {
                    OidcError::TokenRejected
                }
                UserInfoError::Request(e) => OidcError::Unavailable(e.to_string()),
                other => OidcError::Invalid(error_chain(&other)),
            })?;
        match serde_json::to_value(&claims) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(OidcError::Invalid("userinfo is not a JSON object".into())),
        }
    }

    /// The provider's `end_session_endpoint` with `id_token_hint`, `client_id`,
    /// `post_logout_redirect_uri` and `state`.
    pub async fn logout_url(&self, id_token: &str, state: &str) -> Result<Url, OidcError> {
        let d = self.discovered().await?;
        let end = d.end_session.clone().ok_or_else(|| {
            OidcError::Unavailable("the provider has no end_session_endpoint".into())
        })?;
        let hint: EsiaIdToken = id_token
            .parse()
            .map_err(|e| OidcError::Invalid(format!("stored ID token: {e}")))?;
        let redirect = PostLogoutRedirectUrl::new(self.post_logout_redirect_uri.clone())
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        Ok(LogoutRequest::from(end)
            .set_id_token_hint(&hint)
            .set_client_id(ClientId::new(self.client_id.clone()))
            .set_post_logout_redirect_uri(redirect)
            .set_state(CsrfToken::new(state.to_string()))
            .http_get_url())
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        let cached = self.discovered.read().ok().and_then(|d| d.clone());
        match cached {
            Some(d) => Ok(d),
            None => self.rediscover().await,
        }
    }

    async fn rediscover(&self) -> Result<Arc<Discovered>, OidcError> {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| OidcError::Unavailable(format!("issuer {}: {e}", self.issuer)))?;
        let metadata =
            ProviderMetadataWithLogout::discover_async(issuer, &adapter(self.http.clone()))
                .await
                .map_err(|e| OidcError::Unavailable(error_chain(&e)))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| OidcError::Unavailable(format!("redirect URI: {e}")))?;
        let client = EsiaClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let d = Arc::new(Discovered {
            client,
            end_session,
        });
        if let Ok(mut slot) = self.discovered.write() {
            *slot = Some(d.clone());
        }
        Ok(d)
    }

    /// Verifies the ID token of a token response; an unknown signing key triggers one fresh
    /// discovery (the provider may have rotated its keys).
    async fn verify_response(
        &self,
        d: Arc<Discovered>,
        tokens: &EsiaTokenResponse,
        nonce: NonceCheck<'_>,
    ) -> Result<TokenSet, OidcError> {
        let id = match tokens.id_token() {
            None => None,
            Some(token) => Some(
                match verify_id_token(&d.client, token, tokens, &nonce) {
                    Err(ClaimsVerificationError::SignatureVerification(_)) => {
                        let fresh = self.rediscover().await?;
                        verify_id_token(&fresh.client, token, tokens, &nonce)
                    }
                    other => other,
                }
                .map_err(|e| OidcError::Invalid(error_chain(&e)))?,
            ),
        };
        Ok(TokenSet {
            access_token: tokens.access_token().secret().clone(),
            access_expires_at: tokens.expires_in().map(|d| unix_now() + d.as_secs() as i64),
            refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
            id,
        })
    }
}

fn token_error(
    e: RequestTokenError<HttpError, StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => OidcError::Rejected {
            code: r.error().as_ref().to_string(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(e) => OidcError::Unavailable(error_chain(&e)),
        other => OidcError::Invalid(error_chain(&other)),
    }
}

/// An error with its causes, for logs and the technical line of an error page.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
