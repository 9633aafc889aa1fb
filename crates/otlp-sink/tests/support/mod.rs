//! Test helpers: a hand-written HTTP/1.1 client (the crate has no HTTP client dependency) and
//! builders for OTLP export requests.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use otlp_sink::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sink::opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, KeyValue,
};
use otlp_sink::opentelemetry_proto::tonic::resource::v1::Resource;
use otlp_sink::opentelemetry_proto::tonic::trace::v1::{
    span::{Event, SpanKind},
    status::StatusCode,
    ResourceSpans, ScopeSpans, Span, Status,
};
use prost::Message as _;

/// Starts with `00` so a lost leading zero (e.g. formatting as a number) would show.
pub const TRACE_ID: &str = "00f067aa0ba902b7a3b8c1d2e3f40506";
pub const ROOT_SPAN: &str = "1a2b3c4d5e6f7081";
pub const CLIENT_SPAN: &str = "2b3c4d5e6f708192";
pub const PAYMENT_SERVER_SPAN: &str = "00000a0b0c0d0e0f";

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, None, &[])
}

pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Response {
    request(addr, "POST", path, Some(content_type), body)
}

/// One request per connection (`Connection: close`), so the response ends at EOF.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header terminator");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn hex_bytes(hex_id: &str) -> Vec<u8> {
    hex::decode(hex_id).expect("valid hex in test fixture")
}

pub fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn string(s: &str) -> any_value::Value {
    any_value::Value::StringValue(s.into())
}

/// A span with times given in milliseconds after a fixed epoch.
pub fn span(
    trace_id: &str,
    span_id: &str,
    parent: Option<&str>,
    name: &str,
    kind: i32,
    start_ms: u64,
    end_ms: u64,
) -> Span {
    const EPOCH: u64 = 1_750_000_000_000_000_000;
    Span {
        trace_id: hex_bytes(trace_id),
        span_id: hex_bytes(span_id),
        parent_span_id: parent.map(hex_bytes).unwrap_or_default(),
        name: name.into(),
        kind,
        start_time_unix_nano: EPOCH + start_ms * 1_000_000,
        end_time_unix_nano: EPOCH + end_ms * 1_000_000,
        ..Default::default()
    }
}

/// Encodes one `ResourceSpans` per `(service.name, spans)` pair.
pub fn export_request(services: Vec<(&str, Vec<Span>)>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: services
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", string(service)),
                        kv("deployment.environment.name", string("test")),
                    ],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
    .encode_to_vec()
}

/// A checkout: order-service server span → its client span to the gateway → the gateway's
/// server span (declined, with an event), exported as two resources in one request.
pub fn two_service_trace() -> Vec<u8> {
    let mut root = span(
        TRACE_ID,
        ROOT_SPAN,
        None,
        "POST /api/v1/checkout",
        SpanKind::Server as i32,
        0,
        100,
    );
    root.attributes = vec![
        kv("http.route", string("/api/v1/checkout")),
        kv("http.response.status_code", any_value::Value::IntValue(201)),
    ];
    let mut client = span(
        TRACE_ID,
        CLIENT_SPAN,
        Some(ROOT_SPAN),
        "POST payment-gateway",
        SpanKind::Client as i32,
        10,
        90,
    );
    client.attributes = vec![
        kv("webstore.amount_usd", any_value::Value::DoubleValue(12.5)),
        kv("webstore.retry", any_value::Value::BoolValue(false)),
    ];
    let mut server = span(
        TRACE_ID,
        PAYMENT_SERVER_SPAN,
        Some(CLIENT_SPAN),
        "POST /v1/charges",
        SpanKind::Server as i32,
        15,
        85,
    );
    server.attributes = vec![kv(
        "webstore.tags",
        any_value::Value::ArrayValue(ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(string("card")),
                },
                AnyValue {
                    value: Some(string("US")),
                },
            ],
        }),
    )];
    server.status = Some(Status {
        message: "card declined".into(),
        code: StatusCode::Error as i32,
    });
    server.events = vec![Event {
        time_unix_nano: server.start_time_unix_nano + 1_000_000,
        name: "payment.declined".into(),
        attributes: vec![kv("reason", string("insufficient_funds"))],
        dropped_attributes_count: 0,
    }];
    export_request(vec![
        ("payment-gateway", vec![server]),
        ("order-service", vec![root, client]),
    ])
}
