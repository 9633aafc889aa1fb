//! `infra/k8s`: the kustomize bases and the store overlay agree with the services, the design and
//! the compose stack; rendered with `kubectl kustomize` where it is installed, every reference
//! of the build resolves.

use std::collections::BTreeSet;
use std::process::Command;

use devstack::services::SERVICES;
use infra_tests::files::{read_yaml, yaml_documents};
use serde_yaml::Value as Yaml;

use crate::support::{
    created_databases, design_port, generator_keys, generator_value, help_vars, infra, k8s, pinned,
    url_parts,
};

fn overlay() -> Yaml {
    read_yaml(&k8s("overlays/store/kustomization.yaml")).unwrap()
}

fn base(service: &str, file: &str) -> Yaml {
    read_yaml(&k8s(&format!("base/{service}")).join(file)).unwrap()
}

fn overlay_databases() -> BTreeSet<String> {
    created_databases(
        &generator_value(
            &overlay(),
            "configMapGenerator",
            "postgres-init",
            "init.sql",
        )
        .unwrap_or_default(),
    )
}

fn assert_no_problems(problems: &[String]) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn overlay_and_base_resources_exist() {
    let mut problems = Vec::new();
    for res in overlay()["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
    {
        if !k8s("overlays/store").join(res).exists() {
            problems.push(format!("overlay resource {res} does not exist"));
        }
    }
    for service in SERVICES {
        let dir = k8s(&format!("base/{service}"));
        for res in base(service, "kustomization.yaml")["resources"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Yaml::as_str)
        {
            if !dir.join(res).is_file() {
                problems.push(format!("base/{service}: resource {res} does not exist"));
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn overlay_creates_the_same_databases_as_compose() {
    assert_eq!(
        overlay_databases(),
        created_databases(&std::fs::read_to_string(infra("postgres/init.sql")).unwrap()),
        "k8s and compose create the same databases"
    );
}

#[test]
fn k8s_config_holds_only_variables_the_help_lists() {
    let overlay = overlay();
    let mut problems = Vec::new();
    for service in SERVICES {
        let help = help_vars(service);
        let config = generator_keys(
            &base(service, "kustomization.yaml"),
            "configMapGenerator",
            service,
        );
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
    }
    assert_no_problems(&problems);
}

#[test]
fn k8s_config_binds_the_design_port_and_names_the_stacks_database_and_neighbours() {
    let overlay = overlay();
    let databases = overlay_databases();
    let mut problems = Vec::new();
    for service in SERVICES {
        let port = design_port(service);
        let kustomization = base(service, "kustomization.yaml");
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
    }
    assert_no_problems(&problems);
}

/// The gateway Secret holds a merchant key and order-service's Secret the same one.
#[test]
fn k8s_order_service_sends_the_merchant_key_the_gateway_requires() {
    let overlay = overlay();
    let required = generator_value(
        &overlay,
        "secretGenerator",
        "payment-gateway",
        "GATEWAY_API_KEY",
    );
    let sent = generator_value(
        &overlay,
        "secretGenerator",
        "order-service",
        "PAYMENT_GATEWAY_API_KEY",
    );
    assert!(
        required.as_deref().is_some_and(|k| !k.is_empty()),
        "k8s payment-gateway: the Secret lacks GATEWAY_API_KEY"
    );
    assert_eq!(
        sent, required,
        "k8s: PAYMENT_GATEWAY_API_KEY != GATEWAY_API_KEY"
    );
}

/// Container port, probes, resources, envFrom, scrape annotations and the selector of each
/// service's Deployment.
#[test]
fn deployments_probe_limit_configure_and_annotate_their_pods() {
    let mut problems = Vec::new();
    for service in SERVICES {
        let port = design_port(service);
        let deployment = base(service, "deployment.yaml");
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
    }
    assert_no_problems(&problems);
}

#[test]
fn services_select_their_pods_on_the_design_port() {
    let mut problems = Vec::new();
    for service in SERVICES {
        let port = design_port(service);
        let deployment = base(service, "deployment.yaml");
        let labels = deployment["spec"]["template"]["metadata"]["labels"]
            .as_mapping()
            .unwrap();
        let svc = base(service, "service.yaml");
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
    assert_no_problems(&problems);
}

#[test]
fn overlay_runs_more_than_one_replica_of_each_service() {
    let overlay = overlay();
    let replicas = overlay["replicas"].as_sequence().unwrap();
    let mut problems = Vec::new();
    for service in SERVICES {
        let count = replicas
            .iter()
            .find(|r| r["name"] == service)
            .and_then(|r| r["count"].as_u64());
        if count.is_none_or(|c| c < 2) {
            problems.push(format!("overlay: {service} runs more than one replica"));
        }
    }
    assert_no_problems(&problems);
}

// ---------------------------------------------------------------------------------------------
// The rendered overlay
//
// kubectl is optional, even in CI: no registry this project installs from carries a kubectl
// with kustomize v5 (Debian's is 1.20), and the YAML-level checks above cover the same
// references without it. So these tests are `needs_kubectl`: reported as skipped where it is
// missing, never as passed.

/// The objects `kubectl kustomize` (kustomize v5) builds from the overlay.
fn rendered_overlay() -> Vec<Yaml> {
    test_support::require(test_support::Dependency::Kubectl);
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
    yaml_documents(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

fn name_of(d: &Yaml) -> String {
    d["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn of_kind(docs: &[Yaml], kind: &str) -> BTreeSet<String> {
    docs.iter()
        .filter(|d| d["kind"] == kind)
        .map(name_of)
        .collect()
}

fn workloads(docs: &[Yaml]) -> Vec<&Yaml> {
    docs.iter()
        .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
        .collect()
}

mod needs_kubectl {
    use super::*;

    /// Every workload is in the namespace, pins its images, and takes only ConfigMaps, Secrets and
    /// ports (with their hash suffixes) that the build holds.
    #[test]
    #[ignore = "needs: kubectl"]
    fn rendered_workloads_refer_only_to_objects_of_the_build() {
        let docs = rendered_overlay();
        let config_maps = of_kind(&docs, "ConfigMap");
        let secrets = of_kind(&docs, "Secret");
        let workloads = workloads(&docs);
        assert_eq!(workloads.len(), 5, "three services, PostgreSQL and Redis");
        let mut problems = Vec::new();
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
                            problems
                                .push(format!("{name}: envFrom ConfigMap {n} is not in the build"));
                        }
                    }
                    if let Some(n) = e["secretRef"]["name"].as_str() {
                        if !secrets.contains(n) {
                            problems
                                .push(format!("{name}: envFrom Secret {n} is not in the build"));
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
        assert_no_problems(&problems);
        eprintln!(
            "kubectl kustomize: {} objects ({} workloads, {} ConfigMaps, {} Secrets), every reference resolves",
            docs.len(),
            workloads.len(),
            config_maps.len(),
            secrets.len()
        );
    }

    /// Every Service selects a workload and targets one of its named ports.
    #[test]
    #[ignore = "needs: kubectl"]
    fn rendered_services_select_workloads_and_their_ports() {
        let docs = rendered_overlay();
        let workloads = workloads(&docs);
        let mut problems = Vec::new();
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
        assert_no_problems(&problems);
    }

    /// In-cluster URLs name Services of the build.
    #[test]
    #[ignore = "needs: kubectl"]
    fn rendered_config_urls_name_services_of_the_build() {
        let docs = rendered_overlay();
        let services = of_kind(&docs, "Service");
        let mut problems = Vec::new();
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
        assert_no_problems(&problems);
    }
}
