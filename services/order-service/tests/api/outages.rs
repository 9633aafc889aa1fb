//! The order database failing under the service: its connections terminated
//! (`pg_terminate_backend`), or the server unreachable. Requests get 503 problem+json with
//! `Retry-After` (never a 500), `/readyz` says 503, and the service recovers by itself once the
//! database is back — no restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::*;

/// A TCP relay to PostgreSQL that a test can cut (every connection reset, the port refusing)
/// and restore on the same port: the database "unreachable", then back.
struct Relay {
    address: String,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let relay = Relay {
            address: listener.local_addr().expect("relay address").to_string(),
            target: target.to_owned(),
            tasks: Arc::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the port and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(&self.address).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(Instant::now() < deadline, "rebinding {}: {e}", self.address);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        self.serve(listener);
    }
}

/// `postgres://user@host:port/db` → (`host:port`, `db`).
fn host_and_database(url: &str) -> (String, String) {
    let rest = url.rsplit('@').next().expect("user@host");
    let (host, db) = rest.split_once('/').expect("host/db");
    (host.to_owned(), db.to_owned())
}

/// Sends checkouts until one is 201 (up to 15 s), asserting that none is a 500.
async fn wait_until_checkouts_succeed(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = app
            .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await;
        let status = response.status().as_u16();
        if status == 201 {
            return;
        }
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 503, "only 503 while the database is away: {body}");
        assert!(Instant::now() < deadline, "no 201 within 15 s: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

mod needs_postgres {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn terminated_connections_cost_no_500_and_need_no_restart() {
        let url = test_support::postgres_database().await;
        let app = TestApp::builder()
            .setting("DATABASE_URL", url.clone())
            .spawn()
            .await;
        app.given_product("p-1", "Widget", 1999).await;
        app.given_charge_succeeds("ch_1").await;
        assert_created(
            app.post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
                .await,
        )
        .await;

        let (_, database) = host_and_database(&url);
        let admin = Database::connect(test_support::postgres_admin_url())
            .await
            .expect("admin connection");
        let terminated = admin
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{database}' AND pid <> pg_backend_pid()"
                ),
            ))
            .await
            .expect("terminate the service's connections");
        assert!(!terminated.is_empty(), "the service had connections");

        wait_until_checkouts_succeed(&app).await;
        assert_eq!(app.get("/readyz").await.status(), 200);
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn an_unreachable_database_is_503_with_retry_after_until_it_is_back() {
        let url = test_support::postgres_database().await;
        let (host, _) = host_and_database(&url);
        let relay = Relay::start(&host).await;
        let app = TestApp::builder()
            .setting("DATABASE_URL", url.replacen(&host, &relay.address, 1))
            .spawn()
            .await;
        app.given_product("p-1", "Widget", 1999).await;
        app.given_charge_succeeds("ch_1").await;
        let placed = assert_created(
            app.post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
                .await,
        )
        .await;
        let order_id = placed["order_id"].as_str().expect("order_id").to_owned();

        relay.cut();

        // A checkout: it cannot even write its order.
        let response = app
            .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await;
        let retry_after = header(&response, "retry-after");
        assert_problem(response, 503, "database-unavailable").await;
        assert_eq!(retry_after.as_deref(), Some("2"));
        // A read, the same way.
        assert_problem(
            app.get_order(&order_id, Some(ALICE_KEY)).await,
            503,
            "database-unavailable",
        )
        .await;
        assert_eq!(app.get("/readyz").await.status(), 503);
        assert_eq!(
            app.charge_requests().await.len(),
            1,
            "nothing charged meanwhile"
        );

        relay.restore().await;

        wait_until_checkouts_succeed(&app).await;
        assert_eq!(app.get("/readyz").await.status(), 200);
        assert_eq!(
            app.get_order(&order_id, Some(ALICE_KEY)).await.status(),
            200
        );
    }
}
