//! Keyset pagination over products, ordered by id.
//!
//! The cursor is opaque to clients: base64url (no padding) of the last id of the previous page.
//! Keyset rather than offset pagination, so a walk never skips or repeats a product while rows
//! are added, and every page is one indexed range scan.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use contract::{Product, ProductId, ProductPage};

/// One rejected query parameter, named by [`InvalidQuery::field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuery {
    #[error("must be an integer from 1 to {max}", max = PageLimit::MAX)]
    Limit,
    #[error("is not a cursor returned by this API")]
    Cursor,
}

impl InvalidQuery {
    pub fn field(self) -> &'static str {
        match self {
            Self::Limit => "limit",
            Self::Cursor => "cursor",
        }
    }
}

/// Products per page: 1 to 100, default 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: u32 = 20;
    pub const MAX: u32 = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidQuery> {
        let n: u32 = raw.trim().parse().map_err(|_| InvalidQuery::Limit)?;
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(InvalidQuery::Limit)
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// Where a page starts: after this product id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(ProductId);

impl Cursor {
    pub fn after(id: ProductId) -> Self {
        Self(id)
    }

    pub fn decode(token: &str) -> Result<Self, InvalidQuery> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| InvalidQuery::Cursor)?;
        let id = std::str::from_utf8(&bytes).map_err(|_| InvalidQuery::Cursor)?;
        ProductId::parse(id)
            .map(Self)
            .map_err(|_| InvalidQuery::Cursor)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_str())
    }

    pub fn last_id(&self) -> &ProductId {
        &self.0
    }
}

/// A validated `GET /api/v1/products` query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub limit: PageLimit,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Both parameters are checked, so one response lists every problem.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Vec<InvalidQuery>> {
        let limit = limit.map(PageLimit::parse).transpose();
        let after = cursor.map(Cursor::decode).transpose();
        match (limit, after) {
            (Ok(limit), Ok(after)) => Ok(Self {
                limit: limit.unwrap_or_default(),
                after,
            }),
            (limit, after) => Err([limit.err(), after.err()].into_iter().flatten().collect()),
        }
    }
}

/// The page to answer from `rows`, which holds up to `limit + 1` products in id order: the
/// extra one only tells that another page exists, so the last page never points at an empty
/// one.
pub fn page_of(mut rows: Vec<Product>, limit: PageLimit) -> ProductPage {
    let limit = limit.get() as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(Cursor::after(last.id.clone()).encode()),
        _ => None,
    };
    ProductPage {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use contract::Cents;

    use super::*;

    fn product(id: &str) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            name: id.into(),
            category: "books".into(),
            description: String::new(),
            price: Cents::new(100).unwrap(),
            stock: 1,
        }
    }

    #[test]
    fn limit_is_between_1_and_100() {
        assert_eq!(PageLimit::parse("1").map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::parse("100").map(PageLimit::get), Ok(100));
        for bad in ["0", "101", "-1", "", "ten", "1.5", "99999999999"] {
            assert_eq!(PageLimit::parse(bad).unwrap_err().field(), "limit", "{bad}");
        }
        assert_eq!(PageRequest::parse(None, None).unwrap().limit.get(), 20);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor::after(ProductId::parse("p-0007").unwrap());
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
        for bad in [
            "!!!",
            "cC0wMDA3=",
            "",
            "//8",
            &URL_SAFE_NO_PAD.encode("p 1"),
        ] {
            assert_eq!(Cursor::decode(bad).unwrap_err().field(), "cursor", "{bad}");
        }
    }

    #[test]
    fn every_bad_parameter_is_listed() {
        let errors = PageRequest::parse(Some("0"), Some("!")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let limit = PageLimit::parse("2").unwrap();
        let page = page_of(vec![product("a"), product("b"), product("c")], limit);
        assert_eq!(page.items.len(), 2);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(next.last_id().as_str(), "b");
        let last = page_of(vec![product("c")], limit);
        assert_eq!(last.next_cursor, None);
        let exact = page_of(vec![product("a"), product("b")], limit);
        assert_eq!(exact.next_cursor, None);
    }
}
