//! One line per trace for listings (`GET /api/traces`, the `/` page).

use serde::{Deserialize, Serialize};

use crate::span::{nanos_to_ms, StoredSpan};

/// A trace at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// Name of the earliest span without a parent in this trace (or the earliest span when the
    /// root has not arrived yet — services export independently, so that is common mid-request).
    pub root_name: String,
    /// Distinct service names, sorted.
    pub services: Vec<String>,
    pub span_count: usize,
    /// From the earliest start to the latest end among the received spans.
    pub duration_ms: f64,
}

impl TraceSummary {
    /// `None` for an empty slice: a trace with no spans has nothing to summarise.
    pub fn from_spans(trace_id: &str, spans: &[StoredSpan]) -> Option<Self> {
        let start = spans.iter().map(|s| s.start_unix_nanos).min()?;
        let end = spans.iter().map(|s| s.end_unix_nanos).max()?;
        let present: std::collections::HashSet<&str> =
            spans.iter().map(|s| s.span_id.as_str()).collect();
        let is_top = |s: &&StoredSpan| {
            s.parent_span_id
                .as_deref()
                .is_none_or(|parent| !present.contains(parent))
        };
        let root = spans
            .iter()
            .filter(|s| s.is_root())
            .min_by_key(|s| s.start_unix_nanos)
            .or_else(|| {
                spans
                    .iter()
                    .filter(is_top)
                    .min_by_key(|s| s.start_unix_nanos)
            })
            .or_else(|| spans.iter().min_by_key(|s| s.start_unix_nanos))?;
        let mut services: Vec<String> = spans.iter().map(|s| s.service_name.clone()).collect();
        services.sort();
        services.dedup();
        Some(Self {
            trace_id: trace_id.to_owned(),
            root_name: root.name.clone(),
            services,
            span_count: spans.len(),
            duration_ms: nanos_to_ms(end.saturating_sub(start)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn span(id: &str, parent: Option<&str>, service: &str, start: u64, end: u64) -> StoredSpan {
        StoredSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            name: format!("op {id}"),
            kind: "server".into(),
            service_name: service.into(),
            start_unix_nanos: start,
            end_unix_nanos: end,
            attributes: Map::new(),
            status_code: "unset".into(),
            status_message: String::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn summary_names_the_root_and_spans_the_whole_trace() {
        let spans = [
            span("b", Some("a"), "payment", 2_000_000, 5_000_000),
            span("a", None, "order", 1_000_000, 4_000_000),
            span("c", Some("a"), "order", 1_500_000, 1_600_000),
        ];
        let summary = TraceSummary::from_spans("t", &spans).expect("non-empty");
        assert_eq!(summary.root_name, "op a");
        assert_eq!(summary.services, ["order", "payment"]);
        assert_eq!(summary.span_count, 3);
        assert!((summary.duration_ms - 4.0).abs() < 1e-9);
        assert!(TraceSummary::from_spans("t", &[]).is_none());
    }

    #[test]
    fn missing_root_falls_back_to_the_earliest_orphan() {
        let spans = [
            span("c", Some("b"), "payment", 3, 4),
            span("b", Some("a"), "order", 2, 5),
        ];
        let summary = TraceSummary::from_spans("t", &spans).expect("non-empty");
        assert_eq!(summary.root_name, "op b");
    }
}
