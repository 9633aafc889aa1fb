//! The `order-service` binary: settings, telemetry, server. Everything else is in the library.

use clap::Parser as _;
use order_service::config::{Cli, Settings};
use order_service::startup::Application;
use telemetry::Telemetry;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_cli(Cli::parse())?;
    let telemetry = telemetry::init(&settings.telemetry)?;
    let served = serve(settings, &telemetry).await;
    if let Err(e) = &served {
        tracing::error!(error = ?e, "order-service stopped on an error");
    }
    // On every path, so that the spans of a failed start-up leave too.
    telemetry.shutdown().await;
    served
}

/// Builds the application and serves until SIGTERM or Ctrl-C.
async fn serve(settings: Settings, telemetry: &Telemetry) -> anyhow::Result<()> {
    let app = Application::build(settings, telemetry).await?;
    tracing::info!(address = %app.base_url(), "order-service listening");
    service_kit::drain::begin_on_signal(app.drain());
    app.run_until_stopped().await?;
    Ok(())
}
