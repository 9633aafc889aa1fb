//! The incident loop of `cargo xtask traffic | exemplars | doctor`, on the three services as
//! processes, a real Prometheus 2.42 with exemplar storage and the dev OTLP receiver: a short
//! slow-payments run puts the injected latency into the gateway's span, the slowest exemplar
//! opens that trace, the doctor finds every link healthy — and names exemplar storage as the
//! broken link on a Prometheus started without it.
//!
//! storectl runs in-process through its library entry point, with the very command lines a
//! user types (`--json` so the answers can be asserted on).

use std::time::{Duration, Instant};

use devstack::prometheus::{ScrapeConfig, PROGRAM, READY_PATH};
use devstack::{Launch, Probe};
use serde_json::Value;
use storectl::cli::Cli;
use storectl::Exit;
use system_tests::prometheus::wait_for;
use system_tests::{free_port, start_ready, Stack, ADMIN_TOKEN, API_KEY};

/// What slow-payments injects here: above the gateway's own latency model for a card charge
/// (150 ms median), short enough to keep the test quick.
const INJECTED_MS: u64 = 1500;

async fn storectl(args: &[&str]) -> (Exit, Value) {
    let cli = Cli::from_args(std::iter::once("storectl").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let mut out = Vec::new();
    let exit = storectl::run(cli, &mut out, std::future::pending())
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    let text = String::from_utf8_lossy(&out);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"));
    (exit, json)
}

fn grafana_datasources() -> String {
    format!(
        "{}/../../infra/grafana/provisioning/datasources/datasources.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `doctor --json` against `prometheus`, with the stack's own URLs and sampler.
async fn doctor(stack: &Stack, prometheus: &str) -> (Exit, Value) {
    storectl(&[
        "doctor",
        "--json",
        "--order-url",
        &stack.order,
        "--catalog-url",
        &stack.catalog,
        "--gateway-url",
        &stack.gateway,
        "--prometheus-url",
        prometheus,
        "--trace-url",
        &stack.sink.base_url(),
        // The stack's services run without the developer's OTEL_* settings: the SDK default.
        "--sampler",
        "parentbased_always_on",
        "--grafana-datasources",
        &grafana_datasources(),
    ])
    .await
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

mod needs_prometheus {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn slow_payments_lead_to_the_gateway_span_and_doctor_names_the_broken_link() {
        test_support::require(test_support::Dependency::Prometheus);
        let stack = Stack::start().unwrap_or_else(|e| panic!("starting the stack: {e:#}"));
        let latency = format!("{INJECTED_MS}ms");

        // A short, bounded incident.
        let started = Instant::now();
        let (exit, traffic) = storectl(&[
            "traffic",
            "--scenario",
            "slow-payments",
            "--duration",
            "6s",
            "--latency",
            &latency,
            "--seed",
            "11",
            "--json",
            "--order-url",
            &stack.order,
            "--catalog-url",
            &stack.catalog,
            "--gateway-url",
            &stack.gateway,
            "--api-key",
            API_KEY,
            "--admin-token",
            ADMIN_TOKEN,
        ])
        .await;
        assert_eq!(exit, Exit::Success, "{traffic:#}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "bounded: it stops by itself"
        );
        assert_eq!(traffic["stopped_by"], "duration");
        let paid = traffic["checkouts"]["paid"].as_u64().unwrap_or(0);
        assert!(paid >= 5, "slow checkouts still succeed: {traffic:#}");
        assert!(
            traffic["latency_ms"]["p95"].as_f64().unwrap_or(0.0) >= INJECTED_MS as f64,
            "{traffic:#}"
        );
        assert_eq!(traffic["faults"]["set"]["latency_ms"], INJECTED_MS);
        assert_eq!(traffic["faults"]["restored"], true, "{traffic:#}");
        let faults: Value = reqwest::Client::new()
            .get(format!("{}/admin/faults", stack.gateway))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(faults["latency_ms"], 0, "the fault is gone after the run");

        // Prometheus scrapes every second and the services export spans every 200 ms: poll until
        // the slowest exemplar's whole trace is there.
        let prometheus = stack.prometheus.clone();
        let trace_url = stack.sink.base_url();
        let slowest = wait_for(
            "the slowest payment exemplar's trace, complete",
            Duration::from_secs(45),
            || async {
                let (exit, report) = storectl(&[
                    "exemplars",
                    "--slowest",
                    "1",
                    "--json",
                    "--prometheus-url",
                    &prometheus,
                    "--trace-url",
                    &trace_url,
                ])
                .await;
                let trace = &report["opened"][0]["trace"];
                let complete = exit == Exit::Success
                    && trace["found"] == true
                    && trace["services"].as_array().map_or(0, Vec::len) == 3;
                Ok(complete.then(|| report.clone()))
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

        let opened = &slowest["opened"][0];
        assert!(
            opened["exemplar"]["value"].as_f64().unwrap_or(0.0) * 1000.0 >= INJECTED_MS as f64,
            "{opened:#}"
        );
        let longest = &opened["trace"]["slowest_span"];
        assert_eq!(longest["service"], "payment-gateway", "{opened:#}");
        assert!(
            longest["duration_ms"].as_f64().unwrap_or(0.0) >= INJECTED_MS as f64,
            "{longest:#}"
        );
        assert!(
            longest["self_time_ms"].as_f64().unwrap_or(0.0) >= INJECTED_MS as f64,
            "the time is the gateway's own, not its children's: {longest:#}"
        );
        assert_eq!(longest["critical_path"], true);
        let exemplar_span = opened["trace"]["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["exemplar"] == true))
            .unwrap_or_else(|| panic!("the exemplar's span is in its trace: {opened:#}"));
        assert_eq!(
            (&exemplar_span["service"], &exemplar_span["kind"]),
            (&Value::from("order-service"), &Value::from("client"))
        );

        // A healthy stack: every link passes.
        let (exit, report) = doctor(&stack, &stack.prometheus).await;
        assert_eq!(exit, Exit::Success, "{report:#}");
        assert_eq!(report["healthy"], true, "{report:#}");
        for id in [
            "services",
            "exemplar-storage",
            "targets",
            "query-exemplars",
            "exemplar-trace",
        ] {
            assert_eq!(check(&report, id)["status"], "ok", "{report:#}");
        }

        // The same services scraped by a Prometheus without exemplar storage.
        let address = format!("127.0.0.1:{}", free_port().unwrap());
        let dir = stack.dir.path().join("no-exemplars");
        std::fs::create_dir_all(&dir).unwrap();
        let config = ScrapeConfig {
            interval_secs: 1,
            max_exemplars: None,
            jobs: vec![(
                "webstore".to_owned(),
                [&stack.order, &stack.catalog, &stack.gateway]
                    .iter()
                    .map(|url| url.trim_start_matches("http://").to_owned())
                    .collect(),
            )],
        };
        std::fs::write(dir.join("prometheus.yml"), config.render()).unwrap();
        let launch = Launch::new(PROGRAM, PROGRAM, dir.join("prometheus.log"))
            .args([
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address={address}"),
            ])
            .current_dir(&dir);
        let _plain = start_ready(launch, &Probe::new(address.clone(), READY_PATH))
            .unwrap_or_else(|e| panic!("{e:#}"));

        let (exit, report) = doctor(&stack, &format!("http://{address}")).await;
        assert_eq!(exit, Exit::Failure, "{report:#}");
        assert_eq!(report["broken"], "exemplar-storage", "{report:#}");
        let storage = check(&report, "exemplar-storage");
        assert!(
            storage["fix"]
                .as_str()
                .is_some_and(|fix| fix.contains("--enable-feature=exemplar-storage")),
            "{storage:#}"
        );
        assert_eq!(
            check(&report, "query-exemplars")["status"],
            "skip",
            "what depends on the broken link is not reported as a second failure"
        );
        stack.assert_no_panics();
    }
}
