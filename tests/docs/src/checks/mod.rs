//! One module per check; each returns every [`crate::Finding`] over all pages.

pub mod chapters;
pub mod links;
pub mod names;
