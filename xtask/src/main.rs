//! `cargo xtask`: this workspace's developer workflows, written in Rust.
//!
//! Why an xtask rather than a Makefile or a folder of shell scripts: it runs wherever `cargo`
//! runs (no make, bash, just or Python to install first), it is type-checked and linted like the
//! rest of the code, and CI runs exactly what a developer runs (`.ci/run` and the GitHub workflow
//! both end in `cargo xtask test`). The alias lives in `.cargo/config.toml`.
//!
//! Commands (every flag is documented in [`flags`], and in `cargo xtask <command> --help`):
//! - `cargo xtask test` ([`test`]): the README's test command: rustfmt, clippy with
//!   `-D warnings`, the one-OpenTelemetry-version check, the structure checks of [`checks`] (no
//!   import cycle between files, no unused dependency), then every test.
//! - `cargo xtask up` ([`up`]): the whole stack, with Docker compose when a Docker engine
//!   answers, otherwise as local processes next to the development OTLP receiver and Prometheus.
//! - `cargo xtask down` ([`down`]): stops what `up` started.
//! - `cargo xtask bench` ([`bench`]): telemetry overhead figures (criterion + `wrk`), see
//!   docs/BENCHMARKS.md.
//! - `cargo xtask traffic | exemplars | doctor` ([`storectl`]): the incident loop; they build
//!   and run `storectl` (crates/storectl), which needs the HTTP client xtask does without.
//! - `cargo xtask soak` ([`soak`]): the store under traffic through a fault schedule, its books
//!   checked afterwards; builds and runs the `soak` binary (crates/soak).
//! - `cargo xtask docs` ([`docs`]): the reference pages generated from the code
//!   (docs/reference/), written by the `docgen` crate.
//!
//! Helpers: [`stack`] (what `up`'s local stack is made of, where its logs and pid files live).
//! Starting, health-checking, logging and stopping processes is the `devstack` crate's job, shared
//! with the system tests. `tidy` holds repository checks that run as `#[test]`s.
//!
//! **Architecture Invariant:** xtask depends on one workspace crate only, `devstack`, which is
//! itself std-only dev tooling (no async runtime, no HTTP client). Nothing that a service links
//! may enter xtask's graph: it must build in seconds, before anything else, even when the
//! services don't compile.

mod bench;
mod checks;
mod docs;
mod down;
mod flags;
mod soak;
mod stack;
mod storectl;
mod test;
#[cfg(test)]
mod tidy;
mod up;

use std::env;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use xshell::Shell;

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    match run(flags) {
        Ok(code) => code,
        Err(err) => {
            // The cause chain, without the backtrace anyhow adds under RUST_BACKTRACE: the
            // failing command's own output, just above, is what matters.
            eprintln!("\nerror: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(flags: flags::Xtask) -> Result<ExitCode> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());

    let done = |result: Result<()>| result.map(|()| ExitCode::SUCCESS);
    match flags.subcommand {
        flags::XtaskCmd::Test(cmd) => done(cmd.run(&sh)),
        flags::XtaskCmd::Up(cmd) => done(cmd.run(&sh)),
        flags::XtaskCmd::Down(cmd) => done(cmd.run(&sh)),
        flags::XtaskCmd::Bench(cmd) => done(cmd.run(&sh)),
        // storectl's exit status is the answer (`doctor`: 1 when a link is broken).
        flags::XtaskCmd::Traffic(cmd) => cmd.run(&sh),
        flags::XtaskCmd::Exemplars(cmd) => cmd.run(&sh),
        flags::XtaskCmd::Doctor(cmd) => cmd.run(&sh),
        // The soak's exit status is its verdict.
        flags::XtaskCmd::Soak(cmd) => cmd.run(&sh),
        flags::XtaskCmd::Docs(cmd) => done(cmd.run(&sh)),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
///
/// Cargo sets `CARGO_MANIFEST_DIR` when it runs the alias; the compile-time value is the fallback
/// for running the built binary directly.
pub(crate) fn project_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask/ lives directly below the workspace root")
        .to_path_buf()
}
