use catalog_service::config::{Cli, Settings};
use catalog_service::startup::Application;
use clap::Parser as _;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_cli(cli)?;
    let guard = telemetry::init(&settings.telemetry)?;
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = ?e, "catalog-service failed to start");
            guard.shutdown().await;
            return Err(e);
        }
    };
    tracing::info!(address = %app.base_url(), "catalog-service listening");
    let result = app.run_until_stopped().await;
    guard.shutdown().await;
    Ok(result?)
}
