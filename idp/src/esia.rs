//! The ESIA compatibility profile: speaking the real ESIA's own OAuth dialect (signed
//! `client_secret`, `/aas/oauth2/...` paths, the `/rs/prns` person API, GOST cryptography) so
//! that unmodified ESIA client code can log a demo citizen in (issue 8, `docs/esia-compat.md`).
//!
//! - [`gost`], [`certificate`]: GOST R 34.10-2012 (256-bit) and Streebog-256 with OpenSSL
//!   gost-engine byte orders; certificates with GOST keys and `client_certificate_hash`;
//! - [`systems`]: client systems ("ИС") and their registered certificates (rotation);
//! - [`client_secret`]: the signed `client_secret` of the legacy (CMS) and current (raw GOST)
//!   endpoints, timestamps and `state`;
//! - [`protocol`]: `/aas/oauth2/{ac,v2/ac,te,v3/te}` and `/idp/ext/Logout` over the provider's
//!   own login, consent and session machinery; [`errors`]: the ESIA-0070xx catalogue;
//! - [`tokens`]: ESIA-shaped JWTs (RS256 or GOST3410_2012_256); [`access`]: verifying them
//!   for the person API; [`person`]: the `/rs/prns` shapes.

pub mod access;
pub mod certificate;
pub mod client_secret;
pub mod errors;
pub mod gost;
pub mod person;
pub mod protocol;
pub mod systems;
pub mod tokens;
