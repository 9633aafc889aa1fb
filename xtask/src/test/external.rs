//! What some tests need that cargo does not provide, probed once before any test runs.
//!
//! The convention (docs/TESTING.md, `crates/test-support`): a test that needs one of the
//! [`DEPENDENCIES`] lives in a module named after it (`needs_postgres::…`; a test that needs two
//! is nested in both) and carries `#[ignore = "needs: postgres"]`. So a plain `cargo test` or
//! `cargo nextest run` reports it as ignored, never as passed; `cargo xtask test` runs the
//! ignored tests too (`--run-ignored all`) and skips, by name (`--skip needs_postgres::`), only
//! those whose dependency is missing here, which the runner then counts as skipped.
//!
//! The module names are also checked by `tidy` (every `needs_*` module in a test is one of these).

use std::env;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One thing a test may need.
#[derive(Debug)]
pub(crate) struct Dependency {
    /// The name in `needs_<key>` and in `#[ignore = "needs: <key>"]`.
    pub(crate) key: &'static str,
    /// `false` for what CI cannot install either: missing there, its tests are skipped too.
    pub(crate) required_in_ci: bool,
    /// How to get it, for the error and the probe table.
    pub(crate) install: &'static str,
    probe: Probe,
}

#[derive(Debug)]
enum Probe {
    /// A TCP connection to the host of the URL in `variable`, or to `default`.
    Server {
        what: &'static str,
        variable: &'static str,
        default: &'static str,
    },
    /// `what` is there: one of the command lines exits with success.
    Command {
        what: &'static str,
        commands: &'static [&'static [&'static str]],
    },
}

/// Every dependency a test may declare, in the order the probe table prints them.
pub(crate) const DEPENDENCIES: &[Dependency] = &[
    Dependency {
        key: "postgres",
        required_in_ci: true,
        install:
            "start PostgreSQL (trust auth for user postgres), or set WEBSTORE_TEST_POSTGRES_URL",
        probe: Probe::Server {
            what: "PostgreSQL",
            variable: "WEBSTORE_TEST_POSTGRES_URL",
            default: "127.0.0.1:5432",
        },
    },
    Dependency {
        key: "redis",
        required_in_ci: true,
        install: "start Redis, or set WEBSTORE_TEST_REDIS_URL",
        probe: Probe::Server {
            what: "Redis",
            variable: "WEBSTORE_TEST_REDIS_URL",
            default: "127.0.0.1:6379",
        },
    },
    Dependency {
        key: "redis_server",
        required_in_ci: true,
        install: "apt-get install redis-server (a test starts and stops its own)",
        probe: Probe::Command {
            what: "redis-server",
            commands: &[&["redis-server", "--version"]],
        },
    },
    Dependency {
        key: "prometheus",
        required_in_ci: true,
        install: "apt-get install prometheus",
        probe: Probe::Command {
            what: "prometheus",
            commands: &[&["prometheus", "--version"]],
        },
    },
    Dependency {
        key: "promtool",
        required_in_ci: true,
        install: "apt-get install prometheus",
        probe: Probe::Command {
            what: "promtool",
            commands: &[&["promtool", "--version"]],
        },
    },
    Dependency {
        key: "prometheus_client",
        required_in_ci: true,
        install: "pip install prometheus-client",
        probe: Probe::Command {
            what: "python3 with prometheus_client",
            commands: &[&["python3", "-c", "import prometheus_client"]],
        },
    },
    Dependency {
        key: "schemathesis",
        required_in_ci: true,
        install: "pip install schemathesis==4.32.5",
        probe: Probe::Command {
            what: "schemathesis",
            commands: &[
                &["schemathesis", "--version"],
                &["python3", "-m", "schemathesis", "--version"],
            ],
        },
    },
    Dependency {
        key: "kubectl",
        // No registry CI installs from carries a kubectl with kustomize v5 (Debian's is 1.20);
        // the YAML-level k8s checks cover the same references without it.
        required_in_ci: false,
        install: "install kubectl with kustomize v5 (optional, even in CI)",
        probe: Probe::Command {
            what: "kubectl",
            commands: &[&["kubectl", "version", "--client"]],
        },
    },
];

impl Dependency {
    /// What is probed, e.g. `PostgreSQL at 127.0.0.1:5432` or `promtool`.
    pub(crate) fn describe(&self) -> String {
        match &self.probe {
            Probe::Server {
                what,
                variable,
                default,
            } => format!("{what} at {}", server_address(variable, default)),
            Probe::Command { what, .. } => (*what).to_owned(),
        }
    }

    pub(crate) fn is_available(&self) -> bool {
        match &self.probe {
            Probe::Server {
                variable, default, ..
            } => tcp_reachable(&server_address(variable, default), Duration::from_secs(1)),
            Probe::Command { commands, .. } => commands.iter().any(|argv| succeeds(argv)),
        }
    }

    /// The path segment of every test that needs it.
    pub(crate) fn module(&self) -> String {
        format!("needs_{}::", self.key)
    }
}

/// What the probe found: the dependencies present and those missing.
#[derive(Debug, Default)]
pub(crate) struct Availability {
    pub(crate) missing: Vec<&'static Dependency>,
}

impl Availability {
    /// Probes every dependency and prints one line each.
    pub(crate) fn probe() -> Self {
        let mut availability = Self::default();
        for dependency in DEPENDENCIES {
            let available = dependency.is_available();
            let state = if available {
                "available".to_owned()
            } else {
                format!("MISSING: {}", dependency.install)
            };
            println!(
                "  {:<24} {:<34} {state}",
                format!("needs_{}", dependency.key),
                dependency.describe()
            );
            if !available {
                availability.missing.push(dependency);
            }
        }
        availability
    }

    /// The missing dependencies a CI run may not do without.
    pub(crate) fn missing_required(&self) -> Vec<&'static Dependency> {
        self.missing
            .iter()
            .copied()
            .filter(|d| d.required_in_ci)
            .collect()
    }

    /// `--skip` patterns for the tests that need a missing dependency.
    pub(crate) fn skip_patterns(&self) -> Vec<String> {
        self.missing.iter().map(|d| d.module()).collect()
    }

    /// The keys of the missing dependencies `test` (a full test name) needs, in table order.
    pub(crate) fn missing_for(&self, test: &str) -> Vec<&'static str> {
        self.missing
            .iter()
            .filter(|d| test.contains(&d.module()))
            .map(|d| d.key)
            .collect()
    }
}

/// `host:port` of the URL in `variable`, or `default` when it is unset or names no host.
fn server_address(variable: &str, default: &str) -> String {
    env::var(variable)
        .ok()
        .as_deref()
        .and_then(host_port)
        .unwrap_or_else(|| default.to_owned())
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

fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn keys_are_unique_and_never_a_prefix_of_another_module() {
        for a in DEPENDENCIES {
            for b in DEPENDENCIES {
                if a.key != b.key {
                    assert!(
                        !b.module().contains(&a.module()),
                        "{} is inside {}",
                        a.module(),
                        b.module()
                    );
                }
            }
        }
    }

    #[test]
    fn missing_dependencies_name_the_tests_they_skip() {
        let postgres = &DEPENDENCIES[0];
        let redis = &DEPENDENCIES[1];
        let availability = Availability {
            missing: vec![postgres, redis],
        };
        assert_eq!(
            availability.skip_patterns(),
            ["needs_postgres::", "needs_redis::"]
        );
        assert_eq!(
            availability.missing_for("needs_postgres::needs_redis::two_processes"),
            ["postgres", "redis"]
        );
        assert_eq!(
            availability.missing_for("needs_redis_server::outage"),
            Vec::<&str>::new(),
            "needs_redis:: is not a prefix of needs_redis_server::"
        );
        assert!(availability.missing_for("checkout::charged").is_empty());
    }
}
