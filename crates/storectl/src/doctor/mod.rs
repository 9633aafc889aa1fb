//! `storectl doctor`: the "No exemplars appearing?" checklist as a command.
//!
//! The chain from a request to a clickable exemplar has nine links (module `links`); each is
//! checked against the running system and reported `ok`, `warn`, `FAIL` or `skip` (its
//! prerequisite failed, so its answer would mean nothing). The first `FAIL` is *the* broken link: the report
//! names it with its fix, and the command exits 1.

mod links;

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::error::Result;
use crate::http::Http;
use crate::prometheus::Prometheus;
use crate::trace::TraceBackend;

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One link of the chain, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// Stable name, e.g. `exemplar-storage`.
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, when something is wrong.
    pub fix: Option<String>,
}

impl Check {
    fn new(link: Link, status: Status, detail: impl Into<String>) -> Check {
        Check {
            id: link.id,
            title: link.title,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn ok(link: Link, detail: impl Into<String>) -> Check {
        Check::new(link, Status::Ok, detail)
    }

    fn warn(link: Link, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(link, Status::Warn, detail).with_fix(fix)
    }

    fn fail(link: Link, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(link, Status::Fail, detail).with_fix(fix)
    }

    fn skip(link: Link, needs: &[&Check]) -> Check {
        let names: Vec<&str> = needs.iter().filter(|c| !c.passed()).map(|c| c.id).collect();
        Check::new(link, Status::Skip, format!("needs {}", names.join(", ")))
    }

    fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// Ok or only a warning: what depends on it can be checked.
    pub fn passed(&self) -> bool {
        matches!(self.status, Status::Ok | Status::Warn)
    }
}

/// A link's name and title.
#[derive(Clone, Copy, Debug)]
struct Link {
    id: &'static str,
    title: &'static str,
}

/// All checks, in chain order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// The first failed link.
    pub fn broken(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    pub fn healthy(&self) -> bool {
        self.broken().is_none()
    }

    pub fn render(&self) -> String {
        let mut out = String::from("storectl doctor: the exemplar chain, link by link\n\n");
        for (n, check) in self.checks.iter().enumerate() {
            let status = match check.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Skip => "skip",
            };
            let _ = writeln!(
                out,
                "  {status:<5} {} {:<18} {}",
                n + 1,
                check.title,
                check.detail
            );
            if let (Some(fix), Status::Fail | Status::Warn) = (&check.fix, check.status) {
                let _ = writeln!(out, "{:>28}fix: {fix}", "");
            }
        }
        match self.broken() {
            None => out.push_str("\nEvery link is healthy.\n"),
            Some(check) => {
                let _ = writeln!(
                    out,
                    "\nBroken link: {} ({}). Fix it, then run doctor again: what it blocked was skipped.",
                    check.title, check.id
                );
            }
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "healthy": self.healthy(),
            "broken": self.broken().map(|c| c.id),
            "checks": self.checks,
        })
    }
}

/// Checks every link, in order.
pub async fn run(args: &DoctorArgs) -> Result<Report> {
    let http = Http::new(TIMEOUT)?;
    let prometheus = Prometheus::new(http.clone(), args.backends.prometheus_url.clone());
    let backend = TraceBackend::new(http.clone(), args.backends.trace_url.clone());

    let (services, seen) = links::services(&http, &args.urls).await;
    let prom = links::prometheus(&prometheus).await;
    let storage = if prom.passed() {
        links::exemplar_storage(&prometheus).await
    } else {
        Check::skip(links::EXEMPLAR_STORAGE, &[&prom])
    };
    let targets = if prom.passed() {
        links::targets(&prometheus, &args.urls, &seen).await
    } else {
        Check::skip(links::TARGETS, &[&prom])
    };
    let (query, exemplars) = if storage.passed() && targets.passed() {
        links::query_exemplars(&prometheus, &args.metric, args.since).await
    } else {
        (
            Check::skip(links::QUERY_EXEMPLARS, &[&storage, &targets]),
            Vec::new(),
        )
    };
    let trace_backend = links::trace_backend(&backend).await;
    let exemplar_trace = if query.passed() && trace_backend.passed() {
        links::exemplar_trace(&backend, &exemplars).await
    } else {
        Check::skip(links::EXEMPLAR_TRACE, &[&query, &trace_backend])
    };
    let sampler = links::sampler(
        args.sampler.clone(),
        args.sampler_arg.clone(),
        |key| std::env::var(key).ok(),
        &seen,
    );
    let label = exemplars
        .iter()
        .find_map(|e| e.trace_id_label.clone())
        .unwrap_or_else(|| "trace_id".to_owned());
    let grafana = links::grafana(&args.grafana_datasources, &label);

    Ok(Report {
        checks: vec![
            services,
            prom,
            storage,
            targets,
            query,
            trace_backend,
            exemplar_trace,
            sampler,
            grafana,
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_the_broken_link() {
        let a = Link {
            id: "a",
            title: "first",
        };
        let b = Link {
            id: "b",
            title: "second",
        };
        let failed = Check::fail(a, "down", "start it");
        let report = Report {
            checks: vec![
                Check::ok(b, "fine"),
                failed.clone(),
                Check::skip(b, &[&failed]),
                Check::fail(b, "also", "later"),
            ],
        };
        assert_eq!(report.broken().map(|c| c.id), Some("a"));
        assert_eq!(report.checks[2].detail, "needs a");
        let text = report.render();
        assert!(text.contains("fix: start it"), "{text}");
        assert!(text.contains("Broken link: first (a)"), "{text}");
        assert_eq!(report.to_json()["broken"], "a");
        assert!(Report {
            checks: vec![Check::warn(a, "meh", "x")]
        }
        .healthy());
    }
}
