//! The `idp` binary: parses the command line and runs it.

use clap::Parser;

fn main() {
    let cli = idp::cli::Cli::parse();
    init_logging(log_format(&cli).as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(idp::cli::run(cli));
    std::process::exit(code);
}

/// `[log] format` of the command's configuration (`IDP_LOG__FORMAT` overlays it, as any
/// setting); the older `IDP_LOG_FORMAT` variable still wins. A configuration that does not
/// load is reported by the command itself, with text logs meanwhile.
fn log_format(cli: &idp::cli::Cli) -> Option<String> {
    use idp::cli::Command;
    if let Ok(f) = std::env::var("IDP_LOG_FORMAT") {
        return Some(f);
    }
    let target = match &cli.command {
        Command::Dev { target }
        | Command::Serve { target }
        | Command::Migrate { target }
        | Command::Keys { target, .. }
        | Command::Clients { target, .. }
        | Command::Users { target, .. }
        | Command::Admins { target, .. }
        | Command::Operators { target, .. }
        | Command::Letters { target, .. } => target,
        _ => return None,
    };
    target.load().ok().and_then(|c| c.log.format)
}

/// `RUST_LOG` filters (default `info`); format `json` for structured logs (one object a
/// line, with the `request` span's `request_id`, `method` and `route`), else text.
fn init_logging(format: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == Some("json") {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}
