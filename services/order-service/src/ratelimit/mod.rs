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
mod limiter;
mod local;
pub mod redis;

pub use decision::{Decision, Limits, Tier};
pub use gcra::{Quota, Verdict};
pub use limiter::{client_id, RateLimitMetrics, RateLimiter, Refusal};
pub use local::LocalLimiter;
pub use redis::{RedisLimitError, RedisLimiter};
