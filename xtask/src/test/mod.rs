//! `cargo xtask test`: the one test command, identical for developers and CI.
//!
//! The runner's own output is streamed as it comes; the last line counts passed, failed and
//! skipped tests from the runner's own summary, and says why tests were skipped.
//!
//! Layout: [`external`] probes what some tests need beyond cargo (and decides which tests to
//! skip); [`runner`] runs nextest or `cargo test` and reads their output; [`summary`] parses the
//! runners' summaries and renders the closing line; [`otel`] is the one-OpenTelemetry-version
//! check.

pub(crate) mod external;
mod otel;
mod runner;
mod summary;

use std::env;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use self::external::Availability;
use self::runner::Invocation;
use self::summary::{Closing, Counts, SkipReasons};
use crate::{checks, flags, project_root};

/// With `1` (as CI implies), a missing dependency of a test is an error before any test runs,
/// instead of its tests being skipped.
const REQUIRE_EXTERNAL: &str = "WEBSTORE_REQUIRE_EXTERNAL";

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        let ci = is_ci(env::var("CI").ok().as_deref());
        if ci {
            sh.set_var("CARGO_INCREMENTAL", "0");
        }
        let require_all = ci || env::var(REQUIRE_EXTERNAL).is_ok_and(|v| is_ci(Some(&v)));

        let nextest = cmd!(sh, "cargo nextest --version")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_ok();
        // nextest does not run doctests; with a filter or runner flags, the user asked for a subset.
        let doctests_step = nextest && self.runner_args.is_empty();

        let mut steps = Steps {
            current: 0,
            total: 1 + if self.no_lint { 0 } else { 2 } + 3 + usize::from(doctests_step) + 1,
        };

        // First, so that a CI machine without PostgreSQL fails in seconds, not after clippy.
        steps.start("what the tests need beyond cargo");
        let availability = Availability::probe();
        let missing_required = availability.missing_required();
        if require_all && !missing_required.is_empty() {
            bail!(
                "missing, and required {}: {}",
                if ci {
                    "in CI (CI is set)"
                } else {
                    "(WEBSTORE_REQUIRE_EXTERNAL=1)"
                },
                missing_required
                    .iter()
                    .map(|d| format!(
                        "{} for the needs_{} tests: {}",
                        d.describe(),
                        d.key,
                        d.install
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if !availability.missing.is_empty() {
            println!(
                "the needs_* tests of what is MISSING will be reported as skipped (with CI=1, a \
                 missing dependency is an error)"
            );
        }

        if !self.no_lint {
            steps.start("rustfmt");
            cmd!(sh, "cargo fmt --all --check")
                .run()
                .context("formatting differs: run `cargo fmt --all`, or `cargo fmt -p <crate>` for your crate")?;

            steps.start("clippy");
            cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings")
                .run()
                .context("clippy found problems")?;
        }

        steps.start("one version of each OpenTelemetry crate");
        otel::check_one_otel_version(sh)?;

        let root = project_root();
        steps.start("no import cycle between the files of a crate");
        println!("{}", checks::imports::check(&root)?);

        steps.start("no unused dependency");
        println!("{}", checks::deps::check(&root)?);

        let run = Invocation {
            root: &root,
            ci,
            user_args: &self.runner_args,
            availability: &availability,
        };
        let mut counts = Counts::default();
        let mut reasons = SkipReasons::default();
        let missing: Vec<&str> = availability.missing.iter().map(|d| d.key).collect();
        let closing = |counts: Counts, reasons: &SkipReasons| {
            Closing {
                counts,
                reasons,
                missing: &missing,
            }
            .to_string()
        };
        let mut failed = Vec::new();
        if nextest {
            if doctests_step {
                steps.start("doctests");
                let doctests = run.doctests()?;
                counts.add(doctests.counts.unwrap_or_default());
                if !doctests.succeeded {
                    failed.push("doctests");
                    if !ci {
                        bail!("{}", closing(counts, &reasons));
                    }
                }
            } else {
                println!("(doctests skipped: runner arguments given)");
            }
            steps.start("tests (cargo-nextest)");
            let tests = run.nextest(&mut reasons)?;
            counts.add(tests.counts.unwrap_or_default());
            if !tests.succeeded {
                failed.push("tests");
            }
        } else {
            steps.start("tests (cargo test; install cargo-nextest for nicer output)");
            let tests = run.cargo_test()?;
            counts.add(tests.counts.unwrap_or_default());
            if !tests.succeeded {
                failed.push("tests");
            }
        }
        let line = closing(counts, &reasons);
        if !failed.is_empty() {
            // The error is the closing line, so that it stays the last thing printed.
            bail!("{line}");
        }
        println!("\n{line}");
        Ok(())
    }
}

/// Numbered step headers, so a failure says where the run stopped.
struct Steps {
    current: usize,
    total: usize,
}

impl Steps {
    fn start(&mut self, title: &str) {
        self.current += 1;
        println!("\n==> [{}/{}] {title}", self.current, self.total);
    }
}

/// `CI=true` (GitHub), `CI=1` or any other non-empty value except `0` and `false`.
fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_values() {
        assert!(is_ci(Some("true")));
        assert!(is_ci(Some("1")));
        assert!(!is_ci(Some("")));
        assert!(!is_ci(Some("0")));
        assert!(!is_ci(Some("False")));
        assert!(!is_ci(None));
    }
}
