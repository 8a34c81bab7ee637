//! The pages citizens see at the identity provider: login, consent, errors, logout and the landing page.
//!
//! Pure rendering with [askama] templates (`templates/*.html`, sharing `base.html`): no HTTP, no async.
//! Everything is in Russian first, with English available ([`Lang::En`]). The pages are built for a strict
//! `Content-Security-Policy: default-src 'self'`: no inline scripts or styles, no external resources. The
//! server serves [`STYLESHEET`] at `/assets/style.css` and [`SCRIPT`] at `/assets/app.js`; the script is
//! progressive enhancement only (show/hide password, no double submission), every page works without it.
//!
//! Form field names (`tx`, `csrf`, `login`, `password`, `foreign_computer`, `decision`, `confirm`) are
//! a contract with the server.

mod cabinet;
mod cabinet_pages;
mod identity_pages;
mod lang;
mod levels;
mod messages;
mod outbox;
mod pages;
mod passkeys;
mod permissions;
mod profile;
mod profile_texts;
mod recovery;
mod registration;
mod scopes;
mod security_pages;
mod signature;
mod strong_auth;
mod texts;
mod upstream;

#[cfg(test)]
mod tests;

pub use cabinet::{cabinet_nav, render_security_hub};
pub use cabinet_pages::{
    CabinetFrame, DeviceRow, FeedFilter, FeedRow, LoginRow, NotificationForm, Paging, SessionRow,
    render_feed, render_logins, render_notifications, render_sessions,
};
pub use identity_pages::{
    IdentityDocumentRow, IdentityFormValues, IdentityPage, LetterRow, render_identity_page,
};
pub use lang::Lang;
pub use messages::message;
pub use outbox::{OutboxPage, OutboxRow, format_utc, render_outbox};
pub use pages::{
    ConsentPage, ErrorPage, HomePage, LoggedOutPage, LoginPage, LogoutConfirmPage, render_consent,
    render_consent_with, render_error, render_home, render_logged_out, render_login,
    render_logout_confirm,
};
pub use passkeys::{PasskeyRow, PasskeysPage, render_passkeys};
pub use permissions::{
    ConsentPermission, PermissionHistoryRow, PermissionRow, PermissionsPage, action_label,
    format_date, purpose_label, render_permissions,
};
pub use profile::{
    AddressRow, ContactRow, EmailLinkPage, HistoryRow, KidRow, OrgRow, PendingContact, ProfileBody,
    ProfileFrame, ProfileSection, VehicleRow, render_profile, render_profile_deleted,
    render_profile_email_link, render_profile_login_required,
};
pub use recovery::{RecoveryFlow, RecoveryMessage, RecoveryPage, RecoveryStep, render_recovery};
pub use registration::{
    CodeChannel, CodePage, LinkConfirmPage, LinkSentPage, PasswordPage, RegisterPage,
    RegisteredPage, render_register, render_register_code, render_register_confirm,
    render_register_password, render_register_sent, render_registered, strength_label,
};
pub use scopes::scope_label;
pub use security_pages::{
    CertificateRow, SecurityFrame, TwoStepPage, qr_svg, render_security_password,
    render_security_question, render_security_signature, render_security_two_step,
    second_factor_name,
};
pub use signature::{SignaturePage, render_login_signature};
pub use strong_auth::{
    LevelTooLowPage, SecondChoice, StrongAuthPage, StrongAuthStep, render_level_too_low,
    render_strong_auth,
};
pub use upstream::{UpstreamMessage, UpstreamPage, render_upstream};

/// The stylesheet, to be served at `/assets/style.css` (`text/css; charset=utf-8`).
pub const STYLESHEET: &str = include_str!("../assets/style.css");

/// The icon, to be served at `/favicon.svg` and `/favicon.ico` (`image/svg+xml`).
pub const FAVICON: &str = include_str!("../assets/favicon.svg");

/// The script, to be served at `/assets/app.js` (`text/javascript; charset=utf-8`).
pub const SCRIPT: &str = include_str!("../assets/app.js");

/// The passkeys script, served at `/assets/passkeys.js`.
pub const PASSKEYS_SCRIPT: &str = include_str!("../assets/passkeys.js");
