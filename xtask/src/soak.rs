//! `cargo xtask soak`: build and run the `soak` binary (crates/soak) with these flags.
//!
//! Why it is not xtask code: the soak drives HTTP traffic and reads PostgreSQL, and xtask stays
//! without an async runtime or an HTTP client so it builds in seconds.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::flags;

impl flags::Soak {
    pub(crate) fn run(self, sh: &Shell) -> Result<ExitCode> {
        let mut args: Vec<String> = Vec::new();
        if self.quick {
            args.push("--quick".into());
        }
        if let Some(duration) = &self.duration {
            args.extend(["--duration".into(), duration.clone()]);
        }
        if let Some(rps) = self.rps {
            args.extend(["--rps".into(), rps.to_string()]);
        }
        if let Some(seed) = self.seed {
            args.extend(["--seed".into(), seed.to_string()]);
        }
        let release: &[&str] = if self.release { &["--release"] } else { &[] };
        if self.release {
            args.push("--release".into());
        }
        let mut child: Command = cmd!(sh, "cargo run -q {release...} -p soak -- {args...}").into();
        // The URL may hold a password: through the environment, not the command line.
        child.env("SOAK_POSTGRES_URL", &self.postgres_url);
        // Ctrl-C reaches the soak too (same process group): outlive it, so its clean-up (the
        // processes stopped, the databases dropped) finishes before the shell prompt returns.
        devstack::os::install_interrupt_handler();
        let status = child
            .status()
            .context("running `cargo run -p soak` (is cargo on PATH?)")?;
        Ok(match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        })
    }
}
