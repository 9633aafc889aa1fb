//! A product and its identifier.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Cents;

/// A product id: 1 to 64 characters from `[A-Za-z0-9_-]`, e.g. `p-0001`.
///
/// Anything else cannot name a product, so it is refused before any cache or database lookup
/// (and never becomes part of a cache key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
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
        // Length in bytes: all allowed characters are ASCII, so a longer byte string is either
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

impl<'de> Deserialize<'de> for ProductId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A product as the catalog sells it.
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

/// The JSON form of a [`Product`], in responses and in the cache. `price_usd` and `currency`
/// are derived from `price_cents` when written and ignored when read, so a cached entry can
/// never disagree with itself.
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

/// The only currency the catalog prices in.
pub const CURRENCY: &str = "USD";

impl From<Product> for ProductJson {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.0,
            name: p.name,
            category: p.category,
            description: p.description,
            price_cents: p.price.get(),
            price_usd: p.price.usd(),
            currency: CURRENCY.to_owned(),
            stock: p.stock,
        }
    }
}

impl TryFrom<ProductJson> for Product {
    type Error = String;

    fn try_from(j: ProductJson) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ProductId::parse(&j.id).map_err(|e| e.to_string())?,
            name: j.name,
            category: j.category,
            description: j.description,
            price: Cents::new(j.price_cents).ok_or("price_cents is negative")?,
            stock: j.stock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["p 1", "p/1", "p.1", "p:1", "é", "p%201", "*"] {
            assert_eq!(
                ProductId::parse(bad),
                Err(InvalidProductId::BadCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_carries_cents_dollars_and_currency() {
        let p = Product {
            id: ProductId::parse("p-0001").unwrap(),
            name: "Mug".into(),
            category: "home".into(),
            description: "A mug.".into(),
            price: Cents::new(1999).unwrap(),
            stock: 42,
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"p-0001","name":"Mug","category":"home","description":"A mug.",
                "price_cents":1999,"price_usd":19.99,"currency":"USD","stock":42})
        );
        let back: Product = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn json_with_a_bad_id_or_price_is_refused() {
        let json = serde_json::json!({"id":"p 1","name":"x","category":"x","description":"x",
            "price_cents":1,"price_usd":0.01,"currency":"USD","stock":1});
        assert!(serde_json::from_value::<Product>(json).is_err());
        let json = serde_json::json!({"id":"p-1","name":"x","category":"x","description":"x",
            "price_cents":-1,"price_usd":-0.01,"currency":"USD","stock":1});
        assert!(serde_json::from_value::<Product>(json).is_err());
    }
}
