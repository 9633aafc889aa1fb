//! Every name a page uses exists in the code: metric names, settings-like variables, endpoints,
//! repository paths and `cargo xtask` commands (see [`crate::facts`] for where each kind of name
//! comes from).
//!
//! What counts as a name, read from the whole page (prose and code):
//! - **metric**: a word starting `webstore_`, `http_server_`, `http_client_` or `otel_sdk_`,
//!   unless it is part of a recording rule's `level:name:operation` (a `:` next to it);
//! - **variable**: an upper-snake word with at least one `_` (`PAYMENT_TIMEOUT`);
//! - **endpoint**: a path after `http://127.0.0.1:<port>` or `localhost:<port>` (checked
//!   against that process's routes), or a bare `/api/…`, `/v1/…`, `/admin/…`, `/healthz`,
//!   `/readyz`, `/metrics`, `/openapi.json` (checked against every route); `{id}`, `<id>`, `…`
//!   and `*` are placeholders, and a path may name a prefix (`/api/v1`);
//! - **path**: a code span, or a word of a shell block, that starts with a top-level entry of
//!   the repository, or ends in `/`, or ends in a source file extension; it must exist from the
//!   root or as the tail of a longer path (pages name files within the crate they describe:
//!   `tests/api/hostile.rs`). Paths under `target/` and `data/` are made at run time;
//! - **xtask**: `cargo xtask <subcommand>` and the `--flags` after it.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::facts::{Facts, RUNTIME_DIRS};
use crate::markdown::Page;
use crate::Finding;

static METRIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:webstore|http_server|http_client|otel_sdk)_[a-z0-9_]*[a-z0-9]\b").unwrap()
});
static VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b").unwrap());
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:https?://)?(?:127\.0\.0\.1|localhost):(\d{2,5})(/[^\s`'\x22)<>|\]]*)?").unwrap()
});
static BARE_ENDPOINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"/(?:api|v1|admin)(?:/[^\s`'\x22)>|,\]]*)?|/healthz\b|/readyz\b|/metrics\b|/openapi\.json",
    )
    .unwrap()
});
static XTASK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"cargo xtask ([a-z][a-z0-9-]*)([^\n`|;&#)]*)").unwrap());
static FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)(--[a-z][a-z0-9-]*)").unwrap());

/// File extensions that make a code span with a `/` a path even without a top-level folder in
/// front (a bare file name, `estimates.json`, is not checked: too often something made at run
/// time).
const SOURCE_EXTENSIONS: &[&str] = &[
    "rs",
    "md",
    "toml",
    "yml",
    "yaml",
    "json",
    "sql",
    "txt",
    "sh",
    "lock",
    "Dockerfile",
];

/// Pages generated from the code (`docs/reference/`) are not read: their names are the code's
/// by construction, and their flag placeholders (`<MAX_SPANS>`) are not variables.
pub fn check(facts: &Facts, pages: &[Page]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for page in pages
        .iter()
        .filter(|p| !p.text.starts_with(docgen::GENERATED_HEADER))
    {
        let mut add = |check: &'static str, line: usize, item: &str, message: String| {
            findings.push(Finding {
                check,
                file: page.path.clone(),
                line,
                item: item.to_owned(),
                message,
            })
        };
        for (line, text) in page.lines() {
            for m in METRIC.find_iter(text) {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                if before == Some(':') || after == Some(':') {
                    continue; // a recording rule's name
                }
                if !facts.metrics.contains_key(m.as_str()) {
                    add(
                        "metric",
                        line,
                        m.as_str(),
                        "no service registers it (docs/reference/METRICS.md lists what they do)"
                            .into(),
                    );
                }
            }
            for m in VARIABLE.find_iter(text) {
                // Part of a file name (`docs/SOME_PAGE.md`): the path check owns it.
                let in_path = text[..m.start()].ends_with('/') || text[m.end()..].starts_with('.');
                if in_path {
                    continue;
                }
                if !facts.knows_variable(m.as_str()) {
                    add("variable", line, m.as_str(), "no program reads it (docs/reference/CONFIGURATION.md), no code defines it, and it is not in the external list of tests/docs/src/facts.rs".into());
                }
            }
            for (item, message) in endpoints(facts, text) {
                add("endpoint", line, &item, message);
            }
            for c in XTASK.captures_iter(text) {
                let sub = &c[1];
                let Some(flags) = facts.xtask.get(sub) else {
                    add(
                        "xtask",
                        line,
                        &format!("cargo xtask {sub}"),
                        format!(
                            "no such subcommand (xtask/src/flags.rs has: {})",
                            facts.xtask.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                    continue;
                };
                let rest = c[2].split(" -- ").next().unwrap_or_default();
                for f in FLAG.captures_iter(rest) {
                    if !flags.contains(&f[1]) {
                        add(
                            "xtask",
                            line,
                            &format!("cargo xtask {sub} {}", &f[1]),
                            "no such flag".into(),
                        );
                    }
                }
            }
        }
        for span in &page.code_spans {
            if let Some(message) = path_problem(facts, span.text.trim(), false) {
                add("path", span.line, span.text.trim(), message);
            }
        }
        for block in page.blocks.iter().filter(|b| is_shell(b.language())) {
            for (i, code_line) in block.code.lines().enumerate() {
                for word in code_line.split_whitespace() {
                    let word = word.trim_matches(|c| matches!(c, '"' | '\'' | ';' | '(' | ')'));
                    if let Some(message) = path_problem(facts, word, true) {
                        add("path", block.line + 1 + i, word, message);
                    }
                }
            }
        }
    }
    findings
}

fn is_shell(language: &str) -> bool {
    matches!(language, "sh" | "bash" | "shell" | "console")
}

/// Every endpoint `text` names that no process serves, with why.
fn endpoints(facts: &Facts, text: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut in_urls: Vec<(usize, usize)> = Vec::new();
    for c in URL.captures_iter(text) {
        let whole = c.get(0).map_or((0, 0), |m| (m.start(), m.end()));
        in_urls.push(whole);
        let Ok(port) = c[1].parse::<u16>() else {
            continue;
        };
        let Some(routes) = facts.endpoints.get(&port) else {
            continue; // a port this repository does not describe (a database, say)
        };
        let Some(path) = c.get(2).map(|m| clean(m.as_str())) else {
            continue;
        };
        if path.is_empty() || (path == "/" && routes.contains("/")) {
            continue;
        }
        if !routes.iter().any(|r| matches_route(&path, r)) {
            problems.push((
                format!(
                    "{}{path}",
                    &c[0][..c[0].len() - c.get(2).map_or(0, |m| m.len())]
                ),
                format!("no route {path} on port {port}"),
            ));
        }
    }
    let every = facts.endpoints.get(&0);
    for m in BARE_ENDPOINT.find_iter(text) {
        if in_urls
            .iter()
            .any(|(s, e)| m.start() >= *s && m.start() < *e)
        {
            continue;
        }
        let before = text[..m.start()].chars().next_back();
        if before.is_some_and(|c| {
            c.is_alphanumeric() || matches!(c, '.' | '/' | '_' | '-' | ':' | '{' | '$' | '~')
        }) {
            continue; // part of a file path, a URL elsewhere, or a variable
        }
        let path = clean(m.as_str());
        if !every.is_some_and(|routes| routes.iter().any(|r| matches_route(&path, r))) {
            problems.push((path.clone(), "no service or tool serves it".to_owned()));
        }
    }
    problems
}

/// Without a query string or trailing punctuation.
fn clean(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches(['.', ',', ':', ';']).to_owned()
}

/// Whether a path as written matches a route template, or is a prefix of one (`/api/v1`).
pub fn matches_route(written: &str, route: &str) -> bool {
    let w: Vec<&str> = written.trim_end_matches('/').split('/').collect();
    let r: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    if written.ends_with('*') {
        let prefix = &w[..w.len() - 1];
        return prefix.len() <= r.len() && prefix.iter().zip(&r).all(|(a, b)| segment(a, b));
    }
    w.len() <= r.len() && w.iter().zip(&r).all(|(a, b)| segment(a, b))
}

fn segment(written: &str, route: &str) -> bool {
    written == route || (route.starts_with('{') && !written.is_empty()) || is_placeholder(written)
}

fn is_placeholder(segment: &str) -> bool {
    segment.contains(['<', '{', '*', '…'])
}

/// Why `token` names a repository path that does not exist; `None` when it exists or is not
/// a repository path. `in_shell`: a word of a shell block, which counts only when it starts
/// with a top-level entry.
fn path_problem(facts: &Facts, token: &str, in_shell: bool) -> Option<String> {
    if token.is_empty()
        || token.contains(char::is_whitespace)
        || token.contains("://")
        || token.starts_with(['/', '$', '-', '~', '<', '`'])
        || token.contains(['=', ':', '@', ','])
    {
        return None;
    }
    let segments: Vec<&str> = token.trim_end_matches('/').split('/').collect();
    let first = segments[0];
    if first == ".." {
        return Some("points outside the repository".to_owned());
    }
    if RUNTIME_DIRS.contains(&first) {
        return None;
    }
    let top_level = facts.top_level.contains(first) && (token.contains('/') || !in_shell);
    let looks_like_path = top_level
        || (!in_shell
            && token.contains('/')
            && (token.ends_with('/')
                || extension(token).is_some_and(|e| SOURCE_EXTENSIONS.contains(&e))));
    if !looks_like_path || segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    if exists(&facts.files, &segments) {
        None
    } else {
        Some("no such file or folder in the repository".to_owned())
    }
}

fn extension(token: &str) -> Option<&str> {
    let name = token.rsplit('/').next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then_some(ext)
}

/// Whether some repository path equals `segments` from the root, or ends with them.
fn exists(files: &BTreeSet<String>, segments: &[&str]) -> bool {
    files.iter().any(|file| {
        let parts: Vec<&str> = file.split('/').collect();
        parts.len() >= segments.len()
            && parts[parts.len() - segments.len()..]
                .iter()
                .zip(segments)
                .all(|(p, s)| glob(s, p))
    })
}

/// `*`, `<…>`, `{…}` and `…` match any run of characters within one segment.
fn glob(pattern: &str, name: &str) -> bool {
    let mut literal = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    for c in pattern.chars() {
        match c {
            '<' | '{' => {
                depth += 1;
                if depth == 1 {
                    literal.push(std::mem::take(&mut current));
                }
            }
            '>' | '}' if depth > 0 => depth -= 1,
            '*' | '…' if depth == 0 => literal.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    literal.push(current);
    if literal.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (&literal[0], &literal[literal.len() - 1]);
    if !name.starts_with(first.as_str()) || !name[first.len()..].ends_with(last.as_str()) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &literal[1..literal.len() - 1] {
        match rest.find(middle.as_str()) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_placeholders_and_prefixes() {
        assert!(matches_route(
            "/api/v1/orders/0193abc",
            "/api/v1/orders/{id}"
        ));
        assert!(matches_route("/api/v1/orders/<id>", "/api/v1/orders/{id}"));
        assert!(matches_route("/api/v1", "/api/v1/checkout"));
        assert!(matches_route("/api/v1/*", "/api/v1/checkout"));
        assert!(matches_route("/api/traces/", "/api/traces/{trace_id}"));
        assert!(!matches_route("/api/v1/checkouts", "/api/v1/checkout"));
        assert!(!matches_route("/api/v1/checkout/x", "/api/v1/checkout"));
    }

    #[test]
    fn globs_match_within_a_segment() {
        assert!(glob("<service>.db", "order-service.db"));
        assert!(glob("*.yml", "alerts.yml"));
        assert!(glob("histogram-*", "histogram-1a2b"));
        assert!(glob("alerts.yml", "alerts.yml"));
        assert!(!glob("*.yml", "alerts.yaml"));
        assert!(!glob("a*b*c", "acb"));
    }

    #[test]
    fn paths_exist_from_the_root_or_as_a_tail() {
        let facts = Facts {
            files: [
                "services",
                "services/order-service",
                "services/order-service/tests",
                "services/order-service/tests/api",
                "services/order-service/tests/api/hostile.rs",
                "infra",
                "infra/prometheus",
                "infra/prometheus/tests",
                "infra/prometheus/tests/alerts_test.yml",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            top_level: ["services", "infra"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            ..Facts::default()
        };
        assert_eq!(path_problem(&facts, "tests/api/hostile.rs", false), None);
        assert_eq!(
            path_problem(&facts, "infra/prometheus/tests/*.yml", true),
            None
        );
        assert_eq!(path_problem(&facts, "services/*/tests/api/", false), None);
        assert!(path_problem(&facts, "tests/api/gone.rs", false).is_some());
        assert!(path_problem(&facts, "infra/grafana/", false).is_some());
        assert!(path_problem(&facts, "../shared/DESIGN.md", false).is_some());
        assert_eq!(
            path_problem(&facts, "http/protobuf", false),
            None,
            "not a path"
        );
        assert_eq!(
            path_problem(&facts, "data/<service>.db", false),
            None,
            "made at run time"
        );
        assert_eq!(path_problem(&facts, "curl", true), None);
    }
}
