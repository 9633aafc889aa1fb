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

// Integration-test roots resolve modules beside themselves, hence the explicit path.
#[path = "security_cluster/cluster.rs"]
mod cluster;

use cluster::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;
use system_tests::{free_port, Scratch};

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
            // Back to Redis: a limited request no longer adds a fallback decision.
            for (i, order) in cluster.orders.iter().enumerate() {
                let fallbacks = || async {
                    metric_sum(
                        &cluster.metrics(order).await,
                        "webstore_rate_limit_fallback_total{tier=\"client\"}",
                    )
                };
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                loop {
                    let before = fallbacks().await;
                    cluster.get_order(i, 8, NO_ORDER).await;
                    if fallbacks().await == before {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "order-service-{i} still decides without Redis 30 s after it came back"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
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
