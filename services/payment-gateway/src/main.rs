//! The `payment-gateway` binary: settings, telemetry, server. Everything else is in the library.

use clap::Parser as _;
use payment_gateway::config::{Cli, Settings};
use payment_gateway::startup::Application;
use telemetry::Telemetry;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_cli(Cli::parse())?;
    let telemetry = telemetry::init(&settings.telemetry)?;
    let served = serve(settings, &telemetry).await;
    if let Err(e) = &served {
        tracing::error!(error = ?e, "payment-gateway stopped on an error");
    }
    // On every path, so that the spans of a failed start-up leave too.
    telemetry.shutdown().await;
    served
}

/// Builds the application and serves until SIGTERM or Ctrl-C.
async fn serve(settings: Settings, telemetry: &Telemetry) -> anyhow::Result<()> {
    let app = Application::build(settings.clone(), telemetry).await?;
    tracing::info!(
        port = app.port(),
        bind_addr = %settings.bind_addr,
        database = %service_kit::db::redact(&settings.database_url),
        latency_scale = settings.latency_scale.factor(),
        seeded = settings.seed.is_some(),
        admin_api = settings.admin_token.is_some(),
        "payment-gateway listening"
    );
    service_kit::drain::begin_on_signal(app.drain());
    app.run_until_stopped().await?;
    tracing::info!("payment-gateway stopped");
    Ok(())
}
