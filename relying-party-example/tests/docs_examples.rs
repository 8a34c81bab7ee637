//! The integration guide's examples are executed, not just shown: the curl walk-through
//! (`docs/examples/curl_flow.sh`) and the Python Authlib client
//! (`docs/examples/run_python_example.sh`), each against a fresh `idp dev` with its demo
//! clients and citizens.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::process::Command;

use common::{Provider, workspace};

#[tokio::test(flavor = "multi_thread")]
async fn curl_examples_run_against_idp_dev() {
    common::init();
    let provider = Provider::start(&[]).await;
    run_example("docs/examples/curl_flow.sh", &provider.issuer);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_authlib_example_runs_against_idp_dev() {
    common::init();
    let provider = Provider::start(&[]).await;
    run_example("docs/examples/run_python_example.sh", &provider.issuer);
}

/// Runs a script of the docs with the provider's issuer; it must print "all checks passed".
fn run_example(script: &str, issuer: &str) {
    let path = workspace().join(script);
    let out = Command::new("bash")
        .arg(&path)
        .arg(issuer)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // Every step reported: a script that silently skipped work would print fewer lines.
    assert!(
        stdout.lines().filter(|l| l.starts_with("ok: ")).count() >= 9,
        "{stdout}"
    );
}
