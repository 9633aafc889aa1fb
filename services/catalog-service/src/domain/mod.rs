//! The catalog's own rules: which page a `GET /api/v1/products` asks for, and how a page is cut
//! from rows. The product itself (`ProductId`, `Product`, `ProductPage`) is `contract`'s, shared
//! with the services that read it. **No I/O here**: values arrive already parsed.

mod page;

pub use page::{page_of, Cursor, InvalidQuery, PageLimit, PageRequest};
