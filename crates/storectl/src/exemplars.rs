//! `storectl exemplars`: from a latency spike to its traces.
//!
//! [`collect`] asks Prometheus for the exemplars of the query's series over the window, keeps
//! the slowest (one per trace), and fetches each trace; [`Collected::render`] and the JSON form
//! print them. A missing trace is an answer (with the likely reasons), not an error; an empty
//! answer from Prometheus is explained (exemplar storage off, or no exemplars yet).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Value};

use crate::cli::ExemplarsArgs;
use crate::error::Result;
use crate::grafana::explore_url;
use crate::http::Http;
use crate::prometheus::exemplars::slowest;
use crate::prometheus::{Exemplar, ExemplarQuery, Prometheus};
use crate::trace::backend::not_found_reasons;
use crate::trace::waterfall::{self, duration};
use crate::trace::{Analysis, Api, Lookup, Trace, TraceBackend};

const TIMEOUT: Duration = Duration::from_secs(15);

/// An exemplar and what the trace backend holds for it.
#[derive(Clone, Debug)]
pub struct Opened {
    pub exemplar: Exemplar,
    pub explore_url: String,
    pub trace: Opening,
}

#[derive(Clone, Debug)]
pub enum Opening {
    Found {
        trace: Trace,
        analysis: Analysis,
        api: Api,
    },
    NotFound {
        reasons: Vec<String>,
    },
    /// The backend failed to answer for this trace.
    Failed(String),
}

/// Everything `exemplars` found.
#[derive(Clone, Debug)]
pub struct Collected {
    pub query: String,
    pub prometheus: String,
    pub trace_backend: String,
    pub since: Duration,
    /// Exemplars Prometheus returned (with or without a usable trace id).
    pub exemplars_found: usize,
    pub opened: Vec<Opened>,
    /// Why there is nothing to open, when there is nothing.
    pub problem: Option<String>,
}

pub async fn collect(args: &ExemplarsArgs) -> Result<Collected> {
    let http = Http::new(TIMEOUT)?;
    let prometheus = Prometheus::new(http.clone(), args.backends.prometheus_url.clone());
    let backend = TraceBackend::new(http, args.backends.trace_url.clone());
    let query = ExemplarQuery {
        metric: args.metric.clone(),
        filters: args.labels.clone(),
    }
    .promql();
    let now = unix_now();
    let exemplars = prometheus
        .query_exemplars(&query, now - args.since.as_secs_f64(), now)
        .await?;
    let exemplars_found = exemplars.len();
    let mut collected = Collected {
        query,
        prometheus: prometheus.base().to_string(),
        trace_backend: backend.base().to_string(),
        since: args.since,
        exemplars_found,
        opened: Vec::new(),
        problem: None,
    };

    let chosen = slowest(exemplars, usize::from(args.slowest));
    if chosen.is_empty() {
        collected.problem = Some(if exemplars_found > 0 {
            format!(
                "{exemplars_found} exemplars, but none has a trace id label ({}) holding a \
                 W3C trace id: nothing to open",
                crate::prometheus::exemplars::TRACE_ID_LABELS.join(", ")
            )
        } else {
            why_no_exemplars(&prometheus, &collected.query, args.since).await
        });
        return Ok(collected);
    }

    for exemplar in chosen {
        let Some(trace_id) = exemplar.trace_id.clone() else {
            continue;
        };
        let explore = explore_url(
            &args.grafana_url,
            &args.grafana_tempo_uid,
            &trace_id,
            exemplar.timestamp,
        );
        let trace = match backend.fetch(&trace_id).await {
            Ok(Lookup::Found { trace, api }) => Opening::Found {
                analysis: trace.analyse(),
                trace,
                api,
            },
            Ok(Lookup::NotFound) => Opening::NotFound {
                reasons: not_found_reasons(backend.base()),
            },
            Err(err) => Opening::Failed(err.to_string()),
        };
        collected.opened.push(Opened {
            exemplar,
            explore_url: explore,
            trace,
        });
    }
    Ok(collected)
}

/// Prometheus returned no exemplar: storage off, or nothing recorded in the window.
async fn why_no_exemplars(prometheus: &Prometheus, query: &str, since: Duration) -> String {
    let window = humantime::format_duration(since);
    match prometheus.exemplar_storage_enabled().await {
        Ok(false) => format!(
            "Prometheus at {} keeps no exemplars: exemplar storage is off (`exemplar-storage` is \
             not in --enable-feature, /api/v1/status/flags). Start it with \
             --enable-feature=exemplar-storage, as `cargo xtask up` and infra/compose.yaml do.",
            prometheus.base()
        ),
        Ok(true) => format!(
            "no exemplars for {query} in the last {window}. Is there traffic (`cargo xtask \
             traffic`)? Does the metric exist with these labels? `cargo xtask doctor` checks \
             the chain link by link."
        ),
        Err(err) => format!(
            "no exemplars for {query} in the last {window}, and Prometheus's flags could not be \
             read to tell why: {err}"
        ),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn time_of(unix: f64) -> String {
    if !unix.is_finite() || unix < 0.0 {
        return "?".to_owned();
    }
    let at = UNIX_EPOCH + Duration::from_secs_f64(unix);
    humantime::format_rfc3339_seconds(at).to_string()
}

impl Collected {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(problem) = &self.problem {
            let _ = writeln!(out, "{problem}");
            return out;
        }
        let _ = writeln!(
            out,
            "{} exemplars of {} in the last {} ({}); the {} slowest, one per trace, from {}:",
            self.exemplars_found,
            self.query,
            humantime::format_duration(self.since),
            self.prometheus,
            self.opened.len(),
            self.trace_backend,
        );
        for (n, opened) in self.opened.iter().enumerate() {
            let e = &opened.exemplar;
            let _ = writeln!(
                out,
                "\n── exemplar {} of {}: {} in {}{} at {}",
                n + 1,
                self.opened.len(),
                in_unit(e.value, e.series.get("__name__").map_or("", String::as_str)),
                e.series.get("__name__").map(String::as_str).unwrap_or(""),
                e.series_selector(),
                time_of(e.timestamp),
            );
            let id = e
                .trace_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            match &opened.trace {
                Opening::Found {
                    trace,
                    analysis,
                    api,
                } => {
                    let services = services(trace);
                    let _ = writeln!(
                        out,
                        "trace {id}: {} spans from {}, {} (read from {})\n",
                        trace.spans.len(),
                        services.join(", "),
                        duration(analysis.duration_nanos),
                        api_path(*api),
                    );
                    out.push_str(&waterfall::render(trace, analysis, e.span_id.as_deref()));
                    if let Some(i) = analysis.slowest {
                        let span = &trace.spans[i];
                        let _ = writeln!(
                            out,
                            "\nThe time went to {}: {} — {} of its own (self time) in a {} trace.",
                            span.service,
                            span.name,
                            duration(analysis.self_nanos[i]),
                            duration(analysis.duration_nanos),
                        );
                    }
                    if e.span_id.is_some()
                        && !trace
                            .spans
                            .iter()
                            .any(|s| Some(&s.span_id) == e.span_id.as_ref())
                    {
                        out.push_str("(the exemplar's span is not among the spans received)\n");
                    }
                }
                Opening::NotFound { reasons } => {
                    let _ = writeln!(
                        out,
                        "trace {id} is not in {} (tried /api/v2/traces and /api/traces). It may be:",
                        self.trace_backend
                    );
                    for reason in reasons {
                        let _ = writeln!(out, "  - {reason}");
                    }
                }
                Opening::Failed(error) => {
                    let _ = writeln!(out, "trace {id}: the backend failed: {error}");
                }
            }
            let _ = writeln!(
                out,
                "In Grafana (compose stack), Explore: {}",
                opened.explore_url
            );
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let opened: Vec<Value> = self.opened.iter().map(opened_json).collect();
        json!({
            "query": self.query,
            "prometheus": self.prometheus,
            "trace_backend": self.trace_backend,
            "since_seconds": self.since.as_secs_f64(),
            "exemplars_found": self.exemplars_found,
            "problem": self.problem,
            "opened": opened,
        })
    }
}

fn opened_json(opened: &Opened) -> Value {
    let trace = match &opened.trace {
        Opening::Found {
            trace,
            analysis,
            api,
        } => {
            let span_json =
                |i: usize| span_json(trace, analysis, i, opened.exemplar.span_id.as_deref());
            json!({
                "found": true,
                "api": api,
                "duration_ms": analysis.duration_nanos as f64 / 1e6,
                "services": services(trace),
                "slowest_span": analysis.slowest.map(span_json),
                "spans": analysis.order.iter().map(|i| span_json(*i)).collect::<Vec<_>>(),
            })
        }
        Opening::NotFound { reasons } => json!({ "found": false, "reasons": reasons }),
        Opening::Failed(error) => json!({ "found": false, "error": error }),
    };
    json!({
        "exemplar": opened.exemplar,
        "explore_url": opened.explore_url,
        "trace": trace,
    })
}

fn span_json(trace: &Trace, analysis: &Analysis, i: usize, exemplar_span: Option<&str>) -> Value {
    let span = &trace.spans[i];
    #[derive(Serialize)]
    struct SpanOut<'a> {
        span_id: &'a str,
        parent_span_id: Option<&'a str>,
        service: &'a str,
        name: &'a str,
        kind: &'a str,
        start_offset_ms: f64,
        duration_ms: f64,
        self_time_ms: f64,
        status: &'a crate::trace::Status,
        critical_path: bool,
        exemplar: bool,
        depth: usize,
        attributes: serde_json::Map<String, Value>,
    }
    let out = SpanOut {
        span_id: &span.span_id,
        parent_span_id: span.parent_span_id.as_deref(),
        service: &span.service,
        name: &span.name,
        kind: span.kind.as_str(),
        start_offset_ms: span
            .start_unix_nanos
            .saturating_sub(analysis.start_unix_nanos) as f64
            / 1e6,
        duration_ms: span.duration_nanos() as f64 / 1e6,
        self_time_ms: analysis.self_nanos[i] as f64 / 1e6,
        status: &span.status,
        critical_path: analysis.critical[i],
        exemplar: exemplar_span == Some(span.span_id.as_str()),
        depth: analysis.depth[i],
        attributes: span.attributes.iter().cloned().collect(),
    };
    serde_json::to_value(out).unwrap_or(Value::Null)
}

/// Distinct services in order of appearance.
fn services(trace: &Trace) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for span in &trace.spans {
        if !out.contains(&span.service) {
            out.push(span.service.clone());
        }
    }
    out
}

fn api_path(api: Api) -> &'static str {
    match api {
        Api::V2 => "/api/v2/traces",
        Api::V1 => "/api/traces",
    }
}

/// An exemplar's value in its metric's unit, the last word of the name (`…_seconds_bucket`,
/// `…_usd_bucket`): a checkout amount is not a duration.
fn in_unit(value: f64, series_name: &str) -> String {
    let metric = series_name.strip_suffix("_bucket").unwrap_or(series_name);
    match metric.rsplit('_').next() {
        Some("seconds") => seconds(value),
        Some("usd") => format!("{value:.2} USD"),
        _ => format!("{value}"),
    }
}

fn seconds(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.2} s")
    } else {
        format!("{:.1} ms", value * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::in_unit;

    #[test]
    fn values_are_shown_in_the_metrics_unit() {
        assert_eq!(
            in_unit(7.153, "webstore_payment_duration_seconds_bucket"),
            "7.15 s"
        );
        assert_eq!(
            in_unit(0.25, "http_server_request_duration_seconds"),
            "250.0 ms"
        );
        assert_eq!(
            in_unit(3728.13, "webstore_checkout_amount_usd_bucket"),
            "3728.13 USD"
        );
        assert_eq!(in_unit(42.0, "queue_depth_bucket"), "42");
    }
}
