//! The links of the exemplar chain, one function each, in chain order.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{StatusCode, Url};

use super::{Check, Link};
use crate::cli::StoreUrls;
use crate::grafana::read_datasources;
use crate::http::{endpoint, Http};
use crate::openmetrics::{self, PROMETHEUS_ACCEPT};
use crate::prometheus::{Exemplar, ExemplarQuery, Prometheus};
use crate::trace::backend::not_found_reasons;
use crate::trace::{Lookup, TraceBackend};

pub(super) const SERVICES: Link = Link {
    id: "services",
    title: "services /metrics",
};
pub(super) const PROMETHEUS: Link = Link {
    id: "prometheus",
    title: "Prometheus",
};
pub(super) const EXEMPLAR_STORAGE: Link = Link {
    id: "exemplar-storage",
    title: "exemplar storage",
};
pub(super) const TARGETS: Link = Link {
    id: "targets",
    title: "scrape targets",
};
pub(super) const QUERY_EXEMPLARS: Link = Link {
    id: "query-exemplars",
    title: "query_exemplars",
};
pub(super) const TRACE_BACKEND: Link = Link {
    id: "trace-backend",
    title: "trace backend",
};
pub(super) const EXEMPLAR_TRACE: Link = Link {
    id: "exemplar-trace",
    title: "exemplar's trace",
};
pub(super) const SAMPLER: Link = Link {
    id: "sampler",
    title: "trace sampler",
};
pub(super) const GRAFANA: Link = Link {
    id: "grafana",
    title: "Grafana link",
};

/// What link 1 saw of each service, for the links after it.
#[derive(Clone, Debug, Default)]
pub(super) struct Seen {
    pub(super) services: Vec<ServiceSeen>,
}

#[derive(Clone, Debug)]
pub(super) struct ServiceSeen {
    pub(super) name: &'static str,
    pub(super) openmetrics: bool,
    pub(super) exemplars: usize,
    /// `http_server_request_duration_seconds_count`, summed: requests the service has timed.
    pub(super) requests: f64,
}

impl Seen {
    /// Requests were timed, yet no histogram carries an exemplar: spans are not sampled.
    fn starved(&self) -> bool {
        let requests: f64 = self.services.iter().map(|s| s.requests).sum();
        let exemplars: usize = self.services.iter().map(|s| s.exemplars).sum();
        !self.services.is_empty() && requests > 0.0 && exemplars == 0
    }
}

/// Link 1: Each service answers `/metrics` in OpenMetrics (what Prometheus asks for), with exemplars.
pub(super) async fn services(http: &Http, urls: &StoreUrls) -> (Check, Seen) {
    let mut seen = Seen::default();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    for (name, base) in [
        ("order-service", &urls.order_url),
        ("catalog-service", &urls.catalog_url),
        ("payment-gateway", &urls.gateway_url),
    ] {
        let url = endpoint(base, "/metrics");
        let answer = match http.get(&url, Some(PROMETHEUS_ACCEPT)).await {
            Ok(answer) if answer.status == StatusCode::OK => answer,
            Ok(answer) => {
                problems.push(format!("{name}: {url} answered HTTP {}", answer.status));
                fixes.push(format!("look at {name}'s log"));
                continue;
            }
            Err(err) => {
                problems.push(format!("{name}: {err}"));
                fixes.push(format!(
                    "start {name} (`cargo xtask up`), or pass its URL (--{}-url)",
                    name.split('-').next().unwrap_or(name)
                ));
                continue;
            }
        };
        let openmetrics = answer
            .content_type()
            .starts_with("application/openmetrics-text");
        let samples = openmetrics::parse(&answer.body);
        let exemplars = samples
            .iter()
            .filter(|s| {
                s.exemplar.as_ref().is_some_and(|labels| {
                    crate::prometheus::exemplars::TRACE_ID_LABELS
                        .iter()
                        .any(|l| labels.contains_key(*l))
                })
            })
            .count();
        let requests = samples
            .iter()
            .filter(|s| s.name == "http_server_request_duration_seconds_count")
            .map(|s| s.value)
            .sum();
        if !openmetrics {
            problems.push(format!(
                "{name}: /metrics answered {:?}, not OpenMetrics: Prometheus would parse the \
                 classic text format, which has no exemplars",
                answer.content_type()
            ));
            fixes.push(
                "serve /metrics as application/openmetrics-text (the telemetry crate does)".into(),
            );
        }
        seen.services.push(ServiceSeen {
            name,
            openmetrics,
            exemplars,
            requests,
        });
    }
    if !problems.is_empty() {
        return (
            Check::fail(SERVICES, problems.join("; "), fixes.join("; ")),
            seen,
        );
    }
    let total: usize = seen.services.iter().map(|s| s.exemplars).sum();
    let per_service: Vec<String> = seen
        .services
        .iter()
        .map(|s| format!("{} {}", s.name, s.exemplars))
        .collect();
    let check = if seen.starved() {
        Check::fail(
            SERVICES,
            "requests were timed but no histogram bucket carries an exemplar: their spans are not \
             sampled",
            "see the sampler link: OTEL_SDK_DISABLED must not be true, OTEL_TRACES_SAMPLER must \
             sample (parentbased_always_on is the default)",
        )
    } else if total == 0 {
        Check::warn(
            SERVICES,
            "OpenMetrics, but no exemplar yet: no request has been timed",
            "send some traffic: `cargo xtask traffic`",
        )
    } else {
        Check::ok(
            SERVICES,
            format!(
                "OpenMetrics with exemplars on /metrics ({})",
                per_service.join(", ")
            ),
        )
    };
    (check, seen)
}

/// Link 2: Prometheus answers its API.
pub(super) async fn prometheus(prometheus: &Prometheus) -> Check {
    match prometheus.build_version().await {
        Ok(version) => Check::ok(
            PROMETHEUS,
            format!("Prometheus {version} at {}", prometheus.base()),
        ),
        Err(err) => Check::fail(
            PROMETHEUS,
            err.to_string(),
            "start Prometheus (`cargo xtask up` starts it when the `prometheus` binary is \
             installed: apt-get install prometheus), or pass its URL with --prometheus-url",
        ),
    }
}

/// Link 3: Exemplar storage is on, and not sized to nothing.
pub(super) async fn exemplar_storage(prometheus: &Prometheus) -> Check {
    match prometheus.exemplar_storage_enabled().await {
        Ok(false) => {
            return Check::fail(
                EXEMPLAR_STORAGE,
                "off: /api/v1/status/flags does not list exemplar-storage in enable-feature, so \
                 Prometheus drops every exemplar it scrapes",
                "restart Prometheus with --enable-feature=exemplar-storage (infra/compose.yaml \
                 and `cargo xtask up` do)",
            )
        }
        Err(err) => {
            return Check::fail(
                EXEMPLAR_STORAGE,
                format!("flags unreadable: {err}"),
                "check that --prometheus-url is a Prometheus",
            )
        }
        Ok(true) => {}
    }
    let max = match prometheus.config_yaml().await {
        Ok(yaml) => max_exemplars(&yaml),
        Err(_) => None,
    };
    match max {
        Some(0) => Check::fail(
            EXEMPLAR_STORAGE,
            "on, but storage.exemplars.max_exemplars is 0: nothing is kept",
            "set storage.exemplars.max_exemplars (e.g. 100000) in prometheus.yml and reload",
        ),
        Some(n) => Check::ok(
            EXEMPLAR_STORAGE,
            format!("on (--enable-feature=exemplar-storage), max_exemplars {n}"),
        ),
        None => Check::ok(
            EXEMPLAR_STORAGE,
            "on (--enable-feature=exemplar-storage), max_exemplars at its default",
        ),
    }
}

fn max_exemplars(config_yaml: &str) -> Option<u64> {
    let config: serde_yaml::Value = serde_yaml::from_str(config_yaml).ok()?;
    config
        .get("storage")?
        .get("exemplars")?
        .get("max_exemplars")?
        .as_u64()
}

/// The `scrape_protocols` a job uses, when the configuration says (Prometheus 2.49 and later).
fn scrape_protocols(config_yaml: &str, job: &str) -> Option<Vec<String>> {
    let config: serde_yaml::Value = serde_yaml::from_str(config_yaml).ok()?;
    let list = |v: &serde_yaml::Value| -> Option<Vec<String>> {
        Some(
            v.get("scrape_protocols")?
                .as_sequence()?
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect(),
        )
    };
    let job_config = config
        .get("scrape_configs")?
        .as_sequence()?
        .iter()
        .find(|c| c.get("job_name").and_then(|n| n.as_str()) == Some(job));
    job_config
        .and_then(list)
        .or_else(|| config.get("global").and_then(list))
}

/// Link 4: Each service is a scrape target, up, and scraped in a format that carries exemplars.
pub(super) async fn targets(prometheus: &Prometheus, urls: &StoreUrls, seen: &Seen) -> Check {
    let targets = match prometheus.targets().await {
        Ok(targets) => targets,
        Err(err) => {
            return Check::fail(TARGETS, err.to_string(), "check Prometheus's log");
        }
    };
    let config = prometheus.config_yaml().await.unwrap_or_default();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    for (name, base) in [
        ("order-service", &urls.order_url),
        ("catalog-service", &urls.catalog_url),
        ("payment-gateway", &urls.gateway_url),
    ] {
        let address = authority(base);
        // By address when Prometheus reaches the service where we do; by job name otherwise
        // (compose: Prometheus scrapes `order-service:8080`, we reach `localhost:8080`).
        let target = targets
            .iter()
            .find(|t| Url::parse(&t.scrape_url).is_ok_and(|u| authority(&u) == address))
            .or_else(|| {
                targets
                    .iter()
                    .find(|t| t.labels.get("job").map(String::as_str) == Some(name))
            });
        let Some(target) = target else {
            problems.push(format!("{name} ({address}) is not a scrape target"));
            fixes.push(format!(
                "add a scrape job for {address} (job_name: {name}) to prometheus.yml"
            ));
            continue;
        };
        if target.health != "up" || !target.last_error.is_empty() {
            problems.push(format!(
                "{name}: {} is {} ({})",
                target.scrape_url,
                target.health,
                if target.last_error.is_empty() {
                    "no error reported yet"
                } else {
                    &target.last_error
                }
            ));
            fixes.push(format!(
                "make {} reachable from Prometheus",
                target.scrape_url
            ));
            continue;
        }
        let job = target.labels.get("job").cloned().unwrap_or_default();
        if let Some(protocols) = scrape_protocols(&config, &job) {
            if !protocols.iter().any(|p| p.starts_with("OpenMetricsText")) {
                problems.push(format!(
                    "job {job}: scrape_protocols {protocols:?} leaves out OpenMetrics, so \
                     exemplars are never parsed"
                ));
                fixes.push(format!(
                    "add OpenMetricsText1.0.0 to job {job}'s scrape_protocols"
                ));
                continue;
            }
        }
        let openmetrics = seen
            .services
            .iter()
            .find(|s| s.name == name)
            .is_some_and(|s| s.openmetrics);
        found.push(format!(
            "{name} up{}",
            if openmetrics {
                ", answers OpenMetrics"
            } else {
                ""
            }
        ));
    }
    if problems.is_empty() {
        Check::ok(TARGETS, found.join("; "))
    } else {
        Check::fail(TARGETS, problems.join("; "), fixes.join("; "))
    }
}

fn authority(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(80)
    )
}

/// Link 5: `query_exemplars` returns exemplars of the metric.
pub(super) async fn query_exemplars(
    prometheus: &Prometheus,
    metric: &str,
    since: Duration,
) -> (Check, Vec<Exemplar>) {
    let query = ExemplarQuery {
        metric: metric.to_owned(),
        filters: Vec::new(),
    }
    .promql();
    let now = unix_now();
    let exemplars = match prometheus
        .query_exemplars(&query, now - since.as_secs_f64(), now)
        .await
    {
        Ok(exemplars) => exemplars,
        Err(err) => {
            return (
                Check::fail(
                    QUERY_EXEMPLARS,
                    err.to_string(),
                    "check the query and Prometheus's log",
                ),
                Vec::new(),
            )
        }
    };
    let window = humantime::format_duration(since);
    let with_trace: Vec<Exemplar> = exemplars
        .iter()
        .filter(|e| e.trace_id.is_some())
        .cloned()
        .collect();
    if with_trace.is_empty() {
        let series = prometheus
            .query_scalar(&format!("count({query})"))
            .await
            .unwrap_or(0.0);
        let check = if exemplars.is_empty() && series == 0.0 {
            Check::fail(
                QUERY_EXEMPLARS,
                format!("no series {query} at all: nothing recorded this metric yet"),
                "send traffic that reaches it: `cargo xtask traffic` (payments need checkouts)",
            )
        } else if exemplars.is_empty() {
            Check::fail(
                QUERY_EXEMPLARS,
                format!("{series} series of {query}, but no exemplar in the last {window}"),
                "Prometheus keeps exemplars only from OpenMetrics scrapes of sampled requests: \
                 see the services, targets and sampler links; or send fresh traffic",
            )
        } else {
            Check::fail(
                QUERY_EXEMPLARS,
                format!(
                    "{} exemplars, none with a trace id label ({})",
                    exemplars.len(),
                    crate::prometheus::exemplars::TRACE_ID_LABELS.join(", ")
                ),
                "exemplars must carry trace_id (or traceID) holding a W3C trace id",
            )
        };
        return (check, Vec::new());
    }
    let label = with_trace[0].trace_id_label.clone().unwrap_or_default();
    let series: std::collections::BTreeSet<String> =
        with_trace.iter().map(|e| e.series_selector()).collect();
    (
        Check::ok(
            QUERY_EXEMPLARS,
            format!(
                "{} exemplars of {query} in the last {window}, on {} series, trace id label `{label}`",
                with_trace.len(),
                series.len()
            ),
        ),
        with_trace,
    )
}

/// Link 6: The trace backend answers its trace-by-id API.
pub(super) async fn trace_backend(backend: &TraceBackend) -> Check {
    match backend.probe().await {
        Ok(()) => Check::ok(
            TRACE_BACKEND,
            format!("{} answers /api/traces/{{id}}", backend.base()),
        ),
        Err(err) => Check::fail(
            TRACE_BACKEND,
            err.to_string(),
            "start the trace backend (`cargo xtask up` starts the dev receiver on :4318; the \
             compose stack's Tempo is on :3200), or pass its URL with --trace-url",
        ),
    }
}

/// How many recent exemplars to try.
const TRIES: usize = 5;
/// Exemplars at least this old are tried first: their spans have had time to leave their
/// services' export batches (OTEL_BSP_SCHEDULE_DELAY is 5 s by default), so a partial trace
/// means something.
const SETTLED: f64 = 15.0;

/// Link 7: A recent exemplar's trace is in the backend, with the exemplar's span.
pub(super) async fn exemplar_trace(backend: &TraceBackend, exemplars: &[Exemplar]) -> Check {
    let settled_before = unix_now() - SETTLED;
    let mut candidates: Vec<&Exemplar> = exemplars.iter().collect();
    // Settled ones first, newest first within each group.
    candidates.sort_by(|a, b| {
        let settled = |e: &Exemplar| e.timestamp <= settled_before;
        settled(b)
            .cmp(&settled(a))
            .then(b.timestamp.total_cmp(&a.timestamp))
    });
    let mut tried = Vec::new();
    let mut partial = None;
    for exemplar in candidates {
        let Some(id) = &exemplar.trace_id else {
            continue;
        };
        if tried.contains(&id) {
            continue;
        }
        if tried.len() == TRIES {
            break;
        }
        tried.push(id);
        let trace = match backend.fetch(id).await {
            Ok(Lookup::Found { trace, .. }) => trace,
            Ok(Lookup::NotFound) => continue,
            Err(err) => {
                return Check::fail(
                    EXEMPLAR_TRACE,
                    err.to_string(),
                    "check the trace backend's log",
                )
            }
        };
        let mut services: Vec<&str> = trace.spans.iter().map(|s| s.service.as_str()).collect();
        services.sort_unstable();
        services.dedup();
        let detail = format!(
            "trace {id}: {} spans from {}",
            trace.spans.len(),
            services.join(", ")
        );
        let has_span = exemplar
            .span_id
            .as_ref()
            .is_none_or(|s| trace.spans.iter().any(|span| &span.span_id == s));
        if has_span {
            return Check::ok(EXEMPLAR_TRACE, detail);
        }
        partial.get_or_insert(detail);
    }
    if let Some(detail) = partial {
        return Check::warn(
            EXEMPLAR_TRACE,
            format!("{detail}, but not the exemplar's span"),
            "the span may still be in its service's export batch (run doctor again), or its \
             service exports elsewhere (OTEL_EXPORTER_OTLP_ENDPOINT)",
        );
    }
    Check::fail(
        EXEMPLAR_TRACE,
        format!(
            "none of {} recent exemplars' traces is in {}",
            tried.len(),
            backend.base()
        ),
        not_found_reasons(backend.base()).join("; or "),
    )
}

/// Link 8: The sampler does not starve exemplars.
///
/// The services do not report their sampler, so this reads the values given (`--sampler`, and
/// then nothing else), or else this shell's environment, and says which.
pub(super) fn sampler(
    flag: Option<String>,
    flag_arg: Option<String>,
    environment: impl Fn(&str) -> Option<String>,
    seen: &Seen,
) -> Check {
    let given = flag.is_some();
    let env = |key: &str| {
        if given {
            None
        } else {
            environment(key).filter(|v| !v.trim().is_empty())
        }
    };
    let (sampler, source) = match flag {
        Some(s) => (Some(s), "--sampler"),
        None => match env("OTEL_TRACES_SAMPLER") {
            Some(s) => (Some(s), "OTEL_TRACES_SAMPLER in this shell"),
            None => (None, "OTEL_TRACES_SAMPLER unset in this shell"),
        },
    };
    let arg = if given {
        flag_arg
    } else {
        env("OTEL_TRACES_SAMPLER_ARG")
    };
    let evidence = if seen.starved() {
        " The services' /metrics agree: requests timed, no exemplar."
    } else {
        ""
    };
    if env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Check::fail(
            SAMPLER,
            format!("OTEL_SDK_DISABLED=true in this shell: no spans, so no exemplars.{evidence}"),
            "unset OTEL_SDK_DISABLED and restart the services",
        );
    }
    let name = sampler
        .as_deref()
        .unwrap_or("parentbased_always_on")
        .trim()
        .to_ascii_lowercase();
    let restart = "restart the services with OTEL_TRACES_SAMPLER=parentbased_always_on, or a \
                   ratio that samples enough requests";
    match name.as_str() {
        "always_on" | "parentbased_always_on" => Check::ok(
            SAMPLER,
            format!("{name} ({source}): every request sampled{evidence}"),
        ),
        "always_off" | "parentbased_always_off" => Check::fail(
            SAMPLER,
            format!("{name} ({source}): nothing sampled, so no span can be an exemplar.{evidence}"),
            restart,
        ),
        "traceidratio" | "parentbased_traceidratio" => {
            // The specification's default ratio is 1.0.
            let ratio = match arg.as_deref().map(str::trim) {
                None => Some(1.0),
                Some(text) => text.parse::<f64>().ok(),
            };
            match ratio {
                Some(r) if r <= 0.0 => Check::fail(
                    SAMPLER,
                    format!("{name} with ratio {r} ({source}): nothing sampled.{evidence}"),
                    restart,
                ),
                Some(r) if r < 0.01 => Check::warn(
                    SAMPLER,
                    format!("{name} with ratio {r} ({source}): one request in {:.0} sampled, exemplars will be sparse", 1.0 / r),
                    "raise OTEL_TRACES_SAMPLER_ARG, or accept sparse exemplars",
                ),
                Some(r) => Check::ok(
                    SAMPLER,
                    format!("{name} with ratio {r} ({source}){evidence}"),
                ),
                None => Check::warn(
                    SAMPLER,
                    format!("{name} with OTEL_TRACES_SAMPLER_ARG {arg:?} ({source}): not a number"),
                    "set OTEL_TRACES_SAMPLER_ARG to a ratio between 0 and 1",
                ),
            }
        }
        other => Check::warn(
            SAMPLER,
            format!("{other} ({source}): not a sampler this check knows"),
            "make sure it samples the requests whose latency you watch",
        ),
    }
}

/// Link 9: Grafana's Prometheus data source links the exemplar label to a Tempo data source.
pub(super) fn grafana(path: &Path, label: &str) -> Check {
    if !path.exists() {
        return Check::new(
            GRAFANA,
            super::Status::Skip,
            format!(
                "no provisioning file at {} (pass --grafana-datasources, or check the data \
                 source in Grafana: Connections → Data sources → Prometheus → Exemplars)",
                path.display()
            ),
        );
    }
    let sources = match read_datasources(path) {
        Ok(sources) => sources,
        Err(err) => return Check::fail(GRAFANA, err.to_string(), "fix the YAML"),
    };
    let tempo: Vec<&str> = sources
        .iter()
        .filter(|s| s.kind == "tempo")
        .map(|s| s.uid.as_str())
        .collect();
    let linked = sources
        .iter()
        .filter(|s| s.kind == "prometheus")
        .find_map(|s| {
            s.exemplar_links
                .iter()
                .find(|(name, uid)| {
                    name == label && uid.as_deref().is_some_and(|u| tempo.contains(&u))
                })
                .map(|(_, uid)| (s.name.as_str(), uid.clone().unwrap_or_default()))
        });
    match linked {
        Some((prometheus, uid)) => Check::ok(
            GRAFANA,
            format!(
                "{}: data source {prometheus:?} links exemplar label `{label}` to Tempo (uid {uid})",
                path.display()
            ),
        ),
        None => Check::fail(
            GRAFANA,
            format!(
                "{}: no Prometheus data source links exemplar label `{label}` to a Tempo data \
                 source (Tempo uids: {})",
                path.display(),
                if tempo.is_empty() {
                    "none".to_owned()
                } else {
                    tempo.join(", ")
                }
            ),
            format!(
                "under the Prometheus data source's jsonData: exemplarTraceIdDestinations: \
                 [{{name: {label}, datasourceUid: <the Tempo data source's uid>}}]"
            ),
        ),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn sampler_settings_that_starve_exemplars_fail() {
        let seen = Seen::default();
        let no_env = |_: &str| None;
        let check = |s: &str, arg: Option<&str>| {
            sampler(Some(s.into()), arg.map(Into::into), no_env, &seen).status
        };
        assert_eq!(check("parentbased_always_on", None), Status::Ok);
        assert_eq!(check("always_off", None), Status::Fail);
        assert_eq!(check("parentbased_traceidratio", Some("0")), Status::Fail);
        assert_eq!(check("traceidratio", Some("0.001")), Status::Warn);
        assert_eq!(check("traceidratio", Some("0.5")), Status::Ok);
        assert_eq!(check("traceidratio", None), Status::Ok, "default ratio 1.0");
        assert_eq!(check("traceidratio", Some("half")), Status::Warn);
        assert_eq!(check("jaeger_remote", None), Status::Warn);
        assert!(sampler(Some("always_off".into()), None, no_env, &seen)
            .detail
            .contains("--sampler"));
        let shell = |key: &str| match key {
            "OTEL_TRACES_SAMPLER" => Some("parentbased_traceidratio".to_owned()),
            "OTEL_TRACES_SAMPLER_ARG" => Some("0".to_owned()),
            _ => None,
        };
        let from_shell = sampler(None, None, shell, &seen);
        assert_eq!(from_shell.status, Status::Fail);
        assert!(
            from_shell.detail.contains("in this shell"),
            "{}",
            from_shell.detail
        );
        let disabled = |key: &str| (key == "OTEL_SDK_DISABLED").then(|| "true".to_owned());
        assert_eq!(sampler(None, None, disabled, &seen).status, Status::Fail);
        assert_eq!(
            sampler(Some("always_on".into()), None, disabled, &seen).status,
            Status::Ok,
            "--sampler describes the services; this shell is not read"
        );
    }

    #[test]
    fn max_exemplars_and_scrape_protocols_are_read_from_the_config() {
        let yaml = "global:\n  scrape_interval: 5s\n  scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]\nstorage:\n  exemplars:\n    max_exemplars: 0\nscrape_configs:\n  - job_name: order-service\n    scrape_protocols: [PrometheusText0.0.4]\n  - job_name: other\n";
        assert_eq!(max_exemplars(yaml), Some(0));
        assert_eq!(max_exemplars("global: {}"), None);
        assert_eq!(
            scrape_protocols(yaml, "order-service"),
            Some(vec!["PrometheusText0.0.4".to_owned()])
        );
        assert_eq!(
            scrape_protocols(yaml, "other").map(|p| p.len()),
            Some(2),
            "the global default"
        );
        assert_eq!(scrape_protocols("scrape_configs: []", "x"), None);
    }

    #[test]
    fn the_grafana_link_must_name_the_label_and_a_tempo_uid() {
        let dir = std::env::temp_dir().join(format!("storectl-grafana-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("datasources.yaml");
        std::fs::write(
            &path,
            "datasources:\n  - {name: P, uid: p, type: prometheus, jsonData: {exemplarTraceIdDestinations: [{name: trace_id, datasourceUid: tempo}]}}\n  - {name: T, uid: tempo, type: tempo}\n",
        )
        .unwrap();
        assert_eq!(grafana(&path, "trace_id").status, Status::Ok);
        let wrong = grafana(&path, "traceID");
        assert_eq!(wrong.status, Status::Fail);
        assert!(wrong.fix.unwrap().contains("name: traceID"));
        assert_eq!(
            grafana(&dir.join("missing.yaml"), "trace_id").status,
            Status::Skip
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
