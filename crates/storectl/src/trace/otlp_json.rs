//! Reading a trace-by-id answer: OTLP/JSON `ResourceSpans` in any of the envelopes Tempo and the
//! dev receiver use.
//!
//! Accepted, because each is what some version of the backends writes:
//! - the envelope `{"batches":[…]}` (Tempo `/api/traces`), `{"resourceSpans":[…]}` (OTLP
//!   `TracesData`), either inside `{"trace":{…}}` (Tempo `/api/v2/traces`);
//! - `scopeSpans`, or `instrumentationLibrarySpans` from before OTLP 0.15;
//! - ids in hex (OTLP/JSON, Tempo 3) or base64 (Tempo 2.x);
//! - enums by name (`SPAN_KIND_SERVER`) or number, 64-bit integers as strings or numbers.

use serde_json::Value;

use super::id::{parse_span_id, TraceId};
use super::model::{Span, SpanKind, Status, Trace};

/// Why an answer could not be read as a trace.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(String);

/// The spans of `body` that belong to `trace_id` (a backend answers one trace, but a span with
/// another id would be a bug worth not drawing). An empty list means "not found": Tempo's v2 API
/// may answer 200 with an empty trace.
pub fn parse_trace(trace_id: &TraceId, body: &Value) -> Result<Trace, ShapeError> {
    let inner = body.get("trace").unwrap_or(body);
    let resource_spans = inner.get("resourceSpans").or_else(|| inner.get("batches"));
    let resource_spans = match resource_spans {
        None | Some(Value::Null) => return Ok(Trace::new(trace_id.clone(), Vec::new())),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ShapeError("`batches`/`resourceSpans` is not a list".into())),
    };

    let mut spans = Vec::new();
    for resource in resource_spans {
        let service = resource
            .pointer("/resource/attributes")
            .and_then(Value::as_array)
            .and_then(|attrs| {
                attrs
                    .iter()
                    .find(|kv| kv.get("key").and_then(Value::as_str) == Some("service.name"))
            })
            .and_then(|kv| kv.get("value"))
            .map(any_value)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown_service".to_owned());
        let scopes = resource
            .get("scopeSpans")
            .or_else(|| resource.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for scope in scopes {
            for raw in scope
                .get("spans")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let span = parse_span(raw, &service)?;
                let belongs = raw
                    .get("traceId")
                    .and_then(Value::as_str)
                    .and_then(TraceId::parse_wire)
                    .is_none_or(|id| &id == trace_id);
                if belongs {
                    spans.push(span);
                }
            }
        }
    }
    Ok(Trace::new(trace_id.clone(), spans))
}

fn parse_span(raw: &Value, service: &str) -> Result<Span, ShapeError> {
    let text = |key: &str| raw.get(key).and_then(Value::as_str);
    let span_id = text("spanId")
        .and_then(parse_span_id)
        .ok_or_else(|| ShapeError(format!("a span has no valid spanId: {raw}")))?;
    let parent_span_id = text("parentSpanId")
        .filter(|p| !p.is_empty())
        .and_then(parse_span_id);
    let status = match raw.get("status") {
        Some(status) => match enum_value(status.get("code"), STATUS_CODES) {
            1 => Status::Ok,
            2 => Status::Error(
                status
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            _ => Status::Unset,
        },
        None => Status::Unset,
    };
    let kind = match enum_value(raw.get("kind"), SPAN_KINDS) {
        1 => SpanKind::Internal,
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    };
    Ok(Span {
        span_id,
        parent_span_id,
        service: service.to_owned(),
        name: text("name").unwrap_or_default().to_owned(),
        kind,
        start_unix_nanos: unsigned(raw.get("startTimeUnixNano")),
        end_unix_nanos: unsigned(raw.get("endTimeUnixNano")),
        status,
        attributes: key_values(raw.get("attributes")),
    })
}

const SPAN_KINDS: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_CODES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// A proto enum written by name or by number; unknown or absent is 0.
fn enum_value(value: Option<&Value>, names: &[&str]) -> u64 {
    match value {
        Some(Value::String(name)) => names.iter().position(|n| n == name).map_or(0, |i| i as u64),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// A 64-bit integer written as a string (proto JSON) or a number.
fn unsigned(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn key_values(list: Option<&Value>) -> Vec<(String, Value)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|kv| {
            let key = kv.get("key")?.as_str()?.to_owned();
            let value = kv.get("value").map(any_value).unwrap_or(Value::Null);
            Some((key, value))
        })
        .collect()
}

/// An OTLP `AnyValue` as a plain JSON value.
fn any_value(value: &Value) -> Value {
    let Some(object) = value.as_object() else {
        return Value::Null;
    };
    if let Some(s) = object.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = object.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = object.get("intValue") {
        return match i {
            Value::String(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = object.get("doubleValue") {
        return d.clone();
    }
    if let Some(array) = object.get("arrayValue") {
        return Value::Array(
            array
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(any_value)
                .collect(),
        );
    }
    if let Some(list) = object.get("kvlistValue") {
        return Value::Object(key_values(list.get("values")).into_iter().collect());
    }
    if let Some(bytes) = object.get("bytesValue") {
        return bytes.clone();
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id() -> TraceId {
        TraceId::parse_hex("00f067aa0ba902b7a3b8c1d2e3f40506").unwrap()
    }

    #[test]
    fn tempo_v1_batches_with_base64_ids_and_enum_names() {
        let body = json!({"batches": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "payment-gateway"}}]},
            "scopeSpans": [{"scope": {"name": "x"}, "spans": [{
                "traceId": "APBnqgupArejuMHS4/QFBg==",
                "spanId": "AAAKCwwNDg8=",
                "parentSpanId": "KzxNXm9wgZI=",
                "name": "POST /v1/charges",
                "kind": "SPAN_KIND_SERVER",
                "startTimeUnixNano": "1750000000015000000",
                "endTimeUnixNano": "1750000000085000000",
                "attributes": [
                    {"key": "http.response.status_code", "value": {"intValue": "402"}},
                    {"key": "ok", "value": {"boolValue": false}},
                    {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}}
                ],
                "status": {"code": "STATUS_CODE_ERROR", "message": "card declined"}
            }]}]
        }]});
        let trace = parse_trace(&id(), &body).unwrap();
        let span = &trace.spans[0];
        assert_eq!(span.span_id, "00000a0b0c0d0e0f");
        assert_eq!(span.parent_span_id.as_deref(), Some("2b3c4d5e6f708192"));
        assert_eq!(span.service, "payment-gateway");
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.duration_nanos(), 70_000_000);
        assert_eq!(span.status, Status::Error("card declined".into()));
        assert_eq!(
            span.attribute("http.response.status_code"),
            Some(&json!(402))
        );
        assert_eq!(span.attribute("ok"), Some(&json!(false)));
        assert_eq!(span.attribute("tags"), Some(&json!(["a"])));
    }

    #[test]
    fn v2_envelope_hex_ids_numbers_and_the_old_scope_name() {
        let body = json!({"trace": {"resourceSpans": [{
            "resource": {"attributes": []},
            "instrumentationLibrarySpans": [{"spans": [{
                "traceId": "00f067aa0ba902b7a3b8c1d2e3f40506",
                "spanId": "1a2b3c4d5e6f7081",
                "name": "root",
                "kind": 2,
                "startTimeUnixNano": 10,
                "endTimeUnixNano": 30,
                "status": {"code": 1}
            }, {
                "traceId": "ffffffffffffffffffffffffffffffff",
                "spanId": "1a2b3c4d5e6f7082",
                "name": "from another trace"
            }]}]
        }]}, "status": "COMPLETE"});
        let trace = parse_trace(&id(), &body).unwrap();
        assert_eq!(trace.spans.len(), 1, "a span of another trace is left out");
        let span = &trace.spans[0];
        assert_eq!(span.service, "unknown_service");
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.status, Status::Ok);
        assert_eq!(span.duration_nanos(), 20);
        assert_eq!(span.parent_span_id, None);
    }

    #[test]
    fn empty_and_malformed_answers() {
        for empty in [json!({"trace": {}}), json!({"batches": []}), json!({})] {
            assert!(
                parse_trace(&id(), &empty).unwrap().spans.is_empty(),
                "{empty}"
            );
        }
        assert!(parse_trace(&id(), &json!({"batches": 3})).is_err());
        let no_span_id = json!({"batches": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]});
        assert!(parse_trace(&id(), &no_span_id).is_err());
    }
}
