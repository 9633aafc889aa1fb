//! Two-tier rate limiting: `client` (per API key, or per IP address for requests without a
//! valid key) and `global` (all clients of all replicas together).
//!
//! With `REDIS_URL`, both tiers are decided in Redis by one atomic script call, so every
//! replica enforces the same limits. Without it, each process enforces them on its own.
//!
//! **Redis unreachable at runtime:** both tiers *fail over to the in-process limiter* — never
//! closed (a cache outage must not become a checkout outage, and an attacker who can knock
//! Redis over must not thereby shut the shop), and never fully open (an outage during a flood
//! would otherwise remove all protection: each replica still enforces the full quota on its
//! own, so limits loosen by the replica count at worst). Each such decision is counted in
//! `webstore_rate_limit_fallback_total{tier}`.
//!
//! Answers carry the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10):
//! `RateLimit-Policy: "client";q=20;w=1` and `RateLimit: "client";r=19;t=1` on every limited
//! route; a refusal is 429 problem+json naming the tier, with `Retry-After`.

mod decision;
pub mod gcra;
mod local;
pub mod redis;

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use service_kit::Problem;
use telemetry::metrics::CounterFamily;

pub use decision::{Decision, Limits, Tier};
pub use gcra::{Quota, Verdict};
pub use local::LocalLimiter;
pub use redis::{RedisLimitError, RedisLimiter};

use crate::startup::AppState;

#[derive(Debug, Clone)]
pub struct RateLimitMetrics {
    limited: Arc<CounterFamily>,
    fallback: Arc<CounterFamily>,
}

impl RateLimitMetrics {
    pub fn new(registry: &telemetry::Registry) -> Self {
        Self {
            limited: registry.counter(
                "webstore_rate_limited",
                "Requests refused with 429, by the tier that refused them.",
                &["tier"],
            ),
            fallback: registry.counter(
                "webstore_rate_limit_fallback",
                "Rate-limit decisions made by the in-process limiter because Redis was unreachable, by tier.",
                &["tier"],
            ),
        }
    }
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

    /// Decides one request of `client` (an opaque id: `key:<…>` or `ip:<…>`).
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
                    // Logged once per outage by the Redis limiter; counted every time here.
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
    pub fn headers(&self, decision: &Decision) -> Vec<(HeaderName, HeaderValue)> {
        let tier = decision.denied().unwrap_or(if decision.client.is_some() {
            Tier::Client
        } else {
            Tier::Global
        });
        let verdict = match tier {
            Tier::Client => decision.client,
            Tier::Global => decision.global,
        };
        let (Some(quota), Some(verdict)) = (self.limits.quota(tier), verdict) else {
            return Vec::new();
        };
        let name = tier.as_str();
        let policy = format!("\"{name}\";q={};w={}", quota.limit, quota.window_secs());
        let limit = format!(
            "\"{name}\";r={};t={}",
            verdict.remaining,
            gcra::ceil_secs(verdict.reset)
        );
        [("ratelimit-policy", policy), ("ratelimit", limit)]
            .into_iter()
            .filter_map(|(n, v)| {
                Some((HeaderName::from_static(n), HeaderValue::from_str(&v).ok()?))
            })
            .collect()
    }

    /// The 429 for a refused `decision`.
    pub fn problem(&self, decision: &Decision) -> Problem {
        let tier = decision.denied().unwrap_or(Tier::Client);
        let verdict = match tier {
            Tier::Client => decision.client,
            Tier::Global => decision.global,
        };
        let retry_after = gcra::ceil_secs(verdict.map(|v| v.retry_after).unwrap_or_default());
        let quota = self.limits.quota(tier);
        let detail = match (tier, quota) {
            (Tier::Client, Some(q)) => format!(
                "more than {} requests in {} s from this client; retry after {retry_after} s",
                q.limit,
                q.window_secs()
            ),
            (Tier::Global, Some(q)) => format!(
                "the store is taking more than {} requests in {} s from all clients; retry after {retry_after} s",
                q.limit,
                q.window_secs()
            ),
            _ => format!("retry after {retry_after} s"),
        };
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
        )
        .detail(detail)
        .with("tier", tier.as_str())
        .header("Retry-After", retry_after.to_string());
        for (name, value) in self.headers(decision) {
            if let Ok(v) = value.to_str() {
                let name = if name == "ratelimit-policy" {
                    "RateLimit-Policy"
                } else {
                    "RateLimit"
                };
                problem = problem.header(name, v);
            }
        }
        problem
    }
}

/// Who a request counts against: its API key's entry when the key is valid, else its TCP peer
/// address. The `Forwarded`/`X-Forwarded-For` headers are not trusted — any client can write
/// them; behind a proxy, the proxy's address is what this sees (see the security docs).
pub fn client_id(req: &ServiceRequest, state: &AppState) -> String {
    let one = |name: &str| -> Option<&str> {
        let mut values = req.headers().get_all(name);
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    };
    let bearer = one("authorization").map(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or("")
            .trim()
    });
    let api_key = one("x-api-key").map(str::trim);
    if let Some(id) = state.api_keys.key_id(bearer, api_key) {
        return format!("key:{id}");
    }
    match req.peer_addr() {
        Some(addr) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".to_owned(),
    }
}

/// The middleware (`middleware::from_fn`) around the API scope.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let limiter = &state.rate_limiter;
    let decision = limiter.check(&client_id(&req, &state)).await;
    if !decision.allowed() {
        tracing::debug!(
            rate_limit.tier = decision.denied().map(Tier::as_str),
            "request refused by the rate limiter"
        );
        let response = limiter.problem(&decision).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    for (name, value) in limiter.headers(&decision) {
        response.headers_mut().insert(name, value);
    }
    Ok(response.map_into_left_body())
}
