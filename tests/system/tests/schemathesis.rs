//! Schemathesis (from PyPI) against each service's `/openapi.json`, the services running as real
//! processes with `ADMIN_TOKEN` unset and order-service's rate limits off, authenticated with a
//! valid API key (which is also the gateway's merchant key). Checks `not_a_server_error`, `status_code_conformance`,
//! `content_type_conformance` and `response_schema_conformance`: zero failures. The responses of
//! each run are counted per status (from its HAR report) and printed.
//!
//! Needs schemathesis (`pip install schemathesis`): `needs_schemathesis`, skipped by `cargo xtask
//! test` where it is missing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use devstack::Probe;
use system_tests::{binaries, free_port, launch, start_ready, Scratch};

const API_KEY: &str = "schemathesis-key-1234";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";
/// Test cases per operation and phase: keeps the three runs (in parallel) well under a minute.
const MAX_EXAMPLES: &str = "40";

/// The command that runs schemathesis: `schemathesis` on `PATH`, else `python3 -m schemathesis`.
fn schemathesis_command() -> Option<Vec<String>> {
    [
        vec!["schemathesis".to_owned()],
        vec![
            "python3".to_owned(),
            "-m".to_owned(),
            "schemathesis".to_owned(),
        ],
    ]
    .into_iter()
    .find(|cmd| {
        Command::new(&cmd[0])
            .args(&cmd[1..])
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs schemathesis against `base` in `dir` (where it keeps its cache), writing its HAR report
/// to `har`.
fn run_schemathesis(cmd: &[String], base: &str, har: &Path, dir: &Path) -> Output {
    Command::new(&cmd[0])
        .args(&cmd[1..])
        .current_dir(dir)
        .args([
            "run",
            &format!("{base}/openapi.json"),
            "--url",
            base,
            "--checks",
            CHECKS,
            "--max-examples",
            MAX_EXAMPLES,
            "--request-timeout",
            "10",
            "--header",
            &format!("Authorization: Bearer {API_KEY}"),
            // order-service also accepts the key as X-API-Key; schemathesis may generate its
            // own value for that documented scheme, which would mismatch the bearer key.
            "--header",
            &format!("X-API-Key: {API_KEY}"),
            "--report",
            "har",
            "--report-har-path",
            &har.display().to_string(),
            "--no-color",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("running schemathesis")
}

/// Responses per HTTP status in a HAR file.
fn statuses(har: &Path) -> BTreeMap<u64, u64> {
    let text = std::fs::read_to_string(har)
        .unwrap_or_else(|e| panic!("reading the HAR report {}: {e}", har.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("HAR is JSON");
    let mut counts = BTreeMap::new();
    for entry in doc["log"]["entries"].as_array().expect("HAR log.entries") {
        let status = entry["response"]["status"]
            .as_u64()
            .expect("response.status");
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

mod needs_schemathesis {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: schemathesis"]
    async fn schemathesis_finds_no_failures_in_any_service() {
        test_support::require(test_support::Dependency::Schemathesis);
        let cmd = schemathesis_command().expect("schemathesis, found just above");
        let started = Instant::now();
        let dir = Scratch::new("schemathesis").expect("scratch directory");
        let bin = binaries().expect("target directory");
        let client = reqwest::Client::new();

        let services = ["catalog-service", "payment-gateway", "order-service"];
        let mut urls = BTreeMap::new();
        for service in services {
            let port = free_port().expect("free port");
            urls.insert(service, format!("http://127.0.0.1:{port}"));
        }
        let mut processes = Vec::new();
        for service in services {
            let url = &urls[service];
            let mut env = vec![
                ("BIND_ADDR", url.trim_start_matches("http://").to_owned()),
                (
                    "DATABASE_URL",
                    format!("sqlite://{}/{service}.db?mode=rwc", dir.path().display()),
                ),
                ("OTEL_SDK_DISABLED", "true".to_owned()),
                ("HTTP_WORKERS", "2".to_owned()),
                // Empty is unset: a developer's own ADMIN_TOKEN must not switch the admin API on.
                ("ADMIN_TOKEN", String::new()),
            ];
            match service {
                "order-service" => {
                    env.push(("CATALOG_URL", urls["catalog-service"].clone()));
                    env.push(("PAYMENT_GATEWAY_URL", urls["payment-gateway"].clone()));
                    env.push(("PAYMENT_GATEWAY_API_KEY", API_KEY.to_owned()));
                    env.push(("API_KEYS", format!("schemathesis:{API_KEY}")));
                    env.push(("RATE_LIMIT_CLIENT", "off".to_owned()));
                    env.push(("RATE_LIMIT_GLOBAL", "off".to_owned()));
                }
                // The bearer key schemathesis sends everywhere is also the merchant key.
                "payment-gateway" => {
                    env.push(("GATEWAY_LATENCY_SCALE", "0".to_owned()));
                    env.push(("GATEWAY_API_KEY", API_KEY.to_owned()));
                }
                _ => {}
            }
            let program = bin.get(service).unwrap_or_else(|e| panic!("{e:#}"));
            let process = start_ready(
                launch(service, program, dir.path()).envs(env),
                &Probe::new(url.trim_start_matches("http://"), "/readyz"),
            )
            .unwrap_or_else(|e| panic!("{e:#}"));
            processes.push(process);
        }

        let admin = client
            .get(format!("{}/admin/faults", urls["payment-gateway"]))
            .send()
            .await
            .expect("GET /admin/faults");
        assert_eq!(
            admin.status(),
            404,
            "the admin API is off without ADMIN_TOKEN"
        );

        // The three runs in parallel, each on its own thread.
        let runs: Vec<_> = services
            .iter()
            .map(|service| {
                let cmd = cmd.clone();
                let base = urls[service].clone();
                let work = dir.path().to_path_buf();
                let har = work.join(format!("{service}.har"));
                let service = service.to_string();
                std::thread::spawn(move || {
                    let output = run_schemathesis(&cmd, &base, &har, &work);
                    (service, har, output)
                })
            })
            .collect();
        let mut failures = Vec::new();
        for run in runs {
            let (service, har, output) = run.join().expect("schemathesis thread");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let summary: Vec<&str> = stdout
                .lines()
                .skip_while(|l| !l.contains("SUMMARY"))
                .collect();
            println!("schemathesis {service}:\n{}", summary.join("\n"));
            if !output.status.success() {
                failures.push(format!(
                    "schemathesis against {service} failed ({}):\n{stdout}\n{stderr}",
                    output.status
                ));
                continue;
            }
            let counts = statuses(&har);
            let total: u64 = counts.values().sum();
            let per_status: Vec<String> = counts.iter().map(|(s, n)| format!("{s}: {n}")).collect();
            println!(
                "schemathesis {service}: {total} responses; per status {}",
                per_status.join(", ")
            );
            if total == 0 {
                failures.push(format!("schemathesis sent no request to {service}"));
            }
        }
        for process in &processes {
            let log = process.log_text();
            if log.contains("panicked at") {
                failures.push(format!(
                    "{} panicked:\n{}",
                    process.name(),
                    process.log_tail(60)
                ));
            }
        }
        println!("schemathesis: finished in {:?}", started.elapsed());
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
