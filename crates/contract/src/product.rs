//! The catalog's bodies: a product (`GET /api/v1/products/{id}`, and each cache entry) and a
//! page of them (`GET /api/v1/products`). catalog-service writes them; order-service reads a
//! product to price a checkout line.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{Cents, Currency, NegativeCents};

/// A product id: 1 to 64 characters from `[A-Za-z0-9_-]`, e.g. `p-0001`.
///
/// Anything else cannot name a product, so it is refused before any cache key, database query
/// or URL is built from it (it is always safe as one path segment).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidProductId {
    #[error("a product id cannot be empty")]
    Empty,
    #[error("a product id has at most {max} characters", max = ProductId::MAX_LEN)]
    TooLong,
    #[error("a product id uses only letters, digits, '-' and '_'")]
    BadCharacter,
}

impl ProductId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidProductId> {
        if raw.is_empty() {
            return Err(InvalidProductId::Empty);
        }
        // Length in bytes: every allowed character is ASCII, so a longer byte string is either
        // too long or holds a forbidden character anyway.
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidProductId::TooLong);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidProductId::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ProductId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ProductId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProductId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A product as the catalog sells it. Its JSON is [`ProductJson`]: reading one checks the id,
/// the price and the currency, so a reader (order-service pricing a basket) never re-checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "ProductJson", try_from = "ProductJson")]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub category: String,
    pub description: String,
    pub price: Cents,
    pub stock: u32,
}

/// A product body the catalog should never have written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidProduct {
    #[error("id: {0}")]
    Id(#[from] InvalidProductId),
    #[error("price_cents: {0}")]
    Price(#[from] NegativeCents),
    #[error("currency: {0}")]
    Currency(#[from] crate::money::UnsupportedCurrency),
}

/// The JSON form of a [`Product`], in responses and in the catalog's cache. `price_usd` is
/// derived from `price_cents` when written and ignored when read, so an entry can never
/// disagree with itself.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Product, example = json!({
    "id": "p-0001", "name": "Wireless Noise-Cancelling Headphones", "category": "electronics",
    "description": "Over-ear Bluetooth headphones with active noise cancelling and 30-hour battery life.",
    "price_cents": 24999, "price_usd": 249.99, "currency": "USD", "stock": 120
}))]
pub struct ProductJson {
    /// Stable identifier, `[A-Za-z0-9_-]{1,64}`.
    pub id: String,
    pub name: String,
    /// One of `electronics`, `books`, `home`, `outdoor`, `apparel`, `grocery`.
    pub category: String,
    pub description: String,
    /// Unit price in US cents.
    pub price_cents: i64,
    /// Unit price in US dollars, two decimals, derived from `price_cents`.
    pub price_usd: f64,
    /// Always `USD`.
    pub currency: String,
    /// Units in stock.
    pub stock: u32,
}

impl From<Product> for ProductJson {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.0,
            name: p.name,
            category: p.category,
            description: p.description,
            price_cents: p.price.get(),
            price_usd: p.price.usd(),
            currency: Currency::Usd.as_str().to_owned(),
            stock: p.stock,
        }
    }
}

impl TryFrom<ProductJson> for Product {
    type Error = InvalidProduct;

    fn try_from(j: ProductJson) -> Result<Self, Self::Error> {
        Currency::parse(&j.currency)?;
        Ok(Self {
            id: ProductId::parse(&j.id)?,
            name: j.name,
            category: j.category,
            description: j.description,
            price: Cents::try_from(j.price_cents)?,
            stock: j.stock,
        })
    }
}

/// One page of products in id order; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductPage {
    #[schema(value_type = Vec<ProductJson>)]
    pub items: Vec<Product>,
    /// Pass as `cursor` to get the next page; `null` when this is the last page. Opaque.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn mug() -> Product {
        Product {
            id: ProductId::parse("p-0001").unwrap(),
            name: "Mug".into(),
            category: "home".into(),
            description: "A mug.".into(),
            price: Cents::new(1999).unwrap(),
            stock: 42,
        }
    }

    #[test]
    fn ids_are_short_and_plain() {
        assert!(ProductId::parse("p-0001").is_ok());
        assert!(ProductId::parse("A_z-9").is_ok());
        assert!(ProductId::parse(&"a".repeat(64)).is_ok());
        assert_eq!(
            ProductId::parse(&"a".repeat(65)),
            Err(InvalidProductId::TooLong)
        );
        assert_eq!(ProductId::parse(""), Err(InvalidProductId::Empty));
        for bad in ["p 1", "p/1", "p.1", "p:1", "é", "p%201", "*", "../admin"] {
            assert_eq!(
                ProductId::parse(bad),
                Err(InvalidProductId::BadCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_carries_cents_dollars_and_currency() {
        let json = serde_json::to_value(mug()).unwrap();
        assert_eq!(
            json,
            json!({"id":"p-0001","name":"Mug","category":"home","description":"A mug.",
                "price_cents":1999,"price_usd":19.99,"currency":"USD","stock":42})
        );
        // Field order is part of what the catalog caches and serves: keep it stable.
        assert_eq!(
            serde_json::to_string(&mug()).unwrap(),
            r#"{"id":"p-0001","name":"Mug","category":"home","description":"A mug.","price_cents":1999,"price_usd":19.99,"currency":"USD","stock":42}"#
        );
        let back: Product = serde_json::from_value(json).unwrap();
        assert_eq!(back, mug());
    }

    #[test]
    fn json_with_a_bad_id_price_or_currency_is_refused() {
        let base = serde_json::to_value(mug()).unwrap();
        for (field, value) in [
            ("id", json!("p 1")),
            ("price_cents", json!(-1)),
            ("currency", json!("EUR")),
            ("stock", json!(-1)),
        ] {
            let mut bad = base.clone();
            bad[field] = value;
            assert!(serde_json::from_value::<Product>(bad).is_err(), "{field}");
        }
        let mut missing = base;
        missing.as_object_mut().unwrap().remove("price_cents");
        assert!(serde_json::from_value::<Product>(missing).is_err());
    }

    #[test]
    fn a_page_is_items_and_a_cursor() {
        let page = ProductPage {
            items: vec![mug()],
            next_cursor: None,
        };
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["next_cursor"], serde_json::Value::Null);
        assert_eq!(json["items"][0]["price_usd"], 19.99);
        assert_eq!(serde_json::from_value::<ProductPage>(json).unwrap(), page);
    }

    fn product_id() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9_-]{1,64}",
            "[A-Za-z0-9_-]{60,70}",
            "[A-Za-z0-9_ ./-]{0,10}",
            any::<String>(),
        ]
    }

    fn product_id_ok(s: &str) -> bool {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    proptest! {
        #[test]
        fn product_ids_are_url_safe(s in product_id()) {
            prop_assert_eq!(ProductId::parse(&s).is_ok(), product_id_ok(&s));
        }
    }
}
