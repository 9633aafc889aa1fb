//! Through the real subscriber, propagator and middleware: an incoming sampled `traceparent`
//! becomes an exemplar on `http_server_request_duration_seconds`; an unsampled one does not.
//! (`openmetrics_parser.rs` has an independent parser read the text.)
//!
//! One test binary, one global subscriber: both cases live in one test so that nothing races it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Service as _;
use actix_web::{test, web, App, HttpResponse};
use otlp_sink::OtlpSink;
use telemetry::TelemetryConfig;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut l) = self.0.lock() {
            l.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn random_hex(bytes: usize) -> String {
    // Good enough for unique test ids without a rand dependency.
    let mut out = String::new();
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    for _ in 0..bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{:02x}", x as u8));
    }
    out
}

#[actix_web::test]
async fn sampled_parents_become_exemplars_and_unsampled_ones_never_do() {
    let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
    let logs = Lines::default();
    let writer = logs.clone();
    let config = TelemetryConfig::testing("telemetry-test", "0.0.0-test", &sink.traces_endpoint());
    let telemetry = telemetry::testing::init_with_writer(&config, move || writer.clone()).unwrap();

    let app = test::init_service(
        App::new()
            // Inside the request middleware, as the services' edge does: `HEAD` routed as `GET`;
            // and an error that escapes every handler (handlers' errors become responses).
            .wrap_fn(|mut req, srv| {
                if req.method() == actix_web::http::Method::HEAD {
                    req.head_mut().method = actix_web::http::Method::GET;
                }
                let refused = (req.path() == "/refused")
                    .then(|| actix_web::error::ErrorServiceUnavailable("the queue is full"));
                let answered = srv.call(req);
                async move {
                    match refused {
                        Some(e) => Err(e),
                        None => answered.await,
                    }
                }
            })
            .wrap(telemetry.middleware())
            .route(
                "/jobs/{id}",
                web::get().to(|| async {
                    tracing::info!("handling work");
                    HttpResponse::Ok().finish()
                }),
            )
            .route(
                "/broken",
                web::post().to(|| async {
                    Err::<HttpResponse, _>(actix_web::error::ErrorInternalServerError(
                        "the disk is on fire",
                    ))
                }),
            )
            .service(telemetry.metrics_endpoint()),
    )
    .await;

    let (sampled_trace, parent) = (random_hex(16), random_hex(8));
    let req = test::TestRequest::get()
        .uri("/jobs/1")
        .insert_header(("traceparent", format!("00-{sampled_trace}-{parent}-01")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 200);

    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let exemplar_line = text
        .lines()
        .find(|l| l.contains(&format!("trace_id=\"{sampled_trace}\"")))
        .unwrap_or_else(|| panic!("no exemplar for the sampled trace in:\n{text}"));
    assert!(exemplar_line.starts_with("http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_route=\"/jobs/{id}\",http_response_status_code=\"200\""), "{exemplar_line}");

    // The root span is the child of the incoming parent, exported to the sink.
    let spans = sink
        .store
        .wait_for_trace(&sampled_trace, |s| !s.is_empty(), Duration::from_secs(5))
        .await;
    let server = spans
        .iter()
        .find(|s| s.kind == "server")
        .expect("server span exported");
    assert_eq!(server.parent_span_id.as_deref(), Some(parent.as_str()));
    assert_eq!(server.service_name, "telemetry-test");
    assert!(
        exemplar_line.contains(&format!("span_id=\"{}\"", server.span_id)),
        "{exemplar_line}"
    );

    // The log line written inside the request names the trace and span.
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = log_text
        .lines()
        .find(|l| l.contains("handling work"))
        .expect("log line captured");
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(json["trace_id"], sampled_trace.as_str());
    assert_eq!(json["span_id"], server.span_id.as_str());

    // Unsampled parent: the request is served, measured, but leaves no exemplar and no span.
    let unsampled_trace = random_hex(16);
    let req = test::TestRequest::get()
        .uri("/jobs/2")
        .insert_header((
            "traceparent",
            format!("00-{unsampled_trace}-{}-00", random_hex(8)),
        ))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 200);
    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        text.contains("http_response_status_code=\"200\",le=\"+Inf\"} 2"),
        "both requests counted:\n{text}"
    );
    assert!(
        !text.contains(&unsampled_trace),
        "unsampled trace leaked into an exemplar:\n{text}"
    );
    telemetry::testing::force_flush(&telemetry).await.unwrap();
    assert!(
        sink.store.trace(&unsampled_trace).is_empty(),
        "an unsampled request exported a span"
    );

    // The root span's shape: `{method} {route}`, the stable HTTP attributes, the TCP peer as
    // `client.address`, error status for 5xx only; `{method}` alone and the `unmatched` label
    // when no route matched.
    let sink = &sink;
    let peer: std::net::SocketAddr = "192.0.2.7:4711".parse().unwrap();
    let send = |method: actix_web::http::Method, uri: &str| {
        let trace = random_hex(16);
        let req = test::TestRequest::default()
            .method(method)
            .uri(uri)
            .peer_addr(peer)
            .insert_header(("traceparent", format!("00-{trace}-{}-01", random_hex(8))))
            .to_request();
        (trace, req)
    };
    let server_span = |trace: String| async move {
        let spans = sink
            .store
            .wait_for_trace(&trace, |s| !s.is_empty(), Duration::from_secs(5))
            .await;
        spans
            .into_iter()
            .find(|s| s.kind == "server")
            .expect("server span exported")
    };

    let (trace, req) = send(actix_web::http::Method::GET, "/jobs/42?verbose=1");
    assert_eq!(test::call_service(&app, req).await.status(), 200);
    let ok = server_span(trace).await;
    assert_eq!(ok.name, "GET /jobs/{id}");
    assert_eq!(ok.attributes["http.request.method"], "GET");
    assert_eq!(ok.attributes["http.route"], "/jobs/{id}");
    assert_eq!(ok.attributes["url.path"], "/jobs/42");
    assert_eq!(ok.attributes["client.address"], "192.0.2.7");
    assert_eq!(ok.attributes["http.response.status_code"], 200);
    assert_eq!(ok.status_code, "unset");
    assert!(!ok.attributes.contains_key("error.type"), "{ok:?}");

    // Named and counted by the method it arrived with, whatever a middleware inside made of it.
    let (trace, req) = send(actix_web::http::Method::HEAD, "/jobs/7");
    assert_eq!(test::call_service(&app, req).await.status(), 200);
    let head = server_span(trace).await;
    assert_eq!(head.name, "HEAD /jobs/{id}");
    assert_eq!(head.attributes["http.request.method"], "HEAD");

    let (trace, req) = send(actix_web::http::Method::POST, "/broken");
    assert_eq!(test::call_service(&app, req).await.status(), 500);
    let failed = server_span(trace).await;
    assert_eq!(failed.name, "POST /broken");
    assert_eq!(failed.attributes["http.response.status_code"], 500);
    assert_eq!(failed.attributes["error.type"], "500");
    assert_eq!(
        failed.attributes["exception.message"],
        "the disk is on fire"
    );
    assert_eq!(failed.status_code, "error");

    let (trace, req) = send(actix_web::http::Method::GET, "/no/such/page");
    assert_eq!(test::call_service(&app, req).await.status(), 404);
    let unmatched = server_span(trace).await;
    assert_eq!(unmatched.name, "GET");
    assert!(
        !unmatched.attributes.contains_key("http.route"),
        "{unmatched:?}"
    );
    assert_eq!(unmatched.attributes["http.response.status_code"], 404);
    assert_eq!(
        unmatched.status_code, "unset",
        "a 4xx is the client's error"
    );

    // An error that escaped every handler: no route to name, the status and message the error
    // reports, and still counted.
    let (trace, req) = send(actix_web::http::Method::GET, "/refused");
    let Err(error) = test::try_call_service(&app, req).await else {
        panic!("the error reaches actix as an error")
    };
    assert_eq!(error.as_response_error().status_code(), 503);
    let refused = server_span(trace).await;
    assert_eq!(refused.name, "GET");
    assert_eq!(refused.attributes["http.response.status_code"], 503);
    assert_eq!(refused.attributes["error.type"], "503");
    assert_eq!(refused.attributes["exception.message"], "the queue is full");
    assert_eq!(refused.status_code, "error");

    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    for series in [
        "http_request_method=\"HEAD\",http_route=\"/jobs/{id}\",http_response_status_code=\"200\",le=\"+Inf\"} 1",
        "http_request_method=\"POST\",http_route=\"/broken\",http_response_status_code=\"500\",le=\"+Inf\"} 1",
        "http_request_method=\"GET\",http_route=\"unmatched\",http_response_status_code=\"404\",le=\"+Inf\"} 1",
        "http_request_method=\"GET\",http_route=\"unmatched\",http_response_status_code=\"503\",le=\"+Inf\"} 1",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
}
