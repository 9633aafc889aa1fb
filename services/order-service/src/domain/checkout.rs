//! A checkout request, parsed.

use serde::Deserialize;
use service_kit::{iso3166, problem::FieldError};

/// The JSON body as sent. Unknown fields are refused: a client cannot slip in a price or a total.
/// A field given twice is refused too (serde's derived visitor reports `duplicate field`), so
/// no "last one wins" ambiguity between what a proxy or a WAF saw and what is charged.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    /// ISO 3166-1 alpha-2 country code, e.g. `US`.
    pub country: String,
    /// `card`, `paypal`, `apple_pay` or `bank_transfer`.
    pub payment_method: String,
    /// 1–100 lines.
    pub items: Vec<LineBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    pub product_id: String,
    /// An integer 1–1000.
    pub quantity: i64,
}

/// ISO 3166-1 alpha-2, upper case. Lower case is refused, not folded as the gateway does: this
/// API's contract is the upper-case code, so `us` is a client error here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(&'static str);

impl Country {
    pub fn parse(s: &str) -> Result<Self, String> {
        iso3166::assigned_alpha2(s)
            .map(Self)
            .ok_or_else(|| format!("{s:?} is not an ISO 3166-1 alpha-2 country code"))
    }
}

impl AsRef<str> for Country {
    fn as_ref(&self) -> &str {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    Card,
    Paypal,
    ApplePay,
    BankTransfer,
}

impl PaymentMethod {
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "card" => Self::Card,
            "paypal" => Self::Paypal,
            "apple_pay" => Self::ApplePay,
            "bank_transfer" => Self::BankTransfer,
            _ => {
                return Err(format!(
                    "{s:?} is not one of card, paypal, apple_pay, bank_transfer"
                ))
            }
        })
    }
}

impl AsRef<str> for PaymentMethod {
    fn as_ref(&self) -> &str {
        match self {
            Self::Card => "card",
            Self::Paypal => "paypal",
            Self::ApplePay => "apple_pay",
            Self::BankTransfer => "bank_transfer",
        }
    }
}

/// 1–1000 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: i64 = 1000;

    pub fn parse(n: i64) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n as u32))
        } else {
            Err(format!(
                "must be an integer from 1 to {}, got {n}",
                Self::MAX
            ))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A catalog id: 1–64 characters of `[A-Za-z0-9_-]`, so it is safe in a URL path segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductId(String);

impl ProductId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be 1–64 characters of A–Z, a–z, 0–9, '-' or '_'".to_owned())
        }
    }
}

impl AsRef<str> for ProductId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A valid checkout: country, method and 1–100 lines (the same product may appear on several
/// lines; each is priced on its own).
#[derive(Debug, Clone)]
pub struct Checkout {
    pub country: Country,
    pub payment_method: PaymentMethod,
    pub lines: Vec<CheckoutLine>,
}

pub const MAX_LINES: usize = 100;

impl TryFrom<CheckoutBody> for Checkout {
    /// Every offending field, not just the first.
    type Error = Vec<FieldError>;

    fn try_from(body: CheckoutBody) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let country = Country::parse(&body.country)
            .map_err(|m| errors.push(FieldError::new("country", m)))
            .ok();
        let payment_method = PaymentMethod::parse(&body.payment_method)
            .map_err(|m| errors.push(FieldError::new("payment_method", m)))
            .ok();
        if body.items.is_empty() || body.items.len() > MAX_LINES {
            errors.push(FieldError::new(
                "items",
                format!("must have 1 to {MAX_LINES} lines, got {}", body.items.len()),
            ));
        }
        let mut lines = Vec::with_capacity(body.items.len().min(MAX_LINES));
        for (i, line) in body.items.iter().enumerate().take(MAX_LINES) {
            let product_id = ProductId::parse(&line.product_id)
                .map_err(|m| errors.push(FieldError::new(format!("items[{i}].product_id"), m)))
                .ok();
            let quantity = Quantity::parse(line.quantity)
                .map_err(|m| errors.push(FieldError::new(format!("items[{i}].quantity"), m)))
                .ok();
            if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
                lines.push(CheckoutLine {
                    product_id,
                    quantity,
                });
            }
        }
        match (country, payment_method, errors.is_empty()) {
            (Some(country), Some(payment_method), true) => Ok(Self {
                country,
                payment_method,
                lines,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(country: &str, method: &str, items: Vec<(&str, i64)>) -> CheckoutBody {
        CheckoutBody {
            country: country.into(),
            payment_method: method.into(),
            items: items
                .into_iter()
                .map(|(p, q)| LineBody {
                    product_id: p.into(),
                    quantity: q,
                })
                .collect(),
        }
    }

    #[test]
    fn a_valid_basket_parses() {
        let c = Checkout::try_from(body("US", "card", vec![("p-0001", 2)])).unwrap();
        assert_eq!(c.country.as_ref(), "US");
        assert_eq!(c.lines[0].quantity.get(), 2);
    }

    #[test]
    fn every_offending_field_is_listed() {
        let errors =
            Checkout::try_from(body("us", "cash", vec![("p 1", 0), ("p-2", 1001)])).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "country",
                "payment_method",
                "items[0].product_id",
                "items[0].quantity",
                "items[1].quantity"
            ]
        );
    }

    #[test]
    fn line_count_bounds() {
        assert!(Checkout::try_from(body("US", "card", vec![])).is_err());
        let many: Vec<_> = (0..101).map(|_| ("p-0001", 1)).collect();
        let errors = Checkout::try_from(body("US", "card", many)).unwrap_err();
        assert_eq!(errors[0].field, "items");
        let hundred: Vec<_> = (0..100).map(|_| ("p-0001", 1)).collect();
        assert!(Checkout::try_from(body("US", "card", hundred)).is_ok());
    }

    #[test]
    fn duplicated_and_unknown_fields_are_refused() {
        for raw in [
            r#"{"country":"US","country":"DE","payment_method":"card","items":[]}"#,
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p","quantity":1,"quantity":9}]}"#,
            r#"{"country":"US","payment_method":"card","items":[],"items":[]}"#,
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p","quantity":1,"price_cents":1}]}"#,
        ] {
            let err = serde_json::from_str::<CheckoutBody>(raw).unwrap_err();
            assert!(err.is_data(), "{raw}: {err}");
        }
    }

    #[test]
    fn unassigned_country_codes_are_refused() {
        assert!(Country::parse("XX").is_err());
        assert!(Country::parse("USA").is_err());
        assert!(Country::parse("DE").is_ok());
        assert!(Country::parse("de").is_err());
    }

    /// The rules as properties over arbitrary input, not just the examples above.
    mod properties {
        use proptest::prelude::*;

        use super::super::*;
        use crate::domain::{fingerprint, Cents};

        /// Strings that are sometimes valid and often nearly so.
        fn country() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(&iso3166::ALPHA2[..]).prop_map(str::to_owned),
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

        fn body(country: String, method: String, lines: Vec<(String, i64)>) -> CheckoutBody {
            CheckoutBody {
                country,
                payment_method: method,
                items: lines
                    .into_iter()
                    .map(|(product_id, quantity)| LineBody {
                        product_id,
                        quantity,
                    })
                    .collect(),
            }
        }

        fn product_id_ok(s: &str) -> bool {
            (1..=64).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }

        proptest! {
            #[test]
            fn quantity_is_exactly_1_to_1000(n in quantity()) {
                prop_assert_eq!(Quantity::parse(n).is_ok(), (1..=1000).contains(&n));
                if let Ok(q) = Quantity::parse(n) {
                    prop_assert_eq!(i64::from(q.get()), n);
                }
            }

            #[test]
            fn countries_are_assigned_alpha2_codes(s in country()) {
                let ok = Country::parse(&s).is_ok();
                prop_assert_eq!(ok, iso3166::ALPHA2.contains(&s.as_str()));
                if let Ok(c) = Country::parse(&s) {
                    prop_assert_eq!(c.as_ref(), s.as_str());
                }
            }

            #[test]
            fn payment_methods_are_the_four(s in method()) {
                let ok = ["card", "paypal", "apple_pay", "bank_transfer"].contains(&s.as_str());
                prop_assert_eq!(PaymentMethod::parse(&s).is_ok(), ok);
                if let Ok(m) = PaymentMethod::parse(&s) {
                    prop_assert_eq!(m.as_ref(), s.as_str());
                }
            }

            #[test]
            fn product_ids_are_url_safe(s in product_id()) {
                prop_assert_eq!(ProductId::parse(&s).is_ok(), product_id_ok(&s));
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
                    if !product_id_ok(p) { expected.push(format!("items[{i}].product_id")); }
                    if !(1..=1000).contains(q) { expected.push(format!("items[{i}].quantity")); }
                }
                match Checkout::try_from(body(c, m, lines.clone())) {
                    Ok(checkout) => {
                        prop_assert!(expected.is_empty(), "accepted despite {:?}", expected);
                        prop_assert_eq!(checkout.lines.len(), lines.len());
                        for (parsed, (p, q)) in checkout.lines.iter().zip(&lines) {
                            prop_assert_eq!(parsed.product_id.as_ref(), p.as_str());
                            prop_assert_eq!(i64::from(parsed.quantity.get()), *q);
                        }
                    }
                    Err(errors) => {
                        let fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
                        prop_assert_eq!(fields, expected);
                    }
                }
            }

            /// No valid basket can overflow the total: 100 lines × 1000 units × the largest
            /// price that fits is checked, not wrapped.
            #[test]
            fn totals_never_wrap(price in 0i64..=i64::MAX, lines in 1usize..=MAX_LINES, q in 1u32..=1000) {
                let total = (0..lines).try_fold(Cents::ZERO, |sum, _| {
                    Cents::new(price).and_then(|p| p.checked_mul(q)).and_then(|a| sum.checked_add(a))
                });
                let exact = i128::from(price) * i128::from(q) * lines as i128;
                match total {
                    Some(t) => prop_assert_eq!(i128::from(t.get()), exact),
                    None => prop_assert!(exact > i128::from(i64::MAX)),
                }
            }

            /// Two checkouts have the same idempotency fingerprint exactly when they are the
            /// same request.
            #[test]
            fn fingerprints_match_iff_requests_do(
                a in prop::collection::vec(("[a-z0-9-]{1,8}", 1i64..=1000), 1..5),
                b in prop::collection::vec(("[a-z0-9-]{1,8}", 1i64..=1000), 1..5),
            ) {
                let parse = |lines: &Vec<(String, i64)>| {
                    Checkout::try_from(body("US".into(), "card".into(), lines.clone()))
                };
                let (Ok(x), Ok(y)) = (parse(&a), parse(&b)) else {
                    return Err(TestCaseError::fail("generated lines are valid"));
                };
                prop_assert_eq!(fingerprint(&x) == fingerprint(&y), a == b);
            }

            #[test]
            fn dollars_round_trip(cents in 0i64..=10_000_000_000_000) {
                let text = format!("{}.{:02}", cents / 100, cents % 100);
                prop_assert_eq!(Cents::parse_usd(&text).map(|c| c.get()), Ok(cents));
            }
        }
    }
}
