//! The Prometheus and trace-backend answers storectl reads, served by wiremock: bodies captured
//! from Prometheus 2.42 and the dev receiver (`tests/fixtures/`), and Tempo 2.x's shapes as it
//! documents and writes them (base64 ids, `batches` on v1, trimmed ids in `traceID` exemplars).

use clap::Parser;
use serde_json::{json, Value};
use storectl::cli::Cli;
use storectl::http::{parse_base_url, Http};
use storectl::trace::{Api, Lookup, TraceBackend, TraceId};
use storectl::Exit;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The trace of the captured exemplar: a checkout whose charge took 5 s (slow-payments).
const CAPTURED_TRACE: &str = "7cfd164015b8e82c44eb2eca46d3895a";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn backend(server: &MockServer) -> TraceBackend {
    TraceBackend::new(
        Http::new(std::time::Duration::from_secs(5)).unwrap(),
        parse_base_url(&server.uri()).unwrap(),
    )
}

async fn serve(server: &MockServer, route: &str, status: u16, body: Value) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// Runs the command line `args` in-process; its exit and what it printed on stdout.
async fn storectl(args: &[&str]) -> (Exit, String) {
    let cli = Cli::try_parse_from(std::iter::once("storectl").chain(args.iter().copied()))
        .expect("valid command line");
    let mut out = Vec::new();
    let exit = storectl::run(cli, &mut out, std::future::pending())
        .await
        .expect("runs");
    (exit, String::from_utf8(out).expect("utf-8"))
}

#[tokio::test]
async fn the_v2_answer_is_read_first_and_the_time_is_found_in_the_gateway() {
    let server = MockServer::start().await;
    serve(
        &server,
        &format!("/api/v2/traces/{CAPTURED_TRACE}"),
        200,
        fixture("dev-receiver-v2-slow-checkout.json"),
    )
    .await;
    let id = TraceId::parse_hex(CAPTURED_TRACE).unwrap();
    let Lookup::Found { trace, api } = backend(&server).fetch(&id).await.unwrap() else {
        panic!("found")
    };
    assert_eq!(api, Api::V2);
    assert_eq!(trace.spans.len(), 18);
    let analysis = trace.analyse();
    let slowest = &trace.spans[analysis.slowest.unwrap()];
    assert_eq!(
        (slowest.service.as_str(), slowest.name.as_str()),
        ("payment-gateway", "charge.process")
    );
    assert!(analysis.self_nanos[analysis.slowest.unwrap()] > 5_000_000_000);
    // The root lasts longest, but waited on its children nearly all the time.
    let root = analysis.order[0];
    assert_eq!(trace.spans[root].name, "POST /api/v1/checkout");
    assert!(analysis.critical[root]);
}

#[tokio::test]
async fn a_tempo_without_the_v2_api_is_read_through_v1() {
    let server = MockServer::start().await;
    // No v2 route mounted: wiremock answers 404, as Tempo before 2.5 does.
    serve(
        &server,
        &format!("/api/traces/{CAPTURED_TRACE}"),
        200,
        fixture("dev-receiver-v1-slow-checkout.json"),
    )
    .await;
    let id = TraceId::parse_hex(CAPTURED_TRACE).unwrap();
    let Lookup::Found { trace: v1, api } = backend(&server).fetch(&id).await.unwrap() else {
        panic!("found through v1")
    };
    assert_eq!(api, Api::V1);

    let v2_server = MockServer::start().await;
    serve(
        &v2_server,
        &format!("/api/v2/traces/{CAPTURED_TRACE}"),
        200,
        fixture("dev-receiver-v2-slow-checkout.json"),
    )
    .await;
    let Lookup::Found { trace: v2, .. } = backend(&v2_server).fetch(&id).await.unwrap() else {
        panic!("found through v2")
    };
    assert_eq!(v1, v2, "both shapes hold the same trace");
}

#[tokio::test]
async fn a_trace_on_neither_route_or_an_empty_v2_answer_is_not_found() {
    let id = TraceId::parse_hex("ab").unwrap();
    let nothing = MockServer::start().await;
    assert_eq!(
        backend(&nothing).fetch(&id).await.unwrap(),
        Lookup::NotFound
    );

    // Tempo's v2 API may answer 200 with an empty trace.
    let empty = MockServer::start().await;
    serve(
        &empty,
        &format!("/api/v2/traces/{id}"),
        200,
        json!({"trace": {}}),
    )
    .await;
    assert_eq!(backend(&empty).fetch(&id).await.unwrap(), Lookup::NotFound);

    let broken = MockServer::start().await;
    serve(&broken, &format!("/api/v2/traces/{id}"), 500, json!("boom")).await;
    let err = backend(&broken).fetch(&id).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

/// A trace as Tempo 2.x's `/api/traces/{id}` writes it: `batches`, base64 ids, enum names,
/// int64 as strings, `status: {}` when unset. Trace id 00004c2a…: two leading zero bytes.
fn tempo_v1_trace() -> Value {
    json!({"batches": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "order-service"}}]},
         "scopeSpans": [{"scope": {"name": "tracing-opentelemetry"}, "spans": [
            {"traceId": "AABMKp5R2Dt8laCh4vO0xQ==", "spanId": "EREiIjMzREQ=",
             "name": "POST /api/v1/checkout", "kind": "SPAN_KIND_SERVER",
             "startTimeUnixNano": "1750000000000000000", "endTimeUnixNano": "1750000006300000000",
             "attributes": [{"key": "http.route", "value": {"stringValue": "/api/v1/checkout"}}],
             "status": {}},
            {"traceId": "AABMKp5R2Dt8laCh4vO0xQ==", "spanId": "AAChssPU5fY=",
             "parentSpanId": "EREiIjMzREQ=", "name": "POST /v1/charges", "kind": "SPAN_KIND_CLIENT",
             "startTimeUnixNano": "1750000000050000000", "endTimeUnixNano": "1750000006250000000",
             "status": {}}]}]},
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payment-gateway"}}]},
         "scopeSpans": [{"scope": {}, "spans": [
            {"traceId": "AABMKp5R2Dt8laCh4vO0xQ==", "spanId": "IiIzM0REVVU=",
             "parentSpanId": "AAChssPU5fY=", "name": "POST /v1/charges", "kind": "SPAN_KIND_SERVER",
             "startTimeUnixNano": "1750000000055000000", "endTimeUnixNano": "1750000006245000000",
             "attributes": [{"key": "gateway.delay_ms", "value": {"intValue": "6000"}}],
             "status": {"code": "STATUS_CODE_ERROR", "message": "slow"}}]}]}
    ]})
}

#[tokio::test]
async fn traceid_labels_with_trimmed_zeros_open_the_padded_trace() {
    let prometheus = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/query_exemplars"))
        .and(query_param(
            "query",
            "webstore_payment_duration_seconds_bucket{payment_method=\"card\"}",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": [{
                "seriesLabels": {"__name__": "webstore_payment_duration_seconds_bucket",
                                 "le": "10", "payment_method": "card"},
                "exemplars": [
                    // Tempo's metrics-generator: `traceID`, leading zeros trimmed.
                    {"labels": {"traceID": "4c2a9e51d83b7c95a0a1e2f3b4c5", "spanID": "a1b2c3d4e5f6"},
                     "value": "6.2", "timestamp": 1750000006.3},
                    {"labels": {"trace_id": "not-a-w3c-id"}, "value": "9.0", "timestamp": 1750000001.0}
                ]
            }]
        })))
        .mount(&prometheus)
        .await;
    let tempo = MockServer::start().await;
    // Tempo 2.4: no v2 route; v1 under the full 32-digit id.
    serve(
        &tempo,
        "/api/traces/00004c2a9e51d83b7c95a0a1e2f3b4c5",
        200,
        tempo_v1_trace(),
    )
    .await;

    let (exit, out) = storectl(&[
        "exemplars",
        "--slowest",
        "1",
        "--json",
        "--label",
        "payment_method=card",
        "--prometheus-url",
        &prometheus.uri(),
        "--trace-url",
        &tempo.uri(),
    ])
    .await;
    assert_eq!(exit, Exit::Success, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["exemplars_found"], 2);
    let opened = &report["opened"][0];
    assert_eq!(
        opened["exemplar"]["trace_id"],
        "00004c2a9e51d83b7c95a0a1e2f3b4c5"
    );
    assert_eq!(opened["exemplar"]["trace_id_label"], "traceID");
    let trace = &opened["trace"];
    assert_eq!(trace["found"], true, "{trace:#}");
    assert_eq!(trace["api"], "/api/traces");
    assert_eq!(trace["slowest_span"]["service"], "payment-gateway");
    assert_eq!(trace["slowest_span"]["status"]["code"], "error");
    let exemplar_span = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["exemplar"] == true)
        .expect("the exemplar's span is marked");
    assert_eq!(exemplar_span["span_id"], "0000a1b2c3d4e5f6");
    assert_eq!(exemplar_span["kind"], "client");
    assert!(opened["explore_url"]
        .as_str()
        .unwrap()
        .contains("00004c2a9e51d83b7c95a0a1e2f3b4c5"));
}

#[tokio::test]
async fn the_captured_exemplar_opens_its_captured_trace_as_a_waterfall() {
    let prometheus = MockServer::start().await;
    serve(
        &prometheus,
        "/api/v1/query_exemplars",
        200,
        fixture("prometheus-2.42-query-exemplars.json"),
    )
    .await;
    let receiver = MockServer::start().await;
    serve(
        &receiver,
        &format!("/api/v2/traces/{CAPTURED_TRACE}"),
        200,
        fixture("dev-receiver-v2-slow-checkout.json"),
    )
    .await;
    let (exit, out) = storectl(&[
        "exemplars",
        "--prometheus-url",
        &prometheus.uri(),
        "--trace-url",
        &receiver.uri(),
    ])
    .await;
    assert_eq!(exit, Exit::Success, "{out}");
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} in\n{out}"))
    };
    assert!(line("<= exemplar").contains("order-service: POST /v1/charges (client)"));
    assert!(
        line("charge.process").starts_with('*'),
        "on the critical path"
    );
    assert!(line("The time went to").contains("payment-gateway: charge.process"));
    assert!(line("exemplar 1 of 1").contains("5.03 s"));
    assert!(out.contains(&format!("trace {CAPTURED_TRACE}: 18 spans")));
}

#[tokio::test]
async fn a_missing_trace_is_explained_not_an_error() {
    let prometheus = MockServer::start().await;
    serve(
        &prometheus,
        "/api/v1/query_exemplars",
        200,
        fixture("prometheus-2.42-query-exemplars.json"),
    )
    .await;
    let empty_backend = MockServer::start().await;
    let (exit, out) = storectl(&[
        "exemplars",
        "--prometheus-url",
        &prometheus.uri(),
        "--trace-url",
        &empty_backend.uri(),
    ])
    .await;
    assert_eq!(exit, Exit::Success);
    assert!(out.contains("is not in"), "{out}");
    for reason in ["not flushed yet", "past retention", "sampled out"] {
        assert!(out.contains(reason), "{reason} in\n{out}");
    }
}

#[tokio::test]
async fn prometheus_without_exemplar_storage_is_named() {
    let prometheus = MockServer::start().await;
    serve(
        &prometheus,
        "/api/v1/query_exemplars",
        200,
        json!({"status": "success", "data": []}),
    )
    .await;
    serve(
        &prometheus,
        "/api/v1/status/flags",
        200,
        json!({"status": "success", "data": {"enable-feature": "", "web.enable-lifecycle": "false"}}),
    )
    .await;
    let (exit, out) = storectl(&[
        "exemplars",
        "--prometheus-url",
        &prometheus.uri(),
        "--trace-url",
        &prometheus.uri(),
    ])
    .await;
    assert_eq!(exit, Exit::Failure);
    assert!(out.contains("exemplar storage is off"), "{out}");
    assert!(out.contains("--enable-feature=exemplar-storage"), "{out}");

    // Storage on, but nothing recorded: traffic is what is missing.
    let enabled = MockServer::start().await;
    serve(
        &enabled,
        "/api/v1/query_exemplars",
        200,
        json!({"status": "success", "data": []}),
    )
    .await;
    serve(
        &enabled,
        "/api/v1/status/flags",
        200,
        json!({"status": "success", "data": {"enable-feature": "exemplar-storage,native-histograms"}}),
    )
    .await;
    let (exit, out) = storectl(&["exemplars", "--prometheus-url", &enabled.uri()]).await;
    assert_eq!(exit, Exit::Failure);
    assert!(out.contains("cargo xtask traffic"), "{out}");
}

#[tokio::test]
async fn prometheus_errors_name_their_type() {
    let prometheus = MockServer::start().await;
    serve(
        &prometheus,
        "/api/v1/query_exemplars",
        400,
        json!({"status": "error", "errorType": "bad_data", "error": "1:10: parse error"}),
    )
    .await;
    let cli = Cli::try_parse_from([
        "storectl",
        "exemplars",
        "--prometheus-url",
        &prometheus.uri(),
    ])
    .unwrap();
    let err = storectl::run(cli, &mut Vec::new(), std::future::pending())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("bad_data: 1:10: parse error"),
        "{err}"
    );
}
