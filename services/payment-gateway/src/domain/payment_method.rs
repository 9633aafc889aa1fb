//! How the customer pays; each method has its own latency profile.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    Card,
    Paypal,
    ApplePay,
    BankTransfer,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] =
        [Self::Card, Self::Paypal, Self::ApplePay, Self::BankTransfer];

    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "card" => Ok(Self::Card),
            "paypal" => Ok(Self::Paypal),
            "apple_pay" => Ok(Self::ApplePay),
            "bank_transfer" => Ok(Self::BankTransfer),
            other => Err(format!(
                "must be one of card, paypal, apple_pay, bank_transfer; got {other:?}"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Paypal => "paypal",
            Self::ApplePay => "apple_pay",
            Self::BankTransfer => "bank_transfer",
        }
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_others() {
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(m.as_str()), Ok(m));
        }
        assert!(PaymentMethod::parse("bitcoin").is_err());
        assert!(PaymentMethod::parse("Card").is_err());
    }
}
