//! The payment gateway, as order-service calls it: typed values in (the order, a
//! [`ChargeAmount`], a [`PaymentMethod`], a [`Country`]), a typed outcome out, parsed at this
//! boundary from the contract's bodies.

use std::time::Duration;

use contract::{
    Charge, ChargeAmount, ChargeId, ChargeRequest, Country, Currency, DeclineCode, DeclineDetails,
    OrderId, PaymentMethod,
};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use telemetry::SpanIds;
use telemetry::TracedClient;

/// What the gateway made of a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Paid {
        charge_id: ChargeId,
    },
    /// `None` members: the gateway declined (402) but its problem body was unreadable.
    Declined {
        charge_id: Option<ChargeId>,
        decline_code: Option<DeclineCode>,
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

#[derive(Clone, Debug)]
pub struct PaymentClient {
    http: TracedClient,
    base_url: String,
    timeout: Duration,
    /// `Authorization: Bearer <PAYMENT_GATEWAY_API_KEY>`, marked sensitive so no log or
    /// debug print shows it.
    authorization: Option<HeaderValue>,
}

impl PaymentClient {
    pub fn new(http: TracedClient, base_url: String, timeout: Duration) -> Self {
        Self {
            http,
            base_url,
            timeout,
            authorization: None,
        }
    }

    /// Sends `key` as the merchant key on every gateway call.
    pub fn with_api_key(mut self, key: Option<&str>) -> Self {
        self.authorization = key.and_then(|key| {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}")).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        self
    }

    /// Adds the merchant key, when there is one.
    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(value) => request.header(AUTHORIZATION, value.clone()),
            None => request,
        }
    }

    /// Charges `order` once: the gateway deduplicates on the key derived from the order, so a
    /// retry after a timeout settles the same charge instead of taking the money twice.
    pub async fn charge(
        &self,
        order: OrderId,
        amount: ChargeAmount,
        method: PaymentMethod,
        country: Country,
    ) -> ChargeResult {
        let body = ChargeRequest {
            amount,
            currency: Currency::Usd,
            method,
            country,
            reference: order.charge_reference(),
        };
        let request = match self
            .authorized(
                self.http
                    .inner()
                    .post(format!("{}/v1/charges", self.base_url)),
            )
            .header("Idempotency-Key", order.charge_key().as_str())
            .json(&body)
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
                200 | 201 => match res.json::<Charge>().await {
                    Ok(charge) => ChargeOutcome::Paid {
                        charge_id: charge.id,
                    },
                    Err(e) if e.is_timeout() => ChargeOutcome::Timeout,
                    Err(e) => ChargeOutcome::Failed {
                        detail: format!("unreadable charge: {e}"),
                    },
                },
                402 => match res.json::<DeclineDetails>().await {
                    Ok(d) => ChargeOutcome::Declined {
                        charge_id: Some(d.charge_id),
                        decline_code: Some(d.decline_code),
                    },
                    Err(e) => {
                        tracing::warn!(
                            error = &e as &dyn std::error::Error,
                            "the gateway declined with an unreadable problem"
                        );
                        ChargeOutcome::Declined {
                            charge_id: None,
                            decline_code: None,
                        }
                    }
                },
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
