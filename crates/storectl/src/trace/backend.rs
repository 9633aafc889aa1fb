//! Fetching one trace by id from Tempo or the dev receiver (`crates/otlp-sink`), which answer
//! the same two routes in the same shapes.
//!
//! Like Grafana's Tempo data source: `GET /api/v2/traces/{id}` first, and `GET
//! /api/traces/{id}` when that route answers 404 (Tempo before 2.5 has no v2 API; a 404 there
//! may also just mean "no such trace", which v1 then confirms).

use reqwest::{StatusCode, Url};
use serde::Serialize;

use super::id::TraceId;
use super::model::Trace;
use super::otlp_json::parse_trace;
use crate::error::{Error, Result};
use crate::http::{endpoint, Http};

/// Which route answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Api {
    #[serde(rename = "/api/v2/traces")]
    V2,
    #[serde(rename = "/api/traces")]
    V1,
}

/// The outcome of a lookup that reached the backend.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    Found { trace: Trace, api: Api },
    NotFound,
}

/// A trace backend at `base` (Tempo's HTTP port, or the dev receiver).
#[derive(Clone, Debug)]
pub struct TraceBackend {
    http: Http,
    base: Url,
}

impl TraceBackend {
    pub fn new(http: Http, base: Url) -> TraceBackend {
        TraceBackend { http, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub async fn fetch(&self, trace_id: &TraceId) -> Result<Lookup> {
        for api in [Api::V2, Api::V1] {
            let path = match api {
                Api::V2 => format!("/api/v2/traces/{trace_id}"),
                Api::V1 => format!("/api/traces/{trace_id}"),
            };
            let url = endpoint(&self.base, &path);
            let answer = self.http.get(&url, Some("application/json")).await?;
            match answer.status {
                StatusCode::OK => {
                    let body: serde_json::Value = answer.json(&url)?;
                    let trace = parse_trace(trace_id, &body)
                        .map_err(|e| Error::shape(&url, e.to_string()))?;
                    return Ok(if trace.spans.is_empty() {
                        Lookup::NotFound
                    } else {
                        Lookup::Found { trace, api }
                    });
                }
                StatusCode::NOT_FOUND => continue,
                _ => return Err(answer.unexpected(&url)),
            }
        }
        Ok(Lookup::NotFound)
    }

    /// The backend answers its trace-by-id API at all (any 2xx or 404 for an id nobody sent).
    pub async fn probe(&self) -> Result<()> {
        let url = endpoint(&self.base, "/api/traces/1");
        let answer = self.http.get(&url, Some("application/json")).await?;
        match answer.status.as_u16() {
            200 | 404 => Ok(()),
            _ => Err(answer.unexpected(&url)),
        }
    }
}

/// Why an exemplar's trace may be missing from the backend, for the user to check in order.
pub fn not_found_reasons(backend: &Url) -> Vec<String> {
    vec![
        "not flushed yet: services export spans in batches (OTEL_BSP_SCHEDULE_DELAY, 5 s by \
         default) and Tempo makes them searchable a few seconds later; try again shortly"
            .to_owned(),
        format!(
            "past retention: the dev receiver keeps the newest 200 000 spans in memory and \
             forgets them when it restarts; Tempo keeps blocks for its retention period \
             (infra/tempo/tempo.yaml); {backend} may hold less than Prometheus still has"
        ),
        "sampled out or sent elsewhere: an exemplar names a span its service sampled, but a \
         Collector's tail sampling may still drop the trace, and a service exporting to another \
         OTEL_EXPORTER_OTLP_ENDPOINT than this backend never reaches it"
            .to_owned(),
    ]
}
