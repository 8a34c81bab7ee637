//! The `idp` command: `dev` (embedded default), `serve` (production), and the operator's
//! commands for migrations, keys, clients and users. Every command works on either backend:
//! `--config FILE` (or `IDP_CONFIG`) for a configured deployment, else `--data-dir` (the dev one).

pub mod admin;
mod admins;
mod dev;
pub mod outbox;
mod verification;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::clock::Clock;
use crate::config::Config;
use crate::{App, AppState};

#[derive(Parser)]
#[command(
    name = "idp",
    version,
    about = "An OpenID Connect identity provider in the style of ESIA (Госуслуги)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the configuration comes from.
#[derive(Args, Clone, Debug)]
pub struct Target {
    /// TOML configuration file (environment overlay: IDP_SECTION__KEY=value).
    #[arg(long, env = "IDP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data folder of the embedded default (SQLite database, master key), used without --config.
    /// The IDP_SECTION__KEY overlay applies to the embedded default too.
    #[arg(long, env = "IDP_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Port of the embedded default (issuer http://127.0.0.1:PORT), used without --config.
    #[arg(long, env = "IDP_PORT", default_value_t = 8080, global = true)]
    pub port: u16,
}

impl Target {
    pub fn load(&self) -> Result<Config, String> {
        match &self.config {
            Some(path) => Config::load(path, std::env::vars()),
            None => Config::dev_with_env(&self.data_dir, self.port, std::env::vars()),
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the embedded default: SQLite in --data-dir, in-process cache, demo data, 127.0.0.1:PORT.
    Dev {
        #[command(flatten)]
        target: Target,
    },
    /// Run with a configuration file (PostgreSQL + Redis in production).
    Serve {
        #[command(flatten)]
        target: Target,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        target: Target,
    },
    /// Signing keys.
    Keys {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: admin::KeysAction,
    },
    /// Relying parties (OAuth clients).
    Clients {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: admin::ClientsAction,
    },
    /// Citizens' accounts.
    Users {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: admin::UsersAction,
    },
    /// Administrators (they register relying parties through /api/admin).
    Admins {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: admins::AdminsAction,
    },
    /// Service-centre operators (they confirm identities through /api/operator).
    Operators {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: verification::OperatorsAction,
    },
    /// Registered-mail letters with confirmation codes, to print and post.
    Letters {
        #[command(flatten)]
        target: Target,
        #[command(subcommand)]
        action: verification::LettersAction,
    },
    /// Outgoing SMS and e-mail: the newest messages and the counts by status.
    Outbox(outbox::OutboxArgs),
}

/// Runs the command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match execute(cli).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn execute(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Dev { target } => dev::run(&target).await,
        Command::Serve { target } => serve(&target).await,
        Command::Migrate { target } => build(&target).await.map(|_| println!("migrations applied")),
        Command::Keys { target, action } => admin::keys(&build(&target).await?, action).await,
        Command::Clients { target, action } => admin::clients(&build(&target).await?, action).await,
        Command::Users { target, action } => admin::users(&build(&target).await?, action).await,
        Command::Admins { target, action } => admins::run(&build(&target).await?, action).await,
        Command::Operators { target, action } => {
            verification::operators(&build(&target).await?, action).await
        }
        Command::Letters { target, action } => {
            verification::letters(&build(&target).await?, action).await
        }
        Command::Outbox(args) => outbox::run(&args).await,
    }
}

/// Builds the application state for a one-shot command (connects and migrates).
async fn build(target: &Target) -> Result<AppState, String> {
    Ok(App::build(target.load()?, Clock::default()).await?.state)
}

async fn serve(target: &Target) -> Result<(), String> {
    let Some(_) = &target.config else {
        return Err(
            "serve needs --config FILE (or IDP_CONFIG); for the embedded default use `idp dev`"
                .into(),
        );
    };
    let config = target.load()?;
    let listen = config.server.listen;
    let app = App::build(config, Clock::default()).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    tracing::info!(issuer = %app.state.issuer, %listen, "identity provider ready");
    app.serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
