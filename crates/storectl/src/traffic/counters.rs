//! The store's own view of a run: order-service's counters before and after, as deltas.

use std::collections::BTreeMap;

use reqwest::{StatusCode, Url};
use serde::Serialize;

use crate::error::Result;
use crate::http::{endpoint, Http};
use crate::openmetrics::{self, PROMETHEUS_ACCEPT};

/// order-service counters, each by its one label.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counters {
    /// `webstore_orders_total` by `status`.
    pub orders: BTreeMap<String, f64>,
    /// `webstore_rate_limited_total` by `tier`.
    pub rate_limited: BTreeMap<String, f64>,
    /// `webstore_suspicious_activity_total` by `rule`.
    pub suspicious: BTreeMap<String, f64>,
}

impl Counters {
    pub async fn scrape(http: &Http, order: &Url) -> Result<Counters> {
        let url = endpoint(order, "/metrics");
        let answer = http.get(&url, Some(PROMETHEUS_ACCEPT)).await?;
        if answer.status != StatusCode::OK {
            return Err(answer.unexpected(&url));
        }
        let samples = openmetrics::parse(&answer.body);
        Ok(Counters {
            orders: openmetrics::counter_by(&samples, "webstore_orders_total", "status"),
            rate_limited: openmetrics::counter_by(&samples, "webstore_rate_limited_total", "tier"),
            suspicious: openmetrics::counter_by(
                &samples,
                "webstore_suspicious_activity_total",
                "rule",
            ),
        })
    }

    /// What grew between `self` (before) and `after`.
    pub fn delta(&self, after: &Counters) -> Counters {
        Counters {
            orders: openmetrics::delta(&self.orders, &after.orders),
            rate_limited: openmetrics::delta(&self.rate_limited, &after.rate_limited),
            suspicious: openmetrics::delta(&self.suspicious, &after.suspicious),
        }
    }
}
