//! Protocol types without I/O: OAuth/OIDC error codes, authorization and token requests as
//! validated types, PKCE, scopes and the claims they release, account levels as `acr`.
//! Depends on serde, url and the JOSE helpers only (no axum, sqlx or tokio).

pub mod acr;
pub mod authorize;
pub mod claims;
pub mod client;
pub mod doc_claims;
pub mod error;
pub mod permissions;
pub mod pkce;
pub mod scope;
pub mod token_request;

pub use error::{ErrorCode, OAuthError};
