//! Running the tests: nextest (or `cargo test`) with the ignored tests included and the tests of
//! missing dependencies skipped by name, its output streamed as it comes and read on the way for
//! the runner's own counts.

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::external::Availability;
use super::summary::{self, Counts, SkipReasons};

/// How one runner invocation ended.
pub(crate) struct Run {
    pub(crate) succeeded: bool,
    /// `None` when the runner printed no summary (it failed before running tests).
    pub(crate) counts: Option<Counts>,
}

/// What every runner invocation shares.
pub(crate) struct Invocation<'a> {
    pub(crate) root: &'a Path,
    pub(crate) ci: bool,
    pub(crate) user_args: &'a [String],
    pub(crate) availability: &'a Availability,
}

impl Invocation<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env_cargo());
        command.args(args).current_dir(self.root);
        if self.ci {
            command.env("CARGO_INCREMENTAL", "0");
        }
        command
    }

    fn given(&self, flag: &str) -> bool {
        self.user_args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    }

    /// `args` then the user's, then the libtest-style arguments after one `--`.
    fn with_user_args(&self, mut args: Vec<String>, libtest_args: Vec<String>) -> Vec<String> {
        args.extend(self.user_args.iter().cloned());
        if !libtest_args.is_empty() {
            if !self.user_args.iter().any(|a| a == "--") {
                args.push("--".to_owned());
            }
            args.extend(libtest_args);
        }
        args
    }

    fn skip_args(&self) -> Vec<String> {
        self.availability
            .skip_patterns()
            .into_iter()
            .flat_map(|pattern| ["--skip".to_owned(), pattern])
            .collect()
    }

    /// `cargo nextest run --workspace --run-ignored all … -- --skip needs_<missing>::…`, with
    /// `--status-level skip` so that nextest names every test it skips: the reasons for the
    /// closing line. Skips the user's own filter caused are counted, not echoed.
    pub(crate) fn nextest(&self, reasons: &mut SkipReasons) -> Result<Run> {
        let mut args: Vec<String> = ["nextest", "run", "--workspace"].map(str::to_owned).into();
        if !self.given("--run-ignored") {
            args.extend(["--run-ignored".to_owned(), "all".to_owned()]);
        }
        if self.ci {
            args.push("--no-fail-fast".to_owned());
        }
        let list_skips = !self.given("--status-level");
        if list_skips {
            args.extend(["--status-level".to_owned(), "skip".to_owned()]);
        }
        // Piped, nextest would print without colour.
        if io::stderr().is_terminal()
            && !self.given("--color")
            && std::env::var_os("CARGO_TERM_COLOR").is_none()
        {
            args.extend(["--color".to_owned(), "always".to_owned()]);
        }
        let args = self.with_user_args(args, self.skip_args());
        let mut command = self.command(&[]);
        command.args(&args);
        let mut counts = None;
        let succeeded = stream(command, Output::Stderr, |line| {
            let plain = summary::strip_ansi(line);
            if let Some(test) = summary::nextest_skipped(&plain) {
                let missing = self.availability.missing_for(test);
                reasons.add(&missing);
                return !(list_skips && missing.is_empty());
            }
            if let Some(c) = summary::nextest_summary(&plain) {
                counts = Some(c);
            }
            true
        })
        .context("running cargo nextest")?;
        Ok(Run { succeeded, counts })
    }

    /// `cargo test --workspace … -- --include-ignored --skip needs_<missing>::…`: libtest counts
    /// what it filtered out but does not name it.
    pub(crate) fn cargo_test(&self) -> Result<Run> {
        let mut args: Vec<String> = ["test", "--workspace"].map(str::to_owned).into();
        if self.ci {
            args.push("--no-fail-fast".to_owned());
        }
        let mut libtest = Vec::new();
        if !self.given("--include-ignored") && !self.given("--ignored") {
            libtest.push("--include-ignored".to_owned());
        }
        libtest.extend(self.skip_args());
        let args = self.with_user_args(args, libtest);
        self.libtest(args).context("running cargo test")
    }

    /// `cargo test --workspace --doc` (nextest does not run doctests).
    pub(crate) fn doctests(&self) -> Result<Run> {
        let mut args: Vec<String> = ["test", "--workspace", "--doc"].map(str::to_owned).into();
        if self.ci {
            args.push("--no-fail-fast".to_owned());
        }
        self.libtest(args).context("running the doctests")
    }

    /// Runs a `cargo test` command line, adding up libtest's `test result:` lines.
    fn libtest(&self, args: Vec<String>) -> Result<Run> {
        let mut command = self.command(&[]);
        command.args(&args);
        let mut counts: Option<Counts> = None;
        let succeeded = stream(command, Output::Stdout, |line| {
            if let Some(c) = summary::libtest_result(line) {
                counts.get_or_insert_with(Counts::default).add(c);
            }
            true
        })?;
        Ok(Run { succeeded, counts })
    }
}

/// The cargo that runs xtask (`cargo xtask` sets `CARGO`), so a toolchain override holds.
fn env_cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[derive(Clone, Copy)]
enum Output {
    Stdout,
    Stderr,
}

/// Runs `command` with `which` output piped through `on_line` (which also says whether to echo
/// the line) and the other inherited; `Ok(true)` when it exits with success.
fn stream(
    mut command: Command,
    which: Output,
    mut on_line: impl FnMut(&str) -> bool,
) -> Result<bool> {
    command.stdin(Stdio::inherit());
    match which {
        Output::Stdout => command.stdout(Stdio::piped()).stderr(Stdio::inherit()),
        Output::Stderr => command.stdout(Stdio::inherit()).stderr(Stdio::piped()),
    };
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let pipe: Box<dyn Read> = match which {
        Output::Stdout => Box::new(child.stdout.take().context("piped stdout")?),
        Output::Stderr => Box::new(child.stderr.take().context("piped stderr")?),
    };
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if on_line(line) {
            // Echoed where it came from, so a failing test's output stays on the same stream.
            let written = match which {
                Output::Stdout => writeln!(io::stdout().lock(), "{line}"),
                Output::Stderr => writeln!(io::stderr().lock(), "{line}"),
            };
            written.context("echoing the runner's output")?;
        }
    }
    Ok(child.wait()?.success())
}
