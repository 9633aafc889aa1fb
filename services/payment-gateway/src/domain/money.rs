//! Money: integer cents, one currency.

use std::fmt;

/// A charge amount in cents, `1..=100_000_000` (one cent to one million dollars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmountCents(i64);

impl AmountCents {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = 100_000_000;

    pub fn parse(cents: i64) -> Result<Self, String> {
        if (Self::MIN..=Self::MAX).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(format!(
                "must be an integer between {} and {}, got {cents}",
                Self::MIN,
                Self::MAX
            ))
        }
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Dollars with two decimals, derived from the cents (never the other way round).
    pub fn usd(self) -> f64 {
        cents_to_usd(self.0)
    }
}

/// `1999` → `19.99`. One correctly rounded division: the result is the `f64` nearest to the exact
/// decimal, which serializers print with at most two decimals (every accepted amount is far below
/// 2^53 cents, so the cents themselves convert exactly).
pub fn cents_to_usd(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// The only currency the mock settles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    Usd,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "USD" => Ok(Self::Usd),
            other => Err(format!("only \"USD\" is supported, got {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usd => "USD",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_outside_the_range_are_refused() {
        assert!(AmountCents::parse(0).is_err());
        assert!(AmountCents::parse(-5).is_err());
        assert!(AmountCents::parse(100_000_001).is_err());
        assert_eq!(AmountCents::parse(1).map(AmountCents::cents), Ok(1));
        assert_eq!(
            AmountCents::parse(100_000_000).map(AmountCents::cents),
            Ok(100_000_000)
        );
    }

    #[test]
    fn usd_has_two_decimals() {
        assert_eq!(cents_to_usd(1999), 19.99);
        assert_eq!(cents_to_usd(1), 0.01);
        assert_eq!(cents_to_usd(100_000_000), 1_000_000.0);
        assert_eq!(AmountCents::parse(4210).map(AmountCents::usd), Ok(42.1));
    }

    #[test]
    fn only_usd() {
        assert_eq!(Currency::parse("USD"), Ok(Currency::Usd));
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("EUR").is_err());
    }
}
