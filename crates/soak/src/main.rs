//! `soak`: `cargo xtask soak` runs this binary (crates/soak). Builds the service binaries, runs
//! the soak, prints the table and, last, the one `soak:` line; exits 1 when an invariant fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use devstack::{services, Binaries, Profile};
use soak::SoakConfig;

/// The store under traffic while a fault schedule runs, then its books checked against the
/// databases. Loopback only; stops by itself.
#[derive(Debug, Parser)]
#[command(name = "soak")]
struct Cli {
    /// One pass of the fault schedule over 90 s at 12 requests/s (under 3 minutes in all).
    #[arg(long)]
    quick: bool,
    /// How long the traffic runs (default 90s with --quick, 10m otherwise).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Requests per second (default 12 with --quick, 20 otherwise).
    #[arg(long)]
    rps: Option<f64>,
    /// Seed of the request mix.
    #[arg(long)]
    seed: Option<u64>,
    /// Build and run the release profile.
    #[arg(long)]
    release: bool,
    /// A PostgreSQL URL allowed to CREATE DATABASE.
    #[arg(long, env = "SOAK_POSTGRES_URL", default_value = soak::DEFAULT_POSTGRES_URL, hide_env_values = true)]
    postgres_url: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    devstack::os::install_interrupt_handler();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("soak: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    let root = workspace_root();
    let dir = root.join("target/webstore/soak");
    // This run's logs only.
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = if cli.quick {
        SoakConfig::quick(&cli.postgres_url, &dir)
    } else {
        SoakConfig::full(&cli.postgres_url, &dir)
    };
    if let Some(duration) = cli.duration {
        config.duration = duration;
    }
    if let Some(rps) = cli.rps {
        anyhow::ensure!(rps > 0.0, "--rps must be above 0");
        config.rps = rps;
    }
    if let Some(seed) = cli.seed {
        config.seed = seed;
    }
    let profile = if cli.release {
        Profile::Release
    } else {
        Profile::Dev
    };
    eprintln!("soak: building {}", services::PACKAGES.join(", "));
    let bin =
        Binaries::build(&root, profile, &services::PACKAGES).context("building the services")?;
    let outcome = soak::run(&config, bin)?;
    print!("{}", outcome.render());
    println!("{}", outcome.final_line());
    Ok(outcome.failures().is_empty())
}

/// crates/soak/../..
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
