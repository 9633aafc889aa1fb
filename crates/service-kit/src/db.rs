//! Connecting to a service's own database, and bringing its schema up to date.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite:, got {0:?}")]
    UnsupportedUrl(String),
    #[error("could not create the directory for the SQLite file {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not connect to the database ({url})")]
    Connect {
        url: String,
        #[source]
        source: sea_orm::DbErr,
    },
    #[error("could not apply the migrations to the database ({url})")]
    Migrate {
        url: String,
        #[source]
        source: sea_orm::DbErr,
    },
}

/// [`connect`], then applies every pending migration of `M` (each runs once per database).
pub async fn connect_migrated<M: MigratorTrait>(url: &str) -> Result<DatabaseConnection, DbError> {
    let db = connect(url).await?;
    M::up(&db, None).await.map_err(|source| DbError::Migrate {
        url: redact(url),
        source,
    })?;
    Ok(db)
}

/// `sqlite://data/<service>.db?mode=rwc`: one file per service, created on first start.
pub fn default_sqlite_url(service: &str) -> String {
    format!("sqlite://data/{service}.db?mode=rwc")
}

/// Connects, creating the SQLite file's directory if needed. The URL in errors has its password
/// removed.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbError> {
    let is_sqlite = url.starts_with("sqlite:");
    if !(is_sqlite || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DbError::UnsupportedUrl(redact(url)));
    }
    if is_sqlite {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: path.to_owned(),
                source,
            })?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // sqlx logs every statement at info; the spans already carry them.
        .sqlx_logging(false);
    if is_sqlite {
        // SQLite allows one writer; a small pool avoids "database is locked" under load.
        options.max_connections(4);
    } else {
        options.max_connections(16);
    }
    let db = Database::connect(options)
        .await
        .map_err(|source| DbError::Connect {
            url: redact(url),
            source,
        })?;
    if is_sqlite {
        // WAL lets readers proceed during a write; busy_timeout waits instead of failing.
        let _ = db
            .execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;")
            .await;
    }
    Ok(db)
}

/// Whether `e` says the database could not be reached or dropped the connection (refused,
/// reset, terminated by `pg_terminate_backend`, the pool timing out waiting for a connection)
/// rather than refusing a statement. Such a request may succeed once the database is back: the
/// pool opens new connections by itself, so callers answer 503 with `Retry-After`.
pub fn is_unavailable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server shutting
                // down or terminating this backend).
                Sqlx::Database(db) => db.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Is the database answering? (`SELECT 1`, bounded.)
pub async fn ping(db: &DatabaseConnection) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    )
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn only_connection_failures_count_as_unavailable() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let sqlx = |e| RuntimeErr::SqlxError(std::sync::Arc::new(e));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&DbErr::Query(sqlx(
            sea_orm::sqlx::Error::Io(io)
        ))));
        assert!(is_unavailable(&DbErr::Exec(sqlx(
            sea_orm::sqlx::Error::PoolTimedOut
        ))));
        assert!(!is_unavailable(&DbErr::Exec(sqlx(
            sea_orm::sqlx::Error::RowNotFound
        ))));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&DbErr::Custom("x".into())));
    }

    #[tokio::test]
    async fn unsupported_schemes_are_refused() {
        assert!(matches!(
            connect("mysql://x").await,
            Err(DbError::UnsupportedUrl(_))
        ));
    }
}
