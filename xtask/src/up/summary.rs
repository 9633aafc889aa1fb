//! What `up` prints once the stack is ready: every URL, a checkout to paste, where the logs are.

use std::fmt::Write as _;

use crate::stack::{CATALOG, COMPOSE_FILE, GATEWAY, HOST, ORDER, OTLP_SINK};

const PRODUCT_PLACEHOLDER: &str = "<PRODUCT_ID>";

#[derive(Debug)]
pub(super) enum PrometheusStatus {
    Running { port: u16 },
    NotInstalled,
    Failed(String),
}

/// Everything printed once the local stack is ready.
pub(super) struct NativeSummary {
    /// As shown: the development token, or `$ADMIN_TOKEN` when the developer set their own.
    pub(super) admin_token: String,
    pub(super) logs_dir: String,
    pub(super) pids_dir: String,
    pub(super) prometheus: PrometheusStatus,
    pub(super) api_key: String,
    pub(super) product: Result<String, String>,
    pub(super) detach: bool,
}

impl NativeSummary {
    pub(super) fn render(&self) -> String {
        let mut out = String::from("\nThe WebStore stack is up (local processes).\n\n");
        for service in [ORDER, CATALOG, GATEWAY] {
            let url = service.url();
            let _ = writeln!(out, "  {:<19} {url}", service.name);
            let _ = writeln!(out, "  {:<19} {url}/metrics", "");
            let _ = writeln!(out, "  {:<19} {url}/openapi.json", "");
        }
        let sink = OTLP_SINK.url();
        let _ = writeln!(
            out,
            "  {:<19} {sink}/   (OTLP/HTTP receiver: {sink}/v1/traces)",
            "traces (otlp-sink)"
        );
        match &self.prometheus {
            PrometheusStatus::Running { port } => {
                let url = format!("http://{HOST}:{port}");
                let _ = writeln!(out, "  {:<19} {url}   (exemplar storage on)", "prometheus");
                let _ = writeln!(out, "  {:<19} {}", "", exemplar_graph_url(&url));
            }
            PrometheusStatus::NotInstalled => {
                let _ = writeln!(
                    out,
                    "  {:<19} not installed: `apt-get install prometheus` (Debian/Ubuntu) or `brew install prometheus`,\n\
                     {:<22}then run `cargo xtask up` again; /metrics above works without it",
                    "prometheus", ""
                );
            }
            PrometheusStatus::Failed(why) => {
                let _ = writeln!(out, "  {:<19} did not start: {why}", "prometheus");
            }
        }

        out.push_str(&checkout_section(
            &ORDER.url(),
            &self.api_key,
            &self.product,
        ));
        let _ = writeln!(
            out,
            "\nIts distributed trace (use the trace_id from the response):\n  curl -s {sink}/api/traces/<trace_id>\n  \
             or open {sink}/"
        );
        out.push_str(&incident_loop(None));
        let _ = writeln!(
            out,
            "  fault API: curl -H 'Authorization: Bearer {}' {}/admin/faults",
            self.admin_token,
            GATEWAY.url()
        );
        let _ = writeln!(
            out,
            "\nLogs: {}/<name>.log   pids: {}",
            self.logs_dir, self.pids_dir
        );
        if self.detach {
            out.push_str("Running in the background; `cargo xtask down` stops it.\n");
        } else {
            out.push_str(
                "Ctrl-C here stops everything (or `cargo xtask down` from another terminal).\n",
            );
        }
        out
    }
}

/// Everything printed once the compose stack answers.
pub(super) fn compose(api_key: &str, product: &Result<String, String>) -> String {
    let mut out = String::from("\nThe WebStore stack is up (Docker compose).\n\n");
    for (name, url) in [
        ("grafana", "http://localhost:3000"),
        ("prometheus", "http://localhost:9090"),
        ("tempo", "http://localhost:3200"),
    ] {
        let _ = writeln!(out, "  {name:<17} {url}");
    }
    for service in [ORDER, CATALOG, GATEWAY] {
        let url = format!("http://localhost:{}", service.port);
        let _ = writeln!(
            out,
            "  {:<19} {url}   {url}/metrics   {url}/openapi.json",
            service.name
        );
    }
    out.push_str(&checkout_section(&ORDER.url(), api_key, product));
    out.push_str(
        "\nIts distributed trace (use the trace_id from the response): Grafana → Explore → Tempo, or\n  \
         curl -s http://localhost:3200/api/traces/<trace_id>\n",
    );
    out.push_str(&incident_loop(Some("http://localhost:3200")));
    let _ = writeln!(
        out,
        "\nLogs: docker compose -f {COMPOSE_FILE} logs -f   stop: cargo xtask down"
    );
    out
}

/// The next commands: traffic, its exemplars' traces, the chain's health. `tempo` is the trace
/// backend when it is not the dev receiver.
fn incident_loop(tempo: Option<&str>) -> String {
    let trace_url = tempo
        .map(|url| format!(" --trace-url {url}"))
        .unwrap_or_default();
    let mut out = String::from("\nThe incident loop (docs/08_INCIDENTS.md):\n");
    for (command, what) in [
        (
            "cargo xtask traffic".to_owned(),
            "a minute of shoppers; --scenario slow-payments for an incident",
        ),
        (
            format!("cargo xtask exemplars --slowest 3{trace_url}"),
            "the slowest payments' traces as waterfalls",
        ),
        (
            format!("cargo xtask doctor{trace_url}"),
            "the exemplar chain, link by link",
        ),
    ] {
        let _ = writeln!(out, "  {command:<62} # {what}");
    }
    out
}

/// A Prometheus graph URL showing p99 payment latency with its exemplars.
fn exemplar_graph_url(prometheus_url: &str) -> String {
    let query = "histogram_quantile(0.99, sum by (le) (rate(webstore_payment_duration_seconds_bucket[1m])))";
    format!(
        "{prometheus_url}/graph?g0.expr={}&g0.tab=0&g0.range_input=15m&g0.show_exemplars=1",
        percent_encode(query)
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A checkout to paste into a POSIX shell.
fn checkout_curl(order_url: &str, api_key: &str, product_id: &str) -> String {
    let product_json = serde_json::Value::String(product_id.to_owned()).to_string();
    let body = format!(
        r#"{{"country":"US","payment_method":"card","items":[{{"product_id":{product_json},"quantity":1}}]}}"#
    );
    format!(
        "curl -s -X POST {order_url}/api/v1/checkout -H {} -H 'Content-Type: application/json' -d {}",
        shell_quote(&format!("Authorization: Bearer {api_key}")),
        shell_quote(&body)
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The checkout, plus a note when the product id is a placeholder.
fn checkout_section(order_url: &str, api_key: &str, product: &Result<String, String>) -> String {
    let mut out = String::from("\nTry a checkout:\n");
    let id = match product {
        Ok(id) => id.as_str(),
        Err(why) => {
            let _ = writeln!(
                out,
                "  (no product id from the catalog: {why}; replace {PRODUCT_PLACEHOLDER} with an id from\n   \
                 curl -s '{}/api/v1/products?limit=1')",
                CATALOG.url()
            );
            PRODUCT_PLACEHOLDER
        }
    };
    let _ = writeln!(out, "  {}", checkout_curl(order_url, api_key, id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_is_ready_to_paste() {
        assert_eq!(
            checkout_curl("http://127.0.0.1:8080", "demo-key", "0195f0a2-7c1e-7000-8000-000000000001"),
            "curl -s -X POST http://127.0.0.1:8080/api/v1/checkout -H 'Authorization: Bearer demo-key' \
             -H 'Content-Type: application/json' -d '{\"country\":\"US\",\"payment_method\":\"card\",\
             \"items\":[{\"product_id\":\"0195f0a2-7c1e-7000-8000-000000000001\",\"quantity\":1}]}'"
        );
    }

    #[test]
    fn curl_survives_odd_ids() {
        let curl = checkout_curl("http://127.0.0.1:8080", "k'ey", "it's \"quoted\"");
        assert!(curl.contains(r"'Authorization: Bearer k'\''ey'"), "{curl}");
        assert!(
            curl.contains(r#""product_id":"it'\''s \"quoted\"""#),
            "{curl}"
        );
    }

    #[test]
    fn placeholder_when_the_catalog_has_nothing() {
        let section = checkout_section(
            "http://127.0.0.1:8080",
            "demo-key",
            &Err("connection refused".to_owned()),
        );
        assert!(
            section.contains("\"product_id\":\"<PRODUCT_ID>\""),
            "{section}"
        );
        assert!(section.contains("connection refused"));
        assert!(section.contains("curl -s 'http://127.0.0.1:8081/api/v1/products?limit=1'"));
    }

    #[test]
    fn summary_lists_every_url() {
        let summary = NativeSummary {
            admin_token: "dev-admin-token".to_owned(),
            logs_dir: "target/webstore/logs".to_owned(),
            pids_dir: "target/webstore/pids".to_owned(),
            prometheus: PrometheusStatus::Running { port: 9091 },
            api_key: "demo-key".to_owned(),
            product: Ok("p-1".to_owned()),
            detach: false,
        };
        let text = summary.render();
        for port in [8080, 8081, 8082] {
            for path in ["", "/metrics", "/openapi.json"] {
                assert!(
                    text.contains(&format!("http://127.0.0.1:{port}{path}\n")),
                    "{port}{path} in\n{text}"
                );
            }
        }
        assert!(text.contains("http://127.0.0.1:4318/ "));
        assert!(text.contains("curl -s http://127.0.0.1:4318/api/traces/<trace_id>"));
        assert!(text.contains("http://127.0.0.1:9091/graph?g0.expr=histogram_quantile%280.99%2C"));
        assert!(text.contains("\"product_id\":\"p-1\""));
        assert!(text.contains("Ctrl-C"));
        assert!(text.contains("cargo xtask traffic "));
        assert!(text.contains("cargo xtask exemplars --slowest 3 "));
        assert!(text.contains(
            "curl -H 'Authorization: Bearer dev-admin-token' http://127.0.0.1:8082/admin/faults"
        ));

        let missing = NativeSummary {
            prometheus: PrometheusStatus::NotInstalled,
            detach: true,
            ..summary
        };
        let text = missing.render();
        assert!(text.contains("apt-get install prometheus"));
        assert!(text.contains("cargo xtask down"));
    }

    #[test]
    fn compose_summary() {
        let text = compose("demo-key", &Ok("p-1".to_owned()));
        for url in [
            "http://localhost:3000",
            "http://localhost:9090",
            "http://localhost:3200",
            "http://localhost:8082/metrics",
        ] {
            assert!(text.contains(url), "{url} in\n{text}");
        }
        assert!(text.contains("cargo xtask doctor --trace-url http://localhost:3200"));
    }
}
