//! The `payment-gateway` binary: settings, telemetry, server. Everything else is in the library.

use clap::Parser;
use payment_gateway::config::{Cli, Settings};
use payment_gateway::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_cli(cli)?;
    let guard = telemetry::init(&settings.telemetry)?;
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        port = app.port(),
        bind_addr = %settings.bind_addr,
        database = %service_kit::db::redact(&settings.database_url),
        latency_scale = settings.latency_scale.factor(),
        seeded = settings.seed.is_some(),
        admin_api = settings.admin_token.is_some(),
        "payment-gateway listening"
    );
    let result = app.run_until_stopped().await;
    tracing::info!("payment-gateway stopped");
    guard.shutdown().await;
    result?;
    Ok(())
}
