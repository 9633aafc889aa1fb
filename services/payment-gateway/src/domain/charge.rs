//! A charge request once parsed, and what a charge becomes.

use std::fmt;

use rand::{Rng, RngExt};
use sha2::{Digest, Sha256};

use super::{AmountCents, Country, Currency, PaymentMethod, Reference};

/// A validated `POST /v1/charges` body. Built only from parsed parts, so code past the route
/// never re-checks a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    pub amount: AmountCents,
    pub currency: Currency,
    pub method: PaymentMethod,
    pub country: Country,
    pub reference: Reference,
}

impl ChargeRequest {
    /// SHA-256 (hex) of the request's canonical form. Stored with the charge so that a replay
    /// can tell "the same request again" from "the same key with another request".
    ///
    /// Why the parsed form rather than the raw bytes: two bodies that differ only in key order,
    /// whitespace or the case of the country code ask for the same charge, and a client library
    /// that re-serialises on retry must not be told it reused its key.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.amount.cents(),
            self.currency.as_str(),
            self.method.as_str(),
            self.country.as_str(),
            self.reference.as_ref(),
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// `ch_` + a UUID v4 in simple (32 hex digits) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeId(String);

impl ChargeId {
    pub const PREFIX: &'static str = "ch_";

    /// Random, from the OS-seeded generator — deliberately not from `GATEWAY_SEED`: a seeded run
    /// restarted on the same database would otherwise mint ids that already exist.
    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, uuid::Uuid::new_v4().simple()))
    }
}

impl AsRef<str> for ChargeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChargeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a stored charge is. Simulated gateway errors are never stored, so they have no status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeStatus {
    Succeeded,
    Declined,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined => "declined",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "succeeded" => Some(Self::Succeeded),
            "declined" => Some(Self::Declined),
            _ => None,
        }
    }
}

/// Why the (simulated) issuer declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineCode {
    InsufficientFunds,
    CardDeclined,
    DoNotHonor,
}

impl DeclineCode {
    pub const ALL: [DeclineCode; 3] = [
        Self::InsufficientFunds,
        Self::CardDeclined,
        Self::DoNotHonor,
    ];

    pub fn random(rng: &mut impl Rng) -> Self {
        Self::ALL[rng.random_range(0..Self::ALL.len())]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "insufficient_funds",
            Self::CardDeclined => "card_declined",
            Self::DoNotHonor => "do_not_honor",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn request(country: &str) -> ChargeRequest {
        ChargeRequest {
            amount: AmountCents::parse(1999).unwrap(),
            currency: Currency::Usd,
            method: PaymentMethod::Card,
            country: Country::parse(country).unwrap(),
            reference: Reference::parse("ord_1").unwrap(),
        }
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive_to_every_field() {
        let base = request("US");
        assert_eq!(base.fingerprint(), request("us").fingerprint());
        assert_eq!(base.fingerprint().len(), 64);
        let mut other = base.clone();
        other.amount = AmountCents::parse(2000).unwrap();
        assert_ne!(base.fingerprint(), other.fingerprint());
        let mut other = base.clone();
        other.reference = Reference::parse("ord_2").unwrap();
        assert_ne!(base.fingerprint(), other.fingerprint());
        assert_ne!(base.fingerprint(), request("DE").fingerprint());
    }

    #[test]
    fn charge_ids_are_prefixed_and_unique() {
        let a = ChargeId::generate();
        assert!(a.as_ref().starts_with("ch_") && a.as_ref().len() == 35);
        assert_ne!(a, ChargeId::generate());
    }

    #[test]
    fn every_decline_code_is_drawn() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            seen.insert(DeclineCode::random(&mut rng).as_str());
        }
        assert_eq!(seen.len(), 3);
    }
}
