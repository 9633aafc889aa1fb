//! The shared limiter: both tiers decided by one Lua script in Redis — one atomic round trip
//! per request, whatever the number of replicas. The script is [`super::gcra::check`] in Lua,
//! timed by Redis's own clock (`TIME`), so replicas with skewed clocks still agree.
//!
//! The script is loaded once (`SCRIPT LOAD`) and then called by its SHA (`EVALSHA`); after a
//! Redis restart (`NOSCRIPT`) it is sent in full once (`EVAL`). That is what `redis::Script`
//! does; it is spelt out here because `redis::Script` needs the crate's `script` feature.
//!
//! Commands run through service-kit's [`RedisRunner`]: each is a client span named after its
//! command, every wait is bounded, and after a connection failure Redis is bypassed for
//! [`RETRY_AFTER`], so an outage costs each request nothing instead of a connect timeout.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use service_kit::redis::{cmd, PoolSettings, PoolSetupError, RedisError, RedisRunner};

use super::decision::Decision;
use super::gcra::{Quota, Verdict};

/// A rate-limit decision that waits is worse than none: Redis on the same network answers in
/// well under a millisecond, so the default bound (`RATE_LIMIT_REDIS_TIMEOUT`) is 250 ms.
fn pool_settings(timeout: Duration) -> PoolSettings {
    PoolSettings {
        connect_timeout: timeout,
        response_timeout: timeout,
        pool_timeout: timeout,
        max_size: 16,
    }
}
/// How long Redis is bypassed after a connection failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// KEYS: client, global. ARGV: client emission and window (µs), global emission and window
/// (µs); an emission of 0 turns a tier off. Returns {client allowed, remaining, reset µs,
/// global allowed, remaining, reset µs}; a tier that is off or not reached answers {1, -1, 0}.
const SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function check(key, emission, window)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + emission
  local ahead = new_tat - now
  if ahead <= window then
    return {1, math.floor((window - ahead) / emission), ahead, new_tat}
  end
  return {0, 0, ahead - window, tat}
end
local c = {1, -1, 0, 0}
local g = {1, -1, 0, 0}
local ce, cw = tonumber(ARGV[1]), tonumber(ARGV[2])
local ge, gw = tonumber(ARGV[3]), tonumber(ARGV[4])
if ce > 0 then c = check(KEYS[1], ce, cw) end
if c[1] == 1 and ge > 0 then g = check(KEYS[2], ge, gw) end
if c[1] == 1 and g[1] == 1 then
  if ce > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', c[4]), 'PX', math.ceil(c[3] / 1000) + 1000)
  end
  if ge > 0 then
    redis.call('SET', KEYS[2], string.format('%.0f', g[4]), 'PX', math.ceil(g[3] / 1000) + 1000)
  end
end
return {c[1], c[2], c[3], g[1], g[2], g[3]}
"#;

#[derive(Debug, thiserror::Error)]
pub enum RedisLimitError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("unexpected script answer {0:?}")]
    Answer(Vec<i64>),
}

#[derive(Debug)]
pub struct RedisLimiter {
    redis: RedisRunner,
    /// `{prefix}`: a hash tag, so both keys of one call live in one Redis Cluster slot.
    prefix: String,
    sha: RwLock<Option<String>>,
}

fn tier_args(quota: Option<&Quota>) -> (i64, i64) {
    quota.map_or((0, 0), |q| (q.emission_us(), q.window_us()))
}

fn verdict(allowed: i64, remaining: i64, reset_us: i64) -> Verdict {
    let reset = Duration::from_micros(u64::try_from(reset_us).unwrap_or(0));
    Verdict {
        allowed: allowed == 1,
        tat_us: 0,
        remaining: u32::try_from(remaining).unwrap_or(0),
        reset,
        retry_after: if allowed == 1 { Duration::ZERO } else { reset },
    }
}

impl RedisLimiter {
    /// Builds the pool; connects lazily, so an unreachable Redis is not an error here.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, PoolSetupError> {
        Ok(Self {
            redis: RedisRunner::new(
                url,
                pool_settings(timeout),
                RETRY_AFTER,
                "rate limits fall back to this process's own limiter",
            )?,
            prefix: format!("{{{prefix}}}"),
            sha: RwLock::new(None),
        })
    }

    /// Both tiers in one round trip. `client` is `None` when that tier is off.
    pub async fn check(
        &self,
        client: Option<(&Quota, &str)>,
        global: Option<&Quota>,
    ) -> Result<Decision, RedisLimitError> {
        let (ce, cw) = tier_args(client.map(|(q, _)| q));
        let (ge, gw) = tier_args(global);
        let client_key = format!("{}:client:{}", self.prefix, client.map_or("", |(_, id)| id));
        let global_key = format!("{}:global", self.prefix);
        let call = |command: &str, script: &str| {
            let mut call = cmd(command);
            call.arg(script).arg(2).arg(&client_key).arg(&global_key);
            call.arg(ce).arg(cw).arg(ge).arg(gw);
            call
        };
        let known = self
            .sha
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sha = match known {
            Some(sha) => sha,
            None => {
                let sha: String = self
                    .redis
                    .run("SCRIPT LOAD", cmd("SCRIPT").arg("LOAD").arg(SCRIPT))
                    .await?;
                *self.sha.write().unwrap_or_else(PoisonError::into_inner) = Some(sha.clone());
                sha
            }
        };
        let answer: Vec<i64> = match self.redis.run("EVALSHA", &call("EVALSHA", &sha)).await {
            // Redis restarted or flushed its scripts: EVAL caches it again.
            Err(e) if e.is_no_script() => self.redis.run("EVAL", &call("EVAL", SCRIPT)).await?,
            other => other?,
        };
        let [c_ok, c_left, c_reset, g_ok, g_left, g_reset] = answer[..] else {
            return Err(RedisLimitError::Answer(answer));
        };
        let client_verdict = client.map(|_| verdict(c_ok, c_left, c_reset));
        let global_verdict = match (global, c_ok) {
            (Some(_), 1) => Some(verdict(g_ok, g_left, g_reset)),
            _ => None,
        };
        Ok(Decision {
            client: client_verdict,
            global: global_verdict,
        })
    }

    /// Ignores the bypass window: `/readyz` wants the truth, and a success ends it early.
    pub async fn ping(&self) -> bool {
        self.redis.ping().await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_then_is_bypassed() {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let limiter =
            RedisLimiter::new("redis://127.0.0.1:1", "t", Duration::from_millis(250)).unwrap();
        let q = Quota::per_second(5);
        let started = Instant::now();
        assert!(limiter.check(Some((&q, "a")), Some(&q)).await.is_err());
        assert!(matches!(
            limiter.check(Some((&q, "a")), Some(&q)).await,
            Err(RedisLimitError::Redis(RedisError::Backoff(_)))
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!limiter.ping().await);
    }
}
