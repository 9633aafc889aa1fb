//! What the code defines, gathered once per test: the names a page may use.
//!
//! From the code itself, through `docgen`: every program's settings (clap), every metric of the
//! services' registries, every route of their OpenAPI documents, `cargo xtask`'s subcommands and
//! flags. From the sources on disk: the development OTLP receiver's routes, Rust constants and
//! the variables the sources read, the variables the deployment files (`infra/`, CI) use, and
//! every file and folder of the repository. What remains — names owned by other software — is
//! listed below, each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use regex::Regex;

/// Variables of other software that the pages name on purpose.
pub const EXTERNAL_VARIABLES: &[(&str, &str)] = &[
    (
        "RUST_BACKTRACE",
        "the Rust standard library's backtrace switch",
    ),
    (
        "CARGO_PKG_VERSION",
        "set by cargo at compile time; the services' `service.version`",
    ),
    (
        "CARGO_MANIFEST_DIR",
        "set by cargo; how xtask and the tests find the workspace",
    ),
    (
        "CARGO_INCREMENTAL",
        "cargo's incremental-compilation switch, off in CI",
    ),
    ("CARGO_TARGET_DIR", "cargo's build-output directory"),
];

/// Endpoints of the other processes the pages send readers to, by their default port: the
/// routes of Prometheus's HTTP API and UI (9090), Tempo's API (3200), Grafana (3000) and the
/// Collector's OTLP receivers (4317/4318) and metrics (8888) that the pages use.
pub const TOOL_ENDPOINTS: &[(u16, &[&str])] = &[
    (
        9090,
        &[
            "/",
            "/graph",
            "/alerts",
            "/rules",
            "/targets",
            "/-/ready",
            "/-/healthy",
            "/api/v1/query",
            "/api/v1/query_range",
            "/api/v1/query_exemplars",
            "/api/v1/series",
            "/api/v1/labels",
            "/api/v1/targets",
            "/api/v1/rules",
            "/api/v1/alerts",
            "/api/v1/status/config",
            "/api/v1/status/flags",
            "/api/v1/status/buildinfo",
            "/api/v1/write",
        ],
    ),
    (
        3200,
        &[
            "/api/traces/{trace_id}",
            "/api/search",
            "/ready",
            "/metrics",
            "/status",
        ],
    ),
    (3000, &["/", "/d/{uid}", "/explore", "/api/health"]),
    (4317, &[]),
    (8888, &["/metrics"]),
];

/// The default ports of the services and the development OTLP receiver, as `cargo xtask up`
/// binds them.
pub const SERVICE_PORTS: &[(u16, &str)] = &[
    (8080, "order-service"),
    (8081, "catalog-service"),
    (8082, "payment-gateway"),
    (4318, "otlp-sink"),
];

/// Top-level folders whose content is produced at run time (cargo's output, the services'
/// SQLite files), so a page may name paths in them that no checkout has.
pub const RUNTIME_DIRS: &[&str] = &["target", "data"];

#[derive(Debug, Default)]
pub struct Facts {
    /// Metric name (and each series name of a histogram) → services exposing it.
    pub metrics: BTreeMap<String, BTreeSet<String>>,
    /// Environment variables any program reads through its command line.
    pub settings: BTreeSet<String>,
    /// Other upper-snake names the code owns: Rust constants, variables the sources read,
    /// variables the deployment files set.
    pub code_names: BTreeSet<String>,
    /// Endpoint templates by default port; port 0 holds every one.
    pub endpoints: BTreeMap<u16, BTreeSet<String>>,
    /// `cargo xtask` subcommand → its long flags.
    pub xtask: BTreeMap<String, BTreeSet<String>>,
    /// Every file and folder of the repository, relative, `/`-separated.
    pub files: BTreeSet<String>,
    /// Names at the repository root.
    pub top_level: BTreeSet<String>,
}

impl Facts {
    pub fn gather(root: &Path) -> Result<Facts, String> {
        let mut facts = Facts::default();

        for service in docgen::metrics::all().map_err(|e| format!("{e:#}"))? {
            for m in &service.metrics {
                // A histogram's series are names a query uses too.
                for name in std::iter::once(m.name.clone()).chain(m.series()) {
                    facts
                        .metrics
                        .entry(name)
                        .or_default()
                        .insert(service.service.clone());
                }
            }
        }
        for program in docgen::programs::all() {
            facts
                .settings
                .extend(program.variables().map(str::to_owned));
        }
        for (sub, flags) in docgen::programs::xtask_subcommands() {
            facts.xtask.insert(sub, flags.into_iter().collect());
        }

        let service_port = |service: &str| {
            SERVICE_PORTS
                .iter()
                .find(|(_, s)| *s == service)
                .map(|(p, _)| *p)
        };
        for e in docgen::endpoints::all() {
            if let Some(port) = service_port(e.service) {
                facts.endpoints.entry(port).or_default().insert(e.path);
            }
        }
        let sink_routes = fs::read_to_string(root.join("crates/otlp-sink/src/routes.rs"))
            .map_err(|e| format!("reading the OTLP receiver's routes: {e}"))?;
        let route = Regex::new(r#"\.route\(\s*"([^"]+)""#).map_err(|e| e.to_string())?;
        for c in route.captures_iter(&sink_routes) {
            facts
                .endpoints
                .entry(4318)
                .or_default()
                .insert(c[1].to_owned());
        }
        for (port, routes) in TOOL_ENDPOINTS {
            let set = facts.endpoints.entry(*port).or_default();
            set.extend(routes.iter().map(|r| (*r).to_owned()));
        }
        let every: BTreeSet<String> = facts.endpoints.values().flatten().cloned().collect();
        facts.endpoints.insert(0, every);

        index(root, root, &mut facts.files).map_err(|e| format!("listing the repository: {e}"))?;
        facts.top_level = facts
            .files
            .iter()
            .filter(|f| !f.contains('/'))
            .cloned()
            .collect();
        facts.code_names = code_names(root, &facts.files)?;
        Ok(facts)
    }

    /// Whether an upper-snake name is one the code or its neighbours own.
    pub fn knows_variable(&self, name: &str) -> bool {
        self.settings.contains(name)
            || self.code_names.contains(name)
            || EXTERNAL_VARIABLES.iter().any(|(n, _)| *n == name)
    }
}

/// Every file and folder below `dir`, except version control and build output.
fn index(root: &Path, dir: &Path, out: &mut BTreeSet<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if matches!(name, ".git" | "node_modules") || (dir == root && RUNTIME_DIRS.contains(&name))
        {
            continue;
        }
        if let Ok(rel) = path.strip_prefix(root) {
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
        if path.is_dir() {
            index(root, &path, out)?;
        }
    }
    Ok(())
}

/// Upper-snake names the repository owns outside the command lines: Rust `const`/`static`
/// items, variables Rust sources read (`var("…")`, `var_os("…")`, a `&str` constant naming
/// one), and every upper-snake word of the deployment and CI files.
fn code_names(root: &Path, files: &BTreeSet<String>) -> Result<BTreeSet<String>, String> {
    let item =
        Regex::new(r"\b(?:const|static)\s+([A-Z][A-Z0-9_]*)\s*:").map_err(|e| e.to_string())?;
    let read = Regex::new(r#"(?:var|var_os|env_remove|&str\s*=)\(?\s*"([A-Z][A-Z0-9_]*)""#)
        .map_err(|e| e.to_string())?;
    let word = Regex::new(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b").map_err(|e| e.to_string())?;
    let mut names = BTreeSet::new();
    for file in files {
        let deployment =
            file.starts_with("infra/") || file.starts_with(".ci/") || file.starts_with(".github/");
        let rust = file.ends_with(".rs");
        if !deployment && !rust {
            continue;
        }
        let Ok(text) = fs::read_to_string(root.join(file)) else {
            continue;
        };
        if rust {
            for c in item.captures_iter(&text).chain(read.captures_iter(&text)) {
                names.insert(c[1].to_owned());
            }
        } else {
            names.extend(word.find_iter(&text).map(|m| m.as_str().to_owned()));
        }
    }
    Ok(names)
}
