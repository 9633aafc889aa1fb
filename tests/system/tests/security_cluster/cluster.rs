//! The harness of `security_cluster.rs`: the cluster of processes, its requests and the
//! assertions its tests share.

use std::collections::BTreeMap;
use std::time::Duration;

use devstack::services::{CATALOG, GATEWAY, ORDER};
use devstack::{Binaries, Probe};
use futures_util::future::join_all;
use serde_json::{json, Value};
use system_tests::{binaries, free_port, launch, start_ready, Process, Scratch};
use test_support::OtlpSink;

pub(crate) const ADMIN_TOKEN: &str = "cluster-admin-token-9c1d4e";
/// The merchant key the gateway requires and both order-services send.
pub(crate) const GATEWAY_API_KEY: &str = "cluster-merchant-key-5e8b0a";
/// Customers `c0`…`c15`; the key of `cN` is `key(N)`.
pub(crate) const CUSTOMERS: usize = 16;
pub(crate) const PAYMENT_TIMEOUT: &str = "1s";
/// A well-formed order id that does not exist: a cheap request that counts against limits.
pub(crate) const NO_ORDER: &str = "00000000-0000-7000-8000-000000000000";

pub(crate) fn key(n: usize) -> String {
    format!("cluster-key-{n}-7f3a2b")
}

pub(crate) fn api_keys() -> String {
    (0..CUSTOMERS)
        .map(|n| format!("c{n}:{}", key(n)))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) struct Cluster {
    pub(crate) client: reqwest::Client,
    pub(crate) catalog: String,
    pub(crate) gateway: String,
    /// The two order-service base URLs.
    pub(crate) orders: [String; 2],
    pub(crate) product: String,
    pub(crate) processes: Vec<Process>,
    pub(crate) sink: OtlpSink,
    // Last: removed after the processes have stopped.
    pub(crate) _dir: Scratch,
}

impl Cluster {
    /// Catalog and gateway, then two order-services on `database_url` and `redis_url` with
    /// `limits` = (RATE_LIMIT_CLIENT, RATE_LIMIT_GLOBAL).
    pub(crate) async fn start(
        name: &str,
        database_url: &str,
        redis_url: &str,
        limits: (&str, &str),
    ) -> anyhow::Result<Self> {
        let dir = Scratch::new(&format!("security-{name}"))?;
        let bin = binaries()?;
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse()?)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let common = |service: &str, port: u16| {
            vec![
                ("BIND_ADDR", format!("127.0.0.1:{port}")),
                ("OTEL_SERVICE_NAME", service.to_owned()),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base_url()),
                ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned()),
                ("HTTP_WORKERS", "2".to_owned()),
                ("LOG_FORMAT", "json".to_owned()),
                ("RUST_LOG", "info".to_owned()),
            ]
        };
        let mut processes = Vec::new();

        let catalog_port = free_port()?;
        let mut env = common(CATALOG, catalog_port);
        env.push((
            "DATABASE_URL",
            format!("sqlite://{}/catalog.db?mode=rwc", dir.path().display()),
        ));
        let catalog = format!("http://127.0.0.1:{catalog_port}");
        processes.push(start_service(
            &bin,
            CATALOG,
            CATALOG,
            &env,
            &dir,
            catalog_port,
        )?);

        let gateway_port = free_port()?;
        let mut env = common(GATEWAY, gateway_port);
        env.push((
            "DATABASE_URL",
            format!("sqlite://{}/gateway.db?mode=rwc", dir.path().display()),
        ));
        env.push(("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()));
        env.push(("GATEWAY_API_KEY", GATEWAY_API_KEY.to_owned()));
        env.push(("GATEWAY_LATENCY_SCALE", "0.01".to_owned()));
        let gateway = format!("http://127.0.0.1:{gateway_port}");
        processes.push(start_service(
            &bin,
            GATEWAY,
            GATEWAY,
            &env,
            &dir,
            gateway_port,
        )?);

        let prefix = format!("e2e-{name}-{}", std::process::id());
        let mut orders = Vec::new();
        // One after the other: both run the migrations, and the first must finish them.
        for i in 0..2 {
            let port = free_port()?;
            let mut env = common(ORDER, port);
            env.extend([
                ("DATABASE_URL", database_url.to_owned()),
                ("REDIS_URL", redis_url.to_owned()),
                ("RATE_LIMIT_KEY_PREFIX", prefix.clone()),
                // A loaded CI machine must not turn a slow Redis answer into a fallback decision.
                ("RATE_LIMIT_REDIS_TIMEOUT", "2s".to_owned()),
                ("RATE_LIMIT_CLIENT", limits.0.to_owned()),
                ("RATE_LIMIT_GLOBAL", limits.1.to_owned()),
                ("API_KEYS", api_keys()),
                ("CATALOG_URL", catalog.clone()),
                ("PAYMENT_GATEWAY_URL", gateway.clone()),
                ("PAYMENT_GATEWAY_API_KEY", GATEWAY_API_KEY.to_owned()),
                ("PAYMENT_TIMEOUT", PAYMENT_TIMEOUT.to_owned()),
            ]);
            let name = format!("{ORDER}-{i}");
            processes.push(start_service(&bin, &name, ORDER, &env, &dir, port)?);
            orders.push(format!("http://127.0.0.1:{port}"));
        }

        // Deterministic outcomes: no random declines or errors.
        let faults = client
            .put(format!("{gateway}/admin/faults"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"decline_rate": 0.0, "error_rate": 0.0, "timeout_rate": 0.0}))
            .send()
            .await?;
        anyhow::ensure!(
            faults.status().is_success(),
            "setting gateway faults: {}",
            faults.status()
        );

        let products: Value = client
            .get(format!("{catalog}/api/v1/products?limit=5"))
            .send()
            .await?
            .json()
            .await?;
        let product = products["items"][0]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no product in {products}"))?
            .to_owned();
        let [a, b]: [String; 2] = orders
            .try_into()
            .map_err(|_| anyhow::anyhow!("two order services"))?;
        Ok(Self {
            client,
            catalog,
            gateway,
            orders: [a, b],
            product,
            processes,
            sink,
            _dir: dir,
        })
    }

    pub(crate) fn basket(&self, quantity: u32) -> Value {
        json!({"country": "US", "payment_method": "card",
               "items": [{"product_id": self.product, "quantity": quantity}]})
    }

    pub(crate) async fn checkout(
        &self,
        process: usize,
        customer: usize,
        idempotency_key: Option<&str>,
        body: &Value,
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/api/v1/checkout", self.orders[process]))
            .bearer_auth(key(customer))
            .json(body);
        if let Some(k) = idempotency_key {
            request = request.header("Idempotency-Key", k);
        }
        Answer::of(request.send().await).await
    }

    pub(crate) async fn get_order(&self, process: usize, customer: usize, id: &str) -> Answer {
        let request = self
            .client
            .get(format!("{}/api/v1/orders/{id}", self.orders[process]))
            .bearer_auth(key(customer));
        Answer::of(request.send().await).await
    }

    pub(crate) async fn metrics(&self, base: &str) -> String {
        match self.client.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum over both order services of every sample whose line starts with `prefix`.
    pub(crate) async fn order_metric(&self, prefix: &str) -> f64 {
        let mut total = 0.0;
        for base in &self.orders {
            total += metric_sum(&self.metrics(base).await, prefix);
        }
        total
    }

    /// Charges the gateway has made (replays of a stored charge are not charges).
    pub(crate) async fn charges_made(&self) -> f64 {
        metric_sum(
            &self.metrics(&self.gateway).await,
            "webstore_gateway_charges_total{",
        )
    }

    pub(crate) async fn set_gateway_timeouts(&self, rate: f64) {
        let response = self
            .client
            .put(format!("{}/admin/faults", self.gateway))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"timeout_rate": rate}))
            .send()
            .await
            .expect("set the gateway faults");
        assert!(response.status().is_success(), "{}", response.status());
    }

    pub(crate) fn process(&self, name: &str) -> &Process {
        self.processes
            .iter()
            .find(|p| p.name() == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Waits until every service has exported every span that ended before now: a request
    /// sent now to each ends after all of them, and one batch processor exports spans in the
    /// order they ended, so once its span is in the sink, so are theirs.
    pub(crate) async fn flush_spans(&self) {
        let bases = [
            &self.catalog,
            &self.gateway,
            &self.orders[0],
            &self.orders[1],
        ];
        for base in bases {
            let marker = test_support::TestTrace::random(true);
            let response = self
                .client
                .get(format!("{base}/healthz"))
                .header("traceparent", marker.traceparent())
                .send()
                .await
                .expect("the service answers /healthz");
            assert!(response.status().is_success(), "{base}/healthz");
            let spans = self
                .sink
                .store
                .wait_for_trace(
                    &marker.trace_id,
                    |spans| spans.iter().any(|s| s.kind == "server"),
                    Duration::from_secs(10),
                )
                .await;
            assert!(
                !spans.is_empty(),
                "{base} exported nothing within 10 s of its last request"
            );
        }
    }

    /// After the test: no secret in any log line or exported span (after every span was
    /// exported), and nothing panicked.
    pub(crate) async fn assert_no_secrets_and_no_panics(&self) {
        self.flush_spans().await;
        let mut secrets: Vec<String> = (0..CUSTOMERS).map(key).collect();
        secrets.push(ADMIN_TOKEN.to_owned());
        secrets.push(GATEWAY_API_KEY.to_owned());
        for p in &self.processes {
            let log = p.log_text();
            assert!(
                !log.is_empty() || p.name() == "redis",
                "{} wrote no log",
                p.name()
            );
            assert!(
                !log.contains("panicked at"),
                "{} panicked:\n{}",
                p.name(),
                p.log_tail(40)
            );
            for secret in &secrets {
                assert!(
                    !log.contains(secret.as_str()),
                    "{} logged a secret ({}…)",
                    p.name(),
                    &secret[..8]
                );
            }
        }
        let spans = self.sink.store.all_spans();
        assert!(!spans.is_empty(), "spans were exported");
        for span in &spans {
            let text = serde_json::to_string(span).unwrap_or_default();
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "span {} of {} holds a secret ({}…)",
                    span.name,
                    span.service_name,
                    &secret[..8]
                );
            }
        }
        eprintln!(
            "secrets: {} log files and {} spans checked; no API key or admin token, no panic",
            self.processes.len(),
            spans.len()
        );
    }
}

/// `program` as the process `name`, listening on `port`, ready on `/readyz`.
pub(crate) fn start_service(
    bin: &Binaries,
    name: &str,
    program: &str,
    env: &[(&str, String)],
    dir: &Scratch,
    port: u16,
) -> anyhow::Result<Process> {
    let launch = launch(name, bin.get(program)?, dir.path()).envs(env.iter().cloned());
    start_ready(launch, &Probe::new(format!("127.0.0.1:{port}"), "/readyz"))
}

/// One answer, read completely.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) async fn of(result: reqwest::Result<reqwest::Response>) -> Self {
        let response = result.expect("the order service answers");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let text = response.text().await.unwrap_or_default();
        Self {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub(crate) fn problem_type(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.rsplit('/').next())
            .unwrap_or_default()
    }
}

pub(crate) fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| {
            l.split(" # ")
                .next()?
                .rsplit(' ')
                .next()?
                .parse::<f64>()
                .ok()
        })
        .sum()
}

pub(crate) fn histogram(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a.status).or_default() += 1;
    }
    counts
}

/// A fresh Postgres database and the Redis URL (the test fails if either is missing).
pub(crate) async fn externals() -> (String, String) {
    let redis = test_support::redis_url();
    let database = test_support::postgres_database().await;
    (database, redis)
}

pub(crate) fn start_failed(e: anyhow::Error) -> ! {
    panic!("starting the cluster: {e:#}")
}

/// `n` parallel cheap requests as `customers` (round-robin) over both processes, and how
/// long they took.
pub(crate) async fn burst(
    cluster: &Cluster,
    n: usize,
    customers: &[usize],
) -> (Vec<Answer>, Duration) {
    let started = std::time::Instant::now();
    let answers = join_all(
        (0..n).map(|i| cluster.get_order(i % 2, customers[i % customers.len()], NO_ORDER)),
    )
    .await;
    (answers, started.elapsed())
}

/// The most a GCRA limit of `quota`/s can let through in `elapsed`: one burst plus what
/// refills meanwhile (and one for the request in flight at the edge).
pub(crate) fn most(quota: u32, elapsed: Duration) -> usize {
    quota as usize + (elapsed.as_secs_f64() * f64::from(quota)).ceil() as usize + 1
}

pub(crate) fn passed(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.status == 404).count()
}

/// A `redis-server` of the test's own on `port`, accepting connections.
pub(crate) fn start_redis(dir: &std::path::Path, port: u16) -> Process {
    let redis = launch("redis", "redis-server", dir)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .start()
        .expect("start redis-server");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server did not start:\n{}",
            redis.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    redis
}

pub(crate) fn assert_refusal(answer: &Answer, tier: &str, quota: u32) {
    assert_eq!(answer.status, 429);
    assert_eq!(answer.problem_type(), "rate-limited");
    assert_eq!(answer.body["tier"], tier);
    assert_eq!(
        answer.header("ratelimit-policy"),
        Some(format!("\"{tier}\";q={quota};w=1").as_str())
    );
    let limit = answer.header("ratelimit").unwrap_or_default();
    assert!(limit.starts_with(&format!("\"{tier}\";r=0;t=")), "{limit}");
    let retry: u64 = answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
}
