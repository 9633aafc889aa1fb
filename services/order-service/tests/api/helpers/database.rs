//! The application's own tables, read directly.

use order_service::domain::CustomerId;
use order_service::store::OrderRecord;

use super::app::TestApp;

impl TestApp {
    pub async fn order_count(&self) -> u64 {
        self.store.count().await.expect("count orders")
    }

    pub fn customer(&self, key: &str) -> CustomerId {
        self.api_keys
            .authenticate(Some(key), None)
            .expect("a configured key")
    }

    /// The order row as `key`'s customer sees it; panics if absent.
    pub async fn order_row(&self, id: &str, key: &str) -> OrderRecord {
        self.store
            .row(id, &self.customer(key))
            .await
            .expect("read the order")
            .unwrap_or_else(|| panic!("no order row {id}"))
    }

    /// SHA-256 over every row and column of `orders` and `idempotency_keys`, in key order: equal
    /// checksums mean nothing was written, changed or deleted.
    pub async fn tables_checksum(&self) -> String {
        use sea_orm::{ConnectionTrait, Statement};
        use sha2::{Digest, Sha256};
        let db = self.store.connection();
        let backend = db.get_database_backend();
        let tables: [(&str, &[&str], &[&str]); 2] = [
            (
                "SELECT * FROM orders ORDER BY id",
                &[
                    "id",
                    "customer",
                    "status",
                    "country",
                    "payment_method",
                    "lines",
                    "payment_id",
                    "trace_id",
                ],
                &["total_cents", "created_at_ms", "updated_at_ms"],
            ),
            (
                "SELECT * FROM idempotency_keys ORDER BY customer, key",
                &[
                    "customer",
                    "key",
                    "request_hash",
                    "state",
                    "order_id",
                    "response_body",
                ],
                &["created_at_ms", "expires_at_ms", "locked_until_ms"],
            ),
        ];
        let mut hash = Sha256::new();
        for (sql, texts, numbers) in tables {
            let rows = db
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .expect("read the table");
            hash.update(format!("{sql}: {} rows\n", rows.len()));
            for row in rows {
                for column in texts {
                    let v: Option<String> = row.try_get("", column).expect("text column");
                    hash.update(format!("{column}={v:?}\n"));
                }
                for column in numbers {
                    let v: i64 = row.try_get("", column).expect("integer column");
                    hash.update(format!("{column}={v}\n"));
                }
            }
        }
        hex::encode(hash.finalize())
    }

    /// Asserts nothing was ordered and nothing charged.
    pub async fn assert_nothing_happened(&self) {
        assert_eq!(self.order_count().await, 0, "no order row may be written");
        assert!(
            self.charge_requests().await.is_empty(),
            "the gateway must not be called"
        );
    }
}
