//! The ESIA compatibility profile: speaking the real ESIA's own OAuth dialect (signed
//! `client_secret`, `/aas/oauth2/...` paths, the `/rs/prns` person API, GOST cryptography) so
//! that unmodified ESIA client code can log a demo citizen in (issue 8, `docs/esia-compat.md`).
//!
//! What exists so far is the cryptographic foundation:
//! - [`gost`]: GOST R 34.10-2012 (256-bit) signing and verification on the CryptoPro, TC26 and
//!   test curves, and Streebog-256, with the byte orders OpenSSL's gost-engine uses;
//! - [`certificate`]: X.509 certificates with GOST keys and `client_certificate_hash`.
//!
//! Not yet: the endpoints (`/aas/oauth2/{ac,v2/ac,te,v3/te}`, `/idp/ext/Logout`, `/rs/prns`),
//! `client_secret` checking, ESIA-shaped tokens, client-system registration with certificates.

pub mod certificate;
pub mod gost;
