//! What the request middleware costs per request, span pipeline included: the A/B bench for
//! changes to the traced request path (docs/BENCHMARKS.md, "What a traced request costs").
//!
//! One process, the real `telemetry::init` stack (JSON logs to a sink, the OpenTelemetry layer,
//! the batch span processor exporting OTLP/HTTP to an in-process `otlp-sink` that decodes and
//! discards), and an actix service with one trivial route:
//! - `request/bare`: the route without the middleware: the floor;
//! - `off` (only with `REQUEST_BENCH`, as it needs a process of its own): the middleware with
//!   `OTEL_SDK_DISABLED=true`, what the bench's telemetry-off copy runs;
//! - `request/unsampled`: with the middleware, the caller's `traceparent` unsampled;
//! - `request/sampled`: the same, sampled: one span built, ended and exported;
//! - `new-sampled`, `new-unsampled` (only with `REQUEST_BENCH`): no incoming `traceparent`,
//!   the request starts a trace that the sampler keeps (`always_on`) or drops (`always_off`):
//!   what the HTTP bench's catalog reads are, at 100 % and for nine in ten of them at 10 %.
//!
//! Wall-clock figures come from criterion (`cargo bench -p telemetry --bench request`); they
//! leave out most of the export, which runs on the batch processor's thread. For counts that
//! include every thread and do not care about neighbours, run one variant a fixed number of
//! times under callgrind:
//!
//! ```sh
//! REQUEST_BENCH=sampled:20000 valgrind --tool=callgrind target/release/deps/request-<hash>
//! ```
//!
//! and divide the instructions by the requests (minus a `bare` run's).

use std::time::Duration;

use actix_web::dev::Service;
use actix_web::{test, web, App, HttpResponse};
use criterion::{criterion_group, Criterion};
use otlp_sink::{OtlpSink, SpanStore};
use telemetry::{Telemetry, TelemetryConfig};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The process's one telemetry initialisation: spans exported to a discarding sink, or
/// `OTEL_SDK_DISABLED=true`.
///
/// `queue`: the batch processor's queue, for runs under callgrind, where the export thread
/// runs rarely: with the default 2 048 most spans would be dropped on a full queue, and the
/// counts would measure drops instead of exports.
fn init(variant: Variant, queue: Option<u64>) -> (OtlpSink, Telemetry) {
    let sink = OtlpSink::start_in_background_with_store(
        "127.0.0.1:0".parse().unwrap(),
        SpanStore::discarding(),
    )
    .unwrap();
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        telemetry: telemetry::TelemetryArgs,
    }
    let endpoint = sink.traces_endpoint();
    // Full batches (a long schedule delay) so that runs batch alike; the batch size is the
    // crate's default unless REQUEST_BENCH_BATCH says otherwise.
    let mut argv = vec![
        "request-bench",
        "--otel-exporter-otlp-traces-endpoint",
        &endpoint,
        "--otel-bsp-schedule-delay",
        "60000",
    ];
    let batch = std::env::var("REQUEST_BENCH_BATCH").unwrap_or_default();
    if !batch.is_empty() {
        argv.extend(["--otel-bsp-max-export-batch-size", &batch]);
    }
    let queue = queue.map(|q| q.to_string()).unwrap_or_default();
    if !queue.is_empty() {
        argv.extend(["--otel-bsp-max-queue-size", &queue]);
    }
    match variant {
        Variant::Off => argv.extend(["--otel-sdk-disabled", "true"]),
        Variant::NewUnsampled => argv.extend(["--otel-traces-sampler", "always_off"]),
        _ => {}
    }
    let cli = <Cli as clap::Parser>::parse_from(argv);
    let config = TelemetryConfig::from_args(&cli.telemetry, "request-bench", "0.0.0").unwrap();
    let telemetry = telemetry::testing::init_with_writer(&config, std::io::sink).unwrap();
    (sink, telemetry)
}

#[derive(Clone, Copy, Debug)]
enum Variant {
    Bare,
    Off,
    Unsampled,
    Sampled,
    NewSampled,
    NewUnsampled,
}

impl Variant {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "bare" => Some(Self::Bare),
            "off" => Some(Self::Off),
            "unsampled" => Some(Self::Unsampled),
            "sampled" => Some(Self::Sampled),
            "new-sampled" => Some(Self::NewSampled),
            "new-unsampled" => Some(Self::NewUnsampled),
            _ => None,
        }
    }

    fn traceparent(self) -> Option<String> {
        match self {
            Self::Bare | Self::Off | Self::NewSampled | Self::NewUnsampled => None,
            Self::Unsampled => Some(format!("00-{TRACE}-00f067aa0ba902b7-00")),
            Self::Sampled => Some(format!("00-{TRACE}-00f067aa0ba902b7-01")),
        }
    }
}

async fn product() -> HttpResponse {
    HttpResponse::Ok().body("{\"id\":\"p-1\"}")
}

/// Runs `n` requests of `variant` through one service; returns when all are answered.
async fn run(telemetry: &Telemetry, variant: Variant, n: u64) {
    let app = App::new().route("/api/v1/products/{id}", web::get().to(product));
    let traceparent = variant.traceparent();
    macro_rules! drive {
        ($svc:expr) => {{
            let svc = $svc;
            for _ in 0..n {
                let mut req = test::TestRequest::get().uri("/api/v1/products/p-1");
                if let Some(tp) = &traceparent {
                    req = req.insert_header(("traceparent", tp.as_str()));
                }
                let res = svc.call(req.to_request()).await.unwrap();
                std::hint::black_box(res.status());
            }
        }};
    }
    match variant {
        Variant::Bare => drive!(test::init_service(app).await),
        _ => drive!(test::init_service(app.wrap(telemetry.middleware())).await),
    }
}

fn criterion_benches(c: &mut Criterion) {
    let (_sink, telemetry) = init(Variant::Sampled, None);
    let rt = actix_web::rt::System::new();
    let mut group = c.benchmark_group("request");
    for variant in [Variant::Bare, Variant::Unsampled, Variant::Sampled] {
        group.bench_function(format!("{variant:?}").to_lowercase(), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = std::time::Instant::now();
                    run(&telemetry, variant, iters).await;
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = criterion_benches
}

fn main() {
    // `REQUEST_BENCH=<variant>:<n>`: n requests, a flush, nothing else (for callgrind).
    if let Ok(spec) = std::env::var("REQUEST_BENCH") {
        let (variant, n) = spec.split_once(':').unwrap_or((&spec, "10000"));
        let variant = Variant::parse(variant)
            .expect("REQUEST_BENCH=bare|off|unsampled|sampled|new-sampled|new-unsampled:<n>");
        let n: u64 = n.parse().expect("a request count");
        let (sink, telemetry) = init(variant, Some(n.max(2048)));
        actix_web::rt::System::new().block_on(async {
            run(&telemetry, variant, n).await;
            // Under callgrind a flush of 20 000 queued spans outlasts the SDK's 5 s flush
            // timeout; the export goes on, so ask again until it has caught up.
            let mut flushed = telemetry::testing::force_flush(&telemetry).await;
            for _ in 0..20 {
                if flushed.is_ok() {
                    break;
                }
                flushed = telemetry::testing::force_flush(&telemetry).await;
            }
            flushed.expect("the spans are flushed");
        });
        println!(
            "{n} {variant:?} requests, {} spans received by the sink",
            sink.store.received()
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
