//! A checkout request, parsed: every rule of the design's validation table, checked once.

use contract::{
    Country, InvalidCountry, InvalidPaymentMethod, InvalidProductId, PaymentMethod, ProductId,
};

/// The most lines one checkout may hold.
pub const MAX_LINES: usize = 100;

/// 1–1000 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an integer from 1 to {max}, got {0}", max = Quantity::MAX)]
pub struct InvalidQuantity(pub i64);

impl Quantity {
    pub const MAX: i64 = 1000;

    pub fn parse(n: i64) -> Result<Self, InvalidQuantity> {
        match u32::try_from(n) {
            Ok(q) if (1..=Self::MAX).contains(&n) => Ok(Self(q)),
            _ => Err(InvalidQuantity(n)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A valid checkout: country, payment method and 1–[`MAX_LINES`] lines (the same product may
/// appear on several lines; each is priced on its own). Past [`CheckoutRequest::parse`],
/// nothing re-checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    pub country: Country,
    pub payment_method: PaymentMethod,
    pub lines: Vec<CheckoutLine>,
}

/// One rule a checkout broke, and where: [`InvalidField::field`] is the JSON path
/// (`country`, `items`, `items[3].quantity`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidField {
    /// Lower case is refused, not folded as the gateway does: this API's contract is the
    /// upper-case code, so `us` is a client error here.
    #[error(transparent)]
    Country(InvalidCountry),
    #[error(transparent)]
    PaymentMethod(InvalidPaymentMethod),
    #[error("must have 1 to {MAX_LINES} lines, got {0}")]
    LineCount(usize),
    #[error("{source}")]
    ProductId {
        line: usize,
        source: InvalidProductId,
    },
    #[error("{source}")]
    Quantity {
        line: usize,
        source: InvalidQuantity,
    },
}

impl InvalidField {
    pub fn field(&self) -> String {
        match self {
            Self::Country(_) => "country".to_owned(),
            Self::PaymentMethod(_) => "payment_method".to_owned(),
            Self::LineCount(_) => "items".to_owned(),
            Self::ProductId { line, .. } => format!("items[{line}].product_id"),
            Self::Quantity { line, .. } => format!("items[{line}].quantity"),
        }
    }
}

/// Every rule a checkout broke, in body order; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid checkout: {}", .0.iter().map(|e| format!("{}: {e}", e.field())).collect::<Vec<_>>().join("; "))]
pub struct InvalidCheckout(pub Vec<InvalidField>);

impl CheckoutRequest {
    /// Checks every part of a checkout as sent — `lines` as `(product_id, quantity)` — and
    /// lists every offending field, not just the first. Of more than [`MAX_LINES`] lines only
    /// the first [`MAX_LINES`] are looked at.
    pub fn parse<S: AsRef<str>>(
        country: &str,
        payment_method: &str,
        lines: &[(S, i64)],
    ) -> Result<Self, InvalidCheckout> {
        let mut errors = Vec::new();
        let country = Country::parse(country)
            .map_err(|e| errors.push(InvalidField::Country(e)))
            .ok();
        let payment_method = PaymentMethod::parse(payment_method)
            .map_err(|e| errors.push(InvalidField::PaymentMethod(e)))
            .ok();
        if lines.is_empty() || lines.len() > MAX_LINES {
            errors.push(InvalidField::LineCount(lines.len()));
        }
        let mut parsed = Vec::with_capacity(lines.len().min(MAX_LINES));
        for (line, (product_id, quantity)) in lines.iter().enumerate().take(MAX_LINES) {
            let product_id = ProductId::parse(product_id.as_ref())
                .map_err(|source| errors.push(InvalidField::ProductId { line, source }))
                .ok();
            let quantity = Quantity::parse(*quantity)
                .map_err(|source| errors.push(InvalidField::Quantity { line, source }))
                .ok();
            if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
                parsed.push(CheckoutLine {
                    product_id,
                    quantity,
                });
            }
        }
        match (country, payment_method, errors.is_empty()) {
            (Some(country), Some(payment_method), true) => Ok(Self {
                country,
                payment_method,
                lines: parsed,
            }),
            _ => Err(InvalidCheckout(errors)),
        }
    }

    /// Units over all lines.
    pub fn units(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity.get())).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        country: &str,
        method: &str,
        items: &[(&str, i64)],
    ) -> Result<CheckoutRequest, InvalidCheckout> {
        CheckoutRequest::parse(country, method, items)
    }

    fn fields(errors: &InvalidCheckout) -> Vec<String> {
        errors.0.iter().map(InvalidField::field).collect()
    }

    #[test]
    fn a_valid_basket_parses() {
        let c = parse("US", "card", &[("p-0001", 2)]).unwrap();
        assert_eq!(c.country.as_str(), "US");
        assert_eq!(c.lines[0].quantity.get(), 2);
        assert_eq!(c.units(), 2);
    }

    #[test]
    fn every_offending_field_is_listed() {
        let errors = parse("us", "cash", &[("p 1", 0), ("p-2", 1001)]).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "country",
                "payment_method",
                "items[0].product_id",
                "items[0].quantity",
                "items[1].quantity"
            ]
        );
        assert!(
            errors
                .to_string()
                .contains("items[1].quantity: must be an integer from 1 to 1000, got 1001"),
            "{errors}"
        );
    }

    #[test]
    fn line_count_bounds() {
        assert!(parse("US", "card", &[]).is_err());
        let many: Vec<_> = (0..101).map(|_| ("p-0001", 1)).collect();
        let errors = parse("US", "card", &many).unwrap_err();
        assert_eq!(errors.0[0].field(), "items");
        let hundred: Vec<_> = (0..100).map(|_| ("p-0001", 1)).collect();
        assert!(parse("US", "card", &hundred).is_ok());
    }

    #[test]
    fn unassigned_country_codes_are_refused() {
        for bad in ["XX", "USA", "de"] {
            assert!(parse(bad, "card", &[("p-1", 1)]).is_err(), "{bad}");
        }
        assert!(parse("DE", "card", &[("p-1", 1)]).is_ok());
    }

    /// The rules as properties over arbitrary input, not just the examples above.
    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn country() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(&["US", "DE", "FR", "JP"][..]).prop_map(str::to_owned),
                "[A-Z]{2}",
                "[a-zA-Z]{1,3}",
                any::<String>(),
            ]
        }

        fn method() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(&["card", "paypal", "apple_pay", "bank_transfer"][..])
                    .prop_map(str::to_owned),
                "[a-z_]{3,14}",
                any::<String>(),
            ]
        }

        fn product_id() -> impl Strategy<Value = String> {
            prop_oneof![
                "[A-Za-z0-9_-]{1,64}",
                "[A-Za-z0-9_-]{60,70}",
                "[A-Za-z0-9_ ./-]{0,10}",
                any::<String>(),
            ]
        }

        fn quantity() -> impl Strategy<Value = i64> {
            prop_oneof![1i64..=1000, -5i64..=5, 995i64..=1005, any::<i64>()]
        }

        fn line() -> impl Strategy<Value = (String, i64)> {
            (product_id(), quantity())
        }

        proptest! {
            #[test]
            fn quantity_is_exactly_1_to_1000(n in quantity()) {
                prop_assert_eq!(Quantity::parse(n).is_ok(), (1..=1000).contains(&n));
                if let Ok(q) = Quantity::parse(n) {
                    prop_assert_eq!(i64::from(q.get()), n);
                }
            }

            /// A body is accepted exactly when every part is valid; otherwise every invalid
            /// part is named, and nothing else.
            #[test]
            fn a_checkout_is_valid_iff_every_field_is(
                c in country(),
                m in method(),
                lines in prop::collection::vec(line(), 0..120),
            ) {
                let country_ok = Country::parse(&c).is_ok();
                let method_ok = PaymentMethod::parse(&m).is_ok();
                let count_ok = (1..=MAX_LINES).contains(&lines.len());
                let mut expected = Vec::new();
                if !country_ok { expected.push("country".to_owned()); }
                if !method_ok { expected.push("payment_method".to_owned()); }
                if !count_ok { expected.push("items".to_owned()); }
                for (i, (p, q)) in lines.iter().enumerate().take(MAX_LINES) {
                    if ProductId::parse(p).is_err() { expected.push(format!("items[{i}].product_id")); }
                    if !(1..=1000).contains(q) { expected.push(format!("items[{i}].quantity")); }
                }
                match CheckoutRequest::parse(&c, &m, &lines) {
                    Ok(checkout) => {
                        prop_assert!(expected.is_empty(), "accepted despite {:?}", expected);
                        prop_assert_eq!(checkout.lines.len(), lines.len());
                        for (parsed, (p, q)) in checkout.lines.iter().zip(&lines) {
                            prop_assert_eq!(parsed.product_id.as_str(), p.as_str());
                            prop_assert_eq!(i64::from(parsed.quantity.get()), *q);
                        }
                    }
                    Err(errors) => {
                        let fields: Vec<String> = errors.0.iter().map(InvalidField::field).collect();
                        prop_assert_eq!(fields, expected);
                    }
                }
            }
        }
    }
}
