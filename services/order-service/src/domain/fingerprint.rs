//! The request fingerprint a stored `Idempotency-Key` answer is matched against.

use sha2::{Digest, Sha256};

use super::checkout::CheckoutRequest;

/// SHA-256 (hex) of the checkout as parsed — not of the raw bytes: a retry that re-serialises
/// the same basket with other whitespace or key order is the same request, while any change to
/// country, method, a product or a quantity (or the order of the lines) is another one.
pub fn fingerprint(checkout: &CheckoutRequest) -> String {
    let mut hash = Sha256::new();
    hash.update(b"POST /api/v1/checkout\n");
    hash.update(checkout.country.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(checkout.payment_method.as_str().as_bytes());
    hash.update(b"\n");
    for line in &checkout.lines {
        // Product ids are [A-Za-z0-9_-], so the separators cannot be forged.
        hash.update(line.product_id.as_str().as_bytes());
        hash.update(b"\t");
        hash.update(line.quantity.get().to_string().as_bytes());
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn checkout(country: &str, lines: &[(&str, i64)]) -> CheckoutRequest {
        CheckoutRequest::parse(country, "card", lines).unwrap()
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
        let paypal = CheckoutRequest::parse("US", "paypal", &[("p-1", 1), ("p-2", 2)]).unwrap();
        assert_ne!(base, fingerprint(&paypal));
    }

    proptest! {
        /// Two checkouts have the same idempotency fingerprint exactly when they are the
        /// same request.
        #[test]
        fn fingerprints_match_iff_requests_do(
            a in prop::collection::vec(("[a-z0-9-]{1,8}", 1i64..=1000), 1..5),
            b in prop::collection::vec(("[a-z0-9-]{1,8}", 1i64..=1000), 1..5),
        ) {
            let parse = |lines: &Vec<(String, i64)>| CheckoutRequest::parse("US", "card", lines);
            let (Ok(x), Ok(y)) = (parse(&a), parse(&b)) else {
                return Err(TestCaseError::fail("generated lines are valid"));
            };
            prop_assert_eq!(fingerprint(&x) == fingerprint(&y), a == b);
        }
    }
}
