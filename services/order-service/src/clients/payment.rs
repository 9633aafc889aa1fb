//! The payment gateway, as order-service calls it: typed values in (the order, a
//! [`ChargeAmount`], a [`PaymentMethod`], a [`Country`]), a typed outcome out, parsed at this
//! boundary from the contract's bodies.

use std::time::{Duration, Instant};

use contract::{
    Charge, ChargeAmount, ChargeId, ChargeRequest, Country, Currency, DeclineCode, DeclineDetails,
    OrderId, PaymentMethod,
};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use telemetry::SpanIds;
use telemetry::TracedClient;
use tokio_util::sync::CancellationToken;

/// What the gateway made of a charge.
///
/// Only an answer from the gateway, or a request that provably never reached it, is final.
/// Anything in between — no answer in time, a connection cut after the request was sent, an
/// answer that cannot be read, the process stopping mid-call — is [`ChargeOutcome::Unknown`]:
/// the gateway may have charged, and only asking it later (the reconciler) tells.
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
    /// The gateway answered that it did not charge (5xx, or any status but 2xx and 402), or the
    /// connection was refused before the request was sent: nothing was charged.
    Failed {
        detail: String,
    },
    /// The charge may or may not have happened.
    Unknown {
        reason: Unknown,
    },
}

/// Why a charge's outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// No answer within `PAYMENT_TIMEOUT`.
    Timeout,
    /// The connection failed after the request may have been sent, or the answer could not be
    /// read.
    Transport(String),
    /// The process was shutting down and could wait no longer.
    Stopping,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer within PAYMENT_TIMEOUT"),
            Self::Transport(detail) => write!(f, "{detail}"),
            Self::Stopping => f.write_str("the service stopped waiting while shutting down"),
        }
    }
}

impl ChargeOutcome {
    /// The `outcome` label of `webstore_payment_duration_seconds`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Paid { .. } => "paid",
            Self::Declined { .. } => "declined",
            Self::Failed { .. }
            | Self::Unknown {
                reason: Unknown::Transport(_),
            } => "error",
            Self::Unknown { .. } => "timeout",
        }
    }
}

/// What the gateway holds under an order's charge key ([`PaymentClient::find_charge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Charge),
    /// The gateway answered that no charge exists under the key.
    NotFound,
    /// No usable answer: ask again later.
    Unknown(String),
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
    stop: CancellationToken,
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
            stop: CancellationToken::new(),
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

    /// A call still waiting when `stop` is cancelled (the drain running out of time) ends as
    /// [`Unknown::Stopping`] instead of being dropped, so the order records it.
    pub fn stopped_by(mut self, stop: CancellationToken) -> Self {
        self.stop = stop;
        self
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
        let started = Instant::now();
        let call = async {
            let sent = self.http.send(request, "/v1/charges").await;
            let outcome = match sent.result {
                Err(e) => classify_send_error(&e),
                Ok(res) => read_answer(res).await,
            };
            (outcome, sent.elapsed, sent.span_ids)
        };
        let (outcome, elapsed, span_ids) = tokio::select! {
            done = call => done,
            () = self.stop.cancelled() => (
                ChargeOutcome::Unknown { reason: Unknown::Stopping },
                started.elapsed(),
                None,
            ),
        };
        ChargeResult {
            outcome,
            elapsed,
            span_ids,
        }
    }

    /// The charge the gateway holds under `order`'s key, if any (`GET
    /// /v1/charges?idempotency_key=`): how the reconciler learns what an unknown charge became.
    pub async fn find_charge(&self, order: OrderId) -> Lookup {
        let url = format!(
            "{}/v1/charges?idempotency_key={}",
            self.base_url,
            order.charge_key().as_str()
        );
        let request = match self
            .authorized(self.http.inner().get(url))
            .timeout(self.timeout)
            .build()
        {
            Ok(r) => r,
            Err(e) => return Lookup::Unknown(e.to_string()),
        };
        let call = async {
            match self.http.send(request, "/v1/charges").await.result {
                Err(e) => Lookup::Unknown(format!("gateway unreachable: {e}")),
                Ok(res) => match res.status().as_u16() {
                    200 => match res.json::<Charge>().await {
                        Ok(charge) => Lookup::Found(charge),
                        Err(e) => Lookup::Unknown(format!("unreadable charge: {e}")),
                    },
                    404 => Lookup::NotFound,
                    status => Lookup::Unknown(format!("gateway answered {status}")),
                },
            }
        };
        tokio::select! {
            found = call => found,
            () = self.stop.cancelled() => Lookup::Unknown(Unknown::Stopping.to_string()),
        }
    }
}

/// A call that got no response. Only a connection that was never established is certain not to
/// have reached the gateway.
fn classify_send_error(e: &reqwest::Error) -> ChargeOutcome {
    if e.is_connect() {
        ChargeOutcome::Failed {
            detail: format!("gateway unreachable: {e}"),
        }
    } else if e.is_timeout() {
        ChargeOutcome::Unknown {
            reason: Unknown::Timeout,
        }
    } else {
        ChargeOutcome::Unknown {
            reason: Unknown::Transport(format!(
                "the connection failed after the charge was sent: {e}"
            )),
        }
    }
}

/// The gateway's answer, parsed into an outcome.
async fn read_answer(res: reqwest::Response) -> ChargeOutcome {
    match res.status().as_u16() {
        200 | 201 => match res.json::<Charge>().await {
            Ok(charge) => ChargeOutcome::Paid {
                charge_id: charge.id,
            },
            // It said yes; which charge it made is for the reconciler to ask.
            Err(e) if e.is_timeout() => ChargeOutcome::Unknown {
                reason: Unknown::Timeout,
            },
            Err(e) => ChargeOutcome::Unknown {
                reason: Unknown::Transport(format!("unreadable charge: {e}")),
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
    }
}
