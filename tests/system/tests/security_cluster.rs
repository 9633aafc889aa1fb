//! The security layers across replicas: two order-service *processes* sharing one Postgres
//! database and one Redis, with the real catalog and payment gateway behind them.
//!
//! - 50 parallel checkouts with one `Idempotency-Key`, spread over both processes → exactly
//!   one order and one charge;
//! - a gateway timeout (504, `payment_unknown`), then a retry with the same key on the other
//!   process → the same order, paid, and still one charge;
//! - two customers using the same key string do not see each other's orders;
//! - rate limits shared through Redis: a burst over the client limit is refused with the
//!   draft-10 headers while another client is unaffected; the global tier trips under a flood;
//! - a Redis started for the test and stopped mid-test → checkout keeps answering and the
//!   limits fall back to each process, as `docs/07_SECURITY.md` documents; started again on
//!   the same port → both processes return to it by themselves and share the limits again;
//! - afterwards no API key or admin token appears in any process's log or any exported span,
//!   and nothing panicked.
//!
//! Needs PostgreSQL and Redis (`needs_postgres::needs_redis`; the outage test starts its own
//! `redis-server`), and the service binaries (`cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::time::Duration;

use devstack::services::{CATALOG, GATEWAY, ORDER};
use devstack::{Binaries, Probe};
use futures_util::future::join_all;
use serde_json::{json, Value};
use system_tests::{binaries, free_port, launch, start_ready, Process, Scratch};
use test_support::OtlpSink;

const ADMIN_TOKEN: &str = "cluster-admin-token-9c1d4e";
/// The merchant key the gateway requires and both order-services send.
const GATEWAY_API_KEY: &str = "cluster-merchant-key-5e8b0a";
/// Customers `c0`…`c15`; the key of `cN` is `key(N)`.
const CUSTOMERS: usize = 16;
const PAYMENT_TIMEOUT: &str = "1s";
/// A well-formed order id that does not exist: a cheap request that counts against limits.
const NO_ORDER: &str = "00000000-0000-7000-8000-000000000000";

fn key(n: usize) -> String {
    format!("cluster-key-{n}-7f3a2b")
}

fn api_keys() -> String {
    (0..CUSTOMERS)
        .map(|n| format!("c{n}:{}", key(n)))
        .collect::<Vec<_>>()
        .join(",")
}

struct Cluster {
    client: reqwest::Client,
    catalog: String,
    gateway: String,
    /// The two order-service base URLs.
    orders: [String; 2],
    product: String,
    processes: Vec<Process>,
    sink: OtlpSink,
    // Last: removed after the processes have stopped.
    _dir: Scratch,
}

impl Cluster {
    /// Catalog and gateway, then two order-services on `database_url` and `redis_url` with
    /// `limits` = (RATE_LIMIT_CLIENT, RATE_LIMIT_GLOBAL).
    async fn start(
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

    fn basket(&self, quantity: u32) -> Value {
        json!({"country": "US", "payment_method": "card",
               "items": [{"product_id": self.product, "quantity": quantity}]})
    }

    async fn checkout(
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

    async fn get_order(&self, process: usize, customer: usize, id: &str) -> Answer {
        let request = self
            .client
            .get(format!("{}/api/v1/orders/{id}", self.orders[process]))
            .bearer_auth(key(customer));
        Answer::of(request.send().await).await
    }

    async fn metrics(&self, base: &str) -> String {
        match self.client.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum over both order services of every sample whose line starts with `prefix`.
    async fn order_metric(&self, prefix: &str) -> f64 {
        let mut total = 0.0;
        for base in &self.orders {
            total += metric_sum(&self.metrics(base).await, prefix);
        }
        total
    }

    /// Charges the gateway has made (replays of a stored charge are not charges).
    async fn charges_made(&self) -> f64 {
        metric_sum(
            &self.metrics(&self.gateway).await,
            "webstore_gateway_charges_total{",
        )
    }

    async fn set_gateway_timeouts(&self, rate: f64) {
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

    fn process(&self, name: &str) -> &Process {
        self.processes
            .iter()
            .find(|p| p.name() == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Waits until every service has exported every span that ended before now: a request
    /// sent now to each ends after all of them, and one batch processor exports spans in the
    /// order they ended, so once its span is in the sink, so are theirs.
    async fn flush_spans(&self) {
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
    async fn assert_no_secrets_and_no_panics(&self) {
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
fn start_service(
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
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Answer {
    async fn of(result: reqwest::Result<reqwest::Response>) -> Self {
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

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn problem_type(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|t| t.rsplit('/').next())
            .unwrap_or_default()
    }
}

fn metric_sum(text: &str, prefix: &str) -> f64 {
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

fn histogram(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a.status).or_default() += 1;
    }
    counts
}

/// A fresh Postgres database and the Redis URL (the test fails if either is missing).
async fn externals() -> (String, String) {
    let redis = test_support::redis_url();
    let database = test_support::postgres_database().await;
    (database, redis)
}

fn start_failed(e: anyhow::Error) -> ! {
    panic!("starting the cluster: {e:#}")
}

/// `n` parallel cheap requests as `customers` (round-robin) over both processes, and how
/// long they took.
async fn burst(cluster: &Cluster, n: usize, customers: &[usize]) -> (Vec<Answer>, Duration) {
    let started = std::time::Instant::now();
    let answers = join_all(
        (0..n).map(|i| cluster.get_order(i % 2, customers[i % customers.len()], NO_ORDER)),
    )
    .await;
    (answers, started.elapsed())
}

/// The most a GCRA limit of `quota`/s can let through in `elapsed`: one burst plus what
/// refills meanwhile (and one for the request in flight at the edge).
fn most(quota: u32, elapsed: Duration) -> usize {
    quota as usize + (elapsed.as_secs_f64() * f64::from(quota)).ceil() as usize + 1
}

fn passed(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.status == 404).count()
}

/// A `redis-server` of the test's own on `port`, accepting connections.
fn start_redis(dir: &std::path::Path, port: u16) -> Process {
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

fn assert_refusal(answer: &Answer, tier: &str, quota: u32) {
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

mod needs_postgres {
    use super::*;

    mod needs_redis {
        use super::*;

        #[tokio::test]
        #[ignore = "needs: postgres, redis"]
        async fn one_idempotency_key_across_two_processes_charges_once() {
            let (database, redis) = externals().await;
            let cluster = Cluster::start("idempotency", &database, &redis, ("10000", "100000"))
                .await
                .unwrap_or_else(|e| start_failed(e));

            // --- 50 parallel checkouts with one key, 25 on each process --------------------------------
            let body = cluster.basket(2);
            let orders_before = cluster
                .order_metric("webstore_checkout_amount_usd_count")
                .await;
            let charges_before = cluster.charges_made().await;
            let answers =
                join_all((0..50).map(|i| cluster.checkout(i % 2, 0, Some("race-key-1"), &body)))
                    .await;
            let statuses = histogram(&answers);
            eprintln!("50 parallel checkouts with one Idempotency-Key: {statuses:?}");
            let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
            assert!(
                answers.iter().all(|a| a.status == 201 || a.status == 409),
                "only 201 (original or replay) and 409 (in progress): {statuses:?}"
            );
            let originals = created
                .iter()
                .filter(|a| a.header("idempotent-replayed").is_none())
                .count();
            assert_eq!(originals, 1, "exactly one original answer: {statuses:?}");
            let order_id = created[0].body["order_id"]
                .as_str()
                .expect("order_id")
                .to_owned();
            assert!(
                created.iter().all(|a| a.body == created[0].body),
                "every 201 is the same answer"
            );
            for a in answers.iter().filter(|a| a.status == 409) {
                assert_eq!(a.problem_type(), "idempotency-conflict");
            }
            assert_eq!(
                cluster
                    .order_metric("webstore_checkout_amount_usd_count")
                    .await
                    - orders_before,
                1.0,
                "exactly one order written"
            );
            assert_eq!(
                cluster.charges_made().await - charges_before,
                1.0,
                "exactly one charge"
            );
            // A late retry on either process replays.
            for process in 0..2 {
                let replay = cluster
                    .checkout(process, 0, Some("race-key-1"), &body)
                    .await;
                assert_eq!(replay.status, 201);
                assert_eq!(replay.header("idempotent-replayed"), Some("true"));
                assert_eq!(replay.body["order_id"], order_id.as_str());
            }
            assert_eq!(
                cluster.get_order(1, 0, &order_id).await.body["status"],
                "paid"
            );

            // --- the gateway charges only for the merchant (order-service sent its key above) ----
            let charge = json!({"amount_cents": 100, "currency": "USD", "payment_method": "card",
                "country": "US", "reference": "intruder-1"});
            for authorization in [None, Some("Bearer not-the-merchant-key")] {
                let mut request = cluster
                    .client
                    .post(format!("{}/v1/charges", cluster.gateway))
                    .header("Idempotency-Key", "intruder-1")
                    .json(&charge);
                if let Some(value) = authorization {
                    request = request.header("Authorization", value);
                }
                let answer = Answer::of(request.send().await).await;
                assert_eq!(answer.status, 401, "{authorization:?}: {:?}", answer.body);
            }

            // --- a gateway timeout, then a retry with the same key on the other process ----------------
            let charges_before = cluster.charges_made().await;
            cluster.set_gateway_timeouts(1.0).await;
            let unknown = cluster
                .checkout(0, 1, Some("retry-key-1"), &cluster.basket(1))
                .await;
            assert_eq!(unknown.status, 504, "{:?}", unknown.body);
            assert_eq!(unknown.problem_type(), "payment-unknown");
            let order_id = unknown.body["order_id"]
                .as_str()
                .expect("order_id")
                .to_owned();
            assert_eq!(
                cluster.get_order(0, 1, &order_id).await.body["status"],
                "payment_unknown"
            );
            cluster.set_gateway_timeouts(0.0).await;
            let settled = cluster
                .checkout(1, 1, Some("retry-key-1"), &cluster.basket(1))
                .await;
            assert_eq!(settled.status, 201, "{:?}", settled.body);
            assert_eq!(
                settled.body["order_id"],
                order_id.as_str(),
                "the same order"
            );
            assert_eq!(
                cluster.get_order(0, 1, &order_id).await.body["status"],
                "paid"
            );
            assert_eq!(
                cluster.charges_made().await - charges_before,
                1.0,
                "the retry got the stored charge: still one charge"
            );
            let replays = metric_sum(
                &cluster.metrics(&cluster.gateway).await,
                "webstore_gateway_idempotent_replays_total{result=\"replayed\"}",
            );
            assert!(replays >= 1.0, "the gateway replayed the stored charge");
            eprintln!("timeout then retry: order {order_id} payment_unknown → paid, one charge");

            // --- two customers, one key string ------------------------------------------------------------
            let c2 = cluster
                .checkout(0, 2, Some("same-string"), &cluster.basket(1))
                .await;
            let c3 = cluster
                .checkout(1, 3, Some("same-string"), &cluster.basket(3))
                .await;
            assert_eq!((c2.status, c3.status), (201, 201));
            assert_eq!(
                c3.header("idempotent-replayed"),
                None,
                "not the other customer's answer"
            );
            let (id2, id3) = (
                c2.body["order_id"].as_str().expect("id"),
                c3.body["order_id"].as_str().expect("id"),
            );
            assert_ne!(id2, id3);
            assert_eq!(cluster.get_order(1, 3, id2).await.status, 404);
            assert_eq!(cluster.get_order(0, 2, id3).await.status, 404);
            assert_eq!(cluster.get_order(1, 2, id2).await.status, 200);
            let again = cluster
                .checkout(1, 2, Some("same-string"), &cluster.basket(1))
                .await;
            assert_eq!(
                again.body["order_id"], id2,
                "each customer replays their own"
            );

            cluster.assert_no_secrets_and_no_panics().await;
        }

        #[tokio::test]
        #[ignore = "needs: postgres, redis"]
        async fn rate_limits_are_shared_by_two_processes_through_redis() {
            let (database, redis) = externals().await;
            let cluster = Cluster::start("ratelimits", &database, &redis, ("10", "40"))
                .await
                .unwrap_or_else(|e| start_failed(e));

            // One client, 30 requests at once over both processes: the client tier lets ~10 through
            // in total (each process alone would let 10 through, 20 together).
            let (answers, took) = burst(&cluster, 30, &[0]).await;
            eprintln!(
                "client burst (limit 10/s, two processes, {took:?}): {:?}",
                histogram(&answers)
            );
            let ok = passed(&answers);
            // Each process alone would let 10 through (20 together); a little refill during the burst.
            assert!(
                ok >= 10 && ok <= most(10, took).min(19),
                "{ok} passed in {took:?}; the limit is shared"
            );
            let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
            assert_eq!(ok + refused.len(), 30);
            assert_refusal(refused[0], "client", 10);
            // Another client is unaffected.
            assert_eq!(cluster.get_order(1, 1, NO_ORDER).await.status, 404);

            // A flood from the other customers (6 each, under the client limit): the global tier
            // trips. Every request let through so far counted against it too, and refills at
            // 40/s: at least 40 minus those are left, at most 40.
            let used = ok + 1;
            let customers: Vec<usize> = (1..CUSTOMERS).collect();
            let (answers, took) = burst(&cluster, (CUSTOMERS - 1) * 6, &customers).await;
            eprintln!(
                "flood of {} from {} clients (global limit 40/s, {took:?}): {:?}",
                answers.len(),
                customers.len(),
                histogram(&answers)
            );
            let ok = passed(&answers);
            assert!(
                ok + used >= 40 && ok <= most(40, took) && ok < answers.len(),
                "{ok} passed the global limit of 40 in {took:?}, {used} having passed before"
            );
            let global: Vec<&Answer> = answers
                .iter()
                .filter(|a| a.status == 429 && a.body["tier"] == "global")
                .collect();
            assert!(!global.is_empty());
            assert_refusal(global[0], "global", 40);
            assert!(
                cluster
                    .order_metric("webstore_rate_limited_total{tier=\"global\"}")
                    .await
                    > 0.0
            );
            assert!(
                cluster
                    .order_metric("webstore_rate_limited_total{tier=\"client\"}")
                    .await
                    > 0.0
            );
            assert_eq!(
                cluster
                    .order_metric("webstore_rate_limit_fallback_total")
                    .await,
                0.0,
                "Redis answered every decision"
            );
            cluster.assert_no_secrets_and_no_panics().await;
        }
    }

    mod needs_redis_server {
        use super::*;

        #[tokio::test]
        #[ignore = "needs: postgres, redis_server"]
        async fn checkout_keeps_answering_when_redis_stops_mid_test() {
            let database = test_support::postgres_database().await;
            test_support::require(test_support::Dependency::RedisServer);
            let port = free_port().expect("a free port");
            let dir = Scratch::new(&format!("redis-{port}")).expect("scratch directory");
            let redis = start_redis(dir.path(), port);
            let url = format!("redis://127.0.0.1:{port}");
            let mut cluster = Cluster::start("outage", &database, &url, ("10", "1000"))
                .await
                .unwrap_or_else(|e| start_failed(e));
            cluster.processes.push(redis);

            let (shared, took) = burst(&cluster, 30, &[0]).await;
            let ok = passed(&shared);
            eprintln!(
                "before the outage, client burst over two processes: {:?}",
                histogram(&shared)
            );
            assert!(
                ok >= 10 && ok <= most(10, took).min(19),
                "{ok} passed in {took:?}; shared through Redis"
            );

            // Stop Redis (the process is killed when dropped).
            let index = cluster
                .processes
                .iter()
                .position(|p| p.name() == "redis")
                .expect("redis process");
            // Dropping the process stops it and waits for it to exit: Redis is gone from here on.
            drop(cluster.processes.remove(index));

            // Checkout keeps answering, on both processes.
            for process in 0..2 {
                let placed = cluster
                    .checkout(process, 4 + process, None, &cluster.basket(1))
                    .await;
                assert_eq!(placed.status, 201, "{:?}", placed.body);
            }
            // Limits still hold, per process: each enforces the full quota on its own.
            let started = std::time::Instant::now();
            let answers = join_all((0..30).map(|_| cluster.get_order(0, 6, NO_ORDER))).await;
            let took = started.elapsed();
            let ok = passed(&answers);
            eprintln!(
                "after the outage, 30 at once on one process ({took:?}): {:?}",
                histogram(&answers)
            );
            assert!(
                ok >= 10 && ok <= most(10, took),
                "{ok} passed in {took:?}; the in-process fallback limits"
            );
            let refused = answers.iter().find(|a| a.status == 429).expect("a refusal");
            assert_refusal(refused, "client", 10);
            // The same client on the other process: that process's own quota, not the one used above
            // (limits loosen by the number of replicas during an outage, as documented).
            let started = std::time::Instant::now();
            let answers = join_all((0..30).map(|_| cluster.get_order(1, 6, NO_ORDER))).await;
            let took = started.elapsed();
            let ok_other = passed(&answers);
            assert!(
                ok_other >= 10 && ok_other <= most(10, took),
                "{ok_other} passed on the other process in {took:?}: limits are per process during the outage"
            );

            let fallback = metric_sum(
                &cluster.metrics(&cluster.orders[0]).await,
                "webstore_rate_limit_fallback_total{tier=\"client\"}",
            );
            assert!(
                fallback >= 30.0,
                "fallback decisions are counted: {fallback}"
            );
            let ready: Value = cluster
                .client
                .get(format!("{}/readyz", cluster.orders[0]))
                .send()
                .await
                .expect("readyz")
                .json()
                .await
                .expect("JSON");
            assert_eq!(ready["status"], "ready", "{ready}");
            assert_eq!(ready["components"]["redis"], "down", "{ready}");
            assert!(
                cluster
                    .process("order-service-0")
                    .log_text()
                    .contains("Redis unavailable"),
                "the outage is logged"
            );

            // Redis back on the same port: both processes return to it without a restart.
            let redis = start_redis(dir.path(), port);
            cluster.processes.push(redis);
            let order_0 = cluster.orders[0].clone();
            let fallback_0 = || async {
                metric_sum(
                    &cluster.metrics(&order_0).await,
                    "webstore_rate_limit_fallback_total{tier=\"client\"}",
                )
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let before = fallback_0().await;
                cluster.get_order(0, 8, NO_ORDER).await;
                if fallback_0().await == before {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "order-service-0 still decides without Redis 30 s after it came back"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let before = metric_sum(
                    &cluster.metrics(&cluster.orders[1]).await,
                    "webstore_rate_limit_fallback_total{tier=\"client\"}",
                );
                cluster.get_order(1, 8, NO_ORDER).await;
                let after = metric_sum(
                    &cluster.metrics(&cluster.orders[1]).await,
                    "webstore_rate_limit_fallback_total{tier=\"client\"}",
                );
                if after == before {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "order-service-1 still decides without Redis 30 s after it came back"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // Shared again: one quota over both processes, not one each.
            let (shared, took) = burst(&cluster, 30, &[9]).await;
            let ok = passed(&shared);
            assert!(
                ok >= 10 && ok <= most(10, took).min(19),
                "{ok} passed in {took:?} after Redis came back; shared through Redis again"
            );
            cluster.assert_no_secrets_and_no_panics().await;
        }
    }
}
