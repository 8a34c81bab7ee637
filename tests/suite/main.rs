//! The cross-crate integration suite: one binary, every test against the real server over
//! HTTP, each on SQLite (embedded default) and again on PostgreSQL + Redis.

/// Defines each test twice: `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(TestApp::start(Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(TestApp::start(Backend::Postgres).await).await
                }
            }
        )*
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
