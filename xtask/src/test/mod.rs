//! `cargo xtask test`: the one test command, identical for developers and CI.
//!
//! The runner's own output is streamed, never captured, so its closing summary is the last thing
//! printed.

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::{checks, flags, project_root};

/// The OpenTelemetry family that must be in the dependency graph exactly once each.
///
/// A bridge crate built on another `opentelemetry` minor (tracing-opentelemetry, or formerly
/// tracing-actix-web's `opentelemetry_0_*` features) still compiles, but links two
/// `opentelemetry` copies, and incoming `traceparent` headers are then silently ignored. Only
/// this check catches it.
pub(crate) const OTEL_FAMILY: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry-otlp",
    "opentelemetry-proto",
    "opentelemetry-http",
    "tracing-opentelemetry",
];

/// Read by the tests (see `crates/test-support`): `1` turns "skip, dependency missing" into a failure.
const REQUIRE_EXTERNAL: &str = "WEBSTORE_REQUIRE_EXTERNAL";

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        let ci = is_ci(env::var("CI").ok().as_deref());
        if ci {
            sh.set_var("CARGO_INCREMENTAL", "0");
            if env::var_os(REQUIRE_EXTERNAL).is_none() {
                sh.set_var(REQUIRE_EXTERNAL, "1");
            }
        }
        let require_external = ci
            || env::var(REQUIRE_EXTERNAL).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));

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
            total: if self.no_lint { 0 } else { 2 } + 4 + usize::from(doctests_step) + 1,
        };

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
        check_one_otel_version(sh)?;

        let root = project_root();
        steps.start("no import cycle between the files of a crate");
        println!("{}", checks::imports::check(&root)?);

        steps.start("no unused dependency");
        println!("{}", checks::deps::check(&root)?);

        steps.start("external test dependencies");
        probe_external_dependencies(sh, require_external);

        let no_fail_fast = ci.then_some("--no-fail-fast");
        let runner_args = &self.runner_args;
        if nextest {
            if doctests_step {
                steps.start("doctests");
                cmd!(sh, "cargo test --workspace --doc {no_fail_fast...}")
                    .run()
                    .context("doctests failed")?;
            } else {
                println!("(doctests skipped: runner arguments given)");
            }
            steps.start("tests (cargo-nextest)");
            cmd!(
                sh,
                "cargo nextest run --workspace {no_fail_fast...} {runner_args...}"
            )
            .run()
            .context("tests failed")?;
        } else {
            steps.start("tests (cargo test; install cargo-nextest for nicer output)");
            cmd!(
                sh,
                "cargo test --workspace {no_fail_fast...} {runner_args...}"
            )
            .run()
            .context("tests failed")?;
        }
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

fn check_one_otel_version(sh: &Shell) -> Result<()> {
    // The full graph with every edge kind (normal, build, dev): a second copy pulled in only by
    // a dev-dependency breaks propagation in the tests just the same.
    let tree = cmd!(sh, "cargo tree --workspace --prefix none")
        .read()
        .context("`cargo tree` failed; the one-OpenTelemetry-version check needs it")?;
    let versions = crate_versions(&tree, OTEL_FAMILY);

    if versions.is_empty() {
        println!("no OpenTelemetry crates in the dependency graph yet");
        return Ok(());
    }
    for (name, found) in &versions {
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        println!("  {name:<22} {}", found.join(", "));
    }

    let duplicated = duplicates(&versions);
    if duplicated.is_empty() {
        println!("one version each");
        return Ok(());
    }
    let mut hints = String::new();
    for (name, found) in &duplicated {
        for version in *found {
            hints.push_str(&format!("\n  cargo tree --workspace -i {name}@{version}"));
        }
    }
    bail!(
        "the OpenTelemetry family must be in one version each, found several: {}.\n\
         Two copies compile, but context from one is invisible to the other (incoming traceparent is \
         silently ignored). Keep every OpenTelemetry crate on one release line in the root Cargo.toml. \
         Who pulls in each copy:{hints}",
        duplicated
            .iter()
            .map(|(name, found)| format!("{name} {}", found.iter().cloned().collect::<Vec<_>>().join(" + ")))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// Versions of the `wanted` crates in `cargo tree --prefix none` output (with or without `-d`).
///
/// Every line of that output names one package of the graph (`name vX.Y.Z`, maybe followed by
/// `(path)`, `(proc-macro)` or `(*)`), so scanning all lines finds every version present.
fn crate_versions(tree: &str, wanted: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(version) = version.strip_prefix('v') else {
            continue;
        };
        if wanted.contains(&name) {
            versions
                .entry(name.to_owned())
                .or_default()
                .insert(version.to_owned());
        }
    }
    versions
}

fn duplicates(versions: &BTreeMap<String, BTreeSet<String>>) -> Vec<(&String, &BTreeSet<String>)> {
    versions
        .iter()
        .filter(|(_, found)| found.len() > 1)
        .collect()
}

/// A line per dependency: available, or what happens to the tests that need it.
fn probe_external_dependencies(sh: &Shell, required: bool) {
    let missing = if required {
        "MISSING — tests needing it will FAIL (WEBSTORE_REQUIRE_EXTERNAL=1)"
    } else {
        "MISSING — tests needing it will be SKIPPED (set CI=1 to make that a failure)"
    };
    let report =
        |what: &str, ok: bool| println!("  {what:<32} {}", if ok { "available" } else { missing });

    for (what, var, default) in [
        ("PostgreSQL", "WEBSTORE_TEST_POSTGRES_URL", "127.0.0.1:5432"),
        ("Redis", "WEBSTORE_TEST_REDIS_URL", "127.0.0.1:6379"),
    ] {
        let url = env::var(var).ok();
        let addr = url
            .as_deref()
            .and_then(host_port)
            .unwrap_or_else(|| default.to_owned());
        report(
            &format!("{what} at {addr}"),
            tcp_reachable(&addr, Duration::from_secs(1)),
        );
    }
    let prometheus = cmd!(sh, "prometheus --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    report("prometheus (binary on PATH)", prometheus);
}

/// `host:port` of a URL such as `postgres://user:pw@db.local:5433/name?sslmode=disable`.
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return None;
    }
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    if has_port {
        return Some(host.to_owned());
    }
    let port = match scheme {
        "postgres" | "postgresql" => 5432,
        "redis" | "rediss" => 6379,
        _ => return None,
    };
    Some(format!("{host}:{port}"))
}

fn tcp_reachable(addr: &str, timeout: Duration) -> bool {
    let Ok(addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, timeout).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed `cargo tree --workspace --prefix none` output with two opentelemetry copies.
    const TREE_WITH_TWO_COPIES: &str = "\
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)
opentelemetry v0.32.0
opentelemetry_sdk v0.32.0
opentelemetry v0.32.0 (*)
tracing-actix-web v0.7.25
opentelemetry v0.33.0
tracing-opentelemetry v0.33.1
opentelemetry v0.32.0 (*)
opentelemetry_sdk v0.32.0 (*)
opentelemetry-otlp v0.32.0
opentelemetry-http v0.32.0
opentelemetry-proto v0.32.0
otlp-sink v0.1.0 (/home/dev/webstore/crates/otlp-sink)
opentelemetry-proto v0.32.0 (*)
prost-derive v0.14.1 (proc-macro)
";

    /// Trimmed `cargo tree --workspace -d --prefix none`: groups separated by blank lines.
    const DUPLICATES_OUTPUT: &str = "\
hashbrown v0.14.5
dashmap v5.5.3

hashbrown v0.16.0
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)

opentelemetry v0.32.0
opentelemetry_sdk v0.32.0
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)

opentelemetry v0.33.0
tracing-actix-web v0.7.25
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)
";

    #[test]
    fn finds_every_version_of_the_family() {
        let versions = crate_versions(TREE_WITH_TWO_COPIES, OTEL_FAMILY);
        let opentelemetry: Vec<_> = versions["opentelemetry"].iter().cloned().collect();
        assert_eq!(opentelemetry, ["0.32.0", "0.33.0"]);
        assert_eq!(versions["tracing-opentelemetry"].len(), 1);
        assert_eq!(
            versions["opentelemetry-proto"].len(),
            1,
            "(*) repeats are the same version"
        );
        assert!(
            !versions.contains_key("telemetry"),
            "only the family is collected"
        );

        let duplicated = duplicates(&versions);
        assert_eq!(duplicated.len(), 1);
        assert_eq!(duplicated[0].0, "opentelemetry");
    }

    #[test]
    fn reads_duplicates_output_too() {
        let versions = crate_versions(DUPLICATES_OUTPUT, OTEL_FAMILY);
        assert_eq!(versions["opentelemetry"].len(), 2);
        assert!(
            !versions.contains_key("hashbrown"),
            "other duplicates are not this check's business"
        );
        assert_eq!(duplicates(&versions).len(), 1);
    }

    #[test]
    fn one_version_each_passes() {
        let tree =
            "opentelemetry v0.32.0\nopentelemetry v0.32.0 (*)\ntracing-opentelemetry v0.33.0\n\n";
        assert!(duplicates(&crate_versions(tree, OTEL_FAMILY)).is_empty());
        assert!(crate_versions("", OTEL_FAMILY).is_empty());
    }

    #[test]
    fn ci_values() {
        assert!(is_ci(Some("true")));
        assert!(is_ci(Some("1")));
        assert!(!is_ci(Some("")));
        assert!(!is_ci(Some("0")));
        assert!(!is_ci(Some("False")));
        assert!(!is_ci(None));
    }

    #[test]
    fn host_port_of_urls() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/postgres").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            host_port("postgres://u:p%40ss@db.local/x?sslmode=disable").as_deref(),
            Some("db.local:5432")
        );
        assert_eq!(
            host_port("redis://127.0.0.1:6380").as_deref(),
            Some("127.0.0.1:6380")
        );
        assert_eq!(host_port("redis://cache/0").as_deref(), Some("cache:6379"));
        assert_eq!(host_port("not a url"), None);
        assert_eq!(host_port("http://"), None);
    }
}
