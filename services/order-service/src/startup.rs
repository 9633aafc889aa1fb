//! Building and running the application (zero2prod's `Application`).

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use service_kit::drain::Drain;
use utoipa::OpenApi;

use crate::checkout::{Checkout, Screening};
use crate::clients::{CatalogClient, PaymentClient};
use crate::config::{GatewayApiKey, Settings};
use crate::metrics::OrderMetrics;
use crate::ratelimit::{RateLimitMetrics, RateLimiter, RedisLimiter};
use crate::reconcile::Reconciler;
use crate::routes::{self, ApiDoc};
use crate::state::AppState;
use crate::store::{IdempotencyStore, Migrator, OrderStore};

pub struct Application {
    port: u16,
    server: Server,
    drain: Drain,
    pub store: OrderStore,
}

impl Application {
    /// Spans, `/metrics`, the traced client and the service's instruments come from
    /// `telemetry`.
    pub async fn build(
        settings: Settings,
        telemetry: &telemetry::Telemetry,
    ) -> anyhow::Result<Self> {
        let db = service_kit::db::connect_migrated::<Migrator>(&settings.database_url).await?;
        let drain = Drain::new(settings.shutdown_timeout);
        let store = OrderStore::new(db.clone());
        // Longer than any one attempt can take, so only a dead request's lock ever runs out.
        let idempotency_lock = settings.catalog_timeout
            + settings.payment_timeout
            + std::time::Duration::from_secs(30);
        let idempotency = IdempotencyStore::new(db, settings.idempotency_ttl, idempotency_lock);
        let http = telemetry
            .http_client(
                reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(2))
                    .pool_idle_timeout(std::time::Duration::from_secs(30)),
            )
            .context("building the HTTP client")?;
        let metrics = OrderMetrics::new(telemetry);
        let payment = PaymentClient::new(
            http.clone(),
            settings.payment_gateway_url.clone(),
            settings.payment_timeout,
        )
        .stopped_by(drain.stopping())
        .with_api_key(
            settings
                .payment_gateway_api_key
                .as_ref()
                .map(GatewayApiKey::expose),
        );
        let checkout = Checkout {
            catalog: CatalogClient::new(
                http.clone(),
                settings.catalog_url.clone(),
                settings.catalog_timeout,
            ),
            payment: payment.clone(),
            orders: store.clone(),
            idempotency,
            metrics: metrics.clone(),
            screening: Screening {
                rules: settings.suspicious,
                orders: store.clone(),
                flagged: metrics.suspicious.clone(),
            },
            render: crate::error::render,
        };
        let redis = match &settings.redis_url {
            Some(url) => Some(
                RedisLimiter::new(
                    url,
                    &settings.rate_limit_key_prefix,
                    settings.rate_limit_redis_timeout,
                )
                .context("REDIS_URL: building the Redis pool")?,
            ),
            None => None,
        };
        let rate_limiter = RateLimiter::new(
            settings.rate_limits,
            redis,
            RateLimitMetrics::new(telemetry),
        );
        let state = web::Data::new(AppState {
            checkout,
            orders: store.clone(),
            api_keys: settings.api_keys.clone(),
            rate_limiter,
            metrics,
            request_timeout: settings.request_timeout,
            drain: drain.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
        });
        Reconciler {
            orders: store.clone(),
            payment,
            policy: settings.reconcile,
            metrics: state.metrics.clone(),
        }
        .start(&drain);
        let origins = settings.cors_allowed_origins.clone();
        let body_timeout = settings.body_timeout;
        let listener = TcpListener::bind(settings.bind_addr)
            .with_context(|| format!("binding {} (BIND_ADDR)", settings.bind_addr))?;
        let port = listener.local_addr()?.port();
        let (request_telemetry, metrics) = (telemetry.middleware(), telemetry.metrics_endpoint());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(body_timeout)
                .wrap(actix_web::middleware::from_fn(
                    service_kit::edge::request_edge,
                ))
                .wrap(routes::middleware::cors(&origins))
                .wrap(actix_web::middleware::from_fn(
                    routes::middleware::cors_errors_as_problems,
                ))
                .wrap(service_kit::app::security_headers())
                .wrap(request_telemetry.clone())
                .app_data(state.clone())
                .configure(routes::configure)
                .configure(service_kit::app::common(metrics.clone(), ApiDoc::openapi()))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(drain.server_timeout_secs());
        // Slow-loris: a client gets this long to send its request head, and a closing
        // connection this long to go away.
        let mut server = server
            .client_request_timeout(std::time::Duration::from_secs(5))
            .client_disconnect_timeout(std::time::Duration::from_secs(1));
        if let Some(n) = settings.http_workers {
            server = server.workers(n);
        }
        Ok(Self {
            port,
            server: server.run(),
            drain,
            store,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process's shutdown: `main` begins it on SIGTERM/Ctrl-C.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Serves until the drain begins; then in-flight requests and checkouts finish within
    /// `SHUTDOWN_TIMEOUT`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.drain.run(self.server).await
    }
}
