//! The cross-crate integration suite: one binary, every test against the real server over
//! HTTP, each on SQLite (embedded default) and again on PostgreSQL + Redis.

/// Defines each test twice: `name::sqlite` and `name::postgres`. With `start = f;` first,
/// each app is made by `f(backend)` (e.g. with the job worker off) instead of
/// `TestApp::start`.
macro_rules! on_both_backends {
    (start = $start:path; $(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($start(Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($start(Backend::Postgres).await).await
                }
            }
        )*
    };
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        on_both_backends! { start = TestApp::start; $(async fn $name($app: TestApp) $body)* }
    };
}

mod admin_api;
mod assurance;
mod authorize;
mod backchannel_jobs;
mod browser;
mod cabinet;
mod esia_flow;
mod esia_gost;
mod esia_rest;
mod esia_systems;
mod identity_pages;
mod messages;
mod observability;
mod oidc_flow;
mod operator_metrics;
mod passkeys;
mod permissions;
mod profile;
mod recovery;
mod registration;
mod robustness;
mod security_pages;
mod signature;
mod store;
mod strong_auth;
mod tokens;
mod upstream;
mod verification;
