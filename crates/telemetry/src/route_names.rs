//! Server span names and `http.route` values that cost no allocation per request.
//!
//! A sampled server span is named `{method} {route}` and carries `http.route`. Formatting the
//! name and copying the route allocate twice per request in the request thread, and the OTLP
//! exporter, which clones every span before converting it, allocates and frees both twice more
//! on its own thread. Yet the values repeat: a route is one of the app's patterns and a method one
//! of the eight labels of `method_label`. So each pair is formatted once and kept for the life of
//! the process as a `&'static str`, which the span and the exporter's clone share.
//!
//! The set is bounded by the app's routes, not by its traffic (`match_pattern` answers with the
//! pattern, never the path). As a guard against an app whose patterns are built at run time,
//! after [`MAX_ROUTES`] distinct routes new ones are simply not kept and cost what they did.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// More distinct routes than any of the services has, by far.
const MAX_ROUTES: usize = 512;

/// A span name and `http.route` value, both kept for the life of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteNames {
    /// `{method} {route}`.
    pub(crate) name: &'static str,
    pub(crate) route: &'static str,
}

/// Per route: the route itself, and the name for each method seen with it.
struct Kept {
    route: &'static str,
    names: Vec<(&'static str, &'static str)>,
}

/// The process's routes.
static ROUTES: RouteTable = RouteTable::new(MAX_ROUTES);

/// The name and route of a server span for `method` (one of `method_label`'s) and `route` (a
/// matched pattern); `None` once [`MAX_ROUTES`] routes are kept and `route` is not one of them.
pub(crate) fn route_names(method: &'static str, route: &str) -> Option<RouteNames> {
    ROUTES.get(method, route)
}

struct RouteTable {
    kept: RwLock<Option<HashMap<Box<str>, Kept>>>,
    max: usize,
}

impl RouteTable {
    const fn new(max: usize) -> Self {
        Self {
            kept: RwLock::new(None),
            max,
        }
    }

    fn get(&self, method: &'static str, route: &str) -> Option<RouteNames> {
        {
            let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(found) = kept.as_ref().and_then(|k| find(k.get(route)?, method)) {
                return Some(found);
            }
        }
        let mut kept = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        let kept = kept.get_or_insert_with(HashMap::new);
        if kept.len() >= self.max && !kept.contains_key(route) {
            return None;
        }
        let entry = kept.entry(route.into()).or_insert_with(|| Kept {
            route: Box::leak(route.into()),
            names: Vec::new(),
        });
        if let Some(found) = find(entry, method) {
            // Another thread added it between the two locks.
            return Some(found);
        }
        let name: &'static str = Box::leak(format!("{method} {route}").into_boxed_str());
        entry.names.push((method, name));
        Some(RouteNames {
            name,
            route: entry.route,
        })
    }
}

fn find(kept: &Kept, method: &str) -> Option<RouteNames> {
    kept.names
        .iter()
        .find(|(m, _)| *m == method)
        .map(|&(_, name)| RouteNames {
            name,
            route: kept.route,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pair_is_formatted_once_and_shared() {
        let first = route_names("GET", "/test/route-names/{id}").expect("kept");
        assert_eq!(first.name, "GET /test/route-names/{id}");
        assert_eq!(first.route, "/test/route-names/{id}");
        let again = route_names("GET", "/test/route-names/{id}").expect("kept");
        assert!(std::ptr::eq(first.name, again.name), "the same string");
        let post = route_names("POST", "/test/route-names/{id}").expect("kept");
        assert_eq!(post.name, "POST /test/route-names/{id}");
        assert!(
            std::ptr::eq(first.route, post.route),
            "one copy of the route"
        );
    }

    #[test]
    fn routes_beyond_the_bound_are_not_kept() {
        let table = RouteTable::new(2);
        assert!(table.get("GET", "/a").is_some());
        assert!(table.get("GET", "/b").is_some());
        assert_eq!(table.get("GET", "/c"), None, "a third route");
        // Kept routes still answer, for any method.
        assert_eq!(table.get("PUT", "/a").map(|n| n.name), Some("PUT /a"));
    }
}
