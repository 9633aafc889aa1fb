//! The order id, which crosses the order-service → payment-gateway call twice: as the charge's
//! `reference`, and inside the `Idempotency-Key` the gateway deduplicates on. Deriving both from
//! the order (never from the client's own key) is what lets a retry of an order whose payment
//! outcome is unknown ask for the very same charge — and the gateway charge it at most once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::charge::Reference;
use crate::idempotency_key::IdempotencyKey;

/// A UUID (order-service mints v7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(Uuid);

impl OrderId {
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// `order-<uuid>`: the key the gateway deduplicates this order's charge on.
    pub fn charge_key(&self) -> IdempotencyKey {
        IdempotencyKey::from_valid(format!("order-{}", self.0))
    }

    /// The charge's `reference`: the order id itself.
    pub fn charge_reference(&self) -> Reference {
        Reference::from_valid(self.0.to_string())
    }
}

impl FromStr for OrderId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_reference_are_derived_from_the_id() {
        let id: OrderId = "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b".parse().unwrap();
        assert_eq!(
            id.charge_key().as_str(),
            "order-0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
        );
        assert_eq!(
            id.charge_reference().as_ref(),
            "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
        );
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b\""
        );
        assert!("not-an-order".parse::<OrderId>().is_err());
    }
}
