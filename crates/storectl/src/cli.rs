//! Every command and option, documented in one place; the doc comments are the `--help` text.
//!
//! Defaults point at `cargo xtask up`'s local stack (and the compose stack, which publishes the
//! same ports on localhost); every URL can be changed to reach another deployment.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use reqwest::Url;

use crate::http::parse_base_url;
use crate::prometheus::LabelFilter;
use crate::traffic::{Scenario, TrafficConfig};

/// The WebStore incident loop from a terminal: generate traffic and incidents, open the
/// exemplars of a latency spike as trace waterfalls, and check the exemplar chain link by link.
#[derive(Debug, Parser)]
#[command(name = "storectl", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line (the program name first), for callers without clap in scope.
    pub fn from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Traffic(TrafficArgs),
    Exemplars(ExemplarsArgs),
    Doctor(DoctorArgs),
}

/// Where the three services answer.
#[derive(Clone, Debug, Args)]
pub struct StoreUrls {
    /// order-service base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080", value_parser = parse_base_url)]
    pub order_url: Url,

    /// catalog-service base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8081", value_parser = parse_base_url)]
    pub catalog_url: Url,

    /// payment-gateway base URL (its `/admin/faults` drives the incident scenarios).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8082", value_parser = parse_base_url)]
    pub gateway_url: Url,
}

/// Where Prometheus and the trace backend answer.
#[derive(Clone, Debug, Args)]
pub struct BackendUrls {
    /// Prometheus base URL (started with --enable-feature=exemplar-storage).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9090", value_parser = parse_base_url)]
    pub prometheus_url: Url,

    /// Trace backend base URL: the dev receiver of `cargo xtask up` (default), or Tempo's HTTP
    /// port (`http://localhost:3200` on the compose stack). Both answer /api/v2/traces/{id} and
    /// /api/traces/{id}.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4318", value_parser = parse_base_url)]
    pub trace_url: Url,
}

/// Generate traffic against the store, optionally with an incident, and summarise it.
///
/// Scenarios (each drives the store's real inputs: request mixes, and the payment gateway's
/// `PUT /admin/faults`; faults it changed are put back when it ends, fails or is interrupted):
///   normal          browse + checkout mix: several countries, methods and basket sizes
///   slow-payments   gateway latency +--latency (6 s) on every charge, checkouts from US by card:
///                   payment p95 crosses the 5 s PaymentLatencyP95High line
///   payment-errors  30 % of charges fail (503): checkouts answer 502, CheckoutErrorRatioHigh
///   declines        60 % of charges declined: 402s, PaymentDeclineRatioHigh, repeated_declines
///   bulk-quantity   a third of the baskets hold 150+ units: the bulk_quantity rule flags them
///   card-testing    many small card orders (at most 5 USD): the card_testing rule flags them
///   flood           order lookups far past the per-client limit: 429s with RateLimit headers
///   catalog-outage  the store has no switch for it: prints how to pause the catalog by hand,
///                   then runs the normal mix so the outage shows in the summary
///
/// Bounded: it stops after --duration (and --requests, if given) on its own. Only the URLs given
/// (loopback by default) are contacted. The summary's order outcomes, 429s and suspicious flags
/// are deltas of order-service's /metrics over the run (other clients' requests included).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TrafficArgs {
    /// What to run (see above).
    #[arg(long, value_enum, default_value_t = Scenario::Normal)]
    pub scenario: Scenario,

    /// Requests per second to aim for (default: the scenario's; normal is 8).
    #[arg(long, value_parser = parse_rps)]
    pub rps: Option<f64>,

    /// How long to run, e.g. 60s, 5m (at most 1h).
    #[arg(long, default_value = "60s", value_parser = parse_run_duration)]
    pub duration: Duration,

    /// Requests in flight at most (default: the scenario's).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: Option<u16>,

    /// Stop after this many requests, if that comes before --duration.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,

    /// Extra latency slow-payments injects into every charge (above 5 s crosses the alert line;
    /// order-service gives up at PAYMENT_TIMEOUT, 10 s by default).
    #[arg(long, default_value = "6s", value_parser = parse_latency)]
    pub latency: Duration,

    #[command(flatten)]
    pub urls: StoreUrls,

    /// API key for order-service (one of its API_KEYS).
    #[arg(
        long,
        env = "WEBSTORE_API_KEY",
        default_value = "demo-key",
        hide_env_values = true
    )]
    pub api_key: String,

    /// The payment gateway's ADMIN_TOKEN, for the fault API (`cargo xtask up` and the compose
    /// stack use dev-admin-token).
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        default_value = "dev-admin-token",
        hide_env_values = true
    )]
    pub admin_token: String,

    /// Seed of the request mix: the same seed gives the same sequence of requests.
    /// Default: a random one, printed in the summary.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Print the summary as JSON on stdout (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

impl TrafficArgs {
    /// The run these options ask for: the scenario's plan with --rps and --concurrency over its
    /// defaults, and a random seed if none is given.
    pub fn config(&self) -> TrafficConfig {
        let mut plan = self.scenario.plan(self.latency);
        if let Some(rps) = self.rps {
            plan.rps = rps;
        }
        if let Some(concurrency) = self.concurrency {
            plan.concurrency = usize::from(concurrency);
        }
        TrafficConfig {
            plan,
            duration: self.duration,
            max_requests: self.requests,
            seed: self.seed.unwrap_or_else(rand::random),
            order: self.urls.order_url.clone(),
            catalog: self.urls.catalog_url.clone(),
            gateway: self.urls.gateway_url.clone(),
            api_key: self.api_key.clone(),
            admin_token: self.admin_token.clone(),
            show_progress: !self.json,
            client: crate::traffic::ClientPolicy::default(),
        }
    }
}

/// From a latency spike to its traces: the slowest exemplars of a metric, each trace as a
/// waterfall.
///
/// Asks Prometheus for the exemplars of the metric's series (/api/v1/query_exemplars), keeps
/// the N slowest (one per trace), fetches each trace from the trace backend (Tempo's
/// /api/v2/traces/{id}, then /api/traces/{id}), and prints its waterfall: service, span, start
/// offset, duration, self time, a bar, status and key attributes, with `*` on the critical path
/// and `<= exemplar` on the exemplar's span; then the span holding the most time and the
/// Grafana Explore link for the trace.
///
/// Exemplar trace ids may be labelled `trace_id` (these services) or `traceID` (Tempo's
/// metrics-generator, leading zeros trimmed); both are read. A trace the backend does not hold
/// is reported with the likely reasons, not as a failure.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExemplarsArgs {
    /// The metric: a histogram name (its _bucket series are queried) or a full series name.
    #[arg(long, default_value = "webstore_payment_duration_seconds")]
    pub metric: String,

    /// How far back to look, e.g. 15m, 1h.
    #[arg(long, default_value = "15m", value_parser = parse_since)]
    pub since: Duration,

    /// Only series matching this label filter: name=value, name!=value, name=~regex,
    /// name!~regex (repeatable), e.g. --label payment_method=card.
    #[arg(long = "label", short = 'l', value_name = "FILTER", value_parser = LabelFilter::parse)]
    pub labels: Vec<LabelFilter>,

    /// How many exemplars to open, slowest first (one per trace).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=50))]
    pub slowest: u16,

    #[command(flatten)]
    pub backends: BackendUrls,

    /// Grafana base URL for the Explore links.
    #[arg(long, value_name = "URL", default_value = "http://localhost:3000", value_parser = parse_base_url)]
    pub grafana_url: Url,

    /// uid of Grafana's Tempo data source (infra/grafana/provisioning: tempo).
    #[arg(long, value_name = "UID", default_value = "tempo")]
    pub grafana_tempo_uid: String,

    /// Print the exemplars and their traces as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Check the exemplar chain link by link and name the broken one.
///
/// Links, in order (a link whose prerequisite is broken is skipped, so the first failure is the
/// one to fix):
///   1. services: /metrics answers OpenMetrics (what Prometheus asks for) with exemplars
///   2. prometheus: reachable
///   3. exemplar-storage: --enable-feature=exemplar-storage, max_exemplars not 0
///   4. targets: each service is a scrape target, up, without scrape errors
///   5. query-exemplars: /api/v1/query_exemplars returns exemplars of --metric
///   6. trace-backend: the backend answers /api/traces/{id}
///   7. exemplar-trace: the newest exemplar's trace is in the backend
///   8. sampler: OTEL_SDK_DISABLED / OTEL_TRACES_SAMPLER(_ARG) do not starve exemplars
///   9. grafana: the Prometheus data source links the exemplar label to a Tempo data source
///
/// The services do not report their sampler, so link 8 reads --sampler / --sampler-arg when
/// given (and then nothing else), or else this shell's OTEL_SDK_DISABLED and
/// OTEL_TRACES_SAMPLER(_ARG) (what `cargo xtask up` passes on when started from it), and says
/// which it read. Exit status 1 when a link is broken.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub urls: StoreUrls,

    #[command(flatten)]
    pub backends: BackendUrls,

    /// The metric whose exemplars must arrive.
    #[arg(long, default_value = "webstore_payment_duration_seconds")]
    pub metric: String,

    /// How far back to look for exemplars.
    #[arg(long, default_value = "15m", value_parser = parse_since)]
    pub since: Duration,

    /// The services' OTEL_TRACES_SAMPLER; when given, this shell's OTEL_* variables are not read.
    #[arg(long)]
    pub sampler: Option<String>,

    /// The services' OTEL_TRACES_SAMPLER_ARG (with --sampler).
    #[arg(long, requires = "sampler")]
    pub sampler_arg: Option<String>,

    /// Grafana's data-source provisioning file to check.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "infra/grafana/provisioning/datasources/datasources.yaml"
    )]
    pub grafana_datasources: std::path::PathBuf,

    /// Print the checks as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

const MAX_RUN: Duration = Duration::from_secs(3600);

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 30s, 5m or 1h: {e}"))
}

fn parse_run_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() || d > MAX_RUN {
        return Err(format!("{text}: must be above zero and at most 1h"));
    }
    Ok(d)
}

fn parse_since(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!("{text}: must be above zero"));
    }
    Ok(d)
}

fn parse_latency(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    // The gateway refuses more than ten minutes (MAX_LATENCY_MS).
    if d > Duration::from_secs(600) {
        return Err(format!("{text}: the gateway accepts at most 10m"));
    }
    Ok(d)
}

fn parse_rps(text: &str) -> Result<f64, String> {
    let rps: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.1..=2000.0).contains(&rps) {
        return Err(format!("{text}: between 0.1 and 2000 requests per second"));
    }
    Ok(rps)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn traffic_defaults_and_bounds() {
        let cli =
            Cli::try_parse_from(["storectl", "traffic", "--scenario", "slow-payments"]).unwrap();
        let Command::Traffic(args) = cli.command else {
            panic!("traffic")
        };
        assert_eq!(args.scenario, Scenario::SlowPayments);
        assert_eq!(args.duration, Duration::from_secs(60));
        assert_eq!(args.latency, Duration::from_secs(6));
        assert_eq!(args.urls.gateway_url.as_str(), "http://127.0.0.1:8082/");
        let config = args.config();
        assert_eq!(config.plan.rps, 5.0, "the scenario's default");
        assert!(config.show_progress);
        let cli = Cli::try_parse_from([
            "storectl",
            "traffic",
            "--rps",
            "2.5",
            "--concurrency",
            "3",
            "--seed",
            "9",
            "--json",
        ])
        .unwrap();
        let Command::Traffic(args) = cli.command else {
            panic!("traffic")
        };
        let config = args.config();
        assert_eq!(
            (config.plan.rps, config.plan.concurrency, config.seed),
            (2.5, 3, 9)
        );
        assert!(!config.show_progress);
        for bad in [
            &["--duration", "2h"][..],
            &["--duration", "0s"],
            &["--rps", "0"],
            &["--concurrency", "0"],
            &["--order-url", "https://x"],
            &["--scenario", "meltdown"],
        ] {
            let args = ["storectl", "traffic"].iter().chain(bad).copied();
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn exemplars_filters() {
        let cli = Cli::try_parse_from([
            "storectl",
            "exemplars",
            "-l",
            "payment_method=card",
            "--label",
            "country!=US",
            "--slowest",
            "1",
            "--json",
        ])
        .unwrap();
        let Command::Exemplars(args) = cli.command else {
            panic!("exemplars")
        };
        assert_eq!(args.labels.len(), 2);
        assert_eq!(args.slowest, 1);
        assert_eq!(args.since, Duration::from_secs(900));
        assert!(args.json);
    }
}
