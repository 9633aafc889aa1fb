//! How the customer pays.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of the four methods the store offers; on the wire `card`, `paypal`, `apple_pay` or
/// `bank_transfer` (exactly: `Card` is not a method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaymentMethod {
    Card,
    Paypal,
    ApplePay,
    BankTransfer,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of card, paypal, apple_pay, bank_transfer; got {0:?}")]
pub struct InvalidPaymentMethod(String);

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] =
        [Self::Card, Self::Paypal, Self::ApplePay, Self::BankTransfer];

    pub fn parse(value: &str) -> Result<Self, InvalidPaymentMethod> {
        match value {
            "card" => Ok(Self::Card),
            "paypal" => Ok(Self::Paypal),
            "apple_pay" => Ok(Self::ApplePay),
            "bank_transfer" => Ok(Self::BankTransfer),
            other => Err(InvalidPaymentMethod(other.to_owned())),
        }
    }

    /// The wire name, also the `payment_method` label of every metric.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Paypal => "paypal",
            Self::ApplePay => "apple_pay",
            Self::BankTransfer => "bank_transfer",
        }
    }
}

impl FromStr for PaymentMethod {
    type Err = InvalidPaymentMethod;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl AsRef<str> for PaymentMethod {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PaymentMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PaymentMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn round_trips_and_refuses_others() {
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(m.as_str()), Ok(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<PaymentMethod>(&json).unwrap(), m);
        }
        assert!(PaymentMethod::parse("bitcoin").is_err());
        assert!(PaymentMethod::parse("Card").is_err());
        assert!(serde_json::from_str::<PaymentMethod>("\"cash\"").is_err());
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(&["card", "paypal", "apple_pay", "bank_transfer"][..])
                .prop_map(str::to_owned),
            "[a-z_]{3,14}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn payment_methods_are_the_four(s in method()) {
            let ok = ["card", "paypal", "apple_pay", "bank_transfer"].contains(&s.as_str());
            prop_assert_eq!(PaymentMethod::parse(&s).is_ok(), ok);
            if let Ok(m) = PaymentMethod::parse(&s) {
                prop_assert_eq!(m.as_str(), s.as_str());
            }
        }
    }
}
