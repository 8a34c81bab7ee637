//! What happens on each flow: login identifiers, the key ring, token minting, SSO sessions,
//! the authorization decision, logout with back-channel notices, clients and demo data.

pub mod authorization;
pub mod backchannel;
pub mod clients;
pub mod codes;
pub mod demo;
pub mod identifiers;
pub mod keyring;
pub mod login;
pub mod messages;
pub mod password_policy;
pub mod tokens;
