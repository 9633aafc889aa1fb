//! Head sampling is decided before anything is built: a request that is not sampled exports no
//! span in this service nor, through `traceparent` with the sampled flag off, in the service it
//! calls; its log lines still carry its trace id, the histograms still count it, and it never
//! becomes an exemplar. A sampled request is recorded in both, and its root span is marked
//! `webstore.exemplar` once one of its observations becomes an exemplar.
//!
//! Two applications in one process (a front that calls a back over real HTTP), one global
//! subscriber exporting to an in-process sink; "nothing exported" is asserted after a flush.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use otlp_sink::{OtlpSink, StoredSpan};
use serde_json::{json, Value};
use telemetry::{Telemetry, TelemetryArgs, TelemetryConfig, TracedClient};

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

impl Lines {
    fn json(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

struct Global {
    sink: OtlpSink,
    logs: Lines,
    telemetry: Telemetry,
}

fn global() -> &'static Global {
    static GLOBAL: OnceLock<Global> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
        let logs = Lines::default();
        let writer = logs.clone();
        let config = TelemetryConfig::testing("sampling-test", "0.0.0", &sink.traces_endpoint());
        let telemetry =
            telemetry::testing::init_with_writer(&config, move || writer.clone()).unwrap();
        Global {
            sink,
            logs,
            telemetry,
        }
    })
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

/// A handle with `OTEL_TRACES_SAMPLER=<sampler>` (and its argument), as an operator sets it.
fn handle(sampler: &str, arg: Option<&str>) -> Telemetry {
    global();
    let mut argv = vec!["sampling-test", "--otel-traces-sampler", sampler];
    if let Some(arg) = arg {
        argv.extend(["--otel-traces-sampler-arg", arg]);
    }
    let cli = Cli::try_parse_from(argv).unwrap();
    let config = TelemetryConfig::from_args(&cli.telemetry, "sampling-test", "0.0.0").unwrap();
    telemetry::testing::detached(&config)
}

/// A listener on a free port and its base URL.
fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The back: logs a line and answers with the `traceparent` it received.
async fn back(req: HttpRequest) -> HttpResponse {
    tracing::info!("back handling");
    let tp = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    HttpResponse::Ok().json(json!({ "traceparent": tp }))
}

/// The front: logs a line, calls the back with the traced client, answers with what the back
/// saw.
async fn front(client: web::Data<(TracedClient, String)>) -> HttpResponse {
    tracing::info!("front handling");
    let (client, back_url) = client.get_ref();
    let request = client
        .inner()
        .get(format!("{back_url}/back"))
        .build()
        .unwrap();
    // Whether tracing-opentelemetry built anything for the handler's span.
    let otel_data = {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        tracing::Span::current().context().has_active_span()
    };
    let sent = client.send(request, "/back").await;
    let mut seen: Value = sent.result.unwrap().json().await.unwrap();
    seen["otel_data"] = Value::Bool(otel_data);
    HttpResponse::Ok().json(seen)
}

/// Front and back apps on their own handles (`sampler` for both), their base URLs.
struct Pair {
    front: Telemetry,
    back: Telemetry,
    front_url: String,
}

fn pair(sampler: &str, arg: Option<&str>) -> Pair {
    let (front_t, back_t) = (handle(sampler, arg), handle(sampler, arg));
    let (mw, metrics) = (back_t.middleware(), back_t.metrics_endpoint());
    let (back_listener, back_url) = listener();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(mw.clone())
            .route("/back", web::get().to(back))
            .service(metrics.clone())
    })
    .workers(1)
    .listen(back_listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    let client = web::Data::new((
        front_t.http_client(reqwest::Client::builder()).unwrap(),
        back_url,
    ));
    let (mw, metrics) = (front_t.middleware(), front_t.metrics_endpoint());
    let (front_listener, front_url) = listener();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(mw.clone())
            .app_data(client.clone())
            .route("/front", web::get().to(front))
            .service(metrics.clone())
    })
    .workers(1)
    .listen(front_listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    Pair {
        front: front_t,
        back: back_t,
        front_url,
    }
}

fn hex(bytes: usize, seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{:02x}", x as u8)
        })
        .collect()
}

async fn get(url: &str, traceparent: Option<&str>) -> Value {
    let mut req = reqwest::Client::new().get(url);
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn flushed_trace(trace_id: &str) -> Vec<StoredSpan> {
    telemetry::testing::force_flush(&global().telemetry)
        .await
        .unwrap();
    global().sink.store.trace(trace_id)
}

#[actix_web::test]
async fn an_unsampled_request_builds_nothing_here_or_downstream_and_a_sampled_one_everything() {
    let apps = pair("parentbased_always_on", None);
    let url = format!("{}/front", apps.front_url);

    // Unsampled by the caller: sampled flag off.
    let unsampled = hex(16, 1);
    let seen = get(&url, Some(&format!("00-{unsampled}-{}-00", hex(8, 2)))).await;
    let tp = seen["traceparent"]
        .as_str()
        .expect("the back got a traceparent");
    assert!(
        tp.starts_with(&format!("00-{unsampled}-")) && tp.ends_with("-00"),
        "same trace, sampled flag off: {tp}"
    );
    assert_eq!(
        seen["otel_data"], false,
        "no OpenTelemetry span data for an unsampled request's span"
    );
    assert!(
        flushed_trace(&unsampled).await.is_empty(),
        "an unsampled request exported spans"
    );
    // Its log lines, in both services, carry its trace id and the span id it propagates.
    let propagated_span = tp.split('-').nth(2).unwrap().to_owned();
    for message in ["front handling", "back handling"] {
        let line = global()
            .logs
            .json()
            .into_iter()
            .find(|l| l["message"] == message && l["trace_id"] == unsampled.as_str())
            .unwrap_or_else(|| panic!("no {message:?} line with trace_id {unsampled}"));
        assert!(
            line["span_id"].as_str().is_some_and(|s| s.len() == 16),
            "{line}"
        );
        if message == "front handling" {
            assert_eq!(line["span_id"], propagated_span.as_str(), "{line}");
        }
    }
    // Counted, never an exemplar.
    for (name, t) in [("front", &apps.front), ("back", &apps.back)] {
        let text = telemetry::testing::scrape(t);
        assert!(
            text.contains("http_server_request_duration_seconds_count{http_request_method=\"GET\""),
            "{name} counted the request:\n{text}"
        );
        assert!(
            !text.contains("trace_id="),
            "{name} took an exemplar from an unsampled request:\n{text}"
        );
    }

    // Sampled by the caller: recorded in both, the front's root marked as an exemplar's.
    let sampled = hex(16, 3);
    let seen = get(&url, Some(&format!("00-{sampled}-{}-01", hex(8, 4)))).await;
    let tp = seen["traceparent"].as_str().unwrap();
    assert!(
        tp.starts_with(&format!("00-{sampled}-")) && tp.ends_with("-01"),
        "{tp}"
    );
    assert_eq!(seen["otel_data"], true);
    let spans = flushed_trace(&sampled).await;
    let servers: Vec<&StoredSpan> = spans.iter().filter(|s| s.kind == "server").collect();
    let clients: Vec<&StoredSpan> = spans.iter().filter(|s| s.kind == "client").collect();
    assert_eq!((servers.len(), clients.len()), (2, 1), "{spans:#?}");
    let front_root = servers
        .iter()
        .find(|s| s.name == "GET /front")
        .expect("the front's root span");
    let back_root = servers.iter().find(|s| s.name == "GET /back").unwrap();
    assert_eq!(
        back_root.parent_span_id.as_deref(),
        Some(clients[0].span_id.as_str())
    );
    assert_eq!(
        clients[0].parent_span_id.as_deref(),
        Some(front_root.span_id.as_str())
    );
    // The first observation of each bucket after start becomes its exemplar.
    assert_eq!(
        front_root.attributes.get("webstore.exemplar"),
        Some(&Value::Bool(true)),
        "{front_root:#?}"
    );
    assert_eq!(
        back_root.attributes.get("webstore.exemplar"),
        Some(&Value::Bool(true))
    );
    assert!(
        !clients[0].attributes.contains_key("webstore.exemplar"),
        "only the local root is marked"
    );
    let text = telemetry::testing::scrape(&apps.front);
    assert!(
        text.contains(&format!("trace_id=\"{sampled}\"")),
        "the sampled request is an exemplar:\n{text}"
    );
}

#[actix_web::test]
async fn new_traces_are_sampled_at_the_ratio_and_the_callee_follows_the_caller() {
    let apps = pair("parentbased_traceidratio", Some("0.5"));
    let url = format!("{}/front", apps.front_url);
    let mut decided = Vec::new();
    for _ in 0..40 {
        let seen = get(&url, None).await;
        let tp = seen["traceparent"].as_str().expect("propagated").to_owned();
        let mut parts = tp.split('-');
        let trace = parts.nth(1).unwrap().to_owned();
        let sampled = parts.nth(1) == Some("01");
        decided.push((trace, sampled));
    }
    let n_sampled = decided.iter().filter(|(_, s)| *s).count();
    assert!(
        (5..=35).contains(&n_sampled),
        "{n_sampled} of 40 sampled at 0.5"
    );
    telemetry::testing::force_flush(&global().telemetry)
        .await
        .unwrap();
    for (trace, sampled) in &decided {
        let spans = global().sink.store.trace(trace);
        if *sampled {
            // Whole: the front's root and client span, the back's root.
            assert_eq!(spans.len(), 3, "sampled trace {trace}: {spans:#?}");
            let root = spans.iter().find(|s| s.is_root()).expect("a root");
            assert_eq!(root.name, "GET /front");
        } else {
            assert!(
                spans.is_empty(),
                "unsampled trace {trace} exported {spans:#?}"
            );
        }
    }
    // Every request counted in both services, sampled or not.
    for t in [&apps.front, &apps.back] {
        let text = telemetry::testing::scrape(t);
        let count = text
            .lines()
            .find(|l| l.starts_with("http_server_request_duration_seconds_count"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok());
        assert_eq!(count, Some(40), "{text}");
    }
}
