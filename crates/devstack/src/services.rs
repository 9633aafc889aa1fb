//! The processes of the stack by name, and the variables that wire them together.
//!
//! Only identity and wiring live here; every other setting (log format, latency scale, API keys,
//! databases) is the caller's policy.

/// Binary name, Cargo package name and `OTEL_SERVICE_NAME` of each service.
pub const ORDER: &str = "order-service";
pub const CATALOG: &str = "catalog-service";
pub const GATEWAY: &str = "payment-gateway";
/// The development OTLP/HTTP receiver (`crates/otlp-sink`).
pub const OTLP_SINK: &str = "otlp-sink";

/// The development credentials of a local stack: what `cargo xtask up` sets unless the
/// developer's environment says otherwise, and what the docs' commands use.
pub const DEV_API_KEYS: &str = "demo:demo-key";
/// The payment gateway's fault-API token in a local stack (see [`DEV_API_KEYS`]).
pub const DEV_ADMIN_TOKEN: &str = "dev-admin-token";

/// The merchant key order-service presents to the payment gateway in a local stack
/// (`GATEWAY_API_KEY` on the gateway, `PAYMENT_GATEWAY_API_KEY` on order-service): part of the
/// wiring, so every launcher that wires the two together passes the same one.
pub const DEV_GATEWAY_API_KEY: &str = "dev-gateway-key";

/// The three services.
pub const SERVICES: [&str; 3] = [ORDER, CATALOG, GATEWAY];
/// Start order: a service's neighbours are ready before it starts.
pub const START_ORDER: [&str; 3] = [CATALOG, GATEWAY, ORDER];
/// Every package [`crate::Binaries::build`] builds for a full stack.
pub const PACKAGES: [&str; 4] = [OTLP_SINK, CATALOG, GATEWAY, ORDER];

/// The endpoint that answers 200 once the process can do its job: `/readyz` for the services
/// (their own database is up), `/healthz` for the OTLP receiver (it has no dependency).
pub fn ready_path(name: &str) -> &'static str {
    if name == OTLP_SINK {
        "/healthz"
    } else {
        "/readyz"
    }
}

/// Where one copy of the stack listens (`host:port` each) and sends its spans.
#[derive(Clone, Debug)]
pub struct Addresses {
    pub order: String,
    pub catalog: String,
    pub gateway: String,
    /// Base URL of an OTLP/HTTP receiver; `None` leaves the exporter's settings to the caller.
    pub otlp: Option<String>,
}

impl Addresses {
    /// `host:port` of `service`, one of [`SERVICES`].
    pub fn of(&self, service: &str) -> Option<&str> {
        match service {
            ORDER => Some(&self.order),
            CATALOG => Some(&self.catalog),
            GATEWAY => Some(&self.gateway),
            _ => None,
        }
    }
}

/// What makes a process *this* service: the address it binds and the name its telemetry carries.
pub fn identity(service: &str, addresses: &Addresses) -> Vec<(&'static str, String)> {
    let mut vars = vec![("OTEL_SERVICE_NAME", service.to_owned())];
    if let Some(addr) = addresses.of(service) {
        vars.insert(0, ("BIND_ADDR", addr.to_owned()));
    }
    vars
}

/// Where `service` sends spans (OTLP over http/protobuf), where order-service's neighbours
/// are, and the merchant key the gateway requires and order-service sends
/// ([`DEV_GATEWAY_API_KEY`]).
pub fn neighbours(service: &str, addresses: &Addresses) -> Vec<(&'static str, String)> {
    let mut vars = Vec::new();
    if let Some(otlp) = &addresses.otlp {
        vars.push(("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.clone()));
        vars.push(("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()));
    }
    if service == ORDER {
        vars.push(("CATALOG_URL", format!("http://{}", addresses.catalog)));
        vars.push((
            "PAYMENT_GATEWAY_URL",
            format!("http://{}", addresses.gateway),
        ));
        vars.push(("PAYMENT_GATEWAY_API_KEY", DEV_GATEWAY_API_KEY.to_owned()));
    }
    if service == GATEWAY {
        vars.push(("GATEWAY_API_KEY", DEV_GATEWAY_API_KEY.to_owned()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses() -> Addresses {
        Addresses {
            order: "127.0.0.1:1".to_owned(),
            catalog: "127.0.0.1:2".to_owned(),
            gateway: "127.0.0.1:3".to_owned(),
            otlp: Some("http://127.0.0.1:4".to_owned()),
        }
    }

    #[test]
    fn order_service_is_wired_to_its_neighbours() {
        let a = addresses();
        assert_eq!(
            identity(ORDER, &a),
            [
                ("BIND_ADDR", "127.0.0.1:1".to_owned()),
                ("OTEL_SERVICE_NAME", ORDER.to_owned())
            ]
        );
        let vars = neighbours(ORDER, &a);
        assert!(vars.contains(&("CATALOG_URL", "http://127.0.0.1:2".to_owned())));
        assert!(vars.contains(&("PAYMENT_GATEWAY_URL", "http://127.0.0.1:3".to_owned())));
        assert!(vars.contains(&(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4".to_owned()
        )));
        assert!(!neighbours(CATALOG, &a)
            .iter()
            .any(|(k, _)| *k == "CATALOG_URL"));
        let key = |service: &str, variable: &str| {
            neighbours(service, &a)
                .into_iter()
                .find(|(k, _)| *k == variable)
                .map(|(_, v)| v)
        };
        assert_eq!(
            key(ORDER, "PAYMENT_GATEWAY_API_KEY"),
            key(GATEWAY, "GATEWAY_API_KEY"),
            "order-service sends the key the gateway requires"
        );
        assert!(key(GATEWAY, "GATEWAY_API_KEY").is_some());
        assert!(key(CATALOG, "GATEWAY_API_KEY").is_none());
    }

    #[test]
    fn start_order_starts_neighbours_first() {
        let at = |s: &str| START_ORDER.iter().position(|n| *n == s).unwrap();
        assert!(at(CATALOG) < at(ORDER) && at(GATEWAY) < at(ORDER));
        assert_eq!(ready_path(OTLP_SINK), "/healthz");
        assert_eq!(ready_path(ORDER), "/readyz");
    }
}
