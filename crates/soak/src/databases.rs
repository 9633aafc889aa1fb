//! The soak's own PostgreSQL databases (one per service, dropped at the end), the fault that
//! cuts the order database's connections, and the rows the invariants are checked against.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// Three fresh databases on one server, reached through `admin` (a URL with the right to
/// `CREATE DATABASE`).
#[derive(Debug)]
pub struct Databases {
    admin: DatabaseConnection,
    base: String,
    /// `webstore_soak_<unix time>_<random>`; `_order`, `_gateway`, `_catalog` appended.
    prefix: String,
}

/// Order statuses that still wait for a settlement (DESIGN: outcomes).
pub const UNSETTLED: [&str; 2] = ["pending", "payment_unknown"];

impl Databases {
    pub async fn create(admin_url: &str) -> Result<Databases> {
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(admin_url)))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let prefix = format!(
            "webstore_soak_{now}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        for service in ["order", "gateway", "catalog"] {
            admin
                .execute_unprepared(&format!("CREATE DATABASE {prefix}_{service}"))
                .await
                .with_context(|| format!("CREATE DATABASE {prefix}_{service}"))?;
        }
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url, |(base, _)| base)
            .to_owned();
        Ok(Databases {
            admin,
            base,
            prefix,
        })
    }

    fn name(&self, service: &str) -> String {
        format!("{}_{service}", self.prefix)
    }

    /// The `DATABASE_URL` of `service` (`order`, `gateway` or `catalog`).
    pub fn url(&self, service: &str) -> String {
        format!("{}/{}", self.base, self.name(service))
    }

    /// Terminates every backend connected to the order database; how many there were.
    pub async fn terminate_order_backends(&self) -> Result<u64> {
        let rows = self
            .admin
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity \
                     WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    self.name("order")
                ),
            ))
            .await
            .context("pg_terminate_backend")?;
        Ok(rows.len() as u64)
    }

    /// Every order: (id, status).
    pub async fn orders(&self) -> Result<Vec<(String, String)>> {
        self.pairs("order", "SELECT id, status FROM orders", ("id", "status"))
            .await
    }

    /// Every charge the gateway stored: (reference, status). The reference is the order id.
    pub async fn charges(&self) -> Result<Vec<(String, String)>> {
        self.pairs(
            "gateway",
            "SELECT reference, status FROM charges",
            ("reference", "status"),
        )
        .await
    }

    async fn pairs(
        &self,
        service: &str,
        sql: &str,
        (a, b): (&str, &str),
    ) -> Result<Vec<(String, String)>> {
        let conn = Database::connect(self.url(service).as_str())
            .await
            .with_context(|| format!("connecting to {}", self.name(service)))?;
        let rows = conn
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .with_context(|| format!("{sql} on {}", self.name(service)))?;
        let pairs = rows
            .iter()
            .map(|row| Ok((row.try_get::<String>("", a)?, row.try_get::<String>("", b)?)))
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()
            .with_context(|| format!("reading {sql}"))?;
        let _ = conn.close().await;
        Ok(pairs)
    }

    /// Drops the three databases (their connections too).
    pub async fn drop_all(&self) -> Result<()> {
        for service in ["order", "gateway", "catalog"] {
            self.admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name(service)
                ))
                .await
                .with_context(|| format!("dropping {}", self.name(service)))?;
        }
        Ok(())
    }
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://user:secret@db:5432/postgres"),
            "postgres://…@db:5432/postgres"
        );
        assert_eq!(
            redact("postgres://127.0.0.1/postgres"),
            "postgres://127.0.0.1/postgres"
        );
    }
}
