use anyhow::Context;
use clap::Parser;
use order_service::config::{Cli, Settings};
use order_service::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_cli(Cli::parse())?;
    let telemetry = telemetry::init(&settings.telemetry).context("telemetry")?;
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.base_url(), "order-service listening");
    let result = app.run_until_stopped().await;
    telemetry.shutdown().await;
    result.context("server")
}
