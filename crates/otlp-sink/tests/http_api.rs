//! End-to-end tests of the sink over real HTTP: a server on port 0, raw HTTP/1.1 requests.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use otlp_sink::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use otlp_sink::{waterfall, OtlpSink, SpanStore, TraceSummary};
use prost::Message as _;
use serde_json::{json, Value};
use support::{
    export_request, get, post, span, two_service_trace, PAYMENT_SERVER_SPAN, ROOT_SPAN, TRACE_ID,
};

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn start() -> OtlpSink {
    OtlpSink::start_in_background(any_port()).expect("sink starts")
}

/// Posts [`two_service_trace`] and checks the OTLP answer to a fully accepted export.
fn export_accepted(addr: SocketAddr) {
    let response = post(
        addr,
        "/v1/traces",
        "application/x-protobuf",
        &two_service_trace(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/x-protobuf")
    );
    let decoded =
        ExportTraceServiceResponse::decode(&response.body[..]).expect("protobuf response");
    assert_eq!(decoded.partial_success, None);
}

#[test]
fn a_discarding_sink_accepts_and_counts_but_keeps_nothing() {
    let sink = OtlpSink::start_in_background_with_store(any_port(), SpanStore::discarding())
        .expect("sink starts");
    for _ in 0..2 {
        export_accepted(sink.addr);
    }
    assert!(sink.store.is_discarding());
    assert_eq!(sink.store.received(), 6, "two exports of three spans");
    assert_eq!(sink.store.span_count(), 0);
    assert!(sink.store.trace(TRACE_ID).is_empty());
    assert_eq!(
        get(sink.addr, &format!("/api/traces/{TRACE_ID}")).status,
        404
    );
    assert!(get(sink.addr, "/")
        .text()
        .contains("6 spans received, none kept"));
    // Garbage is still refused: discarding is not "accept anything".
    let response = post(
        sink.addr,
        "/v1/traces",
        "application/x-protobuf",
        b"\xff\xff",
    );
    assert_eq!(response.status, 400, "{}", response.text());
}

#[test]
fn export_stores_spans_from_two_services_with_parent_links() {
    let sink = start();
    export_accepted(sink.addr);

    assert_eq!(sink.store.span_count(), 3);
    assert_eq!(sink.store.received(), 3);
    let spans = sink.store.trace(TRACE_ID);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "POST /api/v1/checkout",
            "POST payment-gateway",
            "POST /v1/charges"
        ]
    );

    let (root, client, server) = (&spans[0], &spans[1], &spans[2]);
    assert_eq!(root.parent_span_id, None);
    assert_eq!(client.parent_span_id.as_deref(), Some(ROOT_SPAN));
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str())
    );
    assert_eq!(server.span_id, PAYMENT_SERVER_SPAN);
    assert_eq!(
        [
            &root.service_name,
            &client.service_name,
            &server.service_name
        ],
        ["order-service", "order-service", "payment-gateway"]
    );
    assert_eq!(
        [&root.kind, &client.kind, &server.kind],
        ["server", "client", "server"]
    );
    assert_eq!(root.attributes["http.response.status_code"], json!(201));
    assert_eq!(root.attributes["http.route"], json!("/api/v1/checkout"));
    assert_eq!(client.attributes["webstore.amount_usd"], json!(12.5));
    assert_eq!(client.attributes["webstore.retry"], json!(false));
    assert_eq!(server.attributes["webstore.tags"], json!(["card", "US"]));
    assert_eq!(server.status_code, "error");
    assert_eq!(server.status_message, "card declined");
    assert_eq!(server.events.len(), 1);
    assert_eq!(server.events[0].name, "payment.declined");
    assert_eq!(
        server.events[0].attributes["reason"],
        json!("insufficient_funds")
    );
    assert_eq!(client.duration_nanos(), 80_000_000);
}

#[test]
fn trace_lookup_is_case_insensitive_and_ids_keep_leading_zeros() {
    let sink = start();
    post(
        sink.addr,
        "/v1/traces",
        "application/x-protobuf",
        &two_service_trace(),
    );

    assert!(TRACE_ID.starts_with("00"));
    let upper = TRACE_ID.to_ascii_uppercase();
    assert_eq!(sink.store.trace(&upper).len(), 3);
    assert_eq!(sink.store.trace_ids(), [TRACE_ID]);

    // Tempo's v1 shape: one batch per service, ids in base64 as Tempo 2.x writes them.
    let response = get(sink.addr, &format!("/api/traces/{upper}"));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&response.body).expect("json");
    let batches = body["batches"].as_array().expect("batches");
    let services: Vec<&str> = batches
        .iter()
        .filter_map(|b| b["resource"]["attributes"][0]["value"]["stringValue"].as_str())
        .collect();
    assert_eq!(services, ["order-service", "payment-gateway"]);
    let spans: Vec<&Value> = batches
        .iter()
        .flat_map(|b| b["scopeSpans"][0]["spans"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(spans.len(), 3);
    let base64_trace_id = "APBnqgupArejuMHS4/QFBg==";
    assert!(spans.iter().all(|s| s["traceId"] == base64_trace_id));
    // The payment server span id starts with zeros too; base64 keeps them.
    let server = spans
        .iter()
        .find(|s| s["spanId"] == "AAAKCwwNDg8=")
        .expect("payment server span");
    assert_eq!(server["kind"], "SPAN_KIND_SERVER");
    assert_eq!(server["parentSpanId"], "KzxNXm9wgZI=");
    assert_eq!(
        server["status"],
        json!({"code": "STATUS_CODE_ERROR", "message": "card declined"})
    );
    assert_eq!(server["events"][0]["name"], "payment.declined");
    let root = spans
        .iter()
        .find(|s| s["name"] == "POST /api/v1/checkout")
        .expect("root");
    assert!(root.get("parentSpanId").is_none());
    assert!(root["attributes"]
        .as_array()
        .expect("attributes")
        .contains(&json!({"key": "http.response.status_code", "value": {"intValue": "201"}})));

    // Tempo's v2 shape holds the same spans; an id with its leading zeros trimmed (as Tempo's
    // own search results and metrics-generator exemplars write it) finds the same trace.
    let trimmed = TRACE_ID.trim_start_matches('0');
    let v2 = get(sink.addr, &format!("/api/v2/traces/{trimmed}"));
    assert_eq!(v2.status, 200, "{}", v2.text());
    let v2: Value = serde_json::from_slice(&v2.body).expect("json");
    assert_eq!(v2["trace"]["resourceSpans"], body["batches"]);
}

#[test]
fn garbage_body_is_rejected_with_400_and_nothing_stored() {
    let sink = start();
    let response = post(
        sink.addr,
        "/v1/traces",
        "application/x-protobuf",
        b"\xff\xff\xff not protobuf",
    );
    assert_eq!(response.status, 400);
    assert!(
        response.text().contains("invalid OTLP"),
        "{}",
        response.text()
    );
    assert_eq!(sink.store.span_count(), 0);

    let json_body = post(sink.addr, "/v1/traces", "application/json", b"{}");
    assert_eq!(
        json_body.status, 415,
        "OTLP/JSON is refused with a clear message"
    );
    assert!(json_body.text().contains("http/protobuf"));

    // Well-formed protobuf with a malformed id: 200 with a partial success, as OTLP specifies.
    let bad_id = export_request(vec![(
        "svc",
        vec![span("00ff", "0000000000000001", None, "x", 1, 0, 1)],
    )]);
    let response = post(sink.addr, "/v1/traces", "application/x-protobuf", &bad_id);
    assert_eq!(response.status, 200);
    let decoded =
        ExportTraceServiceResponse::decode(&response.body[..]).expect("protobuf response");
    let partial = decoded.partial_success.expect("partial success reported");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("trace_id"),
        "{}",
        partial.error_message
    );
    assert_eq!(sink.store.span_count(), 0);
}

#[test]
fn unknown_trace_is_404_json_and_malformed_id_is_400() {
    let sink = start();
    for path in ["/api/traces", "/api/v2/traces"] {
        let response = get(sink.addr, &format!("{path}/{}", "ab".repeat(16)));
        assert_eq!(response.status, 404, "{path}");
        let body: Value = serde_json::from_slice(&response.body).expect("404 body is JSON");
        assert_eq!(body["trace_id"], json!("ab".repeat(16)));
        assert!(body["error"].is_string());

        assert_eq!(
            get(sink.addr, &format!("{path}/not-a-trace-id")).status,
            400
        );
        let too_long = "a".repeat(33);
        assert_eq!(get(sink.addr, &format!("{path}/{too_long}")).status, 400);
    }
}

#[test]
fn oldest_spans_are_evicted_beyond_max_spans() {
    let sink = OtlpSink::start_in_background_with_store(any_port(), SpanStore::with_max_spans(2))
        .expect("starts");
    let first = "00000000000000000000000000000001";
    let second = "00000000000000000000000000000002";
    let body = export_request(vec![(
        "svc",
        vec![
            span(first, "0000000000000001", None, "a", 1, 0, 10),
            span(first, "0000000000000002", None, "b", 1, 10, 20),
        ],
    )]);
    post(sink.addr, "/v1/traces", "application/x-protobuf", &body);
    let body = export_request(vec![(
        "svc",
        vec![span(second, "0000000000000003", None, "c", 1, 20, 30)],
    )]);
    post(sink.addr, "/v1/traces", "application/x-protobuf", &body);

    assert_eq!(sink.store.span_count(), 2);
    let kept: Vec<String> = sink
        .store
        .trace(first)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(kept, ["b"], "the oldest span is evicted first");
    assert_eq!(sink.store.trace(second).len(), 1);
    assert_eq!(sink.store.trace_ids(), [second, first]);
}

#[test]
fn listing_and_index_page_show_recent_traces_with_an_indented_waterfall() {
    let sink = start();
    post(
        sink.addr,
        "/v1/traces",
        "application/x-protobuf",
        &two_service_trace(),
    );

    let listing = get(sink.addr, "/api/traces?limit=5");
    assert_eq!(listing.status, 200);
    let traces: Vec<TraceSummary> = serde_json::from_slice(&listing.body).expect("json list");
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].trace_id, TRACE_ID);
    assert_eq!(traces[0].root_name, "POST /api/v1/checkout");
    assert_eq!(traces[0].services, ["order-service", "payment-gateway"]);
    assert_eq!(traces[0].span_count, 3);
    assert!((traces[0].duration_ms - 100.0).abs() < 1e-9);

    let text = waterfall(&sink.store.trace(TRACE_ID));
    // Shown with `--nocapture`, and on failure: the easiest way to eyeball the format.
    println!("{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
            .to_owned()
    };
    assert!(
        line("/api/v1/checkout").contains("|  order-service: POST /api/v1/checkout"),
        "\n{text}"
    );
    assert!(
        line("POST payment-gateway").contains("|    order-service: POST payment-gateway"),
        "\n{text}"
    );
    assert!(
        line("/v1/charges").contains("|      payment-gateway: POST /v1/charges"),
        "\n{text}"
    );
    assert!(line("/v1/charges").contains("[error: card declined]"));

    let page = get(sink.addr, "/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    let html = page.text();
    assert!(html.contains(TRACE_ID));
    assert!(
        html.contains("|    order-service: POST payment-gateway"),
        "{html}"
    );
    assert!(html.contains("not for production"));
}

#[test]
fn healthz_answers_200() {
    let sink = start();
    let response = get(sink.addr, "/healthz");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
}

#[test]
fn urls_point_at_the_bound_port() {
    let sink = start();
    let port = sink.addr.port();
    assert_ne!(port, 0);
    assert_eq!(sink.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(
        sink.traces_endpoint(),
        format!("http://127.0.0.1:{port}/v1/traces")
    );
}

#[test]
fn a_taken_port_is_an_error_not_a_panic() {
    let sink = start();
    let err = OtlpSink::start_in_background(sink.addr).expect_err("port is taken");
    assert!(format!("{err:#}").contains("cannot bind"), "{err:#}");
}

#[tokio::test]
async fn async_start_and_wait_for_trace_work_under_tokio_test() {
    let sink = OtlpSink::start(any_port()).await.expect("starts");
    let addr = sink.addr;
    // Export from a blocking thread after a delay, as a service's batch exporter would: the
    // delay is what is under test (the wait must already be waiting when the spans arrive).
    let exporter = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(50));
        post(
            addr,
            "/v1/traces",
            "application/x-protobuf",
            &two_service_trace(),
        )
        .status
    });
    let spans = sink
        .store
        .wait_for_trace(
            &TRACE_ID.to_ascii_uppercase(),
            |spans| spans.iter().any(|s| s.service_name == "payment-gateway"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(spans.len(), 3);
    assert_eq!(exporter.await.expect("exporter thread"), 200);

    let none = sink
        .store
        .wait_for_trace(
            &"ab".repeat(16),
            |s| !s.is_empty(),
            Duration::from_millis(50),
        )
        .await;
    assert!(none.is_empty(), "on timeout, whatever is there is returned");
    sink.stop().await;
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "stopped sink no longer accepts connections"
    );
}

#[actix_web::test]
async fn background_start_works_under_actix_web_test() {
    let sink = start();
    let response = post(
        sink.addr,
        "/v1/traces",
        "application/x-protobuf",
        &two_service_trace(),
    );
    assert_eq!(response.status, 200);
    let spans = sink
        .store
        .wait_for_trace(TRACE_ID, |spans| spans.len() == 3, Duration::from_secs(5))
        .await;
    assert_eq!(spans.len(), 3);
    sink.stop().await;
}
