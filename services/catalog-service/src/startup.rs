//! Building and running the server: database, migrations, cache, listener, one `App` factory.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use service_kit::drain::Drain;
use utoipa::OpenApi as _;

use crate::config::Settings;
use crate::routes::{self, ApiDoc};
use crate::store::cache::{Cache, MemoryCache, RedisCache};
use crate::store::migrations::Migrator;
use crate::store::Catalog;

pub struct Application {
    port: u16,
    base_url: String,
    server: Server,
    drain: Drain,
}

impl Application {
    /// Connects and migrates the database, sets up the cache and binds the listener. An
    /// unreachable Redis is only a warning: requests are served from the database meanwhile.
    /// Spans, `/metrics` and the service's instruments come from `telemetry`.
    pub async fn build(
        settings: Settings,
        telemetry: &telemetry::Telemetry,
    ) -> anyhow::Result<Self> {
        let db = service_kit::db::connect_migrated::<Migrator>(&settings.database_url).await?;

        let cache = match &settings.cache.redis_url {
            Some(url) => {
                let redis = RedisCache::new(url, settings.cache.ttl)
                    .context("invalid value for REDIS_URL")?;
                match redis.ping().await {
                    Ok(()) => tracing::info!(redis = %redis.target(), "product cache: Redis"),
                    Err(e) => tracing::warn!(
                        redis = %redis.target(),
                        error = &e as &dyn std::error::Error,
                        "product cache: Redis is unreachable; serving from the database until it is back"
                    ),
                }
                Cache::Redis(redis)
            }
            None => {
                tracing::info!(
                    max_entries = settings.cache.max_entries,
                    "product cache: in-process (REDIS_URL not set)"
                );
                Cache::InProcess(MemoryCache::new(
                    settings.cache.ttl,
                    settings.cache.max_entries,
                ))
            }
        };
        let catalog = web::Data::new(Catalog::new(
            db,
            cache,
            settings.cache.key_prefix.clone(),
            telemetry,
        ));

        let listener = TcpListener::bind(settings.bind_addr)
            .with_context(|| format!("binding {} (BIND_ADDR)", settings.bind_addr))?;
        let local = listener.local_addr()?;
        let port = local.port();
        // A wildcard bind is reachable on loopback; that is the URL worth printing.
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            local.ip().to_string()
        };
        let base_url = match local {
            std::net::SocketAddr::V6(_) if !local.ip().is_unspecified() => {
                format!("http://[{host}]:{port}")
            }
            _ => format!("http://{host}:{port}"),
        };
        let openapi = ApiDoc::openapi();
        let metrics = telemetry.metrics_endpoint();
        let drain = Drain::new(settings.shutdown_timeout);
        let drain_data = web::Data::new(drain.clone());
        let request_telemetry = telemetry.middleware();
        let body_timeout = settings.body_timeout;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(body_timeout)
                .wrap(actix_web::middleware::from_fn(
                    service_kit::edge::request_edge,
                ))
                .wrap(service_kit::app::security_headers())
                .wrap(request_telemetry.clone())
                .configure(service_kit::app::common(metrics.clone(), openapi.clone()))
                .app_data(catalog.clone())
                .app_data(drain_data.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(drain.server_timeout_secs());
        if let Some(workers) = settings.http_workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            base_url,
            server: server.run(),
            drain,
        })
    }

    /// The bound port (the real one when `BIND_ADDR` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, as clients on this machine reach it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The process's shutdown: `main` begins it on SIGTERM/Ctrl-C.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Serves until the drain begins, then lets in-flight requests finish (`SHUTDOWN_TIMEOUT`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.drain.run(self.server).await
    }
}
