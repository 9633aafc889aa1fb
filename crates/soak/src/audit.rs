//! The store's books after the run: what the client was told, what order-service stored and
//! what the gateway charged must agree.

use std::collections::{BTreeMap, BTreeSet};

use crate::databases::UNSETTLED;

/// What the audit reads.
#[derive(Clone, Debug, Default)]
pub struct Books {
    /// Order ids the client was answered 201 for.
    pub placed: BTreeSet<String>,
    /// `GET /api/v1/orders/{id}` of each placed order: its `status`, `None` unless 200.
    pub read_back: BTreeMap<String, Option<String>>,
    /// order-service's `orders` table: (id, status).
    pub orders: Vec<(String, String)>,
    /// The gateway's `charges` table: (reference = order id, status).
    pub charges: Vec<(String, String)>,
}

/// What the books say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audit {
    pub orders_by_status: BTreeMap<String, u64>,
    pub charges_by_status: BTreeMap<String, u64>,
    /// Answered 201, but not stored as `paid`, or not readable as `paid` through the API.
    pub lost_orders: Vec<String>,
    /// Succeeded charges beyond the first for one order.
    pub double_charges: u64,
    /// Succeeded charges whose order is not `paid` (or does not exist): money taken for
    /// nothing the store sold.
    pub orphan_charges: Vec<String>,
    /// `paid` orders without a succeeded charge: goods given away.
    pub paid_without_charge: Vec<String>,
    /// Orders still `pending` or `payment_unknown`.
    pub unsettled: Vec<String>,
}

pub fn audit(books: &Books) -> Audit {
    let status: BTreeMap<&str, &str> = books
        .orders
        .iter()
        .map(|(id, s)| (id.as_str(), s.as_str()))
        .collect();
    let mut succeeded: BTreeMap<&str, u64> = BTreeMap::new();
    let mut charges_by_status = BTreeMap::new();
    for (reference, s) in &books.charges {
        *charges_by_status.entry(s.clone()).or_default() += 1;
        if s == "succeeded" {
            *succeeded.entry(reference.as_str()).or_default() += 1;
        }
    }
    let mut orders_by_status = BTreeMap::new();
    for (_, s) in &books.orders {
        *orders_by_status.entry(s.clone()).or_default() += 1;
    }
    let paid = |id: &str| status.get(id) == Some(&"paid");

    Audit {
        lost_orders: books
            .placed
            .iter()
            .filter(|id| {
                !paid(id) || books.read_back.get(*id).and_then(Option::as_deref) != Some("paid")
            })
            .cloned()
            .collect(),
        double_charges: succeeded.values().map(|n| n.saturating_sub(1)).sum(),
        orphan_charges: succeeded
            .keys()
            .filter(|id| !paid(id))
            .map(|id| (*id).to_owned())
            .collect(),
        paid_without_charge: books
            .orders
            .iter()
            .filter(|(id, s)| s == "paid" && !succeeded.contains_key(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect(),
        unsettled: books
            .orders
            .iter()
            .filter(|(_, s)| UNSETTLED.contains(&s.as_str()))
            .map(|(id, _)| id.clone())
            .collect(),
        orders_by_status,
        charges_by_status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn consistent_books_pass() {
        let books = Books {
            placed: ["o1".to_owned()].into(),
            read_back: [("o1".to_owned(), Some("paid".to_owned()))].into(),
            orders: pairs(&[("o1", "paid"), ("o2", "declined"), ("o3", "payment_failed")]),
            charges: pairs(&[("o1", "succeeded"), ("o2", "declined")]),
        };
        let audit = audit(&books);
        assert!(audit.lost_orders.is_empty());
        assert_eq!(audit.double_charges, 0);
        assert!(audit.orphan_charges.is_empty());
        assert!(audit.paid_without_charge.is_empty());
        assert!(audit.unsettled.is_empty());
        assert_eq!(audit.orders_by_status["declined"], 1);
        assert_eq!(audit.charges_by_status["succeeded"], 1);
    }

    #[test]
    fn every_kind_of_broken_book_is_counted() {
        let books = Books {
            // o1 stored as failed, o2 not readable, o9 never stored.
            placed: ["o1", "o2", "o9"].map(str::to_owned).into(),
            read_back: [
                ("o1".to_owned(), Some("payment_failed".to_owned())),
                ("o2".to_owned(), None),
            ]
            .into(),
            orders: pairs(&[
                ("o1", "payment_failed"),
                ("o2", "paid"),
                ("o3", "pending"),
                ("o4", "payment_unknown"),
                ("o5", "paid"),
            ]),
            charges: pairs(&[
                ("o1", "succeeded"),
                ("o2", "succeeded"),
                ("o2", "succeeded"),
                ("o3", "succeeded"),
            ]),
        };
        let audit = audit(&books);
        assert_eq!(audit.lost_orders, ["o1", "o2", "o9"]);
        assert_eq!(audit.double_charges, 1);
        assert_eq!(audit.orphan_charges, ["o1", "o3"]);
        assert_eq!(audit.paid_without_charge, ["o5"]);
        assert_eq!(audit.unsettled, ["o3", "o4"]);
    }
}
