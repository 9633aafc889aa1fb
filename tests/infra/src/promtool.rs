//! `promtool`, Prometheus's own command-line tool: checks of `infra/prometheus`, and Prometheus's
//! parser run over any PromQL expression.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::files::workspace_root;

/// `infra/prometheus`, where `promtool` runs (the config and tests name paths relative to it).
pub fn prom_dir() -> PathBuf {
    workspace_root().join("infra/prometheus")
}

/// `promtool <args>` in `dir`: whether it succeeded, and its stdout and stderr.
pub fn run(args: &[&str], dir: &Path) -> anyhow::Result<(bool, String)> {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running promtool (apt-get install prometheus)")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

/// Prometheus's own parser over `exprs` (`(where, expression)` pairs): they are written as the
/// recording rules of one file in `scratch`, and `promtool check rules` must accept it. An
/// error lists what promtool said, with the expressions' places.
pub fn check_expressions(exprs: &[(String, String)], scratch: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(scratch)?;
    let mut rules = String::from("groups:\n  - name: expressions-under-check\n    rules:\n");
    let mut index = String::new();
    for (i, (place, expr)) in exprs.iter().enumerate() {
        let record = format!("check:expression_{i}");
        let _ = writeln!(
            rules,
            "      - record: {record}\n        expr: {}",
            serde_json::Value::String(expr.clone())
        );
        let _ = writeln!(index, "  {record}: {place}");
    }
    let file = scratch.join("expressions.yml");
    std::fs::write(&file, rules).with_context(|| format!("writing {}", file.display()))?;
    let (ok, output) = run(&["check", "rules", "expressions.yml"], scratch)?;
    if !ok {
        bail!("promtool rejects expressions:\n{output}\nwhich are:\n{index}");
    }
    Ok(())
}
