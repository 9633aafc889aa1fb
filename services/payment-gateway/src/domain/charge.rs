//! What the gateway decides about a charge request. The request and the charge themselves are
//! `contract` types, shared with order-service.

use contract::{ChargeRequest, DeclineCode};
use rand::{Rng, RngExt};
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of the request's canonical form. Stored with the charge so that a replay can
/// tell "the same request again" from "the same key with another request".
///
/// Why the parsed form rather than the raw bytes: two bodies that differ only in member order,
/// whitespace or the case of the country code ask for the same charge, and a client library
/// that re-serialises on retry must not be told it reused its key.
pub fn fingerprint(request: &ChargeRequest) -> String {
    let canonical = serde_json::json!([
        request.amount.cents().get(),
        request.currency.as_str(),
        request.method.as_str(),
        request.country.as_str(),
        request.reference.as_ref(),
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The (simulated) issuer's reason for a decline, uniformly among the codes.
pub fn draw_decline_code(rng: &mut impl Rng) -> DeclineCode {
    DeclineCode::ALL[rng.random_range(0..DeclineCode::ALL.len())]
}

#[cfg(test)]
mod tests {
    use contract::{ChargeRequestJson, PaymentMethod};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn request(country: &str, amount_cents: i64, reference: &str) -> ChargeRequest {
        ChargeRequest::try_from(ChargeRequestJson {
            amount_cents,
            currency: "USD".into(),
            payment_method: "card".into(),
            country: country.into(),
            reference: reference.into(),
        })
        .unwrap()
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive_to_every_field() {
        let base = request("US", 1999, "ord_1");
        assert_eq!(base.method, PaymentMethod::Card);
        assert_eq!(
            fingerprint(&base),
            fingerprint(&request("us", 1999, "ord_1"))
        );
        assert_eq!(fingerprint(&base).len(), 64);
        assert_ne!(
            fingerprint(&base),
            fingerprint(&request("US", 2000, "ord_1"))
        );
        assert_ne!(
            fingerprint(&base),
            fingerprint(&request("US", 1999, "ord_2"))
        );
        assert_ne!(
            fingerprint(&base),
            fingerprint(&request("DE", 1999, "ord_1"))
        );
        let mut paypal = base.clone();
        paypal.method = PaymentMethod::Paypal;
        assert_ne!(fingerprint(&base), fingerprint(&paypal));
    }

    #[test]
    fn every_decline_code_is_drawn() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            seen.insert(draw_decline_code(&mut rng).as_str());
        }
        assert_eq!(seen.len(), 3);
    }
}
