//! What to send next: a seeded draw from the scenario's [`Mix`] over the catalog's real products.
//!
//! The planner alone owns the random generator and is called in order by the dispatcher, so one
//! seed gives one sequence of requests. Only the order ids a lookup picks depend on which
//! checkouts have answered by then, and every checkout gets a fresh `Idempotency-Key` whatever
//! the seed: the store remembers keys for a day, so a rerun replaying them would be answered
//! from memory (same body) or refused with 422 (another body) instead of placing orders.

use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};

use super::scenario::{Basket, Mix};
use crate::error::{Error, Result};
use crate::http::{endpoint_with_query, Http};

/// Where shoppers come from, and how they pay: weights, not a census.
const COUNTRIES: &[(&str, u32)] = &[
    ("US", 35),
    ("DE", 15),
    ("GB", 12),
    ("FR", 10),
    ("JP", 8),
    ("CA", 8),
    ("BR", 6),
    ("IN", 6),
];
const METHODS: &[(&str, u32)] = &[
    ("card", 50),
    ("paypal", 20),
    ("apple_pay", 20),
    ("bank_transfer", 10),
];
/// Lines per basket and units per line: mostly small baskets, a tail of bigger ones, so the
/// checkout-amount histogram has shape.
const LINES: &[(u32, u32)] = &[(1, 45), (2, 30), (3, 15), (4, 10)];
const UNITS: &[(u32, u32)] = &[(1, 70), (2, 20), (3, 10)];
/// `card_testing` counts orders of at most this much (SUSPICIOUS_SMALL_AMOUNT_USD, 5 USD).
const SMALL_ORDER_CENTS: i64 = 500;
/// `bulk_quantity` fires at SUSPICIOUS_BULK_QUANTITY units (100 by default); the order API
/// takes at most 1000 per line.
const BULK_UNITS: std::ops::RangeInclusive<u32> = 150..=300;
/// A bulk basket stays under `high_amount` (SUSPICIOUS_HIGH_AMOUNT_USD, 5000 USD), so the
/// scenario raises the one rule it is about.
const BULK_MAX_TOTAL_CENTS: i64 = 500_000;
/// Most catalog pages read to build the product list.
const MAX_PAGES: usize = 10;

/// A product the planner may put in a basket.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Product {
    pub id: String,
    pub price_cents: i64,
}

/// One request to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    ListProducts {
        limit: u32,
    },
    GetProduct {
        id: String,
    },
    Checkout {
        body: Value,
        /// `None` for the share of checkouts a [`Planner::keyless_one_in`] sends without one.
        idempotency_key: Option<String>,
    },
    GetOrder {
        id: String,
    },
}

impl Request {
    pub fn kind(&self) -> RequestKind {
        match self {
            Request::ListProducts { .. } => RequestKind::ListProducts,
            Request::GetProduct { .. } => RequestKind::GetProduct,
            Request::Checkout { .. } => RequestKind::Checkout,
            Request::GetOrder { .. } => RequestKind::GetOrder,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    ListProducts,
    GetProduct,
    Checkout,
    GetOrder,
}

impl RequestKind {
    pub fn route(self) -> &'static str {
        match self {
            RequestKind::ListProducts => "GET /api/v1/products",
            RequestKind::GetProduct => "GET /api/v1/products/{id}",
            RequestKind::Checkout => "POST /api/v1/checkout",
            RequestKind::GetOrder => "GET /api/v1/orders/{id}",
        }
    }
}

/// Order ids placed during the run (the newest few), for lookups.
#[derive(Clone, Debug, Default)]
pub struct PlacedOrders(Arc<Mutex<Vec<String>>>);

impl PlacedOrders {
    const KEEP: usize = 200;

    pub fn add(&self, id: String) {
        let mut ids = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if ids.len() == Self::KEEP {
            ids.remove(0);
        }
        ids.push(id);
    }

    fn pick(&self, rng: &mut StdRng) -> Option<String> {
        let ids = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if ids.is_empty() {
            return None;
        }
        Some(ids[rng.random_range(0..ids.len())].clone())
    }
}

/// Draws requests from a mix.
#[derive(Debug)]
pub struct Planner {
    rng: StdRng,
    mix: Mix,
    products: Vec<Product>,
    /// Indices of products cheap enough for a card tester's basket.
    small: Vec<usize>,
    /// Indices of products cheap enough for a bulk basket under `high_amount`.
    cheap: Vec<usize>,
    placed: PlacedOrders,
    /// One checkout in this many goes without an `Idempotency-Key` (0: none does).
    keyless_one_in: u32,
}

impl Planner {
    /// `None` without products: there would be nothing to browse or buy.
    pub fn new(
        seed: u64,
        mix: Mix,
        products: Vec<Product>,
        placed: PlacedOrders,
    ) -> Option<Planner> {
        if products.is_empty() {
            return None;
        }
        let mut by_price: Vec<usize> = (0..products.len()).collect();
        by_price.sort_by_key(|i| products[*i].price_cents);
        let small: Vec<usize> = by_price
            .iter()
            .copied()
            .filter(|i| products[*i].price_cents <= SMALL_ORDER_CENTS)
            .collect();
        let max_unit = BULK_MAX_TOTAL_CENTS / i64::from(*BULK_UNITS.end());
        let mut cheap: Vec<usize> = by_price
            .iter()
            .copied()
            .filter(|i| products[*i].price_cents < max_unit)
            .collect();
        if cheap.is_empty() {
            cheap = by_price.iter().copied().take(1).collect();
        }
        Some(Planner {
            rng: StdRng::seed_from_u64(seed),
            mix,
            products,
            // Without a product that small, the cheapest one: the rule then does not fire, and
            // the summary shows it.
            small: if small.is_empty() {
                by_price.into_iter().take(1).collect()
            } else {
                small
            },
            cheap,
            placed,
            keyless_one_in: 0,
        })
    }

    /// Sends one checkout in `n` without an `Idempotency-Key` (0: every one has a key). The
    /// draw comes from the seeded generator only when `n` is not 0, so the sequences of the
    /// existing scenarios do not change.
    pub fn keyless_one_in(mut self, n: u32) -> Planner {
        self.keyless_one_in = n;
        self
    }

    pub fn next_request(&mut self) -> Request {
        let mix = self.mix;
        let choices = [
            (RequestKind::ListProducts, mix.list),
            (RequestKind::GetProduct, mix.product),
            (RequestKind::Checkout, mix.checkout),
            (RequestKind::GetOrder, mix.order_lookup),
        ];
        match *weighted(&mut self.rng, &choices) {
            RequestKind::ListProducts => Request::ListProducts {
                limit: self.rng.random_range(10..=30),
            },
            RequestKind::GetProduct => {
                let i = self.rng.random_range(0..self.products.len());
                Request::GetProduct {
                    id: self.products[i].id.clone(),
                }
            }
            RequestKind::GetOrder => match self.placed.pick(&mut self.rng) {
                Some(id) => Request::GetOrder { id },
                None => self.checkout(),
            },
            RequestKind::Checkout => self.checkout(),
        }
    }

    fn checkout(&mut self) -> Request {
        let (country, method, items) = match self.mix.basket {
            Basket::Shopper => self.shopper(),
            Basket::OneMarket { country, method } => {
                let (_, _, items) = self.shopper();
                (country, method, items)
            }
            Basket::SomeBulk { one_in } => {
                if self.rng.random_range(0..one_in.max(1)) == 0 {
                    let (country, method, _) = self.shopper();
                    let i = self.cheap[self.rng.random_range(0..self.cheap.len())];
                    let units = self.rng.random_range(BULK_UNITS);
                    (country, method, vec![self.line(i, units)])
                } else {
                    self.shopper()
                }
            }
            Basket::SmallCard => {
                let i = self.small[self.rng.random_range(0..self.small.len())];
                ("US", "card", vec![self.line(i, 1)])
            }
        };
        let keyless = self.keyless_one_in > 0 && self.rng.random_range(0..self.keyless_one_in) == 0;
        Request::Checkout {
            body: json!({ "country": country, "payment_method": method, "items": items }),
            // Not from the seeded generator: see the module documentation.
            idempotency_key: (!keyless).then(|| uuid::Uuid::new_v4().to_string()),
        }
    }

    fn shopper(&mut self) -> (&'static str, &'static str, Vec<Value>) {
        let country = *weighted(&mut self.rng, COUNTRIES);
        let method = *weighted(&mut self.rng, METHODS);
        let lines = *weighted(&mut self.rng, LINES) as usize;
        let mut picked: Vec<usize> = Vec::with_capacity(lines);
        while picked.len() < lines.min(self.products.len()) {
            let i = self.rng.random_range(0..self.products.len());
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        let items = picked
            .into_iter()
            .map(|i| {
                let units = *weighted(&mut self.rng, UNITS);
                self.line(i, units)
            })
            .collect();
        (country, method, items)
    }

    fn line(&self, product: usize, quantity: u32) -> Value {
        json!({ "product_id": self.products[product].id, "quantity": quantity })
    }
}

/// One of `choices`, with probability proportional to its weight (all weights 0: the first).
fn weighted<'a, T>(rng: &mut StdRng, choices: &'a [(T, u32)]) -> &'a T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    if total > 0 {
        let mut ticket = rng.random_range(0..total);
        for (choice, weight) in choices {
            if ticket < *weight {
                return choice;
            }
            ticket -= weight;
        }
    }
    &choices[0].0
}

/// The catalog's products (at most ten pages of 100).
pub async fn fetch_products(http: &Http, catalog: &Url) -> Result<Vec<Product>> {
    #[derive(Deserialize)]
    struct Page {
        items: Vec<Product>,
        next_cursor: Option<String>,
    }
    let mut products = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![("limit", "100")];
        if let Some(cursor) = cursor.as_deref() {
            query.push(("cursor", cursor));
        }
        let url = endpoint_with_query(catalog, "/api/v1/products", &query);
        let page: Page = http.get_json(&url).await?;
        products.extend(page.items);
        match page.next_cursor {
            Some(next) if !next.is_empty() => cursor = Some(next),
            _ => break,
        }
    }
    if products.is_empty() {
        return Err(Error::EmptyCatalog {
            url: catalog.to_string(),
        });
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn products() -> Vec<Product> {
        [
            ("p-1", 299),
            ("p-2", 1_299),
            ("p-3", 24_999),
            ("p-4", 349),
            ("p-5", 4_500),
        ]
        .into_iter()
        .map(|(id, price_cents)| Product {
            id: id.into(),
            price_cents,
        })
        .collect()
    }

    fn planner(seed: u64, mix: Mix) -> Planner {
        Planner::new(seed, mix, products(), PlacedOrders::default()).unwrap()
    }

    const SHOPPERS: Mix = Mix {
        list: 25,
        product: 35,
        checkout: 30,
        order_lookup: 10,
        basket: Basket::Shopper,
    };

    #[test]
    fn a_seed_gives_the_same_sequence_with_fresh_idempotency_keys() {
        let draw = |seed| {
            let mut p = planner(seed, SHOPPERS);
            (0..50).map(|_| p.next_request()).collect::<Vec<_>>()
        };
        let without_keys = |requests: Vec<Request>| {
            requests
                .into_iter()
                .map(|r| match r {
                    Request::Checkout { body, .. } => Request::Checkout {
                        body,
                        idempotency_key: None,
                    },
                    other => other,
                })
                .collect::<Vec<_>>()
        };
        let (first, again) = (draw(7), draw(7));
        let keys = |requests: &[Request]| {
            requests
                .iter()
                .filter_map(|r| match r {
                    Request::Checkout {
                        idempotency_key, ..
                    } => idempotency_key.clone(),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert!(!keys(&first).is_empty());
        assert!(
            keys(&first).iter().all(|k| !keys(&again).contains(k)),
            "a rerun must not replay keys"
        );
        assert_eq!(without_keys(first), without_keys(again));
        assert_ne!(without_keys(draw(7)), without_keys(draw(8)));
    }

    #[test]
    fn no_products_no_planner() {
        assert!(Planner::new(1, SHOPPERS, Vec::new(), PlacedOrders::default()).is_none());
    }

    #[test]
    fn the_mix_follows_its_weights_and_baskets_are_valid() {
        let mut p = planner(1, SHOPPERS);
        let mut kinds: BTreeMap<RequestKind, usize> = BTreeMap::new();
        let mut countries = std::collections::BTreeSet::new();
        for _ in 0..2_000 {
            let request = p.next_request();
            *kinds.entry(request.kind()).or_default() += 1;
            if let Request::Checkout {
                body,
                idempotency_key,
            } = &request
            {
                countries.insert(body["country"].as_str().unwrap().to_owned());
                let items = body["items"].as_array().unwrap();
                assert!((1..=4).contains(&items.len()));
                assert!(items
                    .iter()
                    .all(|i| (1..=3).contains(&i["quantity"].as_u64().unwrap())));
                assert_eq!(idempotency_key.as_ref().map(String::len), Some(36));
            }
        }
        // No order placed yet: lookups become checkouts.
        assert!(!kinds.contains_key(&RequestKind::GetOrder));
        let checkout_share = kinds[&RequestKind::Checkout] as f64 / 2_000.0;
        assert!((0.35..0.45).contains(&checkout_share), "{kinds:?}");
        assert!(countries.len() >= 6, "{countries:?}");

        p.placed.add("o-1".into());
        assert!((0..200).any(|_| p.next_request() == Request::GetOrder { id: "o-1".into() }));
    }

    #[test]
    fn incident_baskets() {
        let mut p = planner(
            3,
            Mix {
                checkout: 1,
                list: 0,
                product: 0,
                order_lookup: 0,
                basket: Basket::SmallCard,
            },
        );
        for _ in 0..50 {
            let Request::Checkout { body, .. } = p.next_request() else {
                panic!("only checkouts")
            };
            let id = body["items"][0]["product_id"].as_str().unwrap().to_owned();
            assert!(id == "p-1" || id == "p-4", "at most 5 USD: {id}");
            assert_eq!(body["payment_method"], "card");
        }

        let mut p = planner(
            4,
            Mix {
                checkout: 1,
                list: 0,
                product: 0,
                order_lookup: 0,
                basket: Basket::SomeBulk { one_in: 3 },
            },
        );
        let prices: BTreeMap<&str, u64> = [("p-1", 299), ("p-2", 1_299), ("p-4", 349)].into();
        let bulk = (0..300)
            .filter(|_| {
                let Request::Checkout { body, .. } = p.next_request() else {
                    return false;
                };
                let line = &body["items"][0];
                let units = line["quantity"].as_u64().unwrap();
                if units < 150 {
                    return false;
                }
                let price = prices[line["product_id"].as_str().unwrap()];
                assert!(units * price < 500_000, "under high_amount: {line}");
                true
            })
            .count();
        assert!((70..130).contains(&bulk), "{bulk} of 300");

        let mut p = planner(
            5,
            Mix {
                checkout: 1,
                list: 0,
                product: 0,
                order_lookup: 0,
                basket: Basket::OneMarket {
                    country: "US",
                    method: "card",
                },
            },
        );
        let Request::Checkout { body, .. } = p.next_request() else {
            panic!("checkout")
        };
        assert_eq!(
            (body["country"].as_str(), body["payment_method"].as_str()),
            (Some("US"), Some("card"))
        );
    }

    #[test]
    fn a_share_of_checkouts_goes_without_a_key() {
        let only_checkouts = Mix {
            checkout: 1,
            list: 0,
            product: 0,
            order_lookup: 0,
            basket: Basket::Shopper,
        };
        let keyless = |mut p: Planner| {
            (0..400)
                .filter(|_| {
                    matches!(
                        p.next_request(),
                        Request::Checkout {
                            idempotency_key: None,
                            ..
                        }
                    )
                })
                .count()
        };
        assert_eq!(keyless(planner(9, only_checkouts)), 0);
        let n = keyless(planner(9, only_checkouts).keyless_one_in(4));
        assert!((60..140).contains(&n), "{n} of 400");
    }
}
