//! What the routes and middleware share, one per process. A leaf: it holds parts from the
//! modules below the HTTP edge, and none of them imports it back.

use std::time::Duration;

use service_kit::client_ip::TrustedProxies;
use service_kit::drain::Drain;

use crate::checkout::Checkout;
use crate::domain::ApiKeys;
use crate::metrics::OrderMetrics;
use crate::ratelimit::RateLimiter;
use crate::store::OrderStore;

/// Shared by every worker (`web::Data`): cheap to reach, no per-request locking.
pub struct AppState {
    pub checkout: Checkout,
    pub orders: OrderStore,
    pub api_keys: ApiKeys,
    pub rate_limiter: RateLimiter,
    pub metrics: OrderMetrics,
    /// Longest an API request may take (`REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// The process's shutdown: checkouts run as its tracked work; `/readyz` reads it.
    pub drain: Drain,
    /// Whose forwarding header names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}
