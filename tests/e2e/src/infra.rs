//! Reading the observability stack's files (`infra/`, `dashboards/`) for the tests that check
//! them: YAML and JSON loading, the metric names a PromQL expression uses, every query of every
//! dashboard, every rule, the services' `--help` variables, the pinned metric-name lists, and the
//! **test-only transforms** that let a Prometheus on a machine without Docker load
//! `infra/prometheus` as it is.
//!
//! # The transforms (documented in docs/05_OBSERVABILITY_STACK.md)
//!
//! [`live_prometheus_config`] takes `infra/prometheus/prometheus.yml` and changes only:
//! * `global`: scrape and evaluation interval 1 s (scrape timeout 1 s), so a test sees data in
//!   seconds rather than minutes;
//! * `rule_files`: the copies written by [`write_live_rules`];
//! * scrape targets: each service job (`order-service`, …) scrapes the test's process on its
//!   loopback port, the `prometheus` job scrapes the test's Prometheus; every other job (the
//!   Collector, Tempo: not running here) is left out and reported.
//!
//! [`write_live_rules`] copies `infra/prometheus/rules/*.yml`, optionally replacing every range
//! selector window (`[5m]`, `[15m]`) with a shorter one and every `for:` with a shorter one, so
//! an alert can fire and resolve within a test. Nothing else in an expression changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::{ScrapeTargets, SERVICES};

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// `path` relative to the workspace root, with `/` separators, for messages.
pub fn rel(path: &Path) -> String {
    let root = workspace_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Files under `dir` (recursively) whose names end with one of `extensions`, sorted.
pub fn files_with_extensions(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| extensions.iter().any(|e| n.ends_with(&format!(".{e}"))))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One YAML document, with `<<:` merge keys applied (compose uses them).
pub fn read_yaml(path: &Path) -> anyhow::Result<Yaml> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut value: Yaml =
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", rel(path)))?;
    value
        .apply_merge()
        .with_context(|| format!("merge keys in {}", rel(path)))?;
    Ok(value)
}

/// Every document of a (possibly multi-document) YAML text, empty ones left out.
pub fn yaml_documents(text: &str) -> anyhow::Result<Vec<Yaml>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let mut value = Yaml::deserialize(doc)?;
        value.apply_merge()?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

pub fn read_json(path: &Path) -> anyhow::Result<Json> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", rel(path)))
}

/// `value[key1][key2]…` for YAML mappings.
pub fn yget<'a>(value: &'a Yaml, path: &[&str]) -> Option<&'a Yaml> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    Some(v)
}

/// A YAML scalar as text (strings, numbers, booleans).
pub fn yaml_str(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// PromQL

const PROMQL_KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "atan2",
    "inf",
    "nan",
    // Aggregation operators: `sum by (job) (…)` has no `(` straight after `sum`.
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];
/// Keywords followed by a parenthesised list of label names, not of expressions.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names a PromQL expression selects (not functions, keywords, label names,
/// strings, durations or numbers). Grafana variables (`$service`, `$__rate_interval`) may
/// appear inside `{}` and `[]`, which are skipped whole.
pub fn promql_metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_until(&chars, i, '}'),
            '[' => i = skip_until(&chars, i, ']'),
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let followed_by_paren = j < chars.len() && chars[j] == '(';
                let lower = word.to_ascii_lowercase();
                if LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                    if followed_by_paren {
                        i = skip_until(&chars, j, ')');
                    }
                } else if followed_by_paren || PROMQL_KEYWORDS.contains(&lower.as_str()) {
                    // a function or aggregation, or an operator keyword
                } else {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
}

/// Index just past the closing quote of the string starting at `i`.
fn skip_string(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() {
        if chars[j] == '\\' && quote != '`' {
            j += 2;
            continue;
        }
        if chars[j] == quote {
            return j + 1;
        }
        j += 1;
    }
    j
}

/// Index just past the `close` matching the opener at `i`, skipping strings on the way.
fn skip_until(chars: &[char], i: usize, close: char) -> usize {
    let open = chars[i];
    let mut depth = 0;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '"' | '\'' | '`' => {
                j = skip_string(chars, j);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// Replaces every range-selector window (`[5m]`, `[1h30m]`) with `window`; subqueries
/// (`[5m:1m]`) and anything inside strings or label matchers are left alone.
pub fn shorten_ranges(expr: &str, window: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' | '{' => {
                let end = if chars[i] == '{' {
                    skip_until(&chars, i, '}')
                } else {
                    skip_string(&chars, i)
                };
                out.extend(&chars[i..end]);
                i = end;
            }
            '[' => {
                let end = skip_until(&chars, i, ']');
                let inner: String = chars[i + 1..end.saturating_sub(1)].iter().collect();
                if is_duration(inner.trim()) {
                    out.push('[');
                    out.push_str(window);
                    out.push(']');
                } else {
                    out.extend(&chars[i..end]);
                }
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// A Prometheus duration: one or more `<digits><unit>` with unit ms, s, m, h, d, w or y.
pub fn is_duration(s: &str) -> bool {
    parse_duration_secs(s).is_some()
}

/// A Prometheus duration in seconds.
pub fn parse_duration_secs(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let secs = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 604800.0,
            "y" => 31536000.0,
            _ => return None,
        };
        total += n * secs;
        rest = &rest[unit_len..];
    }
    Some(total)
}

// ---------------------------------------------------------------------------------------------
// Rules

/// One recording or alerting rule of `infra/prometheus/rules`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub file: PathBuf,
    pub group: String,
    /// The `record:` or `alert:` name.
    pub name: String,
    pub is_alert: bool,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

pub fn rules_dir() -> PathBuf {
    workspace_root().join("infra/prometheus/rules")
}

/// Every rule of every `infra/prometheus/rules/*.yml`, in file order.
pub fn load_rules() -> anyhow::Result<Vec<Rule>> {
    let mut out = Vec::new();
    for file in files_with_extensions(&rules_dir(), &["yml", "yaml"])? {
        let doc = read_yaml(&file)?;
        let groups = doc
            .get("groups")
            .and_then(Yaml::as_sequence)
            .with_context(|| format!("{}: no `groups` list", rel(&file)))?;
        for group in groups {
            let group_name = group
                .get("name")
                .and_then(Yaml::as_str)
                .unwrap_or_default()
                .to_owned();
            for rule in group
                .get("rules")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
            {
                let (name, is_alert) = match (rule.get("record"), rule.get("alert")) {
                    (Some(r), None) => (yaml_str(r).unwrap_or_default(), false),
                    (None, Some(a)) => (yaml_str(a).unwrap_or_default(), true),
                    _ => bail!("{}: a rule needs exactly one of record/alert", rel(&file)),
                };
                let map = |key: &str| -> BTreeMap<String, String> {
                    rule.get(key)
                        .and_then(Yaml::as_mapping)
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, v)| Some((yaml_str(k)?, yaml_str(v)?)))
                        .collect()
                };
                out.push(Rule {
                    file: file.clone(),
                    group: group_name.clone(),
                    name,
                    is_alert,
                    expr: rule
                        .get("expr")
                        .and_then(yaml_str)
                        .with_context(|| format!("{}: rule without expr", rel(&file)))?,
                    for_: rule.get("for").and_then(yaml_str),
                    labels: map("labels"),
                    annotations: map("annotations"),
                });
            }
        }
    }
    Ok(out)
}

/// How [`write_live_rules`] changes the rules (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct RuleTransform {
    /// Replaces every range-selector window.
    pub window: Option<String>,
    /// Replaces every alert's `for:`.
    pub for_: Option<String>,
}

/// Writes transformed copies of `infra/prometheus/rules/*.yml` into `dir/rules/` and returns
/// the glob to put in `rule_files`.
pub fn write_live_rules(dir: &Path, transform: &RuleTransform) -> anyhow::Result<String> {
    let out_dir = dir.join("rules");
    std::fs::create_dir_all(&out_dir)?;
    for file in files_with_extensions(&rules_dir(), &["yml", "yaml"])? {
        let mut doc = read_yaml(&file)?;
        if let Some(groups) = doc.get_mut("groups").and_then(Yaml::as_sequence_mut) {
            for group in groups {
                let Some(rules) = group.get_mut("rules").and_then(Yaml::as_sequence_mut) else {
                    continue;
                };
                for rule in rules {
                    let Some(map) = rule.as_mapping_mut() else {
                        continue;
                    };
                    if let Some(window) = &transform.window {
                        if let Some(expr) = map.get_mut("expr") {
                            if let Some(text) = expr.as_str() {
                                *expr = Yaml::String(shorten_ranges(text, window));
                            }
                        }
                    }
                    if let Some(for_) = &transform.for_ {
                        if map.contains_key("for") {
                            map.insert(Yaml::from("for"), Yaml::String(for_.clone()));
                        }
                    }
                }
            }
        }
        let name = file.file_name().context("rule file name")?;
        std::fs::write(out_dir.join(name), serde_yaml::to_string(&doc)?)?;
    }
    Ok(format!("{}/*.yml", out_dir.display()))
}

/// The live configuration (see the module documentation): `infra/prometheus/prometheus.yml`
/// with its targets rewritten to `targets`, intervals of 1 s and `rule_files` set to `rules`.
/// Returns the YAML and the jobs left out.
pub fn live_prometheus_config(
    targets: &ScrapeTargets,
    rules: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let path = workspace_root().join("infra/prometheus/prometheus.yml");
    let mut doc = read_yaml(&path)?;
    let map = doc
        .as_mapping_mut()
        .context("prometheus.yml is not a mapping")?;
    let mut global = serde_yaml::Mapping::new();
    for (k, v) in [
        ("scrape_interval", "1s"),
        ("scrape_timeout", "1s"),
        ("evaluation_interval", "1s"),
    ] {
        global.insert(Yaml::from(k), Yaml::from(v));
    }
    map.insert(Yaml::from("global"), Yaml::Mapping(global));
    map.insert(
        Yaml::from("rule_files"),
        Yaml::Sequence(vec![Yaml::from(rules)]),
    );
    let jobs = map
        .get_mut("scrape_configs")
        .and_then(Yaml::as_sequence_mut)
        .context("prometheus.yml has no scrape_configs")?;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let mut seen_services = BTreeSet::new();
    for job in jobs.drain(..) {
        let name = job
            .get("job_name")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_owned();
        let target = if let Some(addr) = targets.services.get(&name) {
            seen_services.insert(name.clone());
            addr.clone()
        } else if name == "prometheus" {
            targets.prometheus.clone()
        } else {
            dropped.push(name);
            continue;
        };
        let mut job = job;
        let static_configs = serde_yaml::from_str::<Yaml>(&format!("- targets: [\"{target}\"]"))?;
        if let Some(m) = job.as_mapping_mut() {
            m.insert(Yaml::from("static_configs"), static_configs);
        }
        kept.push(job);
    }
    for service in SERVICES {
        if !seen_services.contains(service) {
            bail!("infra/prometheus/prometheus.yml has no scrape job named {service}");
        }
    }
    *jobs = kept;
    Ok((serde_yaml::to_string(&doc)?, dropped))
}

// ---------------------------------------------------------------------------------------------
// Dashboards

/// One PromQL query of a dashboard: a panel target or a template variable.
#[derive(Clone, Debug)]
pub struct DashboardQuery {
    /// `http-metrics.json`, …
    pub dashboard: String,
    /// Panel title, or `variable <name>`.
    pub panel: String,
    pub panel_type: String,
    pub ref_id: String,
    pub expr: String,
    pub exemplar: bool,
    pub datasource_uid: Option<String>,
    pub is_variable: bool,
}

pub fn dashboard_files() -> anyhow::Result<Vec<PathBuf>> {
    files_with_extensions(&workspace_root().join("dashboards"), &["json"])
}

/// Every panel (rows' nested panels included) of a dashboard JSON.
pub fn panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(p);
        for nested in p["panels"].as_array().into_iter().flatten() {
            out.push(nested);
        }
    }
    out
}

/// Every PromQL query of every dashboard.
pub fn dashboard_queries() -> anyhow::Result<Vec<DashboardQuery>> {
    let mut out = Vec::new();
    for file in dashboard_files()? {
        let dash = read_json(&file)?;
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        for panel in panels(&dash) {
            let panel_type = panel["type"].as_str().unwrap_or_default().to_owned();
            for target in panel["targets"].as_array().into_iter().flatten() {
                let Some(expr) = target["expr"].as_str() else {
                    continue;
                };
                out.push(DashboardQuery {
                    dashboard: name.clone(),
                    panel: panel["title"].as_str().unwrap_or_default().to_owned(),
                    panel_type: panel_type.clone(),
                    ref_id: target["refId"].as_str().unwrap_or_default().to_owned(),
                    expr: expr.to_owned(),
                    exemplar: target["exemplar"].as_bool().unwrap_or(false),
                    datasource_uid: target["datasource"]["uid"]
                        .as_str()
                        .or(panel["datasource"]["uid"].as_str())
                        .map(str::to_owned),
                    is_variable: false,
                });
            }
        }
        for var in dash["templating"]["list"].as_array().into_iter().flatten() {
            if var["type"] != "query" {
                continue;
            }
            let query = var["query"]["query"]
                .as_str()
                .or(var["query"].as_str())
                .unwrap_or_default();
            out.push(DashboardQuery {
                dashboard: name.clone(),
                panel: format!("variable {}", var["name"].as_str().unwrap_or_default()),
                panel_type: "variable".to_owned(),
                ref_id: String::new(),
                expr: variable_selector(query).unwrap_or(query).to_owned(),
                exemplar: false,
                datasource_uid: var["datasource"]["uid"].as_str().map(str::to_owned),
                is_variable: true,
            });
        }
    }
    Ok(out)
}

/// The series selector of a `label_values(<selector>, <label>)` variable query.
pub fn variable_selector(query: &str) -> Option<&str> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, _label) = inner.rsplit_once(',')?;
    Some(selector.trim())
}

/// A dashboard expression as Prometheus would receive it from Grafana: `$__rate_interval`
/// (and `$__interval`, `$__range`) become `rate_interval`, and multi-value variables become
/// their "All" value `.*`.
pub fn grafana_to_promql(expr: &str, rate_interval: &str) -> String {
    let mut out = expr
        .replace("$__rate_interval", rate_interval)
        .replace("$__interval", rate_interval)
        .replace("$__range", rate_interval);
    // Any remaining `$name` is a template variable whose "All" value is `.*`.
    while let Some(start) = out.find('$') {
        let end = out[start + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(out.len(), |e| start + 1 + e);
        out.replace_range(start..end, ".*");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Metric names

/// Metric names in an exposition (OpenMetrics or Prometheus text): every sample's name, and for
/// each `# TYPE` family the names its type implies (so a counter family with no series yet is
/// known by its `_total` name).
pub fn exposed_metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split_whitespace();
            let (Some(family), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            names.insert(family.to_owned());
            let suffixes: &[&str] = match kind {
                "counter" => &["_total", "_created"],
                "histogram" | "gaugehistogram" => &["_bucket", "_count", "_sum", "_created"],
                "summary" => &["_count", "_sum", "_created"],
                "info" => &["_info"],
                _ => &[],
            };
            for suffix in suffixes {
                if !family.ends_with(suffix) {
                    names.insert(format!("{family}{suffix}"));
                }
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    names
}

/// Families declared `histogram` in an exposition.
pub fn histogram_families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let family = words.next()?;
            (words.next()? == "histogram").then(|| family.to_owned())
        })
        .collect()
}

/// A pinned list of upstream metric names (`infra/metric-names/*.txt` except `pending.txt`):
/// one name a line, `#` comments. The header must cite the upstream source and version.
#[derive(Clone, Debug)]
pub struct PinnedList {
    pub file: PathBuf,
    pub header: String,
    pub names: BTreeSet<String>,
}

pub fn metric_names_dir() -> PathBuf {
    workspace_root().join("infra/metric-names")
}

pub fn pinned_lists() -> anyhow::Result<Vec<PinnedList>> {
    let mut out = Vec::new();
    for file in files_with_extensions(&metric_names_dir(), &["txt"])? {
        if file.file_name().is_some_and(|n| n == "pending.txt") {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let header = text
            .lines()
            .take_while(|l| l.starts_with('#') || l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let names = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        out.push(PinnedList {
            file,
            header,
            names,
        });
    }
    Ok(out)
}

/// `infra/metric-names/pending.txt`: name → the issue whose code will emit it.
pub fn pending_metric_names() -> anyhow::Result<BTreeMap<String, String>> {
    let file = metric_names_dir().join("pending.txt");
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", rel(&file)))?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, issue) = line
            .split_once(char::is_whitespace)
            .with_context(|| format!("{}: `{line}` needs `<name> <issue>`", rel(&file)))?;
        let issue = issue.trim();
        if !issue.starts_with("issue ") {
            bail!(
                "{}: `{line}`: the second column must be `issue <number>`",
                rel(&file)
            );
        }
        out.insert(name.to_owned(), issue.to_owned());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The services' command lines

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

/// `true` when `program --version` runs.
pub fn tool_available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `kubectl kustomize` needs no `--version` flag (it is `kubectl version --client`).
pub fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        promql_metric_names(expr).into_iter().collect()
    }

    #[test]
    fn metric_names_skip_functions_labels_strings_and_durations() {
        assert_eq!(
            names(
                r#"histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~"$service", http_route="/a[b]"}[$__rate_interval])))"#
            ),
            ["http_server_request_duration_seconds_bucket"]
        );
        assert_eq!(
            names("(a:b:rate5m or c_total * 0) / on (job) group_left (x) d offset 5m > bool 1e3"),
            ["a:b:rate5m", "c_total", "d"]
        );
        assert_eq!(
            names("sum(rate(x_total[5m])) by (job) and time() - y > 0.5"),
            ["x_total", "y"]
        );
        assert_eq!(names("up == 0"), ["up"]);
        assert_eq!(names("sum(rate(x{$__tags, code=~\"5..\"}[1m]))"), ["x"]);
    }

    #[test]
    fn ranges_are_shortened_but_not_strings_or_subqueries() {
        assert_eq!(
            shorten_ranges(
                r#"rate(x{a="[5m]"}[5m]) + increase(y[1h30m]) + z[5m:1m]"#,
                "20s"
            ),
            r#"rate(x{a="[5m]"}[20s]) + increase(y[20s]) + z[5m:1m]"#
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_secs("168h"), Some(604800.0));
        assert_eq!(parse_duration_secs("7d"), Some(604800.0));
        assert_eq!(parse_duration_secs("1h30m"), Some(5400.0));
        assert_eq!(parse_duration_secs("5x"), None);
        assert_eq!(parse_duration_secs(""), None);
    }

    #[test]
    fn grafana_variables_become_all() {
        assert_eq!(
            grafana_to_promql(r#"rate(x{job=~"$service"}[$__rate_interval])"#, "30s"),
            r#"rate(x{job=~".*"}[30s])"#
        );
    }

    #[test]
    fn exposition_names_include_type_implied_ones() {
        let text = "# TYPE a counter\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# TYPE g gauge\ng 1\n# EOF\n";
        let n = exposed_metric_names(text);
        for want in ["a_total", "h_bucket", "h_count", "h_sum", "g"] {
            assert!(n.contains(want), "{want} in {n:?}");
        }
        assert_eq!(histogram_families(text), BTreeSet::from(["h".to_owned()]));
    }

    #[test]
    fn variable_selectors() {
        assert_eq!(
            variable_selector(r#"label_values(x{job=~"$s"}, http_route)"#),
            Some(r#"x{job=~"$s"}"#)
        );
        assert_eq!(variable_selector("up"), None);
    }
}
