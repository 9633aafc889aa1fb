//! The `Idempotency-Key` header (IETF httpapi-idempotency-key draft) and the request
//! fingerprint a stored response is matched against.

use service_kit::idempotency_key;
use sha2::{Digest, Sha256};

use super::Checkout;

/// 1–255 visible ASCII characters. The draft defines the header as a structured-field String
/// (`Idempotency-Key: "8e03978e-…"`); most clients send the bare token (`Idempotency-Key:
/// 8e03978e-…`), as Stripe documents. Both are accepted and mean the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = idempotency_key::MAX_LEN;

    pub fn parse(header: &str) -> Result<Self, String> {
        let value = match header.strip_prefix('"') {
            Some(rest) => rest
                .strip_suffix('"')
                .filter(|inner| !inner.contains(['"', '\\']))
                .ok_or_else(|| "is not a valid quoted string".to_owned())?,
            None => header,
        };
        idempotency_key::validate(value)?;
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of the checkout as parsed — not of the raw bytes: a retry that re-serialises
/// the same basket with other whitespace or key order is the same request, while any change to
/// country, method, a product or a quantity (or the order of the lines) is another one.
pub fn fingerprint(checkout: &Checkout) -> String {
    let mut hash = Sha256::new();
    hash.update(b"POST /api/v1/checkout\n");
    hash.update(checkout.country.as_ref().as_bytes());
    hash.update(b"\n");
    hash.update(checkout.payment_method.as_ref().as_bytes());
    hash.update(b"\n");
    for line in &checkout.lines {
        // Product ids are [A-Za-z0-9_-], so the separators cannot be forged.
        hash.update(line.product_id.as_ref().as_bytes());
        hash.update(b"\t");
        hash.update(line.quantity.get().to_string().as_bytes());
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CheckoutBody, LineBody};

    fn checkout(country: &str, lines: &[(&str, i64)]) -> Checkout {
        Checkout::try_from(CheckoutBody {
            country: country.into(),
            payment_method: "card".into(),
            items: lines
                .iter()
                .map(|(p, q)| LineBody {
                    product_id: (*p).into(),
                    quantity: *q,
                })
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        assert_eq!(
            IdempotencyKey::parse("abc-123").unwrap().as_ref(),
            "abc-123"
        );
        assert_eq!(
            IdempotencyKey::parse("\"abc-123\"").unwrap().as_ref(),
            "abc-123"
        );
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("\"\"").is_err());
        assert!(IdempotencyKey::parse("\"abc").is_err());
        assert!(IdempotencyKey::parse("\"a\"b\"").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("naïve").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn the_fingerprint_changes_with_every_field() {
        let base = fingerprint(&checkout("US", &[("p-1", 1), ("p-2", 2)]));
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            fingerprint(&checkout("US", &[("p-1", 1), ("p-2", 2)]))
        );
        for other in [
            checkout("DE", &[("p-1", 1), ("p-2", 2)]),
            checkout("US", &[("p-1", 1), ("p-2", 3)]),
            checkout("US", &[("p-2", 2), ("p-1", 1)]),
            checkout("US", &[("p-1", 12)]),
            checkout("US", &[("p-1", 1)]),
        ] {
            assert_ne!(base, fingerprint(&other));
        }
    }
}
