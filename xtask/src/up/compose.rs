//! `up` with a Docker engine: `docker compose up` of `infra/compose.yaml`, then a wait for the
//! services and the summary.

use std::env;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use super::{first_api_key, first_product_id, summary, DEFAULT_API_KEYS, READY_TIMEOUT};
use crate::stack::{CATALOG, COMPOSE_FILE, GATEWAY, ORDER};

pub(super) fn run(sh: &Shell, release: bool) -> Result<()> {
    if release {
        println!(
            "note: --release applies to local processes; the compose stack builds its own images"
        );
    }
    let compose = COMPOSE_FILE;
    cmd!(sh, "docker compose -f {compose} up -d --build")
        .run()
        .context("docker compose up failed")?;

    println!("\nWaiting for the services to answer...");
    for service in [CATALOG, GATEWAY, ORDER] {
        match devstack::ready::poll(&service.probe(), READY_TIMEOUT, || None) {
            Ok(elapsed) => println!(
                "  {:<16} ready after {:.1} s",
                service.name,
                elapsed.as_secs_f64()
            ),
            Err(not_ready) => println!(
                "  {:<16} not ready: {not_ready}; see `docker compose -f {COMPOSE_FILE} logs {}`",
                service.name, service.name
            ),
        }
    }
    let product = first_product_id(&CATALOG);
    let api_key =
        first_api_key(&env::var("API_KEYS").unwrap_or_else(|_| DEFAULT_API_KEYS.to_owned()));
    print!("{}", summary::compose(&api_key, &product));
    Ok(())
}
