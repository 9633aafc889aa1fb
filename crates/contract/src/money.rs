//! Money: integer US cents everywhere — in code, in storage, on the wire (`…_cents`). Dollars
//! (`…_usd`) exist only as numbers derived from cents for display; no arithmetic is ever done
//! on them, because a sum of `f64` dollars drifts and a sum of cents does not.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount one payment may charge: one million US dollars. The gateway refuses more,
/// so order-service refuses a larger order total before it writes anything.
pub const MAX_CHARGEABLE: Cents = Cents(100_000_000);

/// A non-negative amount of US cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a non-negative number of cents, got {0}")]
pub struct NegativeCents(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUsd {
    #[error("expected US dollars such as 5000 or 4.99, got {0:?}")]
    Malformed(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// `None` for a negative amount (like `NonZeroU32::new`); [`Cents::try_from`] says why.
    pub const fn new(cents: i64) -> Option<Self> {
        if cents >= 0 {
            Some(Self(cents))
        } else {
            None
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// `None` on overflow: 100 lines × 1000 units at a huge price must not wrap around.
    pub fn checked_mul(self, n: u32) -> Option<Self> {
        self.0.checked_mul(i64::from(n)).map(Self)
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// Dollars with two decimals, for JSON's `…_usd` members and the amount histogram. One
    /// correctly rounded division: the result is the `f64` nearest to the two-decimal value, so
    /// it prints with at most two decimals (1999 → 19.99); exact for any amount below 2^53 cents.
    pub fn usd(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `"5000"`, `"4.99"` or `"0.5"` US dollars, exactly (no floating point).
    pub fn parse_usd(value: &str) -> Result<Self, InvalidUsd> {
        let v = value.trim();
        let (whole, fraction) = match v.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (v, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > 2) {
            return Err(InvalidUsd::Malformed(value.to_owned()));
        }
        let too_large = || InvalidUsd::TooLarge(value.to_owned());
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        // One or two ASCII digits, checked above: "5" is 50 cents, "05" is 5.
        let cents = fraction.map_or(0, |f| {
            f.bytes()
                .chain(std::iter::repeat(b'0'))
                .take(2)
                .fold(0, |n, b| n * 10 + i64::from(b - b'0'))
        });
        whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .map(Self)
            .ok_or_else(too_large)
    }
}

impl TryFrom<i64> for Cents {
    type Error = NegativeCents;

    fn try_from(cents: i64) -> Result<Self, Self::Error> {
        Self::new(cents).ok_or(NegativeCents(cents))
    }
}

/// `1999` → `19.99 USD`.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} USD", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::try_from(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// An amount one payment can charge: from one cent to [`MAX_CHARGEABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChargeAmount(Cents);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an integer between 1 and {max}, got {0}", max = MAX_CHARGEABLE.get())]
pub struct ChargeAmountOutOfRange(pub i64);

impl ChargeAmount {
    pub const MIN: ChargeAmount = ChargeAmount(Cents(1));
    pub const MAX: ChargeAmount = ChargeAmount(MAX_CHARGEABLE);

    pub fn new(amount: Cents) -> Result<Self, ChargeAmountOutOfRange> {
        Self::parse(amount.get())
    }

    /// From wire cents, which may be anything an `i64` holds.
    pub fn parse(cents: i64) -> Result<Self, ChargeAmountOutOfRange> {
        if (Self::MIN.0 .0..=Self::MAX.0 .0).contains(&cents) {
            Ok(Self(Cents(cents)))
        } else {
            Err(ChargeAmountOutOfRange(cents))
        }
    }

    pub fn cents(self) -> Cents {
        self.0
    }
}

impl TryFrom<Cents> for ChargeAmount {
    type Error = ChargeAmountOutOfRange;

    fn try_from(amount: Cents) -> Result<Self, Self::Error> {
        Self::new(amount)
    }
}

impl Serialize for ChargeAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ChargeAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::parse(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The only currency the store prices and charges in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    Usd,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("only \"USD\" is supported, got {0:?}")]
pub struct UnsupportedCurrency(String);

impl Currency {
    /// The ISO 4217 code, exactly: `usd` is refused.
    pub fn parse(code: &str) -> Result<Self, UnsupportedCurrency> {
        match code {
            "USD" => Ok(Self::Usd),
            other => Err(UnsupportedCurrency(other.to_owned())),
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

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn dollars_are_derived_from_cents() {
        assert_eq!(Cents(1999).usd(), 19.99);
        assert_eq!(Cents(349).usd(), 3.49);
        assert_eq!(Cents(5).usd(), 0.05);
        assert_eq!(Cents(1).usd(), 0.01);
        assert_eq!(Cents(4210).usd(), 42.1);
        assert_eq!(Cents(249_900).usd(), 2499.0);
        assert_eq!(Cents(0).usd(), 0.0);
        assert_eq!(MAX_CHARGEABLE.usd(), 1_000_000.0);
        assert_eq!(Cents(100_209_900).to_string(), "1002099.00 USD");
        assert_eq!(Cents(5).to_string(), "0.05 USD");
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Cents::new(-1), None);
        assert_eq!(Cents::try_from(-1), Err(NegativeCents(-1)));
        assert!(serde_json::from_str::<Cents>("-1").is_err());
        assert_eq!(serde_json::from_str::<Cents>("1999").unwrap(), Cents(1999));
    }

    #[test]
    fn dollars_parse_exactly() {
        assert_eq!(Cents::parse_usd("5000"), Ok(Cents(500_000)));
        assert_eq!(Cents::parse_usd("4.99"), Ok(Cents(499)));
        assert_eq!(Cents::parse_usd("0.5"), Ok(Cents(50)));
        assert_eq!(Cents::parse_usd("0.05"), Ok(Cents(5)));
        for bad in ["", "-1", "1.234", "1e3", "abc", ".5", "5.", "1.-5"] {
            assert!(
                matches!(Cents::parse_usd(bad), Err(InvalidUsd::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Cents::parse_usd("99999999999999999999"),
            Err(InvalidUsd::TooLarge(_))
        ));
        assert!(matches!(
            Cents::parse_usd("92233720368547758.08"),
            Err(InvalidUsd::TooLarge(_))
        ));
        assert_eq!(
            Cents::parse_usd("92233720368547758.07"),
            Ok(Cents(i64::MAX))
        );
    }

    #[test]
    fn arithmetic_refuses_overflow() {
        assert!(Cents(i64::MAX).checked_mul(2).is_none());
        assert!(Cents(i64::MAX).checked_add(Cents(1)).is_none());
        assert_eq!(Cents(250).checked_mul(3), Some(Cents(750)));
    }

    #[test]
    fn charge_amounts_are_one_cent_to_the_limit() {
        assert!(ChargeAmount::parse(0).is_err());
        assert!(ChargeAmount::parse(-5).is_err());
        assert_eq!(
            ChargeAmount::parse(100_000_001).unwrap_err().to_string(),
            "must be an integer between 1 and 100000000, got 100000001"
        );
        assert_eq!(ChargeAmount::parse(1).map(|a| a.cents()), Ok(Cents(1)));
        assert_eq!(ChargeAmount::new(MAX_CHARGEABLE), Ok(ChargeAmount::MAX));
        assert!(ChargeAmount::try_from(Cents(100_209_900)).is_err());
        assert_eq!(
            serde_json::to_string(&ChargeAmount::MAX).unwrap(),
            "100000000"
        );
        assert!(serde_json::from_str::<ChargeAmount>("0").is_err());
    }

    #[test]
    fn only_usd() {
        assert_eq!(Currency::parse("USD"), Ok(Currency::Usd));
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("EUR").is_err());
        assert_eq!(serde_json::to_string(&Currency::Usd).unwrap(), "\"USD\"");
    }

    proptest! {
        /// No valid basket can overflow the total: 100 lines × 1000 units × the largest price
        /// that fits is checked, not wrapped.
        #[test]
        fn totals_never_wrap(price in 0i64..=i64::MAX, lines in 1usize..=100, q in 1u32..=1000) {
            let total = (0..lines).try_fold(Cents::ZERO, |sum, _| {
                Cents::new(price).and_then(|p| p.checked_mul(q)).and_then(|a| sum.checked_add(a))
            });
            let exact = i128::from(price) * i128::from(q) * lines as i128;
            match total {
                Some(t) => prop_assert_eq!(i128::from(t.get()), exact),
                None => prop_assert!(exact > i128::from(i64::MAX)),
            }
        }

        #[test]
        fn dollars_round_trip(cents in 0i64..=10_000_000_000_000) {
            let text = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert_eq!(Cents::parse_usd(&text).map(|c| c.get()), Ok(cents));
            prop_assert_eq!(Cents(cents).to_string(), format!("{text} USD"));
        }

        #[test]
        fn charge_amounts_are_exactly_the_range(cents in prop_oneof![any::<i64>(), -5i64..=5, 99_999_995i64..=100_000_005]) {
            prop_assert_eq!(ChargeAmount::parse(cents).is_ok(), (1..=100_000_000).contains(&cents));
        }
    }
}
