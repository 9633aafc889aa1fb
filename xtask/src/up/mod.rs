//! `cargo xtask up`: the whole stack, with Docker compose or as local processes.
//!
//! - [`compose`]: `docker compose up` of `infra/compose.yaml` when a Docker engine answers.
//! - [`native`]: otherwise the binaries as local processes (started, health-checked and stopped
//!   through `devstack`), supervised until Ctrl-C or returned from with `--detach`.
//! - [`env`]: what `up` sets for each process, and which of the developer's own variables win.
//! - [`summary`]: the text printed once the stack is ready: every URL and a checkout to paste.

mod compose;
mod env;
mod native;
mod summary;

use std::time::Duration;

use anyhow::{bail, Result};
use xshell::Shell;

use crate::flags;
use crate::stack::{self, Service, COMPOSE_FILE};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_API_KEYS: &str = devstack::services::DEV_API_KEYS;

impl flags::Up {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        if !self.native && stack::docker_available(sh) {
            if sh.path_exists(COMPOSE_FILE) {
                return compose::run(sh, self.release);
            }
            println!("A Docker engine answers, but {COMPOSE_FILE} does not exist yet: starting local processes.");
        }
        if cfg!(not(unix)) {
            bail!("local processes need a Unix system (Linux, macOS); start a Docker engine and run `cargo xtask up` again");
        }
        native::run(sh, self.release, self.detach)
    }
}

/// The key of the first `customer:key` pair of `API_KEYS`.
fn first_api_key(api_keys: &str) -> String {
    api_keys
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(_, key)| key.trim())
        .find(|key| !key.is_empty())
        .unwrap_or("<API_KEY>")
        .to_owned()
}

/// The id of the first product the catalog lists, or why there is none.
fn first_product_id(catalog: &Service) -> Result<String, String> {
    let response = devstack::http::get(
        &catalog.addr(),
        "/api/v1/products?limit=1",
        Duration::from_secs(5),
    )
    .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!(
            "HTTP {}: {}",
            response.status,
            response.body_snippet()
        ));
    }
    product_id_from(&response.body).ok_or_else(|| "the answer holds no product id".to_owned())
}

/// `items[0].id` of `{"items":[{"id":...}]}`, as text.
fn product_id_from(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    match &json["items"][0]["id"] {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids() {
        assert_eq!(
            product_id_from(
                br#"{"items":[{"id":"abc","name":"Mug","price_cents":1200}],"next_cursor":"x"}"#
            ),
            Some("abc".to_owned())
        );
        assert_eq!(
            product_id_from(br#"{"items":[{"id":42}]}"#),
            Some("42".to_owned())
        );
        assert_eq!(product_id_from(br#"{"items":[]}"#), None);
        assert_eq!(product_id_from(b"<html>"), None);
    }

    #[test]
    fn api_keys() {
        assert_eq!(first_api_key("demo:demo-key"), "demo-key");
        assert_eq!(first_api_key(" alice : k1 ,bob:k2"), "k1");
        assert_eq!(first_api_key("garbage"), "<API_KEY>");
    }
}
