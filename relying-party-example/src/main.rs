//! The example relying party: a partner site (the tax service or the pension fund) that logs
//! citizens in through the provider with the `openidconnect` crate.
//!
//! `cargo run -p relying-party-example` next to `idp dev` serves http://127.0.0.1:8081 and
//! talks to the provider at http://127.0.0.1:8080.

mod config;
mod oidc;
mod pages;
mod routes;
mod session;

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;

use config::{PersonaKind, Settings};

#[derive(Parser)]
#[command(
    name = "relying-party-example",
    version,
    about = "Example partner site: «Войти через ЕСИА» against the identity provider"
)]
struct Cli {
    /// The provider's issuer URL (its discovery document is at ISSUER/.well-known/openid-configuration).
    #[arg(long, env = "RP_ISSUER", default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// Address to listen on.
    #[arg(long, env = "RP_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The site's origin as browsers see it (redirect URIs are built from it); default http://LISTEN.
    #[arg(long, env = "RP_PUBLIC_URL")]
    public_url: Option<String>,
    /// Which partner to play: fns (the tax service) or sfr (the pension fund).
    #[arg(long, env = "RP_PERSONA", value_enum, default_value = "fns")]
    persona: PersonaKind,
    /// Client id registered at the provider (default: the persona's, as `idp dev` registers it).
    #[arg(long, env = "RP_CLIENT_ID")]
    client_id: Option<String>,
    /// Client secret (default: the persona's demo secret).
    #[arg(long, env = "RP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built without a default TLS provider; ring is ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = Settings::new(
        &cli.issuer,
        cli.listen,
        cli.public_url.as_deref(),
        cli.persona,
        cli.client_id,
        cli.client_secret,
    )?;
    let provider = oidc::Provider::new(&settings)?;
    // Not fatal: the provider may start after the site; discovery is retried on first use.
    if let Err(e) = provider.discover().await {
        tracing::warn!(error = %e, "provider discovery failed; will retry on the first login");
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e} (try --listen)", settings.listen))?;
    print_banner(&settings);
    let state = routes::AppState::new(settings, provider)?;
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

fn print_banner(s: &Settings) {
    println!("\n{} (пример сайта-партнёра)", s.persona.title);
    println!("  Site:      {}/", s.public_url);
    println!("  Provider:  {}", s.issuer);
    println!(
        "  Client:    {} (redirect {})",
        s.client_id,
        s.redirect_uri()
    );
    println!("  Scopes:    {}", s.persona.scope_string());
    println!("  Level:     {}\n", s.persona.level.acr());
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
