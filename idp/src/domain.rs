//! What happens on each flow: login identifiers, the key ring, token minting, SSO sessions,
//! the authorization decision, logout with back-channel notices, clients and demo data.

pub mod assurance;
pub mod authorization;
pub mod backchannel;
pub mod clients;
pub mod codes;
pub mod demo;
pub mod documents;
pub mod identifiers;
pub mod jobs;
pub mod keyring;
pub mod lockout;
pub mod login;
pub mod login_history;
pub mod messages;
pub mod mfa;
pub mod passkeys;
pub mod password_policy;
pub mod permissions;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod secret_question;
pub mod signature;
pub mod tokens;
pub mod totp;
pub mod upstream;
pub mod user_agent;
pub mod verification;
