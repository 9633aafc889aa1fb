//! The payment gateway's fault API (`GET/PUT /admin/faults`, bearer `ADMIN_TOKEN`), and putting
//! back what a scenario changed.

use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::{endpoint, Http};

/// The gateway's fault settings, as `GET /admin/faults` answers them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    pub latency_ms: u64,
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub decline_rate: f64,
}

/// A `PUT /admin/faults` body: the given fields replace the current ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FaultsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_rate: Option<f64>,
}

impl FaultsPatch {
    /// The values `saved` had for exactly the fields this patch sets: applying it undoes this one.
    pub fn undo(&self, saved: &Faults) -> FaultsPatch {
        FaultsPatch {
            latency_ms: self.latency_ms.map(|_| saved.latency_ms),
            error_rate: self.error_rate.map(|_| saved.error_rate),
            timeout_rate: self.timeout_rate.map(|_| saved.timeout_rate),
            decline_rate: self.decline_rate.map(|_| saved.decline_rate),
        }
    }

    /// `latency_ms=6000 decline_rate=0.6`, for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.latency_ms {
            parts.push(format!("latency_ms={v}"));
        }
        if let Some(v) = self.error_rate {
            parts.push(format!("error_rate={v}"));
        }
        if let Some(v) = self.timeout_rate {
            parts.push(format!("timeout_rate={v}"));
        }
        if let Some(v) = self.decline_rate {
            parts.push(format!("decline_rate={v}"));
        }
        parts.join(" ")
    }
}

/// The fault API of one gateway.
#[derive(Clone, Debug)]
pub struct FaultApi {
    http: Http,
    url: Url,
    token: String,
}

impl FaultApi {
    pub fn new(http: Http, gateway: &Url, token: impl Into<String>) -> FaultApi {
        FaultApi {
            http,
            url: endpoint(gateway, "/admin/faults"),
            token: token.into(),
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub async fn get(&self) -> Result<Faults> {
        let answer = self
            .http
            .client()
            .get(self.url.clone())
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|source| Error::Unreachable {
                url: self.url.to_string(),
                source,
            })?;
        let status = answer.status();
        self.check(status)?;
        answer
            .json()
            .await
            .map_err(|e| Error::shape(&self.url, e.to_string()))
    }

    /// Applies `patch`; returns the settings now in force.
    pub async fn put(&self, patch: &FaultsPatch) -> Result<Faults> {
        let body = serde_json::to_value(patch).map_err(|e| Error::Invalid(e.to_string()))?;
        let answer = self
            .http
            .send_json(Method::PUT, &self.url, Some(&self.token), &body)
            .await?;
        self.check(answer.status)?;
        if answer.status != StatusCode::OK {
            return Err(answer.unexpected(&self.url));
        }
        answer.json(&self.url)
    }

    fn check(&self, status: StatusCode) -> Result<()> {
        match status {
            StatusCode::NOT_FOUND => Err(Error::FaultApiMissing {
                url: self.url.to_string(),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::FaultApiRefused {
                url: self.url.to_string(),
                status: status.as_u16(),
            }),
            _ if status.is_success() => Ok(()),
            other => Err(Error::Status {
                url: self.url.to_string(),
                status: other.as_u16(),
                body: String::new(),
            }),
        }
    }

    /// The command that puts `patch` by hand, for when restoring failed.
    pub fn curl(&self, patch: &FaultsPatch) -> String {
        let body = serde_json::to_string(patch).unwrap_or_default();
        format!(
            "curl -X PUT {} -H 'Authorization: Bearer <ADMIN_TOKEN>' -H 'Content-Type: application/json' -d '{body}'",
            self.url
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_restores_exactly_the_fields_a_patch_set() {
        let saved = Faults {
            latency_ms: 0,
            error_rate: 0.0,
            timeout_rate: 0.0,
            decline_rate: 0.02,
        };
        let patch = FaultsPatch {
            decline_rate: Some(0.6),
            ..FaultsPatch::default()
        };
        let undo = patch.undo(&saved);
        assert_eq!(
            serde_json::to_string(&undo).unwrap(),
            r#"{"decline_rate":0.02}"#
        );
        assert_eq!(patch.describe(), "decline_rate=0.6");
    }
}
