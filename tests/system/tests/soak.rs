//! `cargo xtask soak --quick` as a test: the store under mixed traffic through one pass of the
//! fault schedule (collector down, Redis restarted, Postgres connections terminated, gateway
//! latency, errors and timeouts, order-service SIGTERMed and killed), then its books audited
//! against the databases (crates/soak). Every count of the final `soak:` line must be 0 but
//! `requests`: no unexplained 5xx, no lost order, no double or orphan charge, nothing left
//! unsettled once the reconciler has run, and RSS growth within the limit.
//!
//! Needs PostgreSQL (the soak creates and drops its own databases) and `redis-server` (it starts
//! and restarts its own), and the service binaries (`cargo build --workspace --bins`).

use system_tests::{binaries, Scratch};

mod needs_postgres {
    use super::*;

    mod needs_redis_server {
        use super::*;

        #[test]
        #[ignore = "needs: postgres, redis_server"]
        fn a_quick_soak_keeps_the_books() {
            // A fresh database proves the server is there and takes CREATE DATABASE.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(test_support::postgres_database());
            test_support::require(test_support::Dependency::RedisServer);
            let dir = Scratch::new("soak").expect("scratch directory");
            let config = soak::SoakConfig::quick(test_support::postgres_admin_url(), dir.path());

            let outcome = soak::run(&config, binaries().expect("binaries")).expect("the soak ran");
            println!("{}\n{}", outcome.render(), outcome.final_line());

            // Every count of the final line is 0 but `requests`.
            let line = outcome.final_line();
            assert!(outcome.requests > 300, "{line}");
            assert_eq!(outcome.unexplained_5xx(), 0, "{line}");
            assert!(outcome.audit.lost_orders.is_empty(), "{line}");
            assert_eq!(outcome.audit.double_charges, 0, "{line}");
            assert!(outcome.audit.orphan_charges.is_empty(), "{line}");
            assert!(outcome.audit.unsettled.is_empty(), "{line}");
            assert!(outcome.rss_growth_mib <= outcome.rss_limit_mib, "{line}");
            // And what the line does not show.
            assert!(outcome.audit.paid_without_charge.is_empty(), "{line}");
            assert!(outcome.settled_in.is_some(), "{line}");
            assert!(outcome.retries > 0 && outcome.keyless_checkouts > 0);
            assert_eq!(outcome.windows.len(), soak::schedule::Fault::ALL.len());
            assert!(
                outcome.answered_while_collector_down > 0,
                "nothing answered while the collector was down"
            );
            assert!(outcome.panicked.is_empty(), "{:?}", outcome.panicked);
            assert!(outcome.failures().is_empty(), "{:?}", outcome.failures());
        }
    }
}
