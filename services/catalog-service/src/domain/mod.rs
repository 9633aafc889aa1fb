//! The catalog's rules and types. **No I/O here**: nothing in this module touches the database,
//! the cache or HTTP; values arrive already parsed.

mod money;
mod page;
mod product;

pub use money::Cents;
pub use page::{Cursor, InvalidField, PageLimit, PageRequest, ProductPage};
pub use product::{InvalidProductId, Product, ProductId, ProductJson};
