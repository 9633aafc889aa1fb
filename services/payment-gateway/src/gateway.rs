//! The charge pipeline: deduplicate, simulate the provider, decide, store, answer.
//!
//! ```text
//! POST /v1/charges ─► find by Idempotency-Key ─► found: same request? replay : 422 reuse
//!                        │ not found
//!                        ▼
//!                   charge.process span: sleep(latency model × scale + injected latency_ms),
//!                   draw the outcome from the faults, then
//!                     error    → 503, nothing stored
//!                     declined → store, 402
//!                     timeout  → store as succeeded, then hold the answer for 120 s
//!                     else     → store, 201
//! ```
//!
//! Concurrent requests with one key each run the pipeline, but only one insert can win the
//! unique index; the others discard their own decision and answer the winner's stored response.
//! So every caller sees the same charge, and the key is charged at most once.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use contract::{
    Charge, ChargeId, ChargeRequest, ChargeStatus, DeclineDetails, IdempotencyKey, InvalidCharge,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tracing::field::Empty;
use tracing::Instrument;

use crate::domain::{latency, Faults, FaultsPatch, InvalidFault, LatencyScale, Outcome};
use crate::error::{decline_problem, ApiError};
use crate::metrics::GatewayMetrics;
use crate::store::{charges, ChargeStore, Inserted};

/// How long a simulated timeout holds the answer. Not scaled by `GATEWAY_LATENCY_SCALE`: it
/// must outlast any sensible caller timeout (the order service's default is 10 s) even in
/// tests, which shrink the latency model to nothing.
pub const HANG: Duration = Duration::from_secs(120);

/// The answer to a charge request, first time or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeReply {
    pub charge_id: String,
    /// 201 or 402.
    pub status: u16,
    /// The exact JSON body, as stored.
    pub body: String,
    /// `true` when this is a stored answer given again (`Idempotent-Replayed: true`).
    pub replayed: bool,
}

/// Why a charge request got no charge.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// A simulated provider failure; nothing was stored, a retry may succeed.
    #[error("simulated gateway error")]
    GatewayError,
    #[error("the Idempotency-Key was already used with a different request")]
    KeyReuse,
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
    #[error("rendering the charge")]
    Render(#[from] serde_json::Error),
    #[error("a stored charge is invalid")]
    StoredCharge(#[from] InvalidCharge),
}

impl From<ChargeError> for ApiError {
    fn from(e: ChargeError) -> Self {
        match e {
            ChargeError::GatewayError => Self::GatewayError,
            ChargeError::KeyReuse => Self::IdempotencyKeyReuse,
            ChargeError::Database(e) => Self::Database(e),
            e @ (ChargeError::Render(_) | ChargeError::StoredCharge(_)) => {
                Self::Unexpected(anyhow::Error::new(e))
            }
        }
    }
}

/// The live fault settings, shared by every worker (one instance per process, created before
/// the `HttpServer` factory). A std `RwLock`: held only to copy or swap four numbers, never
/// across an `.await`.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch {
    current: Arc<RwLock<Faults>>,
}

impl FaultSwitch {
    pub fn new(initial: Faults) -> Self {
        Self {
            current: Arc::new(RwLock::new(initial)),
        }
    }

    pub fn get(&self) -> Faults {
        *self.current.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `patch` atomically (validated first: an invalid patch changes nothing) and
    /// returns the new settings. Changes are logged at warn: a fault left on is an incident.
    pub fn update(&self, patch: &FaultsPatch) -> Result<Faults, Vec<InvalidFault>> {
        let (before, after) = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            let before = *current;
            *current = before.patched(patch)?;
            (before, *current)
        };
        if before != after {
            tracing::warn!(
                faults.latency_ms = after.latency_ms,
                faults.error_rate = after.error_rate,
                faults.timeout_rate = after.timeout_rate,
                faults.decline_rate = after.decline_rate,
                previous = ?before,
                "gateway faults changed"
            );
        }
        Ok(after)
    }
}

/// The gateway: one per process, shared by every worker.
pub struct Gateway {
    store: ChargeStore,
    faults: FaultSwitch,
    // One generator for the process so that `GATEWAY_SEED` reproduces a sequential run. A std
    // mutex: locked only for a few draws, never across an `.await`.
    rng: Mutex<StdRng>,
    latency_scale: LatencyScale,
    metrics: GatewayMetrics,
}

/// What [`Gateway::process`] decided.
enum Decided {
    Answer(ChargeReply),
    /// A simulated timeout: the charge is stored; answer only after [`HANG`].
    Hang(ChargeReply),
}

impl Gateway {
    pub fn new(
        store: ChargeStore,
        faults: FaultSwitch,
        latency_scale: LatencyScale,
        seed: Option<u64>,
        metrics: GatewayMetrics,
    ) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        Self {
            store,
            faults,
            rng: Mutex::new(rng),
            latency_scale,
            metrics,
        }
    }

    pub fn store(&self) -> &ChargeStore {
        &self.store
    }

    /// Charges at most once per idempotency key; see the module docs.
    pub async fn charge(
        &self,
        key: &IdempotencyKey,
        request: &ChargeRequest,
    ) -> Result<ChargeReply, ChargeError> {
        let fingerprint = crate::domain::fingerprint(request);
        if let Some(existing) = self.store.find_by_key(key.as_ref()).await? {
            return self.replay(existing, &fingerprint);
        }
        let span = tracing::info_span!(
            "charge.process",
            otel.kind = "internal",
            payment.method = request.method.as_str(),
            gateway.delay_ms = Empty,
            charge.outcome = Empty,
            charge.id = Empty,
        );
        match self
            .process(key, request, &fingerprint)
            .instrument(span)
            .await?
        {
            Decided::Answer(reply) => Ok(reply),
            Decided::Hang(reply) => {
                tracing::warn!(charge.id = %reply.charge_id, hang_s = HANG.as_secs(), "simulated timeout: the charge is stored, holding the answer");
                tokio::time::sleep(HANG).await;
                Ok(reply)
            }
        }
    }

    async fn process(
        &self,
        key: &IdempotencyKey,
        request: &ChargeRequest,
        fingerprint: &str,
    ) -> Result<Decided, ChargeError> {
        let method = request.method;
        let faults = self.faults.get();
        let (latency, outcome) = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (latency::sample(method, &mut *rng), faults.decide(&mut *rng))
        };
        let delay = self.latency_scale.apply(latency) + Duration::from_millis(faults.latency_ms);
        let span = tracing::Span::current();
        span.record("gateway.delay_ms", delay.as_millis() as u64);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        // Observed after the sleep so the exemplar's span has the duration it describes.
        self.metrics.simulated_latency(method, delay);
        span.record("charge.outcome", outcome.as_str());

        if outcome == Outcome::GatewayError {
            self.metrics.decided(method, outcome);
            tracing::info!(
                charge.outcome = outcome.as_str(),
                payment.method = method.as_str(),
                "charge decided"
            );
            return Err(ChargeError::GatewayError);
        }

        let status = match outcome {
            Outcome::Declined(code) => ChargeStatus::Declined(code),
            _ => ChargeStatus::Succeeded,
        };
        let charge = Charge {
            id: new_charge_id(),
            status,
            amount: request.amount,
            currency: request.currency,
            method,
            country: request.country,
            reference: request.reference.clone(),
            created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        };
        let (response_status, response_body) = match status {
            ChargeStatus::Declined(decline_code) => {
                let problem = decline_problem(&DeclineDetails {
                    charge_id: charge.id.clone(),
                    decline_code,
                });
                (problem.status().as_u16(), problem.body_text())
            }
            ChargeStatus::Succeeded => (201, serde_json::to_string(&charge)?),
        };
        let row = charges::Model {
            id: charge.id.to_string(),
            idempotency_key: key.as_ref().to_owned(),
            request_hash: fingerprint.to_owned(),
            amount_cents: charge.amount.cents().get(),
            currency: charge.currency.as_str().to_owned(),
            payment_method: method.as_str().to_owned(),
            country: charge.country.as_str().to_owned(),
            reference: charge.reference.as_ref().to_owned(),
            status: status.as_str().to_owned(),
            decline_code: status.decline_code().map(|c| c.as_str().to_owned()),
            response_status: i32::from(response_status),
            response_body,
            created_at: charge.created_at,
        };
        let reply = ChargeReply {
            charge_id: row.id.clone(),
            status: row.response_status as u16,
            body: row.response_body.clone(),
            replayed: false,
        };

        match self.store.insert(row).await? {
            Inserted::New => {
                span.record("charge.id", reply.charge_id.as_str());
                self.metrics.decided(method, outcome);
                tracing::info!(
                    charge.id = %reply.charge_id,
                    charge.outcome = outcome.as_str(),
                    payment.method = method.as_str(),
                    amount_cents = request.amount.cents().get(),
                    "charge decided"
                );
                Ok(match outcome {
                    Outcome::Timeout => Decided::Hang(reply),
                    _ => Decided::Answer(reply),
                })
            }
            Inserted::Existing(winner) => {
                // A concurrent request with the same key stored its charge first: ours never
                // happened, and this caller gets the winner's answer like any retry.
                tracing::info!(charge.id = %winner.id, "a concurrent request with the same Idempotency-Key won; replaying its charge");
                span.record("charge.outcome", "replayed");
                self.replay(*winner, fingerprint).map(Decided::Answer)
            }
        }
    }

    fn replay(
        &self,
        stored: charges::Model,
        fingerprint: &str,
    ) -> Result<ChargeReply, ChargeError> {
        if stored.request_hash != fingerprint {
            self.metrics.replay("key_reuse");
            tracing::info!(charge.id = %stored.id, "Idempotency-Key reused with a different request");
            return Err(ChargeError::KeyReuse);
        }
        self.metrics.replay("replayed");
        tracing::info!(charge.id = %stored.id, charge.status = %stored.status, "idempotent replay of a stored charge");
        Ok(ChargeReply {
            charge_id: stored.id,
            status: u16::try_from(stored.response_status).unwrap_or(500),
            body: stored.response_body,
            replayed: true,
        })
    }

    /// The charge made under `key`, if any.
    pub async fn find_by_key(&self, key: &IdempotencyKey) -> Result<Option<Charge>, ChargeError> {
        match self.store.find_by_key(key.as_ref()).await? {
            Some(row) => Ok(Some(row.charge()?)),
            None => Ok(None),
        }
    }

    /// Looks a charge up by id.
    pub async fn find(&self, id: &str) -> Result<Option<Charge>, ChargeError> {
        match self.store.find_by_id(id).await? {
            Some(row) => Ok(Some(row.charge()?)),
            None => Ok(None),
        }
    }
}

/// `ch_` + a random UUID v4 — deliberately not from `GATEWAY_SEED`: a seeded run restarted on
/// the same database would otherwise mint ids that already exist.
fn new_charge_id() -> ChargeId {
    ChargeId::from_uuid(uuid::Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_ids_are_prefixed_and_unique() {
        let a = new_charge_id();
        assert!(
            a.as_str().starts_with("ch_") && a.as_str().len() == 35,
            "{a}"
        );
        assert_ne!(a, new_charge_id());
    }
}
