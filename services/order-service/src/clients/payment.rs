use std::time::Duration;

use serde::{Deserialize, Serialize};
use telemetry::{SpanIds, TracedClient};

/// What the gateway is asked to charge. `reference` is the order id.
#[derive(Debug, Serialize)]
pub struct ChargeRequest<'a> {
    pub amount_cents: i64,
    pub currency: &'a str,
    pub payment_method: &'a str,
    pub country: &'a str,
    pub reference: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Paid {
        charge_id: String,
    },
    Declined {
        charge_id: Option<String>,
        decline_code: Option<String>,
    },
    /// 5xx, an unreadable answer, or the gateway unreachable: the charge did not happen.
    Failed {
        detail: String,
    },
    /// No answer within `PAYMENT_TIMEOUT`: the charge may or may not have happened.
    Timeout,
}

impl ChargeOutcome {
    /// The `outcome` label of `webstore_payment_duration_seconds`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Paid { .. } => "paid",
            Self::Declined { .. } => "declined",
            Self::Failed { .. } => "error",
            Self::Timeout => "timeout",
        }
    }
}

/// The outcome, how long the call took and the client span that timed it — the payment
/// histogram's exemplar.
#[derive(Debug)]
pub struct ChargeResult {
    pub outcome: ChargeOutcome,
    pub elapsed: Duration,
    pub span_ids: Option<SpanIds>,
}

#[derive(Deserialize)]
struct Charged {
    id: String,
}

#[derive(Deserialize)]
struct DeclinedBody {
    charge_id: Option<String>,
    decline_code: Option<String>,
}

#[derive(Clone, Debug)]
pub struct PaymentClient {
    http: TracedClient,
    base_url: String,
    timeout: Duration,
}

impl PaymentClient {
    pub fn new(http: TracedClient, base_url: String, timeout: Duration) -> Self {
        Self {
            http,
            base_url,
            timeout,
        }
    }

    /// Charges once per `idempotency_key`: the gateway deduplicates on it, so a retry after a
    /// timeout settles the same charge instead of taking the money twice.
    pub async fn charge(&self, idempotency_key: &str, charge: &ChargeRequest<'_>) -> ChargeResult {
        let request = match self
            .http
            .inner()
            .post(format!("{}/v1/charges", self.base_url))
            .header("Idempotency-Key", idempotency_key)
            .json(charge)
            .timeout(self.timeout)
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                return ChargeResult {
                    outcome: ChargeOutcome::Failed {
                        detail: e.to_string(),
                    },
                    elapsed: Duration::ZERO,
                    span_ids: None,
                }
            }
        };
        let sent = self.http.send(request, "/v1/charges").await;
        let outcome = match sent.result {
            Err(e) if e.is_timeout() => ChargeOutcome::Timeout,
            Err(e) => ChargeOutcome::Failed {
                detail: format!("gateway unreachable: {e}"),
            },
            Ok(res) => match res.status().as_u16() {
                200 | 201 => match res.json::<Charged>().await {
                    Ok(c) => ChargeOutcome::Paid { charge_id: c.id },
                    Err(e) if e.is_timeout() => ChargeOutcome::Timeout,
                    Err(e) => ChargeOutcome::Failed {
                        detail: format!("unreadable charge: {e}"),
                    },
                },
                402 => {
                    let body = res.json::<DeclinedBody>().await.ok();
                    ChargeOutcome::Declined {
                        charge_id: body.as_ref().and_then(|b| b.charge_id.clone()),
                        decline_code: body.and_then(|b| b.decline_code),
                    }
                }
                status => ChargeOutcome::Failed {
                    detail: format!("gateway answered {status}"),
                },
            },
        };
        ChargeResult {
            outcome,
            elapsed: sent.elapsed,
            span_ids: sent.span_ids,
        }
    }
}
