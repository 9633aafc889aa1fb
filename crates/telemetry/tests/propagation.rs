//! `OTEL_PROPAGATORS` decides what crosses a process boundary, in both directions: the request
//! middleware extracts only the configured formats, the traced client injects only them, and
//! `none` means neither.
//!
//! One global subscriber for the binary (as in the services' tests); every case gets its own
//! detached handle, built from the flag as an operator would set it.

use std::net::TcpListener;
use std::sync::OnceLock;

use actix_web::{test, web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::KeyValue;
use otlp_sink::OtlpSink;
use serde_json::{json, Value};
use telemetry::{SpanIds, Telemetry, TelemetryArgs, TelemetryConfig};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// A handle whose propagators are `OTEL_PROPAGATORS=<propagators>` (`None`: unset), after the
/// binary's one global initialisation.
fn telemetry_with(propagators: Option<&str>) -> Telemetry {
    static GLOBAL: OnceLock<(OtlpSink, Telemetry)> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
        let config = TelemetryConfig::testing("propagation-test", "0.0.0", &sink.traces_endpoint());
        let telemetry = telemetry::testing::init_with_writer(&config, std::io::sink).unwrap();
        (sink, telemetry)
    });
    let mut argv = vec!["propagation-test"];
    if let Some(p) = propagators {
        argv.extend(["--otel-propagators", p]);
    }
    let cli = Cli::try_parse_from(argv).unwrap();
    let config = TelemetryConfig::from_args(&cli.telemetry, "propagation-test", "0.0.0").unwrap();
    telemetry::testing::detached(&config)
}

/// What the handler saw: its span's trace id and the baggage entry `k`.
async fn context_seen() -> HttpResponse {
    let trace_id = SpanIds::current().map(|ids| ids.trace_id().to_string());
    let baggage =
        opentelemetry::Context::map_current(|cx| cx.baggage().get("k").map(|v| v.to_string()));
    HttpResponse::Ok().json(json!({ "trace_id": trace_id, "baggage": baggage }))
}

#[actix_web::test]
async fn the_middleware_extracts_only_what_otel_propagators_names() {
    // (OTEL_PROPAGATORS, joins the incoming trace, sees the incoming baggage)
    for (propagators, joins, baggage) in [
        (None, true, true),
        (Some("tracecontext,baggage"), true, true),
        (Some("tracecontext"), true, false),
        (Some("baggage"), false, true),
        (Some("none"), false, false),
    ] {
        let telemetry = telemetry_with(propagators);
        let app = test::init_service(
            App::new()
                .wrap(telemetry.middleware())
                .route("/seen", web::get().to(context_seen)),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/seen")
            .insert_header(("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01")))
            .insert_header(("baggage", "k=from-the-caller"))
            .to_request();
        let seen: Value = test::call_and_read_body_json(&app, req).await;
        let trace_id = seen["trace_id"]
            .as_str()
            .expect("the request span is sampled");
        assert_eq!(
            trace_id == TRACE_ID,
            joins,
            "OTEL_PROPAGATORS={propagators:?}: trace {trace_id}"
        );
        assert_eq!(
            seen["baggage"] == "from-the-caller",
            baggage,
            "OTEL_PROPAGATORS={propagators:?}: {seen}"
        );
    }
}

/// A server that answers with the propagation headers it received.
fn start_echo_server() -> String {
    async fn echo(req: HttpRequest) -> HttpResponse {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        HttpResponse::Ok().json(json!({
            "traceparent": header("traceparent"),
            "baggage": header("baggage"),
        }))
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/echo", listener.local_addr().unwrap());
    let server = HttpServer::new(|| App::new().route("/echo", web::get().to(echo)))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    actix_web::rt::spawn(server);
    url
}

#[actix_web::test]
async fn the_traced_client_injects_only_what_otel_propagators_names() {
    let url = start_echo_server();
    // (OTEL_PROPAGATORS, sends traceparent, sends baggage)
    for (propagators, traceparent, baggage) in [
        (None, true, true),
        (Some("tracecontext"), true, false),
        (Some("baggage"), false, true),
        (Some("none"), false, false),
    ] {
        let telemetry = telemetry_with(propagators);
        let client = telemetry.http_client(reqwest::Client::builder()).unwrap();
        // The caller's context carries baggage; the client span is its child.
        let cx = opentelemetry::Context::current_with_baggage([KeyValue::new("k", "v")]);
        let request = client.inner().get(&url).build().unwrap();
        let sent = client.send(request, "/echo").with_context(cx).await;
        let span_ids = sent.span_ids.expect("the client span is sampled");
        let seen: Value = sent.result.unwrap().json().await.unwrap();
        match seen["traceparent"].as_str() {
            Some(header) => {
                assert!(
                    traceparent,
                    "OTEL_PROPAGATORS={propagators:?} sent {header}"
                );
                assert_eq!(
                    header,
                    format!("00-{}-{}-01", span_ids.trace_id(), span_ids.span_id()),
                    "the callee's parent is the client span"
                );
            }
            None => assert!(
                !traceparent,
                "OTEL_PROPAGATORS={propagators:?}: no traceparent"
            ),
        }
        assert_eq!(
            seen["baggage"] == "k=v",
            baggage,
            "OTEL_PROPAGATORS={propagators:?}: {seen}"
        );
    }
}
