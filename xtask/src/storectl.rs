//! `cargo xtask traffic | exemplars | doctor`: build and run `storectl` (crates/storectl) with
//! the arguments as given, `--help` included.
//!
//! Why they are not xtask code: they need an async HTTP client, and xtask stays std-only so it
//! builds in seconds; and `storectl` is useful on its own against any deployment (compose,
//! Kubernetes). These commands only make it one `cargo xtask` away.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::flags;

impl flags::Traffic {
    pub(crate) fn run(self, sh: &Shell) -> Result<ExitCode> {
        storectl(sh, "traffic", &self.args)
    }
}

impl flags::Exemplars {
    pub(crate) fn run(self, sh: &Shell) -> Result<ExitCode> {
        storectl(sh, "exemplars", &self.args)
    }
}

impl flags::Doctor {
    pub(crate) fn run(self, sh: &Shell) -> Result<ExitCode> {
        storectl(sh, "doctor", &self.args)
    }
}

/// `cargo run -q --release -p storectl -- <command> <args>`, from the workspace root (so the
/// doctor finds infra/), ending with storectl's own exit status.
fn storectl(sh: &Shell, command: &str, args: &[String]) -> Result<ExitCode> {
    let mut child: Command = cmd!(
        sh,
        "cargo run -q --release -p storectl -- {command} {args...}"
    )
    .into();
    // Ctrl-C reaches storectl too (same process group). Outlive it instead of dying first, so
    // its last words (faults restored, the summary) land before the shell prompt does.
    devstack::os::install_interrupt_handler();
    let status = child
        .status()
        .context("running `cargo run -p storectl` (is cargo on PATH?)")?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Killed by a signal.
        None => ExitCode::FAILURE,
    })
}
