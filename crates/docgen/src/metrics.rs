//! Every metric the services expose, read from their registries.
//!
//! Each service's `Application` is built as its `main` builds it — from its own command line,
//! with a detached telemetry handle, on a scratch SQLite file and port 0 — and its handle
//! describes what registered itself: the request middleware's and traced client's histograms,
//! the service's own instruments, the span pipeline counter. The server is never started
//! (actix starts it when it is first awaited), so nothing listens or runs; dropping the
//! application closes the database and the socket.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches};
use telemetry::{MetricDescription, Telemetry, TelemetryConfig};

/// The metrics one service exposes, in scrape order.
#[derive(Clone, Debug)]
pub struct ServiceMetrics {
    pub service: String,
    pub metrics: Vec<MetricDescription>,
}

/// Every service's metrics, by service name.
pub fn all() -> anyhow::Result<Vec<ServiceMetrics>> {
    let scratch = Scratch::new()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a Tokio runtime")?;
    let mut all = runtime.block_on(async {
        anyhow::Ok(vec![
            order_service(&scratch.path).await?,
            catalog_service(&scratch.path).await?,
            payment_gateway(&scratch.path).await?,
        ])
    })?;
    all.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(all)
}

async fn order_service(dir: &Path) -> anyhow::Result<ServiceMetrics> {
    use order_service::config::{Cli, Settings, SERVICE_NAME};
    let settings = Settings::from_cli(parse::<Cli>(SERVICE_NAME, dir)?)?;
    let telemetry = detached(&settings.telemetry);
    let app = order_service::startup::Application::build(settings, &telemetry).await?;
    drop(app);
    Ok(described(SERVICE_NAME, &telemetry))
}

async fn catalog_service(dir: &Path) -> anyhow::Result<ServiceMetrics> {
    use catalog_service::config::{Cli, Settings, SERVICE_NAME};
    let settings = Settings::from_cli(parse::<Cli>(SERVICE_NAME, dir)?)?;
    let telemetry = detached(&settings.telemetry);
    let app = catalog_service::startup::Application::build(settings, &telemetry).await?;
    drop(app);
    Ok(described(SERVICE_NAME, &telemetry))
}

async fn payment_gateway(dir: &Path) -> anyhow::Result<ServiceMetrics> {
    use payment_gateway::config::{Cli, Settings, SERVICE_NAME};
    let settings = Settings::from_cli(parse::<Cli>(SERVICE_NAME, dir)?)?;
    let telemetry = detached(&settings.telemetry);
    let app = payment_gateway::startup::Application::build(settings, &telemetry).await?;
    drop(app);
    Ok(described(SERVICE_NAME, &telemetry))
}

/// The service's command line with its defaults, a scratch database and port 0, read with the
/// environment ignored: the reference must not depend on who runs the generator.
fn parse<C: CommandFactory + FromArgMatches>(service: &str, dir: &Path) -> anyhow::Result<C> {
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{service}.db")).display()
    );
    let command = C::command().mut_args(|arg| arg.env(None::<&str>));
    let matches = command.try_get_matches_from([
        service,
        "--bind-addr",
        "127.0.0.1:0",
        "--database-url",
        &database,
        "--http-workers",
        "1",
    ])?;
    Ok(C::from_arg_matches(&matches)?)
}

fn detached(config: &TelemetryConfig) -> Telemetry {
    telemetry::testing::detached(config)
}

fn described(service: &str, telemetry: &Telemetry) -> ServiceMetrics {
    ServiceMetrics {
        service: service.to_owned(),
        metrics: telemetry.describe(),
    }
}

/// A directory for the scratch databases, removed on drop.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "webstore-docgen-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use telemetry::MetricKind;

    use super::*;

    fn find<'a>(all: &'a [ServiceMetrics], service: &str, name: &str) -> &'a MetricDescription {
        all.iter()
            .find(|s| s.service == service)
            .and_then(|s| s.metrics.iter().find(|m| m.name == name))
            .unwrap_or_else(|| panic!("{service} does not expose {name}"))
    }

    /// The contract's metrics, as the design names them, come out of the registries.
    #[test]
    fn the_registries_describe_the_contracts_metrics() {
        let all = all().unwrap();
        let services: Vec<&str> = all.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(
            services,
            ["catalog-service", "order-service", "payment-gateway"]
        );

        let payment = find(&all, "order-service", "webstore_payment_duration_seconds");
        assert_eq!(payment.kind, MetricKind::Histogram);
        assert_eq!(payment.labels, ["country", "payment_method", "outcome"]);
        assert_eq!(
            payment.buckets,
            [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0]
        );
        assert!(payment.exemplars);

        let orders = find(&all, "order-service", "webstore_orders_total");
        assert_eq!(
            (orders.kind, orders.labels.as_slice()),
            (MetricKind::Counter, &["status"][..])
        );

        for service in &services {
            let server = find(&all, service, "http_server_request_duration_seconds");
            assert_eq!(server.buckets.first(), Some(&0.005));
            find(&all, service, "otel_sdk_exporter_span_exported_total");
        }
        find(
            &all,
            "order-service",
            "http_client_request_duration_seconds",
        );
        find(
            &all,
            "catalog-service",
            "webstore_catalog_cache_requests_total",
        );
    }
}
