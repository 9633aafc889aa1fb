//! `infra/compose.yaml`: its services agree with the design, with the services' `--help`, with
//! the Collector, the PostgreSQL init script, the Dockerfile and each other.

use std::collections::{BTreeMap, BTreeSet};

use devstack::services::SERVICES;
use infra_tests::files::{read_yaml, rel, yaml_str, yget};
use serde_yaml::Value as Yaml;

use crate::support::{
    compose, compose_default, compose_service, created_databases, design_port, env_map, help_vars,
    infra, url_parts,
};

/// A service's environment with compose's `${VAR:-default}` resolved to the default.
fn resolved_env(service: &str) -> BTreeMap<String, String> {
    env_map(compose_service(&compose(), service))
        .into_iter()
        .map(|(k, v)| (k, compose_default(&v)))
        .collect()
}

fn published_ports(compose: &Yaml, service: &str) -> Vec<String> {
    compose_service(compose, service)["ports"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(yaml_str)
        .collect()
}

fn assert_no_problems(problems: &[String]) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn compose_has_every_service_of_the_stack() {
    let compose = compose();
    let names: BTreeSet<String> = compose["services"]
        .as_mapping()
        .unwrap()
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
}

#[test]
fn compose_gives_each_service_only_variables_its_help_lists() {
    let compose = compose();
    let mut problems = Vec::new();
    for service in SERVICES {
        let help = help_vars(service);
        for key in env_map(compose_service(&compose, service)).keys() {
            if !help.contains(key) {
                problems.push(format!(
                    "compose {service}: {key} is not a variable of `{service} --help`"
                ));
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_services_bind_their_design_port_under_their_name() {
    let compose = compose();
    let mut problems = Vec::new();
    for service in SERVICES {
        let port = design_port(service);
        let env = resolved_env(service);
        if env.get("BIND_ADDR") != Some(&format!("0.0.0.0:{port}")) {
            problems.push(format!(
                "compose {service}: BIND_ADDR must be 0.0.0.0:{port}"
            ));
        }
        if env.get("OTEL_SERVICE_NAME").map(String::as_str) != Some(service) {
            problems.push(format!(
                "compose {service}: OTEL_SERVICE_NAME must be {service}"
            ));
        }
        let ports = published_ports(&compose, service);
        if ports != [format!("{port}:{port}")] {
            problems.push(format!(
                "compose {service}: ports {ports:?}, want [\"{port}:{port}\"]"
            ));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_services_export_to_the_collectors_http_receiver() {
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
        let env = resolved_env(service);
        match env.get("OTEL_EXPORTER_OTLP_ENDPOINT").map(|u| url_parts(u)) {
            Some((host, p, _)) if host == "otel-collector" && p == collector_http_port => {}
            other => problems.push(format!(
                "compose {service}: OTEL_EXPORTER_OTLP_ENDPOINT {other:?} is not the Collector's HTTP receiver"
            )),
        }
        if env.get("OTEL_EXPORTER_OTLP_PROTOCOL").map(String::as_str) != Some("http/protobuf") {
            problems.push(format!("compose {service}: OTEL_EXPORTER_OTLP_PROTOCOL must match the :4318 receiver (http/protobuf)"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_services_use_their_own_database_and_the_stacks_redis_and_neighbours() {
    let init_sql = std::fs::read_to_string(infra("postgres/init.sql")).unwrap();
    let databases = created_databases(&init_sql);
    let mut problems = Vec::new();
    for service in SERVICES {
        let env = resolved_env(service);
        // Its own database on the compose PostgreSQL, created by init.sql.
        match env.get("DATABASE_URL").map(|u| url_parts(u)) {
            Some((host, Some(5432), db)) if host == "postgres" && databases.contains(&db) => {}
            other => problems.push(format!(
                "compose {service}: DATABASE_URL {other:?} is not a database init.sql creates ({databases:?})"
            )),
        }
        if let Some(url) = env.get("REDIS_URL") {
            let (host, p, _) = url_parts(url);
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
            if let Some(url) = env.get(var) {
                let (host, p, _) = url_parts(url);
                if host != target || p != Some(design_port(target)) {
                    problems.push(format!(
                        "compose {service}: {var} {url} is not {target}:{}",
                        design_port(target)
                    ));
                }
            }
        }
    }
    assert_no_problems(&problems);
}

/// The gateway listens on 0.0.0.0, so it must require a merchant key, and order-service must
/// send that same key.
#[test]
fn compose_order_service_sends_the_merchant_key_the_gateway_requires() {
    let required = resolved_env("payment-gateway")
        .get("GATEWAY_API_KEY")
        .cloned();
    let sent = resolved_env("order-service")
        .get("PAYMENT_GATEWAY_API_KEY")
        .cloned();
    assert!(
        required.as_deref().is_some_and(|k| !k.is_empty()),
        "compose payment-gateway: GATEWAY_API_KEY must be set"
    );
    assert_eq!(
        sent, required,
        "compose: PAYMENT_GATEWAY_API_KEY != GATEWAY_API_KEY"
    );
}

#[test]
fn compose_services_build_from_the_parametrized_dockerfile() {
    let compose = compose();
    let mut problems = Vec::new();
    for service in SERVICES {
        let port = design_port(service);
        let build = &compose_service(&compose, service)["build"];
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
    assert_no_problems(&problems);
}

#[test]
fn compose_payment_timeout_is_the_designs() {
    assert_eq!(
        env_map(compose_service(&compose(), "order-service"))
            .get("PAYMENT_TIMEOUT")
            .map(String::as_str),
        Some("10s"),
        "order-service's PAYMENT_TIMEOUT is the design's 10 s (the alert and panels assume it)"
    );
}

/// Start order: everything a service depends on exists, and what must be healthy can say so;
/// bind mounts point at files of the repository.
#[test]
fn compose_dependencies_and_mounts_resolve() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let built: BTreeSet<&str> = SERVICES.into_iter().collect();
    let mut problems = Vec::new();
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
    assert_no_problems(&problems);
}

/// The URLs `cargo xtask up` prints for the compose stack.
#[test]
fn compose_publishes_the_urls_up_prints() {
    let compose = compose();
    let mut problems = Vec::new();
    for (service, port) in [("grafana", 3000), ("prometheus", 9090), ("tempo", 3200)] {
        if !published_ports(&compose, service).contains(&format!("{port}:{port}")) {
            problems.push(format!(
                "compose {service}: must publish {port} (the URL `cargo xtask up` prints)"
            ));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_prometheus_stores_exemplars_and_receives_remote_writes() {
    let compose = compose();
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
        assert!(
            prom_cmd.iter().any(|a| a == flag),
            "compose prometheus: missing {flag}"
        );
    }
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
    assert_no_problems(&problems);
    assert!(
        checked >= 4,
        "config paths of Prometheus, Tempo, the Collector and Grafana's home dashboard: {checked}"
    );
}
