//! The few Prometheus HTTP API calls the incident loop makes, each answer parsed into a type.
//!
//! - [`Prometheus::query_exemplars`]: `/api/v1/query_exemplars` ([`exemplars`]).
//! - [`Prometheus::flags`]: `/api/v1/status/flags`, where exemplar storage shows as
//!   `enable-feature=exemplar-storage`.
//! - [`Prometheus::targets`]: `/api/v1/targets`, scrape health per target.
//! - [`Prometheus::build_version`], [`Prometheus::config_yaml`], [`Prometheus::query_scalar`].
//!
//! Every answer is the API's envelope `{"status","data","errorType","error"}`; an `error` status
//! becomes [`Error::Prometheus`].

pub mod exemplars;

use std::collections::BTreeMap;

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

pub use exemplars::{Exemplar, ExemplarQuery, LabelFilter};

use crate::error::{Error, Result};
use crate::http::{endpoint_with_query, Http};

/// One scrape target of `/api/v1/targets`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub scrape_pool: String,
    pub scrape_url: String,
    #[serde(default)]
    pub last_error: String,
    /// `up`, `down` or `unknown`.
    pub health: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    error_type: String,
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Targets {
    #[serde(default)]
    active_targets: Vec<Target>,
}

/// A Prometheus server at `base`.
#[derive(Clone, Debug)]
pub struct Prometheus {
    http: Http,
    base: Url,
}

impl Prometheus {
    pub fn new(http: Http, base: Url) -> Prometheus {
        Prometheus { http, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Exemplars of the series `query` selects between `start` and `end` (Unix seconds).
    pub async fn query_exemplars(
        &self,
        query: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<Exemplar>> {
        let (start, end) = (format!("{start:.3}"), format!("{end:.3}"));
        let data: Value = self
            .call(
                "/api/v1/query_exemplars",
                &[("query", query), ("start", &start), ("end", &end)],
            )
            .await?;
        exemplars::parse(&data).map_err(|reason| Error::shape(&self.base, reason))
    }

    /// Command-line flags, by name without the dashes.
    pub async fn flags(&self) -> Result<BTreeMap<String, String>> {
        self.call("/api/v1/status/flags", &[]).await
    }

    /// `true` when `--enable-feature` lists `exemplar-storage`.
    pub async fn exemplar_storage_enabled(&self) -> Result<bool> {
        let flags = self.flags().await?;
        Ok(flags
            .get("enable-feature")
            .is_some_and(|features| features.split(',').any(|f| f.trim() == "exemplar-storage")))
    }

    /// The loaded configuration, as YAML text.
    pub async fn config_yaml(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Config {
            yaml: String,
        }
        let config: Config = self.call("/api/v1/status/config", &[]).await?;
        Ok(config.yaml)
    }

    pub async fn targets(&self) -> Result<Vec<Target>> {
        let targets: Targets = self.call("/api/v1/targets", &[("state", "active")]).await?;
        Ok(targets.active_targets)
    }

    /// `version` of `/api/v1/status/buildinfo`.
    pub async fn build_version(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct BuildInfo {
            version: String,
        }
        let info: BuildInfo = self.call("/api/v1/status/buildinfo", &[]).await?;
        Ok(info.version)
    }

    /// The value of an instant query that returns one sample or a scalar (0 when empty).
    pub async fn query_scalar(&self, expr: &str) -> Result<f64> {
        let data: Value = self.call("/api/v1/query", &[("query", expr)]).await?;
        let value = match data["resultType"].as_str() {
            Some("scalar") => &data["result"][1],
            _ => &data["result"][0]["value"][1],
        };
        Ok(value
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0))
    }

    async fn call<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let url = endpoint_with_query(&self.base, path, query);
        let answer = self.http.get(&url, Some("application/json")).await?;
        // Prometheus answers errors with 4xx/5xx *and* the envelope: read it either way.
        let envelope: Envelope = match answer.json(&url) {
            Ok(envelope) => envelope,
            Err(_) if !answer.status.is_success() => return Err(answer.unexpected(&url)),
            Err(err) => return Err(err),
        };
        if envelope.status != "success" {
            return Err(Error::Prometheus {
                url: url.to_string(),
                error_type: envelope.error_type,
                error: envelope.error,
            });
        }
        serde_json::from_value(envelope.data).map_err(|e| Error::shape(&url, e.to_string()))
    }
}
