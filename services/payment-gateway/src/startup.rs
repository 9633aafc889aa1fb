//! Building and running the server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use service_kit::drain::Drain;

use crate::config::Settings;
use crate::domain::Faults;
use crate::gateway::{FaultSwitch, Gateway};
use crate::metrics::GatewayMetrics;
use crate::routes;
use crate::store::{ChargeStore, Migrator};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    faults: FaultSwitch,
    drain: Drain,
}

impl Application {
    /// Connects to the database, migrates it, binds the listener (port 0 picks a free port, kept
    /// in [`Application::port`]) and builds the server. Spans, `/metrics` and the gateway's
    /// instruments come from `telemetry`.
    pub async fn build(
        settings: Settings,
        telemetry: &telemetry::Telemetry,
    ) -> anyhow::Result<Self> {
        let db = service_kit::db::connect_migrated::<Migrator>(&settings.database_url).await?;

        let listener = TcpListener::bind(settings.bind_addr)
            .with_context(|| format!("binding {} (BIND_ADDR)", settings.bind_addr))?;
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();

        // Everything shared is created here, once, outside the per-worker factory below: the
        // faults and the RNG must be one per process, not one per worker.
        let (request_telemetry, metrics) = (telemetry.middleware(), telemetry.metrics_endpoint());
        let faults = FaultSwitch::new(Faults::default());
        let gateway = web::Data::new(Gateway::new(
            ChargeStore::new(db.clone()),
            faults.clone(),
            settings.latency_scale,
            settings.seed,
            GatewayMetrics::new(telemetry),
        ));
        let fault_switch = web::Data::new(faults.clone());
        let admin_guard = settings
            .admin_token
            .clone()
            .map(|token| web::Data::new(routes::admin::AdminGuard::new(token)));
        let admin_enabled = admin_guard.is_some();
        let merchant_key = settings.merchant_key.clone().map(web::Data::new);
        let body_timeout = settings.body_timeout;
        let openapi = routes::openapi(admin_enabled);
        let drain = Drain::new(settings.shutdown_timeout);
        let drain_data = web::Data::new(drain.clone());

        let mut server = HttpServer::new(move || {
            let mut app = App::new()
                .app_data(body_timeout)
                .wrap(actix_web::middleware::from_fn(
                    service_kit::edge::request_edge,
                ))
                .wrap(service_kit::app::security_headers())
                .wrap(request_telemetry.clone())
                .app_data(gateway.clone())
                .app_data(fault_switch.clone())
                .app_data(drain_data.clone());
            if let Some(guard) = &admin_guard {
                app = app.app_data(guard.clone());
            }
            if let Some(key) = &merchant_key {
                app = app.app_data(key.clone());
            }
            app.configure(service_kit::app::common(metrics.clone(), openapi.clone()))
                .configure(routes::configure(admin_enabled))
        });
        if let Some(workers) = settings.http_workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .disable_signals()
            .shutdown_timeout(drain.server_timeout_secs())
            .listen(listener)
            .context("starting the HTTP server")?
            .run();
        Ok(Self {
            port,
            server,
            db,
            faults,
            drain,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's database connection (tests count rows through it).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The live fault settings (what `PUT /admin/faults` changes).
    pub fn faults(&self) -> &FaultSwitch {
        &self.faults
    }

    /// The process's shutdown: `main` begins it on SIGTERM/Ctrl-C.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }

    /// Serves until the drain begins; then stops accepting and lets in-flight requests end
    /// (`SHUTDOWN_TIMEOUT`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.drain.run(self.server).await
    }
}
