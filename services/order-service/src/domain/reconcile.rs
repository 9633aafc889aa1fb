//! Reconciliation rules: what the gateway's word about an unsettled order means for the order.
//! No I/O — `crate::reconcile` asks the gateway and writes what these rules decide.
//!
//! A charge the gateway holds under the order's key is the truth (charges never change once
//! made), so it settles the order at once. "No charge under the key" is conclusive only once no
//! charge request for the order can still be on its way: the order must have been quiet (no
//! write by a checkout) for `RECONCILE_GRACE`. No usable answer is an attempt; after
//! `RECONCILE_MAX_ATTEMPTS` of them the order needs an operator.

use std::time::Duration;

use contract::ChargeId;

use super::OrderStatus;

/// What the gateway said about the charge under an order's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayRecord {
    Succeeded(ChargeId),
    Declined,
    /// No charge was made under the key (so far).
    NoCharge,
    /// No usable answer (unreachable, an error, unreadable).
    NoAnswer,
}

/// What to do with an unsettled order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Settle it with this status (and the charge, when paid).
    Settle {
        status: OrderStatus,
        payment_id: Option<ChargeId>,
    },
    /// Ask again, not before `after`; `attempts` is the new count of attempts.
    Retry { attempts: u32, after: Duration },
    /// A "no charge" too early to trust: ask again next pass, no attempt counted.
    Wait,
}

impl Verdict {
    /// The `result` label of `webstore_orders_reconciled_total`; `None` for [`Verdict::Wait`]
    /// (nothing was learnt).
    pub fn result(&self) -> Option<&'static str> {
        match self {
            Self::Settle { status, .. } => Some(match status {
                OrderStatus::Paid => "paid",
                OrderStatus::Declined => "declined",
                OrderStatus::NeedsAttention => "needs_attention",
                _ => "failed",
            }),
            Self::Retry { .. } => Some("unknown"),
            Self::Wait => None,
        }
    }
}

/// Every `result` of `webstore_orders_reconciled_total`.
pub const RESULTS: [&str; 5] = ["paid", "declined", "failed", "unknown", "needs_attention"];

/// The reconciler's settings (`RECONCILE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcilePolicy {
    /// Between passes; also the first retry's delay.
    pub interval: Duration,
    /// How long an order must have been quiet before "no charge" is believed, and how old a
    /// `pending` order must be before it is reconciled at all.
    pub grace: Duration,
    pub max_attempts: u32,
}

/// The longest wait between two attempts on one order.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

impl ReconcilePolicy {
    /// `attempts` is how many attempts failed before this one; `quiet_for` how long ago a
    /// checkout last wrote the order.
    pub fn decide(&self, record: &GatewayRecord, attempts: u32, quiet_for: Duration) -> Verdict {
        match record {
            GatewayRecord::Succeeded(charge) => Verdict::Settle {
                status: OrderStatus::Paid,
                payment_id: Some(charge.clone()),
            },
            GatewayRecord::Declined => Verdict::Settle {
                status: OrderStatus::Declined,
                payment_id: None,
            },
            GatewayRecord::NoCharge if quiet_for >= self.grace => Verdict::Settle {
                status: OrderStatus::PaymentFailed,
                payment_id: None,
            },
            GatewayRecord::NoCharge => Verdict::Wait,
            GatewayRecord::NoAnswer => {
                let attempts = attempts.saturating_add(1);
                if attempts >= self.max_attempts {
                    Verdict::Settle {
                        status: OrderStatus::NeedsAttention,
                        payment_id: None,
                    }
                } else {
                    Verdict::Retry {
                        attempts,
                        after: self.backoff(attempts),
                    }
                }
            }
        }
    }

    /// `interval × 2^(attempts − 1)`, at most an hour.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(16);
        self.interval.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// The `age` label of `webstore_orders_unsettled`, by time since the order was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsettledAge {
    LessThanAMinute,
    OneToTenMinutes,
    TenMinutesOrMore,
}

impl UnsettledAge {
    pub const ALL: [UnsettledAge; 3] = [
        Self::LessThanAMinute,
        Self::OneToTenMinutes,
        Self::TenMinutesOrMore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LessThanAMinute => "lt_1m",
            Self::OneToTenMinutes => "1m_to_10m",
            Self::TenMinutesOrMore => "ge_10m",
        }
    }

    /// The ages this bucket holds, `[from, to)`; `to` is `None` for the last.
    pub fn range(self) -> (Duration, Option<Duration>) {
        const MINUTE: Duration = Duration::from_secs(60);
        match self {
            Self::LessThanAMinute => (Duration::ZERO, Some(MINUTE)),
            Self::OneToTenMinutes => (MINUTE, Some(10 * MINUTE)),
            Self::TenMinutesOrMore => (10 * MINUTE, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn policy() -> ReconcilePolicy {
        ReconcilePolicy {
            interval: 30 * S,
            grace: 60 * S,
            max_attempts: 3,
        }
    }

    #[test]
    fn a_charge_at_the_gateway_settles_at_once_whatever_the_age() {
        let ch = ChargeId::parse("ch_1").unwrap();
        assert_eq!(
            policy().decide(&GatewayRecord::Succeeded(ch.clone()), 2, Duration::ZERO),
            Verdict::Settle {
                status: OrderStatus::Paid,
                payment_id: Some(ch)
            }
        );
        assert_eq!(
            policy().decide(&GatewayRecord::Declined, 0, Duration::ZERO),
            Verdict::Settle {
                status: OrderStatus::Declined,
                payment_id: None
            }
        );
    }

    #[test]
    fn no_charge_is_believed_only_after_the_grace() {
        assert_eq!(
            policy().decide(&GatewayRecord::NoCharge, 0, 59 * S),
            Verdict::Wait
        );
        assert_eq!(
            policy().decide(&GatewayRecord::NoCharge, 0, 60 * S),
            Verdict::Settle {
                status: OrderStatus::PaymentFailed,
                payment_id: None
            }
        );
        assert_eq!(Verdict::Wait.result(), None);
    }

    #[test]
    fn no_answer_backs_off_then_needs_attention_at_the_cap() {
        let p = policy();
        assert_eq!(
            p.decide(&GatewayRecord::NoAnswer, 0, Duration::ZERO),
            Verdict::Retry {
                attempts: 1,
                after: 30 * S
            }
        );
        assert_eq!(
            p.decide(&GatewayRecord::NoAnswer, 1, Duration::ZERO),
            Verdict::Retry {
                attempts: 2,
                after: 60 * S
            }
        );
        let last = p.decide(&GatewayRecord::NoAnswer, 2, Duration::ZERO);
        assert_eq!(
            last,
            Verdict::Settle {
                status: OrderStatus::NeedsAttention,
                payment_id: None
            }
        );
        assert_eq!(last.result(), Some("needs_attention"));
        assert_eq!(p.backoff(40), MAX_BACKOFF);
    }

    #[test]
    fn age_buckets_cover_every_age_once() {
        for secs in [0, 59, 60, 599, 600, 86_400] {
            let age = Duration::from_secs(secs);
            let holding: Vec<_> = UnsettledAge::ALL
                .into_iter()
                .filter(|b| {
                    let (from, to) = b.range();
                    age >= from && to.is_none_or(|to| age < to)
                })
                .collect();
            assert_eq!(holding.len(), 1, "{secs}s");
        }
    }
}
