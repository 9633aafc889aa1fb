//! Money is integer cents everywhere; dollars exist only as a derived, display-ready number.

use serde::{Deserialize, Serialize};

/// A non-negative amount of US cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(i64);

impl Cents {
    /// `None` for a negative amount: no price in the catalog is below zero.
    pub fn new(cents: i64) -> Option<Self> {
        (cents >= 0).then_some(Self(cents))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Dollars with two decimals, for JSON's `…_usd` members. Never used for arithmetic: a sum
    /// of `f64` dollars drifts, a sum of cents does not.
    pub fn usd(self) -> f64 {
        // One correctly rounded division: the result is the `f64` nearest to the two-decimal
        // value, so it prints as exactly two decimals (1999 → 19.99).
        self.0 as f64 / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_derived_from_cents() {
        assert_eq!(Cents::new(1999).map(Cents::usd), Some(19.99));
        assert_eq!(Cents::new(349).map(Cents::usd), Some(3.49));
        assert_eq!(Cents::new(249_900).map(Cents::usd), Some(2499.0));
        assert_eq!(Cents::new(0).map(Cents::usd), Some(0.0));
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Cents::new(-1), None);
    }
}
