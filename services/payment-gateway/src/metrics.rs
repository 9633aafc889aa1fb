//! The gateway's own metrics, next to the shared HTTP ones. Names as exposed on `/metrics`
//! (the encoder adds `_total` to counters):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `webstore_gateway_charges_total` | counter | `payment_method`, `outcome` (`succeeded`/`declined`/`timeout`/`error`) |
//! | `webstore_gateway_idempotent_replays_total` | counter | `result` (`replayed`/`key_reuse`) |
//! | `webstore_gateway_simulated_latency_seconds` | histogram (exemplars: the `charge.process` span) | `payment_method` |

use std::sync::Arc;
use std::time::Duration;

use telemetry::{CounterFamily, Exemplar, HistogramFamily};

use contract::PaymentMethod;

use crate::domain::Outcome;

/// Covers the model from the fastest body sample to the 30 s cap.
pub const SIMULATED_LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0,
];

#[derive(Clone)]
pub struct GatewayMetrics {
    charges: Arc<CounterFamily>,
    replays: Arc<CounterFamily>,
    latency: Arc<HistogramFamily>,
}

impl GatewayMetrics {
    pub fn new(telemetry: &telemetry::Telemetry) -> Self {
        Self {
            charges: telemetry.counter(
                "webstore_gateway_charges",
                "Charges decided by the mock gateway, by outcome.",
                &["payment_method", "outcome"],
            ),
            replays: telemetry.counter(
                "webstore_gateway_idempotent_replays",
                "Charge requests answered from a stored charge (replayed) or refused for reusing a key with another body (key_reuse).",
                &["result"],
            ),
            latency: telemetry.histogram(
                "webstore_gateway_simulated_latency_seconds",
                "Simulated provider latency slept per charge (model × GATEWAY_LATENCY_SCALE + injected latency_ms).",
                &["payment_method"],
                SIMULATED_LATENCY_BUCKETS,
            ),
        }
    }

    pub fn decided(&self, method: PaymentMethod, outcome: Outcome) {
        self.charges.get(&[method.as_str(), outcome.as_str()]).inc();
    }

    pub fn replay(&self, result: &str) {
        self.replays.get(&[result]).inc();
    }

    /// Observed inside the `charge.process` span, which becomes the exemplar when sampled.
    pub fn simulated_latency(&self, method: PaymentMethod, delay: Duration) {
        self.latency
            .get(&[method.as_str()])
            .observe(delay.as_secs_f64(), Exemplar::CurrentSpan);
    }
}
