//! [`RateLimiter`]: both tiers decided per request — in Redis when configured, in process
//! otherwise or while Redis is away — and the draft-10 headers that describe the decision.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use telemetry::CounterFamily;

use super::decision::{Decision, Limits, Tier};
use super::gcra::{self, Quota};
use super::local::LocalLimiter;
use super::redis::RedisLimiter;
use crate::domain::ApiKeys;

#[derive(Debug, Clone)]
pub struct RateLimitMetrics {
    limited: Arc<CounterFamily>,
    fallback: Arc<CounterFamily>,
}

impl RateLimitMetrics {
    pub fn new(telemetry: &telemetry::Telemetry) -> Self {
        let metrics = Self {
            limited: telemetry.counter(
                "webstore_rate_limited",
                "Requests refused with 429, by the tier that refused them.",
                &["tier"],
            ),
            fallback: telemetry.counter(
                "webstore_rate_limit_fallback",
                "Rate-limit decisions made by the in-process limiter because Redis was unreachable, by tier.",
                &["tier"],
            ),
        };
        // At 0 from the first scrape, so that `increase()` sees the first refusal after a
        // restart (see `OrderMetrics::new`).
        for tier in Tier::ALL {
            metrics.limited.get(&[tier.as_str()]);
            metrics.fallback.get(&[tier.as_str()]);
        }
        metrics
    }
}

/// A refused request, as the 429 describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub tier: Tier,
    pub quota: Option<Quota>,
    /// Whole seconds until a retry can pass.
    pub retry_after: u64,
    /// The draft-10 headers of the refusing tier.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    local: LocalLimiter,
    redis: Option<RedisLimiter>,
    metrics: RateLimitMetrics,
}

impl RateLimiter {
    pub fn new(limits: Limits, redis: Option<RedisLimiter>, metrics: RateLimitMetrics) -> Self {
        Self {
            limits,
            local: LocalLimiter::default(),
            redis,
            metrics,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `Some(up)` when Redis is configured, for `/readyz` (informational only).
    pub async fn redis_up(&self) -> Option<bool> {
        match &self.redis {
            Some(r) => Some(r.ping().await),
            None => None,
        }
    }

    /// Decides one request of `client` (an opaque id, see [`client_id`]).
    pub async fn check(&self, client: &str) -> Decision {
        let client_tier = self.limits.client.as_ref().map(|q| (q, client));
        let global_tier = self.limits.global.as_ref();
        if client_tier.is_none() && global_tier.is_none() {
            return Decision::default();
        }
        let decision = match &self.redis {
            None => self.local.check(client_tier, global_tier),
            Some(redis) => match redis.check(client_tier, global_tier).await {
                Ok(d) => d,
                Err(_) => {
                    // Logged once per outage by the Redis runner; counted every time here.
                    for tier in [Tier::Client, Tier::Global] {
                        if self.limits.quota(tier).is_some() {
                            self.metrics.fallback.get(&[tier.as_str()]).inc();
                        }
                    }
                    self.local.check(client_tier, global_tier)
                }
            },
        };
        if let Some(tier) = decision.denied() {
            self.metrics.limited.get(&[tier.as_str()]).inc();
        }
        decision
    }

    /// The draft-10 headers for `decision`: on a refusal the refusing tier's; otherwise the
    /// client tier's (the one a client can act on), or the global one when only it is on.
    /// Names are lower case, as HTTP/2 sends them.
    pub fn headers(&self, decision: &Decision) -> Vec<(&'static str, String)> {
        let tier = decision.denied().unwrap_or(if decision.client.is_some() {
            Tier::Client
        } else {
            Tier::Global
        });
        let (Some(quota), Some(verdict)) = (self.limits.quota(tier), decision.verdict(tier)) else {
            return Vec::new();
        };
        let name = tier.as_str();
        vec![
            (
                "ratelimit-policy",
                format!("\"{name}\";q={};w={}", quota.limit, quota.window_secs()),
            ),
            (
                "ratelimit",
                format!(
                    "\"{name}\";r={};t={}",
                    verdict.remaining,
                    gcra::ceil_secs(verdict.reset)
                ),
            ),
        ]
    }

    /// What the 429 for a refused `decision` says.
    pub fn refusal(&self, decision: &Decision) -> Refusal {
        let tier = decision.denied().unwrap_or(Tier::Client);
        let retry_after = decision
            .verdict(tier)
            .map_or(Duration::ZERO, |v| v.retry_after);
        Refusal {
            tier,
            quota: self.limits.quota(tier),
            retry_after: gcra::ceil_secs(retry_after),
            headers: self.headers(decision),
        }
    }
}

/// Who a request counts against: its API key's entry when the key is valid, else the client's
/// address — the TCP peer, or what a proxy in `TRUSTED_PROXIES` says the client is
/// (`service_kit::client_ip`). `bearer` and `api_key` are the single values of those headers
/// (a repeated header counts as absent).
pub fn client_id(
    api_keys: &ApiKeys,
    bearer: Option<&str>,
    api_key: Option<&str>,
    client_ip: Option<IpAddr>,
) -> String {
    if let Some(id) = api_keys.key_id(bearer, api_key) {
        return format!("key:{id}");
    }
    match client_ip {
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_owned(),
    }
}
