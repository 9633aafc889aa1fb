//! The services as an operator's files see them (their `--help`), and which optional tools are
//! installed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

/// The environment variables a binary's `--help` lists (`[env: NAME=…]`).
pub fn help_env_vars(binary: &Path) -> anyhow::Result<BTreeSet<String>> {
    let out = Command::new(binary)
        .arg("--help")
        .output()
        .with_context(|| {
            format!(
                "running {} --help (run `cargo build --workspace --bins` first)",
                binary.display()
            )
        })?;
    if !out.status.success() {
        bail!("{} --help failed", binary.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut vars = BTreeSet::new();
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("[env: ") {
        rest = &rest[i + 6..];
        let end = rest.find(['=', ']']).unwrap_or(rest.len());
        vars.insert(rest[..end].trim().to_owned());
    }
    Ok(vars)
}

/// The variables `service`'s `--help` lists; the binary is found where `cargo test
/// --workspace` builds it, beside this test binary's profile directory.
pub fn help_vars(service: &str) -> anyhow::Result<BTreeSet<String>> {
    let binary = devstack::Binaries::beside_test_binary()?.get(service)?;
    help_env_vars(&binary)
}
