//! The owned, decoded form of one span: what the store keeps and what the JSON API returns.
//!
//! Why a separate type instead of the prost `Span`: the wire type has byte-array ids, numeric enums
//! and nested `AnyValue`s, which are awkward to assert on and do not serialise to readable JSON.
//! Tests in other crates query a [`crate::SpanStore`] directly and assert on [`StoredSpan`]s; over
//! HTTP, a trace is served in Tempo's OTLP/JSON shapes instead ([`mod@crate::tempo`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One received span, with ids as lowercase hex and attributes as plain JSON values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSpan {
    /// 32 lowercase hex characters; leading zeros kept.
    pub trace_id: String,
    /// 16 lowercase hex characters.
    pub span_id: String,
    /// `None` for a root span (empty or all-zero parent id on the wire).
    pub parent_span_id: Option<String>,
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: String,
    /// The resource attribute `service.name` (`unknown_service` when absent, as the spec says).
    pub service_name: String,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    /// Span attributes: strings, integers, doubles and booleans as JSON scalars, arrays as JSON
    /// arrays, key/value lists as objects, bytes as lowercase hex strings.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// `unset`, `ok` or `error`.
    pub status_code: String,
    /// The status description; only meaningful with `error`.
    #[serde(default)]
    pub status_message: String,
    #[serde(default)]
    pub events: Vec<StoredEvent>,
    /// Spans of other traces this one is linked to (OTLP `links`), e.g. a background job's
    /// span to the request that caused it.
    #[serde(default)]
    pub links: Vec<StoredLink>,
}

/// One OTLP span link: the linked span's ids, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    pub trace_id: String,
    pub span_id: String,
}

/// A span event (for example `exception`, or a domain event such as a suspicious-activity flag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub name: String,
    pub time_unix_nanos: u64,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl StoredSpan {
    /// End minus start; zero (not a panic or a wrap-around) if a client sent end before start.
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nanos.saturating_sub(self.start_unix_nanos)
    }

    /// Duration in milliseconds, for display.
    pub fn duration_ms(&self) -> f64 {
        nanos_to_ms(self.duration_nanos())
    }

    /// A span attribute, if present.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// A string span attribute, if present and a string.
    pub fn attribute_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }
}

pub(crate) fn nanos_to_ms(nanos: u64) -> f64 {
    // Precision loss above 2^53 ns (≈104 days) is irrelevant for span durations and offsets.
    nanos as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u64, end: u64) -> StoredSpan {
        StoredSpan {
            trace_id: "0".repeat(32),
            span_id: "1".repeat(16),
            parent_span_id: None,
            name: "x".into(),
            kind: "internal".into(),
            service_name: "svc".into(),
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
    fn duration_is_end_minus_start_and_never_negative() {
        assert_eq!(span(1_000, 3_500_000).duration_nanos(), 3_499_000);
        assert_eq!(span(10, 5).duration_nanos(), 0);
        assert!((span(0, 2_500_000).duration_ms() - 2.5).abs() < 1e-9);
    }

    #[test]
    fn json_without_optional_fields_still_parses() {
        let json = r#"{"trace_id":"00ab","span_id":"01","parent_span_id":null,"name":"n",
            "kind":"server","service_name":"s","start_unix_nanos":1,"end_unix_nanos":2,
            "status_code":"ok"}"#;
        let parsed: StoredSpan = serde_json::from_str(json).expect("parses");
        assert!(parsed.events.is_empty() && parsed.attributes.is_empty());
    }
}
