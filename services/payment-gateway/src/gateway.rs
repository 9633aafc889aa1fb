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

use actix_web::http::StatusCode;
use actix_web::ResponseError;
use rand::rngs::StdRng;
use rand::SeedableRng;
use service_kit::problem::FieldError;
use service_kit::Problem;
use tracing::field::Empty;
use tracing::Instrument;

use crate::domain::{
    latency, ChargeId, ChargeRequest, ChargeStatus, Faults, FaultsPatch, IdempotencyKey,
    LatencyScale, Outcome,
};
use crate::error::ApiError;
use crate::metrics::GatewayMetrics;
use crate::schema::ChargeView;
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
    pub fn update(&self, patch: &FaultsPatch) -> Result<Faults, Vec<FieldError>> {
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
    ) -> Result<ChargeReply, ApiError> {
        let fingerprint = request.fingerprint();
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
    ) -> Result<Decided, ApiError> {
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
            return Err(ApiError::GatewayError);
        }

        let id = ChargeId::generate();
        let mut row = charges::Model {
            id: id.to_string(),
            idempotency_key: key.as_ref().to_owned(),
            request_hash: fingerprint.to_owned(),
            amount_cents: request.amount.cents(),
            currency: request.currency.as_str().to_owned(),
            payment_method: method.as_str().to_owned(),
            country: request.country.as_str().to_owned(),
            reference: request.reference.as_ref().to_owned(),
            status: ChargeStatus::Succeeded.as_str().to_owned(),
            decline_code: None,
            response_status: 201,
            response_body: String::new(),
            created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        };
        if let Outcome::Declined(code) = outcome {
            row.status = ChargeStatus::Declined.as_str().to_owned();
            row.decline_code = Some(code.as_str().to_owned());
            row.response_status = 402;
            row.response_body = declined_body(&row).await?;
        } else {
            row.response_body = serde_json::to_string(&ChargeView::from(&row))
                .map_err(|e| anyhow::Error::new(e).context("rendering the charge"))?;
        }
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
                    amount_cents = request.amount.cents(),
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

    fn replay(&self, stored: charges::Model, fingerprint: &str) -> Result<ChargeReply, ApiError> {
        if stored.request_hash != fingerprint {
            self.metrics.replay("key_reuse");
            tracing::info!(charge.id = %stored.id, "Idempotency-Key reused with a different request");
            return Err(ApiError::IdempotencyKeyReuse);
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

    /// Looks a charge up by id.
    pub async fn find(&self, id: &str) -> Result<ChargeView, ApiError> {
        match self.store.find_by_id(id).await? {
            Some(row) => Ok(ChargeView::from(&row)),
            None => Err(ApiError::ChargeNotFound(id.to_owned())),
        }
    }
}

/// The 402 problem body, rendered once by `service_kit::Problem` (so it has the same shape as
/// every other error, including the `trace_id`) and stored for replays.
async fn declined_body(row: &charges::Model) -> Result<String, ApiError> {
    let code = row.decline_code.as_deref().unwrap_or("card_declined");
    let problem = Problem::new(
        StatusCode::PAYMENT_REQUIRED,
        "payment-declined",
        "Payment declined",
    )
    .detail(format!("the issuer declined the charge ({code})"))
    .with("charge_id", row.id.as_str())
    .with("decline_code", code);
    let bytes = actix_web::body::to_bytes(problem.error_response().into_body())
        .await
        .map_err(|e| anyhow::anyhow!("rendering the decline problem: {e}"))?;
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        anyhow::Error::new(e)
            .context("decline problem is not UTF-8")
            .into()
    })
}
