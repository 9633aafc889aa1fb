//! The scenarios: for each, the faults it sets on the payment gateway, the request mix, and its
//! default pace.

use std::time::Duration;

use clap::ValueEnum;
use serde::Serialize;

use super::faults::FaultsPatch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Normal,
    SlowPayments,
    PaymentErrors,
    Declines,
    BulkQuantity,
    CardTesting,
    Flood,
    CatalogOutage,
}

/// How a checkout's basket is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basket {
    /// 1–4 lines, 1–3 units each, countries and payment methods spread like real shoppers.
    Shopper,
    /// A shopper's basket, paid from one country with one method: the incident belongs to one
    /// row of "Payment p95 by method" (the gateway's faults themselves apply to every charge).
    OneMarket {
        country: &'static str,
        method: &'static str,
    },
    /// One basket in `one_in` holds a single line of 150–300 units of a cheap product.
    SomeBulk { one_in: u32 },
    /// One unit of a product of at most 5 USD, by card: what card testers send.
    SmallCard,
}

/// Relative weights of the four requests, and the basket of a checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// `GET catalog /api/v1/products?limit=…`
    pub list: u32,
    /// `GET catalog /api/v1/products/{id}`
    pub product: u32,
    /// `POST order /api/v1/checkout`
    pub checkout: u32,
    /// `GET order /api/v1/orders/{id}` of an order this run placed (a checkout until there is one).
    pub order_lookup: u32,
    pub basket: Basket,
}

/// Everything a scenario decides.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub scenario: Scenario,
    /// Gateway faults for the run; `None` leaves the fault API alone (and needs no token).
    pub faults: Option<FaultsPatch>,
    pub mix: Mix,
    pub rps: f64,
    pub concurrency: usize,
    /// One line: what happens and what to watch.
    pub about: &'static str,
    /// Steps the user takes by hand, printed before the run.
    pub manual: Option<&'static str>,
}

const SHOPPERS: Mix = Mix {
    list: 25,
    product: 35,
    checkout: 30,
    order_lookup: 10,
    basket: Basket::Shopper,
};

/// The `catalog-outage` steps: no endpoint of the store takes the catalog down, and stopping a
/// process is the user's call, so the scenario explains instead of acting.
pub const CATALOG_OUTAGE_STEPS: &str = "\
The store has no switch for a catalog outage (catalog-service has no fault API), so this one is by hand.
While this traffic runs, in another terminal:
  local processes (cargo xtask up):  kill -STOP $(cat target/webstore/pids/catalog-service.pid)
  compose stack:                     docker compose -f infra/compose.yaml pause catalog-service
Checkouts then answer 503 (catalog unavailable) after CATALOG_TIMEOUT (2 s), and catalog reads fail.
Resume it with `kill -CONT $(cat target/webstore/pids/catalog-service.pid)` or
`docker compose -f infra/compose.yaml unpause catalog-service`. Start this run before pausing:
it reads the product list first.";

impl Scenario {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::SlowPayments => "slow-payments",
            Scenario::PaymentErrors => "payment-errors",
            Scenario::Declines => "declines",
            Scenario::BulkQuantity => "bulk-quantity",
            Scenario::CardTesting => "card-testing",
            Scenario::Flood => "flood",
            Scenario::CatalogOutage => "catalog-outage",
        }
    }

    /// The plan; `latency` is what `slow-payments` injects.
    pub fn plan(self, latency: Duration) -> Plan {
        let base = Plan {
            scenario: self,
            faults: None,
            mix: SHOPPERS,
            rps: 8.0,
            concurrency: 16,
            about: "",
            manual: None,
        };
        match self {
            Scenario::Normal => Plan {
                about: "browse and checkout mix; the gateway's own latency model and 2 % declines",
                ..base
            },
            Scenario::SlowPayments => Plan {
                faults: Some(FaultsPatch {
                    latency_ms: Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
                    ..FaultsPatch::default()
                }),
                mix: Mix {
                    list: 20,
                    product: 20,
                    checkout: 60,
                    order_lookup: 0,
                    basket: Basket::OneMarket {
                        country: "US",
                        method: "card",
                    },
                },
                rps: 5.0,
                // Each slow checkout holds a slot for the injected latency.
                concurrency: 64,
                about: "every charge slowed by the injected latency; watch PaymentLatencyP95High \
                        and the payment-latency exemplars (US, card)",
                ..base
            },
            Scenario::PaymentErrors => Plan {
                faults: Some(FaultsPatch {
                    error_rate: Some(0.3),
                    ..FaultsPatch::default()
                }),
                about: "30 % of charges fail: checkouts answer 502 payment_failed; watch \
                        CheckoutErrorRatioHigh",
                ..base
            },
            Scenario::Declines => Plan {
                faults: Some(FaultsPatch {
                    decline_rate: Some(0.6),
                    ..FaultsPatch::default()
                }),
                about: "60 % of charges declined (402); watch PaymentDeclineRatioHigh and the \
                        repeated_declines flag",
                ..base
            },
            Scenario::BulkQuantity => Plan {
                mix: Mix {
                    basket: Basket::SomeBulk { one_in: 3 },
                    ..SHOPPERS
                },
                about: "a third of the baskets hold 150+ units: bulk_quantity flags them \
                        (flagged, never blocked)",
                ..base
            },
            Scenario::CardTesting => Plan {
                mix: Mix {
                    list: 0,
                    product: 10,
                    checkout: 90,
                    order_lookup: 0,
                    basket: Basket::SmallCard,
                },
                rps: 3.0,
                about: "many small card orders from one customer: card_testing flags them once \
                        5 land within 10 minutes (the API carries no card number, so the rule \
                        counts small orders per customer)",
                ..base
            },
            Scenario::Flood => Plan {
                mix: Mix {
                    list: 0,
                    product: 0,
                    checkout: 5,
                    order_lookup: 95,
                    basket: Basket::Shopper,
                },
                rps: 80.0,
                concurrency: 32,
                about:
                    "order lookups at four times the per-client quota (RATE_LIMIT_CLIENT, 20/s): \
                        429s with Retry-After and RateLimit headers; watch RateLimitSpike",
                ..base
            },
            Scenario::CatalogOutage => Plan {
                about: "the normal mix while you pause the catalog by hand",
                manual: Some(CATALOG_OUTAGE_STEPS),
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_a_plan_and_only_fault_scenarios_touch_faults() {
        for scenario in Scenario::value_variants() {
            let plan = scenario.plan(Duration::from_secs(6));
            assert!(!plan.about.is_empty(), "{scenario:?}");
            let mix = plan.mix;
            assert!(mix.list + mix.product + mix.checkout + mix.order_lookup > 0);
            let touches = matches!(
                scenario,
                Scenario::SlowPayments | Scenario::PaymentErrors | Scenario::Declines
            );
            assert_eq!(plan.faults.is_some(), touches, "{scenario:?}");
        }
        for scenario in Scenario::value_variants() {
            let name = scenario
                .to_possible_value()
                .map(|v| v.get_name().to_owned());
            assert_eq!(name.as_deref(), Some(scenario.name()));
        }
        let slow = Scenario::SlowPayments.plan(Duration::from_millis(6500));
        assert_eq!(slow.faults.and_then(|f| f.latency_ms), Some(6500));
        assert!(Scenario::CatalogOutage
            .plan(Duration::ZERO)
            .manual
            .is_some());
    }
}
