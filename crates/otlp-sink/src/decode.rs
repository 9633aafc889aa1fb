//! Turning an OTLP `ExportTraceServiceRequest` into [`StoredSpan`]s.
//!
//! This is the only module that knows the wire types. It is pure (no I/O, no locking) so the
//! mapping rules — hex ids, kind and status names, attribute flattening — are unit-tested here.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, Span};
use serde_json::{Map, Number, Value};

use crate::span::{StoredEvent, StoredLink, StoredSpan};

/// What the spec says a receiver should assume when a resource has no `service.name`.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The result of decoding one export request.
#[derive(Debug, Default)]
pub struct Decoded {
    pub spans: Vec<StoredSpan>,
    /// Spans dropped because their ids are malformed; reported back to the exporter as a
    /// partial success, as the OTLP spec asks, instead of silently stored under a bogus id.
    pub rejected: usize,
    /// The first reason a span was rejected, for the partial-success message.
    pub first_error: Option<String>,
}

/// Decodes every span of the request, taking ownership so strings are moved rather than copied.
pub fn decode_request(request: ExportTraceServiceRequest) -> Decoded {
    let mut out = Decoded::default();
    for resource_spans in request.resource_spans {
        let service_name = resource_spans
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned());
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                match decode_span(span, &service_name) {
                    Ok(stored) => out.spans.push(stored),
                    Err(reason) => {
                        out.rejected += 1;
                        out.first_error.get_or_insert(reason);
                    }
                }
            }
        }
    }
    out
}

fn decode_span(span: Span, service_name: &str) -> Result<StoredSpan, String> {
    // The spec requires 16-byte trace ids and 8-byte span ids, all-zero being invalid. Checking
    // here means every stored id is exactly 32 / 16 lowercase hex characters.
    if span.trace_id.len() != 16 || span.trace_id.iter().all(|b| *b == 0) {
        return Err(format!(
            "span {:?}: trace_id must be 16 non-zero bytes, got {}",
            span.name,
            span.trace_id.len()
        ));
    }
    if span.span_id.len() != 8 || span.span_id.iter().all(|b| *b == 0) {
        return Err(format!(
            "span {:?}: span_id must be 8 non-zero bytes, got {}",
            span.name,
            span.span_id.len()
        ));
    }
    // Some SDKs send eight zero bytes instead of an empty field for "no parent".
    let parent_span_id = if span.parent_span_id.iter().all(|b| *b == 0) {
        None
    } else {
        Some(hex::encode(&span.parent_span_id))
    };
    let (status_code, status_message) = match span.status {
        Some(status) => (status_name(status.code), status.message),
        None => ("unset", String::new()),
    };
    Ok(StoredSpan {
        trace_id: hex::encode(&span.trace_id),
        span_id: hex::encode(&span.span_id),
        parent_span_id,
        name: span.name,
        kind: kind_name(span.kind).to_owned(),
        service_name: service_name.to_owned(),
        start_unix_nanos: span.start_time_unix_nano,
        end_unix_nanos: span.end_time_unix_nano,
        attributes: attributes_to_map(span.attributes),
        status_code: status_code.to_owned(),
        status_message,
        events: span
            .events
            .into_iter()
            .map(|event| StoredEvent {
                name: event.name,
                time_unix_nanos: event.time_unix_nano,
                attributes: attributes_to_map(event.attributes),
            })
            .collect(),
        links: span
            .links
            .into_iter()
            .map(|link| StoredLink {
                trace_id: hex::encode(&link.trace_id),
                span_id: hex::encode(&link.span_id),
            })
            .collect(),
    })
}

/// Lowercase names, so JSON consumers compare against `"server"` rather than `"SPAN_KIND_SERVER"`.
pub fn kind_name(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "internal",
        Ok(SpanKind::Server) => "server",
        Ok(SpanKind::Client) => "client",
        Ok(SpanKind::Producer) => "producer",
        Ok(SpanKind::Consumer) => "consumer",
        Ok(SpanKind::Unspecified) | Err(_) => "unspecified",
    }
}

pub fn status_name(code: i32) -> &'static str {
    match StatusCode::try_from(code) {
        Ok(StatusCode::Ok) => "ok",
        Ok(StatusCode::Error) => "error",
        // An unknown future code is reported as unset rather than guessed.
        Ok(StatusCode::Unset) | Err(_) => "unset",
    }
}

/// Later duplicates win, matching how most backends display repeated keys.
pub fn attributes_to_map(attributes: Vec<KeyValue>) -> Map<String, Value> {
    attributes
        .into_iter()
        .map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_to_json)))
        .collect()
}

/// Flattens an OTLP `AnyValue` into the JSON value a test author would write by hand.
pub fn any_value_to_json(value: AnyValue) -> Value {
    match value.value {
        // A string-table reference is only meaningful in the Profiling signal; the spec asks
        // other receivers to treat it as absent.
        None | Some(any_value::Value::StringValueStrindex(_)) => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
        Some(any_value::Value::IntValue(i)) => Value::Number(i.into()),
        // JSON has no NaN or infinity; keep the information as a string instead of dropping it.
        Some(any_value::Value::DoubleValue(d)) => {
            Number::from_f64(d).map_or_else(|| Value::String(d.to_string()), Value::Number)
        }
        Some(any_value::Value::ArrayValue(array)) => {
            Value::Array(array.values.into_iter().map(any_value_to_json).collect())
        }
        Some(any_value::Value::KvlistValue(list)) => Value::Object(attributes_to_map(list.values)),
        Some(any_value::Value::BytesValue(bytes)) => Value::String(hex::encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};
    use serde_json::json;

    fn av(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(av(value)),
            ..Default::default()
        }
    }

    fn request(service: Option<&str>, spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: service
                        .map(|s| vec![kv("service.name", any_value::Value::StringValue(s.into()))])
                        .unwrap_or_default(),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn valid_span() -> Span {
        let mut trace_id = vec![0u8; 16];
        trace_id[15] = 0xAB;
        Span {
            trace_id,
            span_id: vec![0, 0, 0, 0, 0, 0, 0, 0x0C],
            name: "op".into(),
            ..Default::default()
        }
    }

    #[test]
    fn ids_are_lowercase_hex_with_leading_zeros_and_zero_parent_means_root() {
        let mut span = valid_span();
        span.parent_span_id = vec![0; 8];
        let decoded = decode_request(request(Some("svc"), vec![span]));
        let stored = &decoded.spans[0];
        assert_eq!(stored.trace_id, format!("{}ab", "0".repeat(30)));
        assert_eq!(stored.span_id, "000000000000000c");
        assert_eq!(stored.parent_span_id, None);
        assert_eq!(stored.service_name, "svc");
    }

    #[test]
    fn missing_service_name_is_unknown_service() {
        let decoded = decode_request(request(None, vec![valid_span()]));
        assert_eq!(decoded.spans[0].service_name, UNKNOWN_SERVICE);
    }

    #[test]
    fn malformed_ids_are_rejected_and_counted() {
        let mut short = valid_span();
        short.trace_id = vec![1; 8];
        let mut zero = valid_span();
        zero.span_id = vec![0; 8];
        let decoded = decode_request(request(Some("svc"), vec![short, zero, valid_span()]));
        assert_eq!(decoded.spans.len(), 1);
        assert_eq!(decoded.rejected, 2);
        assert!(decoded.first_error.is_some_and(|e| e.contains("trace_id")));
    }

    #[test]
    fn kinds_and_statuses_map_to_lowercase_names() {
        assert_eq!(kind_name(SpanKind::Server as i32), "server");
        assert_eq!(kind_name(SpanKind::Client as i32), "client");
        assert_eq!(kind_name(SpanKind::Internal as i32), "internal");
        assert_eq!(kind_name(SpanKind::Producer as i32), "producer");
        assert_eq!(kind_name(SpanKind::Consumer as i32), "consumer");
        assert_eq!(kind_name(0), "unspecified");
        assert_eq!(kind_name(99), "unspecified");
        assert_eq!(status_name(StatusCode::Error as i32), "error");
        assert_eq!(status_name(StatusCode::Ok as i32), "ok");
        assert_eq!(status_name(7), "unset");

        let mut span = valid_span();
        span.status = Some(Status {
            message: "boom".into(),
            code: StatusCode::Error as i32,
        });
        let stored = &decode_request(request(Some("svc"), vec![span])).spans[0];
        assert_eq!(
            (stored.status_code.as_str(), stored.status_message.as_str()),
            ("error", "boom")
        );
    }

    #[test]
    fn attributes_flatten_to_plain_json() {
        use any_value::Value as V;
        let attributes = vec![
            kv("s", V::StringValue("x".into())),
            kv("i", V::IntValue(-3)),
            kv("d", V::DoubleValue(1.5)),
            kv("nan", V::DoubleValue(f64::NAN)),
            kv("b", V::BoolValue(true)),
            kv("bytes", V::BytesValue(vec![0x0f, 0xa0])),
            kv(
                "arr",
                V::ArrayValue(ArrayValue {
                    values: vec![av(V::IntValue(1)), av(V::StringValue("two".into()))],
                }),
            ),
            kv(
                "kv",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("inner", V::BoolValue(false))],
                }),
            ),
            KeyValue {
                key: "empty".into(),
                value: None,
                ..Default::default()
            },
        ];
        let map = attributes_to_map(attributes);
        assert_eq!(
            Value::Object(map),
            json!({"s":"x","i":-3,"d":1.5,"nan":"NaN","b":true,"bytes":"0fa0",
                   "arr":[1,"two"],"kv":{"inner":false},"empty":null})
        );
    }
}
