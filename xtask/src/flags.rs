//! Every `cargo xtask` command and option, documented in one place.
//!
//! The doc comments below are the `--help` text. Each command's behaviour lives in the module of
//! the same name, as `impl flags::<Command> { fn run(self, sh) }`.

use clap::{Args, Parser, Subcommand};

/// Developer workflows for the WebStore workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
pub(crate) struct Xtask {
    #[command(subcommand)]
    pub(crate) subcommand: XtaskCmd,
}

#[derive(Debug, Subcommand)]
pub(crate) enum XtaskCmd {
    Test(Test),
    Up(Up),
    Down(Down),
    Bench(Bench),
    Traffic(Traffic),
    Exemplars(Exemplars),
    Doctor(Doctor),
    Soak(Soak),
    Docs(Docs),
}

/// Run the README's test command: rustfmt, clippy, the one-OpenTelemetry-version check, the
/// structure checks, every test; the last line counts passed, failed and skipped tests.
///
/// Steps, in order, stopping at the first failure:
///   1. probe what the `needs_*` tests need beyond cargo: PostgreSQL (127.0.0.1:5432, or the
///      host in WEBSTORE_TEST_POSTGRES_URL), Redis (127.0.0.1:6379, or WEBSTORE_TEST_REDIS_URL),
///      redis-server, prometheus, promtool, python3's prometheus_client, schemathesis, kubectl
///   2. cargo fmt --all --check
///   3. cargo clippy --workspace --all-targets -- -D warnings
///   4. each of opentelemetry, opentelemetry_sdk, opentelemetry-otlp, opentelemetry-proto,
///      opentelemetry-http and tracing-opentelemetry in exactly one version (`cargo tree`, every
///      feature on, so the bench's tracing-actix-web catalog counts): two copies compile but
///      silently ignore incoming `traceparent`
///   5. no import cycle between the files of any crate
///   6. no dependency in a member's Cargo.toml that its sources never name
///   7. the tests: `cargo nextest run --workspace --run-ignored all` plus `cargo test
///      --workspace --doc` when cargo-nextest is installed, `cargo test --workspace --
///      --include-ignored` otherwise; the tests of a missing dependency are skipped by name
///      (`--skip needs_postgres::`), so the runner reports them as skipped
///
/// Ends with one line, from the runners' own summaries:
///   tests: <n> passed, <n> failed, <n> skipped (<dependency> unavailable: <n>, ...)
///
/// Environment: with CI set (to anything but "", "0" or "false"), or WEBSTORE_REQUIRE_EXTERNAL=1,
/// a missing dependency (kubectl excepted: optional everywhere) fails step 1, before any test
/// runs. CI also sets CARGO_INCREMENTAL=0 and runs the tests with --no-fail-fast.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Test {
    /// Skip rustfmt and clippy (steps 1 and 2).
    #[arg(long)]
    pub(crate) no_lint: bool,

    /// Passed on to the test runner, e.g. a test-name filter: `cargo xtask test -- checkout`.
    /// Doctests are not run separately when any are given.
    #[arg(last = true, value_name = "RUNNER_ARGS")]
    pub(crate) runner_args: Vec<String>,
}

/// Start the whole stack and print every URL.
///
/// With a Docker engine (`docker info` succeeds) and infra/compose.yaml: `docker compose up -d
/// --build`, then Grafana on :3000, Prometheus on :9090, Tempo on :3200, the services on
/// :8080 (order), :8081 (catalog) and :8082 (payment gateway).
///
/// Otherwise, local processes on 127.0.0.1, each ready (GET /readyz answers 200; /healthz for the
/// sink) before the next starts:
///   otlp-sink        :4318  development OTLP/HTTP receiver and trace viewer
///   catalog-service  :8081
///   payment-gateway  :8082  ADMIN_TOKEN=dev-admin-token, GATEWAY_LATENCY_SCALE=1.0,
///                           GATEWAY_API_KEY=dev-gateway-key
///   order-service    :8080  API_KEYS=demo:demo-key, PAYMENT_GATEWAY_API_KEY=dev-gateway-key
///   prometheus       :9090  if installed (next free port if 9090 is taken), exemplar storage on
///
/// Services export traces to the sink over OTLP http/protobuf, log JSON at RUST_LOG=info, and keep
/// SQLite databases in data/. Variables already set in your environment win over these defaults
/// (DATABASE_URL, REDIS_URL, RUST_LOG, ...), except each service's BIND_ADDR and
/// OTEL_SERVICE_NAME. Logs: target/webstore/logs/<name>.log; pids: target/webstore/pids/<name>.pid.
///
/// Stays in the foreground until Ctrl-C, which stops everything in reverse order.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Up {
    /// Build and run the release profile (local processes only).
    #[arg(long)]
    pub(crate) release: bool,

    /// Return once everything is ready and leave it running; `cargo xtask down` stops it.
    #[arg(long)]
    pub(crate) detach: bool,

    /// Run local processes even when a Docker engine is available.
    #[arg(long)]
    pub(crate) native: bool,
}

/// Stop what `cargo xtask up` started.
///
/// Local processes: each pid file in target/webstore/pids gets SIGTERM, then SIGKILL if the
/// process is still there after 10 s; pid files whose process is gone are removed. With a Docker
/// engine and infra/compose.yaml: `docker compose -f infra/compose.yaml down` as well.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Down {}

/// Measure what telemetry costs: exemplar hot path, /metrics encoding, HTTP throughput, memory.
///
/// Builds the release binaries and the telemetry crate's criterion benches (not timed), then:
///   1. micro: alternating rounds of criterion --quick: plain vs exemplar `observe` (inside a
///      sampled span) → exemplar_ratio; `/metrics` at ≈ 2 300 series → metrics_encode_us
///   2. HTTP: three copies of the services on core 0 (taskset): full telemetry at 100 %
///      sampling (OTLP to a local otlp-sink, exemplars), OTEL_SDK_DISABLED=true, and full
///      telemetry with OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1;
///      `wrk` on core 1 against a cached GET /api/v1/products/{id} and POST /api/v1/checkout,
///      GATEWAY_LATENCY_SCALE=0, SQLite files on a tmpfs (/dev/shm) where there is one, in
///      rounds that rotate which copy goes first → catalog_rps_ratio, checkout_rps_ratio (100 %
///      against off), their _sampled twins (10 % against off), p99 ratios, CPU time per request
///      and catalog_us_per_req (CPU µs per catalog read, 100 % minus off); peak RSS from
///      /proc/<pid>/status (VmHWM) → max_rss_mib
///   3. full run only: a 5-minute memory soak (RSS every 10 s; flat or not)
///
/// Prints a table (median and min–max per figure) and, last, one line:
///   bench: exemplar_ratio=<x.xx> metrics_encode_us=<n> catalog_rps_ratio=<0.xx> checkout_rps_ratio=<0.xx> max_rss_mib=<n> catalog_us_per_req=<x.x> catalog_rps_ratio_sampled=<0.xx> checkout_rps_ratio_sampled=<0.xx>
///
/// Needs `wrk` (Debian package `wrk`) and, for pinning, `taskset` (util-linux). Uses ports 14318,
/// 18080-18082, 28080-28082 and 38080-38082 on 127.0.0.1. Logs and criterion data:
/// target/webstore/bench/.
/// Method and recorded figures: docs/BENCHMARKS.md.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Bench {
    /// Five short rounds and no memory soak: under 3 minutes after the build.
    #[arg(long)]
    pub(crate) quick: bool,

    /// Rounds of each alternating comparison (default: 5 with --quick, 7 otherwise).
    #[arg(long, value_name = "N")]
    pub(crate) rounds: Option<usize>,

    /// Only the criterion benches (no services, no wrk).
    #[arg(long)]
    pub(crate) micro_only: bool,
}

/// Generate traffic and incidents against the store: `storectl traffic` (crates/storectl).
///
/// Builds and runs `cargo run -q --release -p storectl -- traffic ARGS…`; every argument,
/// `--help` included, is storectl's. E.g.:
///   cargo xtask traffic                                     # a minute of browse + checkout
///   cargo xtask traffic --scenario slow-payments --duration 60s
///   cargo xtask traffic --help                              # every scenario and option
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, disable_help_flag = true)]
pub(crate) struct Traffic {
    /// Arguments of `storectl traffic`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub(crate) args: Vec<String>,
}

/// From a latency spike to its traces: `storectl exemplars` (crates/storectl).
///
/// Builds and runs `cargo run -q --release -p storectl -- exemplars ARGS…`; every argument,
/// `--help` included, is storectl's. E.g.:
///   cargo xtask exemplars --slowest 3
///   cargo xtask exemplars --label payment_method=card --since 5m --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, disable_help_flag = true)]
pub(crate) struct Exemplars {
    /// Arguments of `storectl exemplars`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub(crate) args: Vec<String>,
}

/// Check the exemplar chain link by link: `storectl doctor` (crates/storectl).
///
/// Builds and runs `cargo run -q --release -p storectl -- doctor ARGS…`; every argument,
/// `--help` included, is storectl's. Exits 1 when a link is broken. E.g.:
///   cargo xtask doctor
///   cargo xtask doctor --trace-url http://localhost:3200     # the compose stack's Tempo
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, disable_help_flag = true)]
pub(crate) struct Doctor {
    /// Arguments of `storectl doctor`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub(crate) args: Vec<String>,
}

/// Run the store through faults under traffic, then check its books: the `soak` binary
/// (crates/soak).
///
/// Builds the services (debug, or --release) and runs them on 127.0.0.1, free ports, with
/// PostgreSQL databases of their own (created, then dropped), a redis-server of their own and the
/// dev OTLP receiver. Mixed browse + checkout traffic (a quarter of the checkouts without
/// Idempotency-Key, keyed ones retried on 5xx or no answer) runs while the fault schedule
/// injects, once per pass (one pass with --quick, else one every 2 minutes):
///   collector (otlp-sink) down and back, Redis restarted, the order database's backends
///   terminated (pg_terminate_backend), gateway latency past PAYMENT_TIMEOUT, gateway errors,
///   gateway timeouts (through /admin/faults), order-service SIGTERMed and restarted, then
///   killed (SIGKILL) and restarted
/// After the traffic, order-service restarts with RECONCILE_INTERVAL=1s and RECONCILE_GRACE=4s
/// and the run waits (20 s with --quick, else 60 s) until no order is pending or
/// payment_unknown. Then it checks, against the databases: every order answered 201 is stored
/// and readable as paid; paid orders and the gateway's succeeded charges match one to one; nothing
/// is left unsettled; every 5xx (or unanswered request) falls in a fault window that may cause
/// one; each service's RSS grows at most 64 MiB after its warm-up; requests were answered while
/// the collector was down; no process panicked.
///
/// Prints a table (fault windows, traffic, checks) and, last, one line:
///   soak: requests=<n> unexplained_5xx=<n> lost_orders=<n> double_charges=<n> orphan_charges=<n> unsettled=<n> rss_growth_mib=<n>
/// Exits 1 when an invariant fails. Needs PostgreSQL and redis-server. Logs:
/// target/webstore/soak/. Figures of a full run: docs/10_RELIABILITY.md.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Soak {
    /// One pass of the fault schedule over 90 s at 12 requests/s: under 3 minutes after the
    /// build.
    #[arg(long)]
    pub(crate) quick: bool,

    /// How long the traffic runs, e.g. `5m` (default: 90s with --quick, 10m otherwise).
    #[arg(long, value_name = "D")]
    pub(crate) duration: Option<String>,

    /// Requests per second (default: 12 with --quick, 20 otherwise).
    #[arg(long, value_name = "N")]
    pub(crate) rps: Option<f64>,

    /// Seed of the request mix (default 1).
    #[arg(long, value_name = "S")]
    pub(crate) seed: Option<u64>,

    /// Build and run the release profile.
    #[arg(long)]
    pub(crate) release: bool,

    /// A PostgreSQL server URL allowed to CREATE DATABASE.
    #[arg(
        long,
        env = "SOAK_POSTGRES_URL",
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        hide_env_values = true
    )]
    pub(crate) postgres_url: String,
}

/// Write the reference pages generated from the code: docs/reference/CONFIGURATION.md (every
/// flag and variable of every service and tool, from their clap definitions) and
/// docs/reference/METRICS.md (every metric the services register, from their registries).
///
/// Runs `cargo run -q -p docgen` (which builds the services as libraries), so the pages follow
/// the code as it is checked out; sorted, no timestamps. `cargo xtask test` fails while the
/// committed pages differ from what this writes.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct Docs {
    /// Write nothing; fail if a committed page differs from what would be written.
    #[arg(long)]
    pub(crate) check: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_are_consistent() {
        Xtask::command().debug_assert();
    }

    #[test]
    fn runner_args_follow_double_dash() {
        let flags = Xtask::try_parse_from([
            "cargo xtask",
            "test",
            "--no-lint",
            "--",
            "checkout",
            "--no-capture",
        ])
        .unwrap();
        let XtaskCmd::Test(test) = flags.subcommand else {
            panic!("expected test")
        };
        assert!(test.no_lint);
        assert_eq!(test.runner_args, ["checkout", "--no-capture"]);
    }

    #[test]
    fn bench_flags() {
        let flags =
            Xtask::try_parse_from(["cargo xtask", "bench", "--quick", "--rounds", "6"]).unwrap();
        let XtaskCmd::Bench(bench) = flags.subcommand else {
            panic!("expected bench")
        };
        assert!(bench.quick && !bench.micro_only);
        assert_eq!(bench.rounds, Some(6));
    }

    #[test]
    fn storectl_commands_pass_every_argument_through() {
        let flags = Xtask::try_parse_from([
            "cargo xtask",
            "traffic",
            "--scenario",
            "slow-payments",
            "--help",
        ])
        .unwrap();
        let XtaskCmd::Traffic(traffic) = flags.subcommand else {
            panic!("expected traffic")
        };
        assert_eq!(traffic.args, ["--scenario", "slow-payments", "--help"]);

        let flags = Xtask::try_parse_from(["cargo xtask", "doctor"]).unwrap();
        let XtaskCmd::Doctor(doctor) = flags.subcommand else {
            panic!("expected doctor")
        };
        assert!(doctor.args.is_empty());

        let flags = Xtask::try_parse_from(["cargo xtask", "exemplars", "-l", "a=b"]).unwrap();
        let XtaskCmd::Exemplars(exemplars) = flags.subcommand else {
            panic!("expected exemplars")
        };
        assert_eq!(exemplars.args, ["-l", "a=b"]);
    }

    #[test]
    fn soak_flags() {
        let flags = Xtask::try_parse_from([
            "cargo xtask",
            "soak",
            "--quick",
            "--duration",
            "2m",
            "--rps",
            "5",
            "--seed",
            "7",
        ])
        .unwrap();
        let XtaskCmd::Soak(soak) = flags.subcommand else {
            panic!("expected soak")
        };
        assert!(soak.quick && !soak.release);
        assert_eq!(soak.duration.as_deref(), Some("2m"));
        assert_eq!((soak.rps, soak.seed), (Some(5.0), Some(7)));
    }

    #[test]
    fn docs_flags() {
        let flags = Xtask::try_parse_from(["cargo xtask", "docs", "--check"]).unwrap();
        let XtaskCmd::Docs(docs) = flags.subcommand else {
            panic!("expected docs")
        };
        assert!(docs.check);
    }

    #[test]
    fn up_flags() {
        let flags = Xtask::try_parse_from(["cargo xtask", "up", "--release", "--detach"]).unwrap();
        let XtaskCmd::Up(up) = flags.subcommand else {
            panic!("expected up")
        };
        assert!(up.release && up.detach && !up.native);
    }
}
