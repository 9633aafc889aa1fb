//! What the checks share: paths, the compose file and its services, URLs, the design's ports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use infra_tests::files::{read_yaml, workspace_root, yaml_str, yget};
use serde_yaml::Value as Yaml;

/// The design's ports (DESIGN.md, "Services, ports, endpoints").
pub fn design_port(service: &str) -> u16 {
    match service {
        "order-service" => 8080,
        "catalog-service" => 8081,
        "payment-gateway" => 8082,
        other => panic!("unknown service {other}"),
    }
}

pub fn root() -> PathBuf {
    workspace_root()
}

pub fn infra(path: &str) -> PathBuf {
    root().join("infra").join(path)
}

pub fn compose() -> Yaml {
    read_yaml(&infra("compose.yaml")).expect("infra/compose.yaml")
}

pub fn compose_service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    yget(compose, &["services", name]).unwrap_or_else(|| panic!("compose has no service {name}"))
}

pub fn env_map(service: &Yaml) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match service.get("environment") {
        Some(Yaml::Mapping(m)) => {
            for (k, v) in m {
                if let (Some(k), Some(v)) = (yaml_str(k), yaml_str(v)) {
                    out.insert(k, v);
                }
            }
        }
        Some(Yaml::Sequence(items)) => {
            for item in items.iter().filter_map(Yaml::as_str) {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                out.insert(k.to_owned(), v.to_owned());
            }
        }
        _ => {}
    }
    out
}

/// `${VAR:-default}` → `default` (what compose uses when VAR is unset).
pub fn compose_default(value: &str) -> String {
    let mut out = value.to_owned();
    while let Some(start) = out.find("${") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let inner = out[start + 2..start + len].to_owned();
        let default = inner.split_once(":-").map_or("", |(_, d)| d).to_owned();
        out.replace_range(start..start + len + 1, &default);
    }
    out
}

/// `scheme://[user[:pw]@]host:port/path` → (host, port, path).
pub fn url_parts(url: &str) -> (String, Option<u16>, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().ok()),
        None => (host_port.to_owned(), None),
    };
    (host, port, path.split('?').next().unwrap_or("").to_owned())
}

pub fn help_vars(service: &str) -> BTreeSet<String> {
    infra_tests::services::help_vars(service).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Databases created by an init script (`CREATE DATABASE name`).
pub fn created_databases(sql: &str) -> BTreeSet<String> {
    sql.split(';')
        .filter_map(|stmt| {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            let i = words.windows(2).position(|w| {
                w[0].eq_ignore_ascii_case("CREATE") && w[1].eq_ignore_ascii_case("DATABASE")
            })?;
            words.get(i + 2).map(|s| (*s).to_owned())
        })
        .collect()
}

/// An image reference is pinned when its tag starts with an exact version (major.minor at
/// least, e.g. `16.4`, `v3.5.0`, `0.135.0`, `1.95.0-bookworm`): not `latest`, not major-only.
pub fn pinned(image: &str) -> Result<(), String> {
    let name_tag = image.split('@').next().unwrap_or(image);
    let last = name_tag.rsplit('/').next().unwrap_or(name_tag);
    let Some((_, tag)) = last.split_once(':') else {
        return Err(format!("{image}: no tag"));
    };
    let version = tag.strip_prefix('v').unwrap_or(tag);
    let numeric: Vec<&str> = version
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or("")
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    if tag == "latest" || numeric.len() < 2 || numeric.iter().any(|p| p.parse::<u64>().is_err()) {
        return Err(format!(
            "{image}: tag `{tag}` is not an exact version (need e.g. 1.2.3, not latest or a major-only tag)"
        ));
    }
    Ok(())
}

pub fn workspace_version() -> String {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package && line.starts_with("version") {
            return line.split('"').nth(1).expect("quoted version").to_owned();
        }
    }
    panic!("no [workspace.package] version")
}

pub fn dockerfile() -> (PathBuf, String) {
    let path = infra("docker/service.Dockerfile");
    let text = std::fs::read_to_string(&path).expect("infra/docker/service.Dockerfile");
    (path, text)
}

/// Dockerfile instructions with continuation lines joined.
pub fn dockerfile_instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

pub fn prometheus_jobs() -> BTreeMap<String, Vec<String>> {
    let p = read_yaml(&infra("prometheus/prometheus.yml")).unwrap();
    p["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|job| {
            let targets = job["static_configs"]
                .as_sequence()
                .into_iter()
                .flatten()
                .flat_map(|sc| sc["targets"].as_sequence().cloned().unwrap_or_default())
                .filter_map(|t| yaml_str(&t))
                .collect();
            (job["job_name"].as_str().unwrap().to_owned(), targets)
        })
        .collect()
}

pub fn datasources() -> Vec<Yaml> {
    let file = infra("grafana/provisioning/datasources/datasources.yaml");
    read_yaml(&file).unwrap()["datasources"]
        .as_sequence()
        .unwrap()
        .clone()
}

pub fn datasource_uids() -> BTreeMap<String, String> {
    datasources()
        .iter()
        .map(|d| {
            (
                d["uid"].as_str().unwrap().to_owned(),
                d["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn k8s(path: &str) -> PathBuf {
    infra("k8s").join(path)
}

/// The `KEY` of each `KEY=value` literal of the generators named `name` in a kustomization.
pub fn generator_keys(kustomization: &Yaml, generator: &str, name: &str) -> BTreeSet<String> {
    kustomization[generator]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|g| g["name"] == name)
        .flat_map(|g| g["literals"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|l| {
            l.as_str()
                .and_then(|s| s.split_once('='))
                .map(|(k, _)| k.to_owned())
        })
        .collect()
}

pub fn generator_value(
    kustomization: &Yaml,
    generator: &str,
    name: &str,
    key: &str,
) -> Option<String> {
    kustomization[generator]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter(|g| g["name"] == name)
        .flat_map(|g| g["literals"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|l| {
            l.as_str()
                .and_then(|s| s.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .find_map(|(k, v)| (k == key).then_some(v))
}
