//! Fenced shell blocks marked runnable: ```` ```sh runnable ````.
//!
//! The page keeps the addresses a reader of `cargo xtask up` uses (`http://127.0.0.1:8080`, …);
//! before a block runs, each `127.0.0.1:<port>` / `localhost:<port>` of a stack process is
//! rewritten to where the test's own stack listens, so the block stays copy-pasteable and the
//! test needs no fixed port. A block naming any other local port fails: the test has nothing
//! there. Blocks run in reading order (one stack for all, as for a reader), from the
//! repository root, with `bash -e -o pipefail`, and must exit 0 within [`BLOCK_TIMEOUT`].
//!
//! Because `curl` exits 0 on an HTTP error, every `curl` in a runnable block must pass `-f`,
//! `--fail` or `--fail-with-body`; otherwise a 500 would pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::markdown::Page;

/// The info-string word that marks a block runnable.
pub const MARKER: &str = "runnable";
/// A block's liveness deadline: generous, the commands are meant to take a second.
pub const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Programs a block may need that a machine may lack: a block using one that is missing fails,
/// naming it (blocks using `promtool` or Prometheus's port run only in the test marked
/// `needs_prometheus`/`needs_promtool`).
pub const EXTERNAL_PROGRAMS: &[&str] = &["curl", "promtool", "jq", "python3"];
/// The ports of the stack's processes, as the pages write them.
pub const STACK_PORTS: &[u16] = &[4318, 8080, 8081, 8082, 9090];

static LOCAL_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:127\.0\.0\.1|localhost):(\d{2,5})\b").unwrap());

#[derive(Clone, Debug)]
pub struct Block {
    pub file: String,
    pub line: usize,
    pub code: String,
}

impl Block {
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The default ports the block talks to.
    pub fn ports(&self) -> BTreeSet<u16> {
        LOCAL_ADDRESS
            .captures_iter(&self.code)
            .filter_map(|c| c[1].parse().ok())
            .collect()
    }

    /// The external programs the block uses.
    pub fn programs(&self) -> Vec<&'static str> {
        EXTERNAL_PROGRAMS
            .iter()
            .copied()
            .filter(|p| words(&self.code).any(|w| w == *p))
            .collect()
    }

    /// What is wrong with the block itself, before it runs.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for port in self.ports() {
            if !STACK_PORTS.contains(&port) {
                problems.push(format!(
                    "names local port {port}, where the test stack runs nothing"
                ));
            }
        }
        for command in commands(&self.code) {
            let mut args = command.split_whitespace().skip_while(|w| *w != "curl");
            if args.next().is_some() && !args.any(is_fail_flag) {
                problems.push(format!(
                    "`curl` without -f/--fail/--fail-with-body exits 0 on an HTTP error: {}",
                    command.trim()
                ));
            }
        }
        problems
    }

    /// The code with each stack port's default address replaced by `addresses[port]`.
    pub fn substituted(&self, addresses: &BTreeMap<u16, String>) -> String {
        LOCAL_ADDRESS
            .replace_all(&self.code, |c: &regex::Captures<'_>| {
                c[1].parse::<u16>()
                    .ok()
                    .and_then(|p| addresses.get(&p).cloned())
                    .unwrap_or_else(|| c[0].to_owned())
            })
            .into_owned()
    }
}

/// Every block marked runnable, in reading order; a block marked runnable in a language other
/// than a shell is an error.
pub fn blocks(pages: &[Page]) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    for page in pages {
        for b in page.blocks.iter().filter(|b| b.has_attribute(MARKER)) {
            if !matches!(b.language(), "sh" | "bash") {
                return Err(format!(
                    "{}:{}: only `sh` and `bash` blocks can be runnable, not {:?}",
                    page.path,
                    b.line,
                    b.language()
                ));
            }
            out.push(Block {
                file: page.path.clone(),
                line: b.line,
                code: b.code.clone(),
            });
        }
    }
    Ok(out)
}

/// What one run gave.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    /// Exit code, or how it ended.
    pub status: String,
    pub output: String,
}

/// Runs `script` with bash from `cwd`, output to `log`, killed after [`BLOCK_TIMEOUT`].
pub fn run(script: &str, cwd: &Path, log: &Path) -> std::io::Result<Outcome> {
    let out = File::create(log)?;
    let mut child = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()?;
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    // Polling the child with a deadline: std has no wait-with-timeout.
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(log).unwrap_or_default();
    Ok(match status {
        Some(s) => Outcome {
            success: s.success(),
            status: s.to_string(),
            output,
        },
        None => Outcome {
            success: false,
            status: format!("killed after {BLOCK_TIMEOUT:?}"),
            output,
        },
    })
}

/// `true` when `program` is on `PATH`.
pub fn installed(program: &str) -> bool {
    Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-c",
            &format!("command -v {program}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Shell words, roughly: split on whitespace and the operators that separate commands.
fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| c.is_whitespace() || matches!(c, '|' | ';' | '&' | '(' | ')'))
        .filter(|w| !w.is_empty())
}

/// The block's commands: lines joined across trailing `\`, split at `|`, `;`, `&&`, `||`.
fn commands(code: &str) -> Vec<String> {
    let joined = code.replace("\\\n", " ");
    joined
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| {
            l.split(['|', ';', '&'])
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn is_fail_flag(arg: &str) -> bool {
    matches!(arg, "--fail" | "--fail-with-body")
        || (arg.starts_with('-')
            && !arg.starts_with("--")
            && arg.len() > 1
            && arg[1..].chars().all(|c| c.is_ascii_alphabetic())
            && arg.contains('f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(code: &str) -> Block {
        Block {
            file: "README.md".to_owned(),
            line: 1,
            code: code.to_owned(),
        }
    }

    #[test]
    fn default_addresses_become_the_stacks() {
        let b = block("curl -sSf http://127.0.0.1:8080/healthz && curl -f localhost:4318/\n");
        assert_eq!(b.ports(), BTreeSet::from([8080, 4318]));
        let addresses = BTreeMap::from([
            (8080, "127.0.0.1:40001".to_owned()),
            (4318, "127.0.0.1:40002".to_owned()),
        ]);
        assert_eq!(
            b.substituted(&addresses),
            "curl -sSf http://127.0.0.1:40001/healthz && curl -f 127.0.0.1:40002/\n"
        );
        assert!(b.problems().is_empty(), "{:?}", b.problems());
    }

    #[test]
    fn a_curl_that_cannot_fail_or_an_unknown_port_is_refused() {
        let b =
            block("curl -s -X POST http://127.0.0.1:8080/api/v1/checkout \\\n  -H 'A: b' | jq .\n");
        assert_eq!(b.problems().len(), 1, "{:?}", b.problems());
        assert_eq!(b.programs(), ["curl", "jq"]);
        let b = block("curl --fail-with-body http://127.0.0.1:3000/\n");
        assert_eq!(b.problems().len(), 1, "{:?}", b.problems());
        assert!(block("curl -fsS x").problems().is_empty());
        assert!(block("promtool test rules infra/prometheus/tests/*.yml")
            .problems()
            .is_empty());
    }

    #[test]
    fn exit_status_output_and_pipefail() {
        let dir = std::env::temp_dir().join(format!("docs-runnable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = run("echo hello", &dir, &dir.join("ok.log")).unwrap();
        assert!(ok.success && ok.output.contains("hello"), "{ok:?}");
        let piped = run("false | cat", &dir, &dir.join("pipe.log")).unwrap();
        assert!(!piped.success, "pipefail makes a failing pipeline fail");
        let stopped = run("false\necho after", &dir, &dir.join("e.log")).unwrap();
        assert!(
            !stopped.success && !stopped.output.contains("after"),
            "-e stops at the first failure"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
