//! `loadgen`: the load generator for the provider's hot paths. `loadgen run --scenario S`
//! prepares over HTTP (clients, real logins for user tokens), then drives `--connections`
//! keep-alive HTTP/1.1 connections for `--seconds` after a warm-up and reports operations
//! per second, latency percentiles and errors (for `mixed`, also per operation kind).
//! `loadgen summary` turns the JSON lines of several runs into the markdown table of
//! docs/performance.md. See bench/run.sh and bench/cluster.sh.

mod argon;
mod esia;
mod flow;
mod http;
mod mix;
mod mixed;
mod ops;
mod report;
mod runner;
mod scenario;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::flow::ClientCreds;
use crate::http::ClientKind;
use crate::mix::Mix;
use crate::report::Report;
use crate::scenario::{Scenario, Target};

#[derive(Parser)]
#[command(name = "loadgen", about = "Load generator for the identity provider")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure one scenario.
    Run(Box<RunArgs>),
    /// Print the markdown table of a file of `run --json` lines.
    Summary {
        /// JSON lines written by `loadgen run --json`.
        results: PathBuf,
        /// The server's VmRSS right after start, in KiB.
        #[arg(long)]
        idle_rss_kib: Option<u64>,
        /// The server's VmRSS after all runs, in KiB.
        #[arg(long)]
        after_rss_kib: Option<u64>,
    },
}

#[derive(Args)]
struct RunArgs {
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// The provider's base URL (its issuer). Repeatable or comma-separated for several nodes
    /// sharing one database and cache: connections are spread over them round-robin.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:18931")]
    url: Vec<url::Url>,
    /// Length of the measured window.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Load before the window that is not counted.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Concurrent keep-alive connections, one worker each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// HTTP client library.
    #[arg(long, value_enum, default_value_t = ClientKind::Hyper)]
    client: ClientKind,
    /// Print one JSON line instead of the table.
    #[arg(long)]
    json: bool,
    /// The server's process id, to report its CPU use over the window. Repeatable or
    /// comma-separated for several nodes (their CPU is summed).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Backing services' process ids (PostgreSQL's postmaster, Redis): their CPU and their
    /// children's is reported as `backing_cpu` and left out of `other_cpu`.
    #[arg(long, value_delimiter = ',')]
    backing_pid: Vec<u32>,
    #[arg(long, default_value = "fns-lk")]
    client_id: String,
    #[arg(long, default_value = "fns-demo-secret")]
    client_secret: String,
    /// A client registered with `idp clients create ... --access-token-alg RS256`.
    #[arg(long, default_value = "bench-rs256")]
    rs256_client_id: String,
    #[arg(long, default_value = "bench-rs256-secret")]
    rs256_client_secret: String,
    /// Demo citizens to log in as (repeatable); workers take them in turn.
    #[arg(long = "login", default_values_t = ["+79000000001".to_string(), "+79000000002".to_string(), "+79000000003".to_string()])]
    logins: Vec<String>,
    #[arg(long, default_value = "Gosuslugi-2026!")]
    password: String,
    /// The weights of `mixed`: `kind=weight,...` over login, code, refresh, userinfo,
    /// introspection, client-credentials. Each worker cycles through them, spread evenly.
    #[arg(long, default_value = mix::DEFAULT_MIX)]
    mix: Mix,
    /// The ESIA client system of `esia-refresh-v3` (`idp clients create --esia-certificate`).
    #[arg(long, default_value = "bench-esia")]
    esia_system: String,
    /// Its GOST private key (PKCS#8 PEM) and certificate.
    #[arg(long, default_value = "keys/esia/systems/is-gost.key")]
    esia_key: PathBuf,
    #[arg(long, default_value = "keys/esia/systems/is-gost.pem")]
    esia_certificate: PathBuf,
    /// Argon2id memory cost for `argon2` (the server's default).
    #[arg(long, default_value_t = 19_456)]
    argon2_memory_kib: u32,
    #[arg(long, default_value_t = 2)]
    argon2_iterations: u32,
    #[arg(long, default_value_t = 1)]
    argon2_parallelism: u32,
}

fn main() -> ExitCode {
    // reqwest is built without a default TLS provider; it needs one installed even for http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::Summary {
            results,
            idle_rss_kib,
            after_rss_kib,
        } => summary(&results, idle_rss_kib, after_rss_kib),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    if args.connections == 0 || args.seconds <= 0.0 || args.warmup < 0.0 {
        return Err("--connections and --seconds must be positive".into());
    }
    let window = Duration::from_secs_f64(args.seconds);
    let warmup = Duration::from_secs_f64(args.warmup);
    let report = if args.scenario == Scenario::Argon2 {
        let cost = argon::Cost {
            memory_kib: args.argon2_memory_kib,
            iterations: args.argon2_iterations,
            parallelism: args.argon2_parallelism,
        };
        Report::new(
            args.scenario.name(),
            None,
            1,
            argon::run(cost, warmup, window)?,
        )
    } else {
        // One thread: under `taskset -c 1` the load generator owns exactly one core.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(http_run(&args, warmup, window))?
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

async fn http_run(args: &RunArgs, warmup: Duration, window: Duration) -> Result<Report, String> {
    let target = Target {
        bases: args.url.clone(),
        client_kind: args.client,
        client: ClientCreds {
            id: args.client_id.clone(),
            secret: args.client_secret.clone(),
        },
        rs256_client: ClientCreds {
            id: args.rs256_client_id.clone(),
            secret: args.rs256_client_secret.clone(),
        },
        logins: args.logins.clone(),
        password: args.password.clone(),
        mix: args.mix.clone(),
        esia: if args.scenario == Scenario::EsiaRefreshV3 {
            Some(
                esia::EsiaSystem::load(&args.esia_system, &args.esia_key, &args.esia_certificate)
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        },
    };
    let workers = scenario::prepare(args.scenario, &target, args.connections)
        .await
        .map_err(|e| format!("setup of {} failed: {e}", args.scenario.name()))?;
    let measured = runner::run(workers, warmup, window, &args.server_pid, &args.backing_pid).await;
    let client = serde_json::to_value(args.client)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut report = Report::new(args.scenario.name(), client, args.connections, measured);
    if args.scenario == Scenario::Mixed {
        report.mix = Some(args.mix.to_string());
    }
    Ok(report)
}

fn summary(path: &PathBuf, idle: Option<u64>, after: Option<u64>) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let reports = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str::<Report>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not JSON lines of reports: {e}", path.display()))?;
    print!("{}", report::summary(&reports, idle, after));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(argv: &[&str]) -> Option<RunArgs> {
        match Cli::try_parse_from(argv).ok()?.command {
            Command::Run(a) => Some(*a),
            Command::Summary { .. } => None,
        }
    }

    #[test]
    fn one_url_by_default_several_by_repetition_or_commas() {
        let one = run_args(&["loadgen", "run", "--scenario", "userinfo"]);
        assert_eq!(
            one.map(|a| a.url.iter().map(|u| u.to_string()).collect::<Vec<_>>()),
            Some(vec!["http://127.0.0.1:18931/".to_string()])
        );
        let ports = |argv: &[&str]| {
            run_args(argv).map(|a| a.url.iter().map(|u| u.port()).collect::<Vec<_>>())
        };
        let three = [Some(1), Some(2), Some(3)].to_vec();
        assert_eq!(
            ports(&[
                "loadgen",
                "run",
                "--scenario",
                "refresh",
                "--url",
                "http://127.0.0.1:1",
                "--url",
                "http://127.0.0.1:2",
                "--url",
                "http://127.0.0.1:3",
            ]),
            Some(three.clone())
        );
        assert_eq!(
            ports(&[
                "loadgen",
                "run",
                "--scenario",
                "refresh",
                "--url",
                "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3",
            ]),
            Some(three)
        );
        let pids = run_args(&[
            "loadgen",
            "run",
            "--scenario",
            "refresh",
            "--server-pid",
            "10,11",
        ])
        .map(|a| a.server_pid);
        assert_eq!(pids, Some(vec![10, 11]));
    }

    #[test]
    fn the_mix_is_read_from_the_command_line_and_checked() {
        let mix = |argv: &[&str]| run_args(argv).map(|a| a.mix.to_string());
        assert_eq!(
            mix(&["loadgen", "run", "--scenario", "mixed"]).as_deref(),
            Some(mix::DEFAULT_MIX)
        );
        assert_eq!(
            mix(&[
                "loadgen",
                "run",
                "--scenario",
                "mixed",
                "--mix",
                "userinfo=1,code=1"
            ])
            .as_deref(),
            Some("userinfo=1,code=1")
        );
        assert!(run_args(&["loadgen", "run", "--scenario", "mixed", "--mix", "nope=1"]).is_none());
    }
}
