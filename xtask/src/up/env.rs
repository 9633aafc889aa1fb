//! What `up` sets for each process. Everything else passes through from the environment `up`
//! runs in, and so do the developer's own values of the defaults below; only a process's
//! identity (its address and service name) is always `up`'s.

use devstack::services::{self, Addresses};

use super::DEFAULT_API_KEYS;
use crate::stack::{Service, CATALOG, GATEWAY, ORDER, OTLP_SINK, START_ORDER};

/// How `up` sets a variable for a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Policy {
    /// Always: the process's identity (its address, its service name).
    Force,
    /// Unless the variable is already set in the environment `up` runs in.
    Default,
}

/// The fixed addresses of `up`'s stack.
fn addresses() -> Addresses {
    Addresses {
        order: ORDER.addr(),
        catalog: CATALOG.addr(),
        gateway: GATEWAY.addr(),
        otlp: Some(OTLP_SINK.url()),
    }
}

/// What `up` sets for `service`.
pub(super) fn service_env(service: Service) -> Vec<(&'static str, String, Policy)> {
    use Policy::{Default, Force};

    if service == OTLP_SINK {
        return vec![("RUST_LOG", "info".to_owned(), Default)];
    }
    let addresses = addresses();
    let mut vars: Vec<(&'static str, String, Policy)> =
        services::identity(service.name, &addresses)
            .into_iter()
            .map(|(key, value)| (key, value, Force))
            .collect();
    vars.extend(
        services::neighbours(service.name, &addresses)
            .into_iter()
            .map(|(key, value)| (key, value, Default)),
    );
    vars.push(("LOG_FORMAT", "json".to_owned(), Default));
    vars.push(("RUST_LOG", "info".to_owned(), Default));
    if service == GATEWAY {
        vars.push(("ADMIN_TOKEN", services::DEV_ADMIN_TOKEN.to_owned(), Default));
        vars.push(("GATEWAY_LATENCY_SCALE", "1.0".to_owned(), Default));
    }
    if service == ORDER {
        vars.push(("API_KEYS", DEFAULT_API_KEYS.to_owned(), Default));
    }
    vars
}

/// The variables to set on the child; the user's own values of `Default` ones are inherited.
pub(super) fn resolve_env(
    vars: &[(&'static str, String, Policy)],
    user_env: &dyn Fn(&str) -> Option<String>,
) -> Vec<(&'static str, String)> {
    vars.iter()
        .filter(|(key, _, policy)| *policy == Policy::Force || user_env(key).is_none())
        .map(|(key, value, _)| (*key, value.clone()))
        .collect()
}

/// Names of defaults that the user's environment overrides, for one line of output (never values:
/// some are secrets).
pub(super) fn overridden_defaults(user_env: &dyn Fn(&str) -> Option<String>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = START_ORDER
        .iter()
        .flat_map(|s| service_env(*s))
        .filter(|(key, _, policy)| *policy == Policy::Default && user_env(key).is_some())
        .map(|(key, _, _)| key)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn user_environment_wins_except_identity() {
        let user = |key: &str| match key {
            "RUST_LOG" => Some("debug".to_owned()),
            "BIND_ADDR" => Some("0.0.0.0:9999".to_owned()),
            "API_KEYS" => Some("me:secret".to_owned()),
            _ => None,
        };
        let order: BTreeMap<_, _> = resolve_env(&service_env(ORDER), &user)
            .into_iter()
            .collect();
        assert_eq!(order["BIND_ADDR"], "127.0.0.1:8080", "identity is forced");
        assert_eq!(order["OTEL_SERVICE_NAME"], "order-service");
        assert!(!order.contains_key("RUST_LOG"), "inherited from the user");
        assert!(!order.contains_key("API_KEYS"));
        assert_eq!(order["CATALOG_URL"], "http://127.0.0.1:8081");
        assert_eq!(order["PAYMENT_GATEWAY_URL"], "http://127.0.0.1:8082");
        assert_eq!(
            order["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://127.0.0.1:4318"
        );
        assert_eq!(order["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
        assert_eq!(order["LOG_FORMAT"], "json");
        assert!(
            !order.contains_key("DATABASE_URL"),
            "services default to data/<service>.db"
        );

        let gateway: BTreeMap<_, _> = resolve_env(&service_env(GATEWAY), &|_: &str| None)
            .into_iter()
            .collect();
        assert_eq!(gateway["ADMIN_TOKEN"], "dev-admin-token");
        assert_eq!(gateway["GATEWAY_LATENCY_SCALE"], "1.0");
        assert_eq!(gateway["BIND_ADDR"], "127.0.0.1:8082");

        assert_eq!(overridden_defaults(&user), ["API_KEYS", "RUST_LOG"]);
    }
}
