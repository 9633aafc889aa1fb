//! The trace-by-id answers in the shapes Grafana Tempo 2.x gives, so one client reads traces from
//! this receiver and from Tempo alike (`storectl exemplars`, `storectl doctor`).
//!
//! | route | body |
//! |---|---|
//! | `GET /api/traces/{id}` | `{"batches":[ResourceSpans…]}` |
//! | `GET /api/v2/traces/{id}` | `{"trace":{"resourceSpans":[ResourceSpans…]}}` |
//!
//! Both are OTLP/JSON `ResourceSpans` as Tempo 2.x marshals them (gogo `jsonpb` defaults): field
//! names in lowerCamelCase, 64-bit integers as decimal strings, enums by name
//! (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`), zero values left out, and trace and span ids in
//! **base64** — Tempo 2.x emits the proto `bytes` that way, although the OTLP/JSON specification
//! says hex (Tempo 3 moves to hex; readers should accept both).
//!
//! What [`StoredSpan`] no longer knows is rebuilt approximately: spans are grouped into one
//! `ResourceSpans` per `service.name` (other resource attributes and the instrumentation scope
//! were not kept), bytes attributes come back as the hex strings they were stored as, and a
//! non-finite double as the string it was stored as.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::span::{StoredEvent, StoredSpan};

/// `GET /api/traces/{id}`: Tempo's v1 body.
pub fn trace_v1(spans: &[StoredSpan]) -> Value {
    json!({ "batches": resource_spans(spans) })
}

/// `GET /api/v2/traces/{id}`: Tempo's v2 body (`TraceByIDResponse` without metrics).
pub fn trace_v2(spans: &[StoredSpan]) -> Value {
    json!({ "trace": { "resourceSpans": resource_spans(spans) } })
}

/// A trace id as Tempo accepts it in a path: 1 to 32 hex digits, leading zeros optional (Tempo's
/// own search results and metrics-generator exemplars trim them). `None` if it is not one.
pub fn parse_trace_id(id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("{:0>32}", id.to_ascii_lowercase()))
}

/// One `ResourceSpans` per service, in the order services first appear in `spans`.
fn resource_spans(spans: &[StoredSpan]) -> Vec<Value> {
    let mut services: Vec<(&str, Vec<Value>)> = Vec::new();
    for span in spans {
        let encoded = span_json(span);
        match services
            .iter_mut()
            .find(|(name, _)| *name == span.service_name)
        {
            Some((_, group)) => group.push(encoded),
            None => services.push((&span.service_name, vec![encoded])),
        }
    }
    services
        .into_iter()
        .map(|(service, spans)| {
            json!({
                "resource": { "attributes": [key_value("service.name", &Value::from(service))] },
                "scopeSpans": [ { "spans": spans } ],
            })
        })
        .collect()
}

fn span_json(span: &StoredSpan) -> Value {
    let mut out = Map::new();
    out.insert("traceId".into(), base64_of_hex(&span.trace_id).into());
    out.insert("spanId".into(), base64_of_hex(&span.span_id).into());
    if let Some(parent) = &span.parent_span_id {
        out.insert("parentSpanId".into(), base64_of_hex(parent).into());
    }
    out.insert("name".into(), span.name.clone().into());
    if let Some(kind) = kind_enum(&span.kind) {
        out.insert("kind".into(), kind.into());
    }
    out.insert(
        "startTimeUnixNano".into(),
        span.start_unix_nanos.to_string().into(),
    );
    out.insert(
        "endTimeUnixNano".into(),
        span.end_unix_nanos.to_string().into(),
    );
    if !span.attributes.is_empty() {
        out.insert("attributes".into(), attributes(&span.attributes).into());
    }
    if !span.events.is_empty() {
        out.insert(
            "events".into(),
            span.events
                .iter()
                .map(event_json)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    let mut status = Map::new();
    if let Some(code) = status_enum(&span.status_code) {
        status.insert("code".into(), code.into());
    }
    if !span.status_message.is_empty() {
        status.insert("message".into(), span.status_message.clone().into());
    }
    // jsonpb writes an empty object for a present-but-default status.
    out.insert("status".into(), Value::Object(status));
    Value::Object(out)
}

fn event_json(event: &StoredEvent) -> Value {
    let mut out = Map::new();
    out.insert(
        "timeUnixNano".into(),
        event.time_unix_nanos.to_string().into(),
    );
    out.insert("name".into(), event.name.clone().into());
    if !event.attributes.is_empty() {
        out.insert("attributes".into(), attributes(&event.attributes).into());
    }
    Value::Object(out)
}

fn attributes(map: &Map<String, Value>) -> Vec<Value> {
    map.iter()
        .map(|(key, value)| key_value(key, value))
        .collect()
}

fn key_value(key: &str, value: &Value) -> Value {
    json!({ "key": key, "value": any_value(value) })
}

/// The OTLP `AnyValue` for a flattened attribute: integers back to `intValue` (a string, as
/// int64 is in proto JSON), other numbers to `doubleValue`.
fn any_value(value: &Value) -> Value {
    match value {
        Value::Null => json!({}),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "intValue": n.to_string() }),
        Value::Number(n) => json!({ "doubleValue": n }),
        Value::String(s) => json!({ "stringValue": s }),
        Value::Array(items) => {
            json!({ "arrayValue": { "values": items.iter().map(any_value).collect::<Vec<_>>() } })
        }
        Value::Object(map) => json!({ "kvlistValue": { "values": attributes(map) } }),
    }
}

/// Stored ids are validated lowercase hex (see [`crate::decode`]); anything else is passed
/// through as its own bytes rather than dropped.
fn base64_of_hex(hex_id: &str) -> String {
    match hex::decode(hex_id) {
        Ok(bytes) => BASE64.encode(bytes),
        Err(_) => BASE64.encode(hex_id.as_bytes()),
    }
}

/// `None` for the zero value, which jsonpb leaves out.
fn kind_enum(kind: &str) -> Option<&'static str> {
    match kind {
        "internal" => Some("SPAN_KIND_INTERNAL"),
        "server" => Some("SPAN_KIND_SERVER"),
        "client" => Some("SPAN_KIND_CLIENT"),
        "producer" => Some("SPAN_KIND_PRODUCER"),
        "consumer" => Some("SPAN_KIND_CONSUMER"),
        _ => None,
    }
}

fn status_enum(code: &str) -> Option<&'static str> {
    match code {
        "ok" => Some("STATUS_CODE_OK"),
        "error" => Some("STATUS_CODE_ERROR"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, service: &str, kind: &str) -> StoredSpan {
        StoredSpan {
            trace_id: format!("{}ab", "0".repeat(30)),
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            name: format!("op {id}"),
            kind: kind.into(),
            service_name: service.into(),
            start_unix_nanos: 1_750_000_000_000_000_000,
            end_unix_nanos: 1_750_000_000_250_000_000,
            attributes: Map::new(),
            status_code: "unset".into(),
            status_message: String::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn spans_are_grouped_by_service_with_base64_ids_and_enum_names() {
        let mut server = span("00000000000000a1", None, "order-service", "server");
        server
            .attributes
            .insert("http.response.status_code".into(), json!(201));
        server.attributes.insert("ratio".into(), json!(0.5));
        server.attributes.insert("tags".into(), json!(["a", true]));
        let mut gateway = span(
            "00000000000000b2",
            Some("00000000000000a1"),
            "payment-gateway",
            "unspecified",
        );
        gateway.status_code = "error".into();
        gateway.status_message = "declined".into();
        let client = span(
            "00000000000000c3",
            Some("00000000000000a1"),
            "order-service",
            "client",
        );

        let body = trace_v1(&[server, gateway, client]);
        let batches = body["batches"].as_array().expect("batches");
        assert_eq!(batches.len(), 2, "{body:#}");
        assert_eq!(
            batches[0]["resource"]["attributes"][0],
            json!({"key": "service.name", "value": {"stringValue": "order-service"}})
        );
        let order_spans = &batches[0]["scopeSpans"][0]["spans"];
        assert_eq!(order_spans.as_array().map(Vec::len), Some(2));
        let root = &order_spans[0];
        // 15 zero bytes and 0xab: the leading zeros survive the encoding.
        assert_eq!(root["traceId"], "AAAAAAAAAAAAAAAAAAAAqw==");
        assert_eq!(root["spanId"], "AAAAAAAAAKE=");
        assert!(root.get("parentSpanId").is_none());
        assert_eq!(root["kind"], "SPAN_KIND_SERVER");
        assert_eq!(root["startTimeUnixNano"], "1750000000000000000");
        assert_eq!(
            root["attributes"],
            json!([
                {"key": "http.response.status_code", "value": {"intValue": "201"}},
                {"key": "ratio", "value": {"doubleValue": 0.5}},
                {"key": "tags", "value": {"arrayValue": {"values": [
                    {"stringValue": "a"}, {"boolValue": true}]}}},
            ])
        );
        assert_eq!(root["status"], json!({}));

        let declined = &batches[1]["scopeSpans"][0]["spans"][0];
        assert_eq!(declined["parentSpanId"], "AAAAAAAAAKE=");
        assert!(declined.get("kind").is_none(), "zero values are left out");
        assert_eq!(
            declined["status"],
            json!({"code": "STATUS_CODE_ERROR", "message": "declined"})
        );

        let v2 = trace_v2(&[span("00000000000000a1", None, "x", "internal")]);
        assert_eq!(
            v2["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["kind"],
            "SPAN_KIND_INTERNAL"
        );
    }

    #[test]
    fn trace_ids_may_have_their_leading_zeros_trimmed() {
        assert_eq!(
            parse_trace_id("AB").as_deref(),
            Some(format!("{}ab", "0".repeat(30)).as_str())
        );
        assert_eq!(
            parse_trace_id(&"1f".repeat(16)).as_deref(),
            Some("1f".repeat(16).as_str())
        );
        for bad in ["", "xyz", &"a".repeat(33), "12 34"] {
            assert_eq!(parse_trace_id(bad), None, "{bad:?}");
        }
    }
}
