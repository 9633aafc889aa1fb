//! Suspicious-activity rules. They *flag* an order — a metric, a span event and a warning log
//! with the trace id, for a human or a fraud system to look at — and never block it: a false
//! positive must not cost a sale, and the rules are deliberately simple enough to explain.
//!
//! | rule | fires when |
//! |---|---|
//! | `bulk_quantity` | one order holds at least `SUSPICIOUS_BULK_QUANTITY` units (resellers, scripted baskets) |
//! | `high_amount` | the order total is at least `SUSPICIOUS_HIGH_AMOUNT_USD` |
//! | `repeated_declines` | the customer's declines within the window reach the count (`SUSPICIOUS_REPEATED_DECLINES`, e.g. `3/10m`) |
//! | `card_testing` | the customer's small orders (at most `SUSPICIOUS_SMALL_AMOUNT_USD`) within the window reach the count (`SUSPICIOUS_CARD_TESTING`, e.g. `5/10m`): stolen cards are tried with small charges first |
//!
//! The counting rules are evaluated from the orders table, so every replica sees the same
//! history. No I/O here: the flow passes the counts in.

use std::time::Duration;

use contract::Cents;

use super::checkout::CheckoutRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    BulkQuantity,
    HighAmount,
    RepeatedDeclines,
    CardTesting,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::BulkQuantity,
        Rule::HighAmount,
        Rule::RepeatedDeclines,
        Rule::CardTesting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BulkQuantity => "bulk_quantity",
            Self::HighAmount => "high_amount",
            Self::RepeatedDeclines => "repeated_declines",
            Self::CardTesting => "card_testing",
        }
    }
}

/// A rule that fired, and why (for the log and the span event; no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub rule: Rule,
    pub reason: String,
}

/// `count` events within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub count: u64,
    pub window: Duration,
}

impl Burst {
    /// `N/<duration>` (e.g. `3/10m`), or `off`; `parse_duration` reads the window.
    pub fn parse<E: std::fmt::Display>(
        value: &str,
        parse_duration: impl Fn(&str) -> Result<Duration, E>,
    ) -> Result<Option<Self>, String> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (count, window) = v
            .split_once('/')
            .ok_or_else(|| format!("expected count/window such as 3/10m, or off; got {value:?}"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("expected a whole count before '/', got {value:?}"))?;
        let window = parse_duration(window.trim()).map_err(|e| e.to_string())?;
        if count == 0 || window.is_zero() {
            return Err(format!(
                "count and window must be above zero, got {value:?}"
            ));
        }
        Ok(Some(Self { count, window }))
    }
}

/// The thresholds; `None` turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuspiciousRules {
    pub bulk_quantity: Option<u64>,
    pub high_amount: Option<Cents>,
    pub repeated_declines: Option<Burst>,
    pub card_testing: Option<Burst>,
    /// What `card_testing` counts as a small order.
    pub small_amount: Cents,
}

impl Default for SuspiciousRules {
    fn default() -> Self {
        Self {
            bulk_quantity: Some(100),
            high_amount: Cents::new(500_000),
            repeated_declines: Some(Burst {
                count: 3,
                window: Duration::from_secs(600),
            }),
            card_testing: Some(Burst {
                count: 5,
                window: Duration::from_secs(600),
            }),
            small_amount: Cents::new(500).unwrap_or(Cents::ZERO),
        }
    }
}

impl SuspiciousRules {
    /// Every rule off (tests of unrelated behaviour).
    pub fn off() -> Self {
        Self {
            bulk_quantity: None,
            high_amount: None,
            repeated_declines: None,
            card_testing: None,
            small_amount: Cents::ZERO,
        }
    }

    /// The rules that look at the basket alone.
    pub fn basket(&self, checkout: &CheckoutRequest, total: Cents) -> Vec<Flag> {
        let mut flags = Vec::new();
        let units = checkout.units();
        if let Some(limit) = self.bulk_quantity.filter(|limit| units >= *limit) {
            flags.push(Flag {
                rule: Rule::BulkQuantity,
                reason: format!("{units} units in one order (threshold {limit})"),
            });
        }
        if let Some(limit) = self.high_amount.filter(|limit| total >= *limit) {
            flags.push(Flag {
                rule: Rule::HighAmount,
                reason: format!(
                    "total {:.2} USD (threshold {:.2} USD)",
                    total.usd(),
                    limit.usd()
                ),
            });
        }
        flags
    }

    /// Is `total` small enough for `card_testing` to count it? (Only then is the history read.)
    pub fn counts_as_small(&self, total: Cents) -> bool {
        self.card_testing.is_some() && total <= self.small_amount
    }

    /// `small_orders`: the customer's small orders within the `card_testing` window, this one
    /// included.
    pub fn card_testing(&self, small_orders: u64) -> Option<Flag> {
        let burst = self.card_testing?;
        (small_orders >= burst.count).then(|| Flag {
            rule: Rule::CardTesting,
            reason: format!(
                "{small_orders} orders of at most {:.2} USD within {:?} (threshold {})",
                self.small_amount.usd(),
                burst.window,
                burst.count
            ),
        })
    }

    /// `declines`: the customer's declined orders within the `repeated_declines` window, this
    /// one included.
    pub fn repeated_declines(&self, declines: u64) -> Option<Flag> {
        let burst = self.repeated_declines?;
        (declines >= burst.count).then(|| Flag {
            rule: Rule::RepeatedDeclines,
            reason: format!(
                "{declines} declined orders within {:?} (threshold {})",
                burst.window, burst.count
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout(quantities: &[i64]) -> CheckoutRequest {
        let lines: Vec<_> = quantities.iter().map(|q| ("p-1", *q)).collect();
        CheckoutRequest::parse("US", "card", &lines).unwrap()
    }

    fn cents(n: i64) -> Cents {
        Cents::new(n).unwrap()
    }

    #[test]
    fn ordinary_baskets_are_not_flagged() {
        let rules = SuspiciousRules::default();
        for (quantities, total) in [
            (&[1][..], 1999),
            (&[2, 3][..], 5648),
            (&[40, 59][..], 499_999),
            (&[99][..], 250_000),
        ] {
            assert!(
                rules.basket(&checkout(quantities), cents(total)).is_empty(),
                "{quantities:?} {total}"
            );
        }
        assert!(rules.card_testing(4).is_none());
        assert!(rules.repeated_declines(2).is_none());
        assert!(!rules.counts_as_small(cents(501)));
    }

    #[test]
    fn each_rule_fires_at_its_threshold() {
        let rules = SuspiciousRules::default();
        let flags = rules.basket(&checkout(&[60, 40]), cents(500_000));
        let fired: Vec<_> = flags.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(fired, ["bulk_quantity", "high_amount"]);
        assert!(flags[0].reason.contains("100 units"), "{}", flags[0].reason);
        assert_eq!(
            rules.card_testing(5).map(|f| f.rule),
            Some(Rule::CardTesting)
        );
        assert_eq!(
            rules.repeated_declines(3).map(|f| f.rule),
            Some(Rule::RepeatedDeclines)
        );
        assert!(rules.counts_as_small(cents(500)));
    }

    #[test]
    fn rules_can_be_turned_off() {
        let rules = SuspiciousRules::off();
        assert!(rules.basket(&checkout(&[1000]), cents(i64::MAX)).is_empty());
        assert!(rules.card_testing(1000).is_none());
        assert!(rules.repeated_declines(1000).is_none());
        assert!(!rules.counts_as_small(Cents::ZERO));
    }

    #[test]
    fn bursts_parse() {
        let d = |s: &str| service_kit::config::parse_duration("X", s);
        assert_eq!(
            Burst::parse("3/10m", d),
            Ok(Some(Burst {
                count: 3,
                window: Duration::from_secs(600)
            }))
        );
        assert_eq!(Burst::parse("off", d), Ok(None));
        for bad in ["3", "0/10m", "3/0s", "x/1m", "3/soon"] {
            assert!(Burst::parse(bad, d).is_err(), "{bad}");
        }
    }
}
