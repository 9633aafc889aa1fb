//! The observability stack's files, checked without running them: every YAML and JSON file
//! parses, every image is pinned to an exact version, and every file, port, host, datasource
//! uid, service name and environment variable one file refers to exists where it points and
//! agrees with the services' `--help` and the design (ports 8080/8081/8082).
//!
//! Containers cannot run on a machine without a Docker engine; these checks are how
//! `infra/compose.yaml` and `infra/k8s` are verified there (docs/05_OBSERVABILITY_STACK.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::infra::{
    dashboard_files, dashboard_queries, files_with_extensions, help_env_vars, kubectl_available,
    load_rules, panels, parse_duration_secs, promql_metric_names, read_json, read_yaml, rel,
    workspace_root, yaml_documents, yaml_str, yget,
};
use e2e::{binaries_dir, SERVICES};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The design's ports (DESIGN.md, "Services, ports, endpoints").
fn design_port(service: &str) -> u16 {
    match service {
        "order-service" => 8080,
        "catalog-service" => 8081,
        "payment-gateway" => 8082,
        other => panic!("unknown service {other}"),
    }
}

fn root() -> PathBuf {
    workspace_root()
}

fn infra(path: &str) -> PathBuf {
    root().join("infra").join(path)
}

fn compose() -> Yaml {
    read_yaml(&infra("compose.yaml")).expect("infra/compose.yaml")
}

fn compose_service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    yget(compose, &["services", name]).unwrap_or_else(|| panic!("compose has no service {name}"))
}

fn env_map(service: &Yaml) -> BTreeMap<String, String> {
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
fn compose_default(value: &str) -> String {
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
fn url_parts(url: &str) -> (String, Option<u16>, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().ok()),
        None => (host_port.to_owned(), None),
    };
    (host, port, path.split('?').next().unwrap_or("").to_owned())
}

fn help_vars(service: &str) -> BTreeSet<String> {
    let bin = binaries_dir().expect("target dir").join(service);
    help_env_vars(&bin).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Databases created by an init script (`CREATE DATABASE name`).
fn created_databases(sql: &str) -> BTreeSet<String> {
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
fn pinned(image: &str) -> Result<(), String> {
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

fn workspace_version() -> String {
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

fn dockerfile() -> (PathBuf, String) {
    let path = infra("docker/service.Dockerfile");
    let text = std::fs::read_to_string(&path).expect("infra/docker/service.Dockerfile");
    (path, text)
}

/// Dockerfile instructions with continuation lines joined.
fn dockerfile_instructions(text: &str) -> Vec<String> {
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

#[test]
fn every_yaml_and_json_file_parses() {
    let mut count = 0;
    let mut problems = Vec::new();
    for file in files_with_extensions(&root().join("infra"), &["yaml", "yml"]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        match yaml_documents(&text) {
            Ok(docs) if !docs.is_empty() => count += 1,
            Ok(_) => problems.push(format!("{}: empty", rel(&file))),
            Err(e) => problems.push(format!("{}: {e}", rel(&file))),
        }
    }
    for file in files_with_extensions(&root().join("dashboards"), &["json"]).unwrap() {
        match read_json(&file) {
            Ok(_) => count += 1,
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        count >= 20,
        "expected the whole stack, parsed only {count} files"
    );
    eprintln!("{count} YAML/JSON files parse");
}

#[test]
fn every_image_is_pinned_to_an_exact_version() {
    let mut images = Vec::new();
    let compose = compose();
    for (name, service) in compose["services"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if let Some(image) = service.get("image").and_then(Yaml::as_str) {
            images.push((format!("compose {name}"), image.to_owned()));
        }
        if service.get("build").is_some() {
            assert_eq!(
                service.get("image").and_then(Yaml::as_str),
                Some(format!("webstore/{name}:{}", workspace_version()).as_str()),
                "compose {name}: a built image is tagged webstore/<service>:<workspace version>"
            );
        }
    }
    let (path, text) = dockerfile();
    for instr in dockerfile_instructions(&text) {
        if let Some(rest) = instr.strip_prefix("FROM ") {
            let image = rest.split_whitespace().next().unwrap();
            images.push((rel(&path), image.to_owned()));
        }
    }
    for file in files_with_extensions(&infra("k8s"), &["yaml", "yml"]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            if let Some(image) = line.trim().strip_prefix("image: ") {
                images.push((rel(&file), image.trim().to_owned()));
            }
        }
    }
    let problems: Vec<String> = images
        .iter()
        .filter_map(|(w, i)| pinned(i).err().map(|e| format!("{w}: {e}")))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        images.len() >= 12,
        "found only {} image references",
        images.len()
    );
    eprintln!("{} image references, all pinned", images.len());
}

#[test]
fn image_pin_check_rejects_floating_tags() {
    for bad in [
        "postgres",
        "postgres:latest",
        "postgres:16",
        "grafana/grafana:11",
        "x:v3",
    ] {
        assert!(pinned(bad).is_err(), "{bad} must be rejected");
    }
    for good in [
        "postgres:16.4",
        "prom/prometheus:v3.5.0",
        "rust:1.95.0-bookworm",
        "debian:12.11-slim",
    ] {
        assert!(pinned(good).is_ok(), "{good} must be accepted");
    }
}

#[test]
fn compose_services_match_the_design_and_their_help() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let names: BTreeSet<String> = services
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for required in [
        "postgres",
        "redis",
        "otel-collector",
        "prometheus",
        "tempo",
        "grafana",
        "order-service",
        "catalog-service",
        "payment-gateway",
    ] {
        assert!(names.contains(required), "compose lacks {required}");
    }
    let init_sql = std::fs::read_to_string(infra("postgres/init.sql")).unwrap();
    let databases = created_databases(&init_sql);
    let collector = read_yaml(&infra("otel-collector/config.yaml")).unwrap();
    let collector_http_port = url_parts(
        yget(
            &collector,
            &["receivers", "otlp", "protocols", "http", "endpoint"],
        )
        .and_then(Yaml::as_str)
        .unwrap(),
    )
    .1;
    let mut problems = Vec::new();

    for service in SERVICES {
        let s = compose_service(&compose, service);
        let port = design_port(service);
        let help = help_vars(service);
        let env = env_map(s);
        for key in env.keys() {
            if !help.contains(key) {
                problems.push(format!(
                    "compose {service}: {key} is not a variable of `{service} --help`"
                ));
            }
        }
        let get = |k: &str| env.get(k).map(|v| compose_default(v));
        if get("BIND_ADDR") != Some(format!("0.0.0.0:{port}")) {
            problems.push(format!(
                "compose {service}: BIND_ADDR must be 0.0.0.0:{port}"
            ));
        }
        if get("OTEL_SERVICE_NAME").as_deref() != Some(service) {
            problems.push(format!(
                "compose {service}: OTEL_SERVICE_NAME must be {service}"
            ));
        }
        let ports: Vec<String> = s["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect();
        if ports != [format!("{port}:{port}")] {
            problems.push(format!(
                "compose {service}: ports {ports:?}, want [\"{port}:{port}\"]"
            ));
        }
        // OTLP goes to the Collector's HTTP receiver.
        match get("OTEL_EXPORTER_OTLP_ENDPOINT").map(|u| url_parts(&u)) {
            Some((host, p, _)) if host == "otel-collector" && p == collector_http_port => {}
            other => problems.push(format!(
                "compose {service}: OTEL_EXPORTER_OTLP_ENDPOINT {other:?} is not the Collector's HTTP receiver"
            )),
        }
        if get("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() != Some("http/protobuf") {
            problems.push(format!("compose {service}: OTEL_EXPORTER_OTLP_PROTOCOL must match the :4318 receiver (http/protobuf)"));
        }
        // Its own database on the compose PostgreSQL, created by init.sql.
        match get("DATABASE_URL").map(|u| url_parts(&u)) {
            Some((host, Some(5432), db)) if host == "postgres" && databases.contains(&db) => {}
            other => problems.push(format!(
                "compose {service}: DATABASE_URL {other:?} is not a database init.sql creates ({databases:?})"
            )),
        }
        if let Some(url) = get("REDIS_URL") {
            let (host, p, _) = url_parts(&url);
            if host != "redis" || p != Some(6379) {
                problems.push(format!(
                    "compose {service}: REDIS_URL {url} is not the compose redis"
                ));
            }
        }
        for (var, target) in [
            ("CATALOG_URL", "catalog-service"),
            ("PAYMENT_GATEWAY_URL", "payment-gateway"),
        ] {
            if let Some(url) = get(var) {
                let (host, p, _) = url_parts(&url);
                if host != target || p != Some(design_port(target)) {
                    problems.push(format!(
                        "compose {service}: {var} {url} is not {target}:{}",
                        design_port(target)
                    ));
                }
            }
        }
        // Built from the parametrized Dockerfile with this service's name and port.
        let build = &s["build"];
        let dockerfile = build["dockerfile"].as_str().unwrap_or_default();
        let context = build["context"].as_str().unwrap_or_default();
        if !infra(context).join(dockerfile).is_file() {
            problems.push(format!(
                "compose {service}: build {context}/{dockerfile} does not exist"
            ));
        }
        if build["args"]["SERVICE"].as_str() != Some(service)
            || yaml_str(&build["args"]["PORT"]) != Some(port.to_string())
        {
            problems.push(format!(
                "compose {service}: build args must be SERVICE={service}, PORT={port}"
            ));
        }
    }
    assert_eq!(
        env_map(compose_service(&compose, "order-service"))
            .get("PAYMENT_TIMEOUT")
            .map(String::as_str),
        Some("10s"),
        "order-service's PAYMENT_TIMEOUT is the design's 10 s (the alert and panels assume it)"
    );

    // Start order: everything a service depends on exists, and what must be healthy can say so.
    let built: BTreeSet<&str> = SERVICES.into_iter().collect();
    for (name, s) in services {
        let name = name.as_str().unwrap();
        for (dep, cond) in s
            .get("depends_on")
            .and_then(Yaml::as_mapping)
            .into_iter()
            .flatten()
        {
            let dep = dep.as_str().unwrap();
            let Some(target) = services.get(dep) else {
                problems.push(format!("compose {name}: depends on unknown service {dep}"));
                continue;
            };
            if cond["condition"] == "service_healthy"
                && target.get("healthcheck").is_none()
                && !built.contains(dep)
            {
                problems.push(format!(
                    "compose {name}: waits for {dep} to be healthy, which has no healthcheck"
                ));
            }
        }
        // Bind mounts point at files of the repository.
        for volume in s
            .get("volumes")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
        {
            let spec = volume.as_str().unwrap_or_default();
            let source = spec.split(':').next().unwrap_or_default();
            if source.starts_with('.') && !infra(source).exists() {
                problems.push(format!(
                    "compose {name}: mounts {source}, which does not exist"
                ));
            }
        }
    }
    // The URLs `cargo xtask up` prints for the compose stack.
    for (service, port) in [("grafana", 3000), ("prometheus", 9090), ("tempo", 3200)] {
        let ports: Vec<String> = compose_service(&compose, service)["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect();
        if !ports.contains(&format!("{port}:{port}")) {
            problems.push(format!(
                "compose {service}: must publish {port} (the URL `cargo xtask up` prints)"
            ));
        }
    }
    let prom_cmd: Vec<String> = compose_service(&compose, "prometheus")["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(yaml_str)
        .collect();
    for flag in [
        "--enable-feature=exemplar-storage",
        "--web.enable-remote-write-receiver",
    ] {
        if !prom_cmd.iter().any(|a| a == flag) {
            problems.push(format!("compose prometheus: missing {flag}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Container paths that compose passes to a program (`--config.file=/etc/prometheus/…`, an
/// environment value) and that lie under a bind mount exist in the mounted repository folder.
#[test]
fn compose_container_paths_exist_in_the_mounted_files() {
    let compose = compose();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (name, s) in compose["services"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let mounts: Vec<(String, String)> = s
            .get("volumes")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Yaml::as_str)
            .filter_map(|v| {
                let mut parts = v.split(':');
                let (src, dst) = (parts.next()?, parts.next()?);
                src.starts_with('.')
                    .then(|| (src.to_owned(), dst.to_owned()))
            })
            .collect();
        let mut values: Vec<String> = ["command", "entrypoint"]
            .iter()
            .flat_map(|k| {
                s.get(*k)
                    .and_then(Yaml::as_sequence)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| yaml_str(&v))
            .map(|a| a.split_once('=').map_or(a.clone(), |(_, v)| v.to_owned()))
            .collect();
        values.extend(env_map(s).into_values());
        for value in values {
            for (src, dst) in &mounts {
                if let Some(rest) = value.strip_prefix(dst.as_str()) {
                    checked += 1;
                    let rest = rest.trim_start_matches('/');
                    let path = if rest.is_empty() {
                        infra(src)
                    } else {
                        infra(src).join(rest)
                    };
                    if !path.exists() {
                        problems.push(format!(
                            "compose {name}: {value} is {}, which does not exist",
                            rel(&path)
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked >= 4,
        "config paths of Prometheus, Tempo, the Collector and Grafana's home dashboard: {checked}"
    );
}

#[test]
fn service_dockerfile_is_multi_stage_non_root_with_a_healthz_healthcheck() {
    let (_, text) = dockerfile();
    let instrs = dockerfile_instructions(&text);
    let froms = instrs.iter().filter(|i| i.starts_with("FROM ")).count();
    assert!(froms >= 2, "multi-stage: at least two FROM, found {froms}");
    assert!(
        instrs
            .iter()
            .any(|i| i.contains("cargo build --release") && i.contains("--bin")),
        "the build stage runs `cargo build --release --bin <service>`"
    );
    let runtime_start = instrs.iter().rposition(|i| i.starts_with("FROM ")).unwrap();
    let runtime = &instrs[runtime_start..];
    let user = runtime
        .iter()
        .filter_map(|i| i.strip_prefix("USER "))
        .next_back()
        .expect("the runtime stage sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root",
        "the runtime user is not root: {user}"
    );
    let health = runtime
        .iter()
        .find(|i| i.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        health.contains("/healthz"),
        "HEALTHCHECK probes /healthz: {health}"
    );
    let tool = if health.contains("curl") {
        "curl"
    } else {
        "wget"
    };
    assert!(
        runtime
            .iter()
            .any(|i| i.contains("apt-get install") && i.contains(tool)),
        "the runtime image installs {tool}, which the HEALTHCHECK runs"
    );
    assert!(
        runtime.iter().any(|i| i.starts_with("EXPOSE")),
        "EXPOSE the service port"
    );
    let ignore = infra("docker/service.Dockerfile.dockerignore");
    let ignored = std::fs::read_to_string(&ignore).expect("the Dockerfile's .dockerignore");
    assert!(
        ignored.lines().any(|l| l.trim() == "target/"),
        "target/ stays out of the build context"
    );
}

#[test]
fn collector_receives_otlp_and_exports_to_tempo_through_limiter_and_batch() {
    let c = read_yaml(&infra("otel-collector/config.yaml")).unwrap();
    let grpc =
        yget(&c, &["receivers", "otlp", "protocols", "grpc", "endpoint"]).and_then(Yaml::as_str);
    let http =
        yget(&c, &["receivers", "otlp", "protocols", "http", "endpoint"]).and_then(Yaml::as_str);
    assert_eq!(grpc, Some("0.0.0.0:4317"));
    assert_eq!(http, Some("0.0.0.0:4318"));
    let pipeline = yget(&c, &["service", "pipelines", "traces"]).expect("a traces pipeline");
    let list = |k: &str| -> Vec<String> {
        pipeline[k]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect()
    };
    assert_eq!(list("receivers"), ["otlp"]);
    assert_eq!(
        list("processors"),
        ["memory_limiter", "batch"],
        "memory_limiter first, then batch"
    );
    for p in list("processors") {
        assert!(
            c["processors"].get(p.as_str()).is_some(),
            "processor {p} is configured"
        );
    }
    let exporters = list("exporters");
    assert_eq!(exporters.len(), 1);
    let exporter = &c["exporters"][exporters[0].as_str()];
    let (host, port, _) = url_parts(exporter["endpoint"].as_str().unwrap());
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let tempo_grpc = yget(
        &tempo,
        &[
            "distributor",
            "receivers",
            "otlp",
            "protocols",
            "grpc",
            "endpoint",
        ],
    )
    .and_then(Yaml::as_str)
    .map(|e| url_parts(e).1);
    assert_eq!(
        host, "tempo",
        "the exporter sends to the compose service tempo"
    );
    assert_eq!(Some(port), tempo_grpc, "to Tempo's OTLP gRPC receiver port");
    let reader = yget(&c, &["service", "telemetry", "metrics", "readers"])
        .and_then(Yaml::as_sequence)
        .and_then(|r| r.first())
        .and_then(|r| yget(r, &["pull", "exporter", "prometheus"]))
        .expect("a Prometheus reader for the Collector's own metrics");
    assert_eq!(reader["port"].as_u64(), Some(8888));
    assert_eq!(reader["host"].as_str(), Some("0.0.0.0"));
}

fn prometheus_jobs() -> BTreeMap<String, Vec<String>> {
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

#[test]
fn prometheus_scrapes_services_collector_and_tempo_with_exemplar_storage() {
    let p = read_yaml(&infra("prometheus/prometheus.yml")).unwrap();
    let jobs = prometheus_jobs();
    for service in SERVICES {
        assert_eq!(
            jobs.get(service),
            Some(&vec![format!("{service}:{}", design_port(service))]),
            "job {service} (= OTEL_SERVICE_NAME, used as `job` by dashboards and Tempo's trace-to-metrics)"
        );
    }
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let tempo_http = yget(&tempo, &["server", "http_listen_port"])
        .and_then(Yaml::as_u64)
        .unwrap();
    assert_eq!(
        jobs.get("tempo"),
        Some(&vec![format!("tempo:{tempo_http}")])
    );
    assert_eq!(
        jobs.get("otel-collector"),
        Some(&vec!["otel-collector:8888".to_owned()])
    );
    let max = yget(&p, &["storage", "exemplars", "max_exemplars"]).and_then(Yaml::as_u64);
    assert!(
        max.is_some_and(|m| m >= 100_000),
        "exemplar storage sized: {max:?}"
    );
    // Every compose service a job scrapes exists.
    let compose = compose();
    for (job, targets) in &jobs {
        for t in targets {
            let host = t.split(':').next().unwrap();
            assert!(
                host == "localhost" || compose["services"].get(host).is_some(),
                "job {job} scrapes {t}, not a compose service"
            );
        }
    }
    let globs: Vec<String> = p["rule_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(yaml_str)
        .collect();
    assert_eq!(globs, ["rules/*.yml"]);
    assert!(
        files_with_extensions(&infra("prometheus/rules"), &["yml"])
            .unwrap()
            .len()
            >= 2,
        "recording and alerting rule files"
    );
}

#[test]
fn tempo_keeps_traces_longer_than_exemplars_stay_visible() {
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let retention = yget(&tempo, &["compactor", "compaction", "block_retention"])
        .and_then(Yaml::as_str)
        .and_then(parse_duration_secs)
        .expect("compactor.compaction.block_retention");
    let compose = compose();
    let prom_retention = compose_service(&compose, "prometheus")["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .find_map(|a| a.strip_prefix("--storage.tsdb.retention.time="))
        .and_then(parse_duration_secs)
        .expect("prometheus --storage.tsdb.retention.time");
    assert!(
        retention >= prom_retention,
        "Tempo keeps traces {retention} s, Prometheus (and so the exemplars a panel can show) {prom_retention} s"
    );
    let processors: Vec<String> = yget(
        &tempo,
        &["overrides", "defaults", "metrics_generator", "processors"],
    )
    .and_then(Yaml::as_sequence)
    .into_iter()
    .flatten()
    .filter_map(yaml_str)
    .collect();
    assert!(
        processors.contains(&"service-graphs".to_owned()),
        "{processors:?}"
    );
    assert!(
        processors.contains(&"span-metrics".to_owned()),
        "{processors:?}"
    );
    let rw = yget(&tempo, &["metrics_generator", "storage", "remote_write"])
        .and_then(Yaml::as_sequence)
        .and_then(|s| s.first())
        .and_then(|r| r["url"].as_str())
        .expect("metrics_generator remote_write url");
    let (host, port, path) = url_parts(rw);
    assert_eq!(
        (host.as_str(), port, path.as_str()),
        ("prometheus", Some(9090), "api/v1/write")
    );

    // The documentation states both numbers.
    let doc = std::fs::read_to_string(root().join("docs/05_OBSERVABILITY_STACK.md")).unwrap();
    let block = yget(&tempo, &["compactor", "compaction", "block_retention"])
        .and_then(Yaml::as_str)
        .unwrap();
    let max = yget(
        &read_yaml(&infra("prometheus/prometheus.yml")).unwrap(),
        &["storage", "exemplars", "max_exemplars"],
    )
    .and_then(Yaml::as_u64)
    .unwrap();
    assert!(
        doc.contains(block),
        "docs/05 states Tempo's retention ({block})"
    );
    let grouped = max
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        doc.contains(&max.to_string()) || doc.contains(&grouped),
        "docs/05 states the exemplar buffer size ({max})"
    );
}

fn datasources() -> Vec<Yaml> {
    let file = infra("grafana/provisioning/datasources/datasources.yaml");
    read_yaml(&file).unwrap()["datasources"]
        .as_sequence()
        .unwrap()
        .clone()
}

fn datasource_uids() -> BTreeMap<String, String> {
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

#[test]
fn grafana_links_exemplars_to_tempo_and_traces_to_metrics() {
    let ds = datasources();
    let uids = datasource_uids();
    let by_type = |t: &str| {
        ds.iter()
            .find(|d| d["type"] == t)
            .unwrap_or_else(|| panic!("a {t} datasource"))
    };
    let prom = by_type("prometheus");
    let tempo = by_type("tempo");
    let tempo_uid = tempo["uid"].as_str().unwrap();
    let prom_uid = prom["uid"].as_str().unwrap();

    let dests = yget(prom, &["jsonData", "exemplarTraceIdDestinations"])
        .and_then(Yaml::as_sequence)
        .expect("exemplarTraceIdDestinations");
    for label in ["trace_id", "traceID"] {
        let d = dests
            .iter()
            .find(|d| d["name"] == label)
            .unwrap_or_else(|| panic!("an exemplar destination for label {label}"));
        assert_eq!(
            d["datasourceUid"].as_str(),
            Some(tempo_uid),
            "{label} opens the Tempo datasource"
        );
    }
    assert_eq!(
        yget(tempo, &["jsonData", "serviceMap", "datasourceUid"]).and_then(Yaml::as_str),
        Some(prom_uid)
    );
    assert_eq!(
        yget(tempo, &["jsonData", "tracesToMetrics", "datasourceUid"]).and_then(Yaml::as_str),
        Some(prom_uid)
    );
    // service.name → job, and job names are service names in prometheus.yml.
    let tags = yget(tempo, &["jsonData", "tracesToMetrics", "tags"])
        .and_then(Yaml::as_sequence)
        .unwrap();
    assert!(tags
        .iter()
        .any(|t| t["key"] == "service.name" && t["value"] == "job"));
    let jobs = prometheus_jobs();
    assert!(SERVICES.iter().all(|s| jobs.contains_key(*s)));
    for q in yget(tempo, &["jsonData", "tracesToMetrics", "queries"])
        .and_then(Yaml::as_sequence)
        .unwrap()
    {
        let query = q["query"].as_str().unwrap();
        assert!(
            query.contains("$$__tags"),
            "`$$__tags` (escaped for provisioning): {query}"
        );
        assert!(!promql_metric_names(&query.replace("$$", "$")).is_empty());
    }
    // URLs point at the compose services and their ports.
    let compose = compose();
    for d in &ds {
        let (host, port, _) = url_parts(d["url"].as_str().unwrap());
        assert!(
            compose["services"].get(host.as_str()).is_some(),
            "datasource url host {host}"
        );
        let published: Vec<String> = compose_service(&compose, &host)["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect();
        assert!(
            published
                .iter()
                .any(|p| p.ends_with(&format!(":{}", port.unwrap()))),
            "{host} listens on {port:?}"
        );
    }
    assert_eq!(uids.len(), ds.len(), "datasource uids are unique");

    // The dashboards provider reads where compose mounts dashboards/.
    let provider = read_yaml(&infra("grafana/provisioning/dashboards/dashboards.yaml")).unwrap();
    let path = provider["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    let mounts: Vec<String> = compose_service(&compose, "grafana")["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(yaml_str)
        .collect();
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("../dashboards:") && m.split(':').nth(1) == Some(path)),
        "compose mounts ../dashboards at {path}: {mounts:?}"
    );
    assert!(mounts
        .iter()
        .any(|m| m.starts_with("./grafana/provisioning:/etc/grafana/provisioning")));
}

#[test]
fn dashboards_use_provisioned_datasources_and_show_exemplars_on_histograms() {
    let uids = datasource_uids();
    let mut seen_uids = BTreeSet::new();
    let mut problems = Vec::new();
    for file in dashboard_files().unwrap() {
        let dash = read_json(&file).unwrap();
        let uid = dash["uid"].as_str().unwrap_or_default().to_owned();
        if !seen_uids.insert(uid.clone()) {
            problems.push(format!("{}: duplicate uid {uid}", rel(&file)));
        }
        let mut ids = BTreeSet::new();
        for panel in panels(&dash) {
            if let Some(id) = panel["id"].as_u64() {
                if !ids.insert(id) {
                    problems.push(format!("{}: duplicate panel id {id}", rel(&file)));
                }
            }
            let title = panel["title"].as_str().unwrap_or_default();
            let mut refs: Vec<&Json> = vec![&panel["datasource"]];
            refs.extend(
                panel["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| &t["datasource"]),
            );
            for r in refs {
                if let Some(u) = r["uid"].as_str() {
                    match uids.get(u) {
                        Some(t)
                            if Some(t.as_str()) == r["type"].as_str() || r["type"].is_null() => {}
                        _ => problems.push(format!(
                            "{}: panel {title:?} uses datasource {r}, not provisioned",
                            rel(&file)
                        )),
                    }
                }
            }
        }
        for var in dash["templating"]["list"].as_array().into_iter().flatten() {
            if let Some(u) = var["datasource"]["uid"].as_str() {
                if !uids.contains_key(u) {
                    problems.push(format!("{}: variable uses datasource {u}", rel(&file)));
                }
            }
        }
    }
    for q in dashboard_queries().unwrap() {
        let names = promql_metric_names(&q.expr);
        if names.is_empty() {
            problems.push(format!(
                "{} / {}: no metric in {:?}",
                q.dashboard, q.panel, q.expr
            ));
        }
        if !q.is_variable && names.iter().any(|n| n.ends_with("_bucket")) && !q.exemplar {
            problems.push(format!(
                "{} / {} / {}: a query over a histogram must have exemplars on",
                q.dashboard, q.panel, q.ref_id
            ));
        }
        if q.datasource_uid
            .as_deref()
            .is_some_and(|u| uids.get(u).map(String::as_str) != Some("prometheus"))
        {
            problems.push(format!(
                "{} / {}: PromQL sent to a non-Prometheus datasource",
                q.dashboard, q.panel
            ));
        }
    }
    for wanted in [
        "http-metrics.json",
        "service-health.json",
        "checkout-payments.json",
    ] {
        if !root().join("dashboards").join(wanted).is_file() {
            problems.push(format!("dashboards/{wanted} is missing"));
        }
    }
    // The checkout dashboard's payoff: payment-duration heatmap and p50/p95/p99, with exemplars.
    let checkout = read_json(&root().join("dashboards/checkout-payments.json")).unwrap();
    let pays: Vec<&Json> = panels(&checkout)
        .into_iter()
        .filter(|p| {
            p["targets"]
                .to_string()
                .contains("webstore_payment_duration_seconds_bucket")
        })
        .collect();
    assert!(
        pays.iter().any(|p| p["type"] == "heatmap"),
        "a payment-duration heatmap"
    );
    let quantiles: BTreeSet<String> = pays
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| {
            let e = t["expr"].as_str()?;
            e.strip_prefix("histogram_quantile(")
                .and_then(|r| r.split(',').next())
                .map(|q| q.trim().to_owned())
        })
        .collect();
    for q in ["0.50", "0.95", "0.99"] {
        assert!(
            quantiles.contains(q),
            "payment p{} panel: {quantiles:?}",
            &q[2..]
        );
    }
    // Alert annotations link to dashboards that exist.
    for rule in load_rules().unwrap().iter().filter(|r| r.is_alert) {
        if let Some(link) = rule.annotations.get("dashboard") {
            let uid = link.trim_start_matches("/d/");
            if !seen_uids.contains(uid) {
                problems.push(format!(
                    "alert {} links to unknown dashboard {uid}",
                    rule.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn recorded_names_used_anywhere_are_defined_by_a_rule() {
    let rules = load_rules().unwrap();
    let recorded: BTreeSet<&str> = rules
        .iter()
        .filter(|r| !r.is_alert)
        .map(|r| r.name.as_str())
        .collect();
    let mut used: Vec<(String, String)> = rules
        .iter()
        .flat_map(|r| {
            promql_metric_names(&r.expr)
                .into_iter()
                .map(move |n| (format!("rule {}", r.name), n))
        })
        .collect();
    for q in dashboard_queries().unwrap() {
        for n in promql_metric_names(&q.expr) {
            used.push((format!("{} / {}", q.dashboard, q.panel), n));
        }
    }
    let missing: Vec<String> = used
        .iter()
        .filter(|(_, n)| n.contains(':') && !recorded.contains(n.as_str()))
        .map(|(w, n)| format!("{w}: {n}"))
        .collect();
    assert!(
        missing.is_empty(),
        "recorded names without a recording rule:\n{}",
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

fn k8s(path: &str) -> PathBuf {
    infra("k8s").join(path)
}

/// The `KEY` of each `KEY=value` literal of the generators named `name` in a kustomization.
fn generator_keys(kustomization: &Yaml, generator: &str, name: &str) -> BTreeSet<String> {
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

fn generator_value(kustomization: &Yaml, generator: &str, name: &str, key: &str) -> Option<String> {
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

#[test]
fn kustomize_bases_match_the_services() {
    let overlay = read_yaml(&k8s("overlays/store/kustomization.yaml")).unwrap();
    let mut problems = Vec::new();
    for res in overlay["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
    {
        if !k8s("overlays/store").join(res).exists() {
            problems.push(format!("overlay resource {res} does not exist"));
        }
    }
    let overlay_init = generator_value(&overlay, "configMapGenerator", "postgres-init", "init.sql")
        .unwrap_or_default();
    let databases = created_databases(&overlay_init);
    assert_eq!(
        databases,
        created_databases(&std::fs::read_to_string(infra("postgres/init.sql")).unwrap()),
        "k8s and compose create the same databases"
    );
    for service in SERVICES {
        let port = design_port(service);
        let base = k8s(&format!("base/{service}"));
        let kustomization = read_yaml(&base.join("kustomization.yaml")).unwrap();
        for res in kustomization["resources"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Yaml::as_str)
        {
            if !base.join(res).is_file() {
                problems.push(format!("base/{service}: resource {res} does not exist"));
            }
        }
        let help = help_vars(service);
        let config = generator_keys(&kustomization, "configMapGenerator", service);
        let secret = generator_keys(&overlay, "secretGenerator", service);
        for key in config.iter().chain(&secret) {
            if !help.contains(key) {
                problems.push(format!(
                    "k8s {service}: {key} is not a variable of `{service} --help`"
                ));
            }
        }
        for required in [
            "BIND_ADDR",
            "OTEL_SERVICE_NAME",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ] {
            if !config.contains(required) {
                problems.push(format!("k8s {service}: the ConfigMap lacks {required}"));
            }
        }
        if !secret.contains("DATABASE_URL") {
            problems.push(format!(
                "k8s {service}: the overlay's Secret lacks DATABASE_URL"
            ));
        }
        if generator_value(&kustomization, "configMapGenerator", service, "BIND_ADDR")
            != Some(format!("0.0.0.0:{port}"))
        {
            problems.push(format!("k8s {service}: BIND_ADDR is not 0.0.0.0:{port}"));
        }
        if let Some(url) = generator_value(&overlay, "secretGenerator", service, "DATABASE_URL") {
            let (host, p, db) = url_parts(&url);
            if host != "postgres" || p != Some(5432) || !databases.contains(&db) {
                problems.push(format!(
                    "k8s {service}: DATABASE_URL {url} is not a database the overlay creates"
                ));
            }
        }
        for (var, target) in [
            ("CATALOG_URL", "catalog-service"),
            ("PAYMENT_GATEWAY_URL", "payment-gateway"),
        ] {
            if let Some(url) = generator_value(&kustomization, "configMapGenerator", service, var) {
                let (host, p, _) = url_parts(&url);
                if host != target || p != Some(design_port(target)) {
                    problems.push(format!(
                        "k8s {service}: {var} {url} is not the {target} Service"
                    ));
                }
            }
        }

        let deployment = read_yaml(&base.join("deployment.yaml")).unwrap();
        let pod = &deployment["spec"]["template"];
        let container = &pod["spec"]["containers"][0];
        let ports = container["ports"].as_sequence().unwrap();
        if !ports
            .iter()
            .any(|p| p["name"] == "http" && p["containerPort"].as_u64() == Some(u64::from(port)))
        {
            problems.push(format!("k8s {service}: container port http={port}"));
        }
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            if container[probe]["httpGet"]["path"].as_str() != Some(path)
                || container[probe]["httpGet"]["port"] != "http"
            {
                problems.push(format!(
                    "k8s {service}: {probe} must GET {path} on port http"
                ));
            }
        }
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                if container["resources"][kind][res].is_null() {
                    problems.push(format!("k8s {service}: resources.{kind}.{res} missing"));
                }
            }
        }
        let env_from: Vec<(String, String)> = container["envFrom"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|e| {
                ["configMapRef", "secretRef"]
                    .into_iter()
                    .filter_map(|k| e[k]["name"].as_str().map(|n| (k.to_owned(), n.to_owned())))
                    .collect::<Vec<_>>()
            })
            .collect();
        if !env_from.contains(&("configMapRef".to_owned(), service.to_owned()))
            || !env_from.contains(&("secretRef".to_owned(), service.to_owned()))
        {
            problems.push(format!(
                "k8s {service}: envFrom the ConfigMap and the Secret named {service}: {env_from:?}"
            ));
        }
        let ann = &pod["metadata"]["annotations"];
        if ann["prometheus.io/scrape"] != "true"
            || ann["prometheus.io/port"].as_str() != Some(port.to_string().as_str())
            || ann["prometheus.io/path"] != "/metrics"
        {
            problems.push(format!(
                "k8s {service}: scrape annotations must name port {port} and /metrics"
            ));
        }
        let labels = pod["metadata"]["labels"].as_mapping().unwrap();
        for (k, v) in deployment["spec"]["selector"]["matchLabels"]
            .as_mapping()
            .unwrap()
        {
            if labels.get(k) != Some(v) {
                problems.push(format!(
                    "k8s {service}: selector {k:?} does not match the pod labels"
                ));
            }
        }
        let svc = read_yaml(&base.join("service.yaml")).unwrap();
        for (k, v) in svc["spec"]["selector"].as_mapping().unwrap() {
            if labels.get(k) != Some(v) {
                problems.push(format!(
                    "k8s {service}: Service selector {k:?} matches no pod label"
                ));
            }
        }
        let sp = &svc["spec"]["ports"][0];
        if sp["port"].as_u64() != Some(u64::from(port)) || sp["targetPort"] != "http" {
            problems.push(format!(
                "k8s {service}: the Service maps {port} to the named port http"
            ));
        }
        if svc["metadata"]["name"].as_str() != Some(service) {
            problems.push(format!(
                "k8s {service}: the Service is named {service} (other services' URLs use it)"
            ));
        }
    }
    let replicas = overlay["replicas"].as_sequence().unwrap();
    for service in SERVICES {
        let count = replicas
            .iter()
            .find(|r| r["name"] == service)
            .and_then(|r| r["count"].as_u64());
        if count.is_none_or(|c| c < 2) {
            problems.push(format!("overlay: {service} runs more than one replica"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Builds the overlay with `kubectl kustomize` (kustomize v5) and checks that every reference
/// in the rendered objects resolves: envFrom and volume ConfigMaps/Secrets (with their hash
/// suffixes), Service selectors, named ports.
///
/// kubectl is optional, even in CI: no registry this project installs from carries a kubectl
/// with kustomize v5 (Debian's is 1.20), and the YAML-level checks above cover the same
/// references without it. So a missing kubectl is a loud skip, never a failure.
#[test]
fn kustomize_overlay_builds_and_every_reference_resolves() {
    if !kubectl_available() {
        eprintln!("SKIPPED: kubectl with kustomize v5 is not installed; the YAML-level k8s checks still ran");
        return;
    }
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(k8s("overlays/store"))
        .output()
        .expect("kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = yaml_documents(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let name_of = |d: &Yaml| {
        d["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let of_kind = |k: &str| -> BTreeSet<String> {
        docs.iter()
            .filter(|d| d["kind"] == k)
            .map(name_of)
            .collect()
    };
    let config_maps = of_kind("ConfigMap");
    let secrets = of_kind("Secret");
    let mut problems = Vec::new();
    let workloads: Vec<&Yaml> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
        .collect();
    assert_eq!(workloads.len(), 5, "three services, PostgreSQL and Redis");
    for w in &workloads {
        let name = name_of(w);
        if w["metadata"]["namespace"] != "webstore" {
            problems.push(format!("{name}: not in namespace webstore"));
        }
        let spec = &w["spec"]["template"]["spec"];
        for c in spec["containers"].as_sequence().unwrap() {
            if let Err(e) = pinned(c["image"].as_str().unwrap_or_default()) {
                problems.push(format!("{name}: {e}"));
            }
            for e in c["envFrom"].as_sequence().into_iter().flatten() {
                if let Some(n) = e["configMapRef"]["name"].as_str() {
                    if !config_maps.contains(n) {
                        problems.push(format!("{name}: envFrom ConfigMap {n} is not in the build"));
                    }
                }
                if let Some(n) = e["secretRef"]["name"].as_str() {
                    if !secrets.contains(n) {
                        problems.push(format!("{name}: envFrom Secret {n} is not in the build"));
                    }
                }
            }
            let port_names: BTreeSet<String> = c["ports"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                if let Some(p) = c[probe]["httpGet"]["port"].as_str() {
                    if !port_names.contains(p) {
                        problems.push(format!("{name}: {probe} uses unknown port {p}"));
                    }
                }
            }
        }
        for v in spec["volumes"].as_sequence().into_iter().flatten() {
            if let Some(n) = v["configMap"]["name"].as_str() {
                if !config_maps.contains(n) {
                    problems.push(format!("{name}: volume ConfigMap {n} is not in the build"));
                }
            }
        }
    }
    for svc in docs.iter().filter(|d| d["kind"] == "Service") {
        let name = name_of(svc);
        let selector = svc["spec"]["selector"].as_mapping().unwrap();
        let target = workloads.iter().find(|w| {
            let labels = &w["spec"]["template"]["metadata"]["labels"];
            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        });
        let Some(target) = target else {
            problems.push(format!("Service {name}: its selector matches no workload"));
            continue;
        };
        for p in svc["spec"]["ports"].as_sequence().unwrap() {
            if let Some(tp) = p["targetPort"].as_str() {
                let has = target["spec"]["template"]["spec"]["containers"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|c| {
                        c["ports"]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .any(|cp| cp["name"] == tp)
                    });
                if !has {
                    problems.push(format!(
                        "Service {name}: targetPort {tp} is not a container port"
                    ));
                }
            }
        }
        if SERVICES.contains(&name.as_str())
            && svc["spec"]["ports"][0]["port"].as_u64() != Some(u64::from(design_port(&name)))
        {
            problems.push(format!(
                "Service {name}: port is not {}",
                design_port(&name)
            ));
        }
    }
    // In-cluster URLs name Services of the build.
    let services = of_kind("Service");
    for cm in docs.iter().filter(|d| d["kind"] == "ConfigMap") {
        for (k, v) in cm["data"].as_mapping().into_iter().flatten() {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                continue;
            };
            if k.ends_with("_URL") {
                let (host, _, _) = url_parts(v);
                if !services.contains(&host) {
                    problems.push(format!(
                        "ConfigMap {}: {k}={v} names no Service of the build",
                        name_of(cm)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!(
        "kubectl kustomize: {} objects ({} workloads, {} ConfigMaps, {} Secrets), every reference resolves",
        docs.len(),
        workloads.len(),
        config_maps.len(),
        secrets.len()
    );
}

#[test]
fn no_file_refers_to_a_missing_repository_path() {
    // Paths the stack's files name in comments and settings, relative to the repository.
    let root = root();
    let mut problems = Vec::new();
    for file in
        files_with_extensions(&root.join("infra"), &["yaml", "yml", "txt", "Dockerfile"]).unwrap()
    {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || "()`\"',;".contains(c)) {
            let word = word.trim_end_matches(['.', ':']);
            let is_repo_path = ["infra/", "dashboards/", "docs/", "tests/e2e/"]
                .iter()
                .any(|p| word.starts_with(p))
                && !word.contains('*')
                && !word.contains('<')
                && !word.contains('#');
            if is_repo_path && !root.join(word).exists() && !Path::new(word).is_absolute() {
                problems.push(format!(
                    "{}: names {word}, which does not exist",
                    rel(&file)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
