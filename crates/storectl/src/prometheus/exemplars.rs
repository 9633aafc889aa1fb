//! `/api/v1/query_exemplars`: the query that selects series, and the answer read into
//! [`Exemplar`]s.
//!
//! The answer is a list of `{"seriesLabels":{…},"exemplars":[{"labels":{…},"value":"6.1",
//! "timestamp":1600096945.479}]}`. Which label carries the trace id depends on who wrote the
//! exemplar: the WebStore services (and OpenMetrics convention) write `trace_id`/`span_id`,
//! Tempo's metrics-generator writes `traceID` with the id's leading zeros trimmed. Both are
//! read, and the id is padded back to 32 hex digits ([`TraceId::parse_hex`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::trace::id::parse_span_id;
use crate::trace::TraceId;

/// Exemplar labels that hold a trace id, in the order they are looked for.
pub const TRACE_ID_LABELS: [&str; 3] = ["trace_id", "traceID", "traceId"];
/// Exemplar labels that hold a span id.
pub const SPAN_ID_LABELS: [&str; 3] = ["span_id", "spanID", "spanId"];

/// One exemplar with the series it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exemplar {
    /// The series' labels, `__name__` included.
    pub series: BTreeMap<String, String>,
    /// The exemplar's own labels, as stored.
    pub labels: BTreeMap<String, String>,
    /// The observed value (seconds, for a latency histogram).
    pub value: f64,
    /// Unix seconds.
    pub timestamp: f64,
    /// The trace id, when a label holds a valid one.
    pub trace_id: Option<TraceId>,
    /// Which label held it (`trace_id`, `traceID`…).
    pub trace_id_label: Option<String>,
    /// The span id (16 hex digits), when a label holds a valid one.
    pub span_id: Option<String>,
}

impl Exemplar {
    /// The series' labels as PromQL shows them, `{a="b", c="d"}`, without `__name__` and
    /// `instance` (the `job` already names the service).
    pub fn series_selector(&self) -> String {
        let labels: Vec<String> = self
            .series
            .iter()
            .filter(|(k, _)| *k != "__name__" && *k != "instance")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{{{}}}", labels.join(", "))
    }
}

/// Reads the `data` of a `query_exemplars` answer.
pub fn parse(data: &Value) -> Result<Vec<Exemplar>, String> {
    let Some(series_list) = data.as_array() else {
        return if data.is_null() {
            Ok(Vec::new())
        } else {
            Err("`data` is not a list".to_owned())
        };
    };
    let mut out = Vec::new();
    for series in series_list {
        let series_labels = string_map(&series["seriesLabels"]);
        for exemplar in series["exemplars"].as_array().into_iter().flatten() {
            let labels = string_map(&exemplar["labels"]);
            let (trace_id_label, trace_id) = TRACE_ID_LABELS
                .iter()
                .find_map(|key| {
                    let id = TraceId::parse_hex(labels.get(*key)?)?;
                    Some(((*key).to_owned(), id))
                })
                .unzip();
            let span_id = SPAN_ID_LABELS
                .iter()
                .find_map(|key| labels.get(*key).and_then(|v| parse_span_id(v)));
            out.push(Exemplar {
                series: series_labels.clone(),
                value: number(&exemplar["value"]),
                timestamp: number(&exemplar["timestamp"]),
                labels,
                trace_id,
                trace_id_label,
                span_id,
            });
        }
    }
    Ok(out)
}

/// The `n` exemplars with the highest values, one per trace.
pub fn slowest(mut exemplars: Vec<Exemplar>, n: usize) -> Vec<Exemplar> {
    exemplars.retain(|e| e.trace_id.is_some());
    exemplars.sort_by(|a, b| b.value.total_cmp(&a.value));
    let mut seen = std::collections::HashSet::new();
    exemplars.retain(|e| seen.insert(e.trace_id.clone()));
    exemplars.truncate(n);
    exemplars
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// Prometheus writes sample values as strings and timestamps as numbers.
fn number(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// A label matcher given on the command line: `name=value`, `name!=value`, `name=~regex` or
/// `name!~regex`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelFilter {
    name: String,
    op: &'static str,
    value: String,
}

impl LabelFilter {
    pub fn parse(text: &str) -> Result<LabelFilter, String> {
        let (at, op) = ["!=", "=~", "!~", "="]
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
            .ok_or_else(|| {
                format!("{text:?}: expected name=value, name!=value, name=~regex or name!~regex")
            })?;
        let name = text[..at].trim();
        let value = &text[at + op.len()..];
        let valid_name = name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if name.is_empty() || !valid_name {
            return Err(format!("{text:?}: {name:?} is not a label name"));
        }
        Ok(LabelFilter {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for LabelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PromQL string: backslashes and double quotes escaped.
        let escaped = self.value.replace('\\', "\\\\").replace('"', "\\\"");
        write!(f, "{}{}\"{}\"", self.name, self.op, escaped)
    }
}

/// The series whose exemplars to fetch: a metric, and label filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExemplarQuery {
    pub metric: String,
    pub filters: Vec<LabelFilter>,
}

impl ExemplarQuery {
    /// The PromQL selector. A histogram's exemplars sit on its `_bucket` series, so a bare
    /// histogram name gets `_bucket` appended; a name already ending in a series suffix is kept.
    pub fn promql(&self) -> String {
        let suffixed = ["_bucket", "_count", "_sum", "_total"]
            .iter()
            .any(|s| self.metric.ends_with(s));
        let name = if suffixed {
            self.metric.clone()
        } else {
            format!("{}_bucket", self.metric)
        };
        if self.filters.is_empty() {
            return name;
        }
        let filters: Vec<String> = self.filters.iter().map(ToString::to_string).collect();
        format!("{name}{{{}}}", filters.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The example of the Prometheus HTTP API documentation (querying/api.md): trace ids that
    /// are not W3C ids at all.
    fn documented_example() -> Value {
        json!([
            {"seriesLabels": {"__name__": "test_exemplar_metric_total", "instance": "localhost:8090",
                              "job": "prometheus", "service": "bar"},
             "exemplars": [{"labels": {"trace_id": "EpTxMJ40fUus7aGY"}, "value": "6",
                            "timestamp": 1600096945.479}]},
            {"seriesLabels": {"__name__": "test_exemplar_metric_total", "instance": "localhost:8090",
                              "job": "prometheus", "service": "foo"},
             "exemplars": [{"labels": {"trace_id": "Olp9XHlq763ccsfa"}, "value": "19",
                            "timestamp": 1600096955.479},
                           {"labels": {"trace_id": "hCtjygkIHwAN9vs4"}, "value": "20",
                            "timestamp": 1600096965.489}]}
        ])
    }

    #[test]
    fn the_documented_answer_parses_and_non_w3c_ids_are_kept_as_labels_only() {
        let exemplars = parse(&documented_example()).unwrap();
        assert_eq!(exemplars.len(), 3);
        assert_eq!(exemplars[2].value, 20.0);
        assert_eq!(exemplars[2].timestamp, 1600096965.489);
        assert_eq!(exemplars[0].series["service"], "bar");
        assert_eq!(exemplars[0].labels["trace_id"], "EpTxMJ40fUus7aGY");
        assert!(exemplars.iter().all(|e| e.trace_id.is_none()));
        assert!(slowest(exemplars, 3).is_empty(), "nothing to open");
    }

    #[test]
    fn both_trace_id_labels_and_trimmed_ids_are_read() {
        let data = json!([
            {"seriesLabels": {"__name__": "webstore_payment_duration_seconds_bucket", "le": "10",
                              "payment_method": "card"},
             "exemplars": [
                {"labels": {"trace_id": "0af7651916cd43dd8448eb211c80319c",
                            "span_id": "b7ad6b7169203331"}, "value": "6.2", "timestamp": 1.5},
                {"labels": {"traceID": "f7651916cd43dd8448eb211c80319d"}, "value": "7.5",
                 "timestamp": 2.0},
                {"labels": {"trace_id": "0af7651916cd43dd8448eb211c80319c"}, "value": "1.0",
                 "timestamp": 3.0}
             ]}
        ]);
        let exemplars = parse(&data).unwrap();
        assert_eq!(
            exemplars[1].trace_id.as_ref().map(TraceId::as_str),
            Some("00f7651916cd43dd8448eb211c80319d")
        );
        assert_eq!(exemplars[1].trace_id_label.as_deref(), Some("traceID"));
        assert_eq!(exemplars[0].span_id.as_deref(), Some("b7ad6b7169203331"));
        assert_eq!(
            exemplars[0].series_selector(),
            r#"{le="10", payment_method="card"}"#
        );

        let top = slowest(exemplars, 5);
        let values: Vec<f64> = top.iter().map(|e| e.value).collect();
        assert_eq!(values, [7.5, 6.2], "highest first, one per trace");
        assert!(parse(&Value::Null).unwrap().is_empty());
        assert!(parse(&json!({"x": 1})).is_err());
    }

    #[test]
    fn queries_select_the_bucket_series_with_escaped_filters() {
        let query = ExemplarQuery {
            metric: "webstore_payment_duration_seconds".into(),
            filters: vec![
                LabelFilter::parse("payment_method=card").unwrap(),
                LabelFilter::parse("country!~\"?U[SK]").unwrap(),
                LabelFilter::parse("outcome!=paid").unwrap(),
                LabelFilter::parse("le=~1.*=x").unwrap(),
            ],
        };
        assert_eq!(
            query.promql(),
            r#"webstore_payment_duration_seconds_bucket{payment_method="card", country!~"\"?U[SK]", outcome!="paid", le=~"1.*=x"}"#
        );
        let counter = ExemplarQuery {
            metric: "webstore_orders_total".into(),
            filters: Vec::new(),
        };
        assert_eq!(counter.promql(), "webstore_orders_total");
        for bad in ["nothing", "=x", "9a=b", "a b=c"] {
            assert!(LabelFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
