//! Every route the services document: the `paths` of the OpenAPI document each one serves at
//! `/openapi.json`, built by the same functions the services call. The gateway's is the one it
//! serves with `ADMIN_TOKEN` set (the fault API included).

use utoipa::OpenApi as _;

/// One documented route: `GET /api/v1/orders/{id}` of order-service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub service: &'static str,
    /// Upper case.
    pub method: String,
    /// The OpenAPI path template.
    pub path: String,
}

/// Every documented route of every service, sorted.
pub fn all() -> Vec<Endpoint> {
    let documents = [
        (
            order_service::config::SERVICE_NAME,
            order_service::routes::ApiDoc::openapi(),
        ),
        (
            catalog_service::config::SERVICE_NAME,
            catalog_service::routes::ApiDoc::openapi(),
        ),
        (
            payment_gateway::config::SERVICE_NAME,
            payment_gateway::routes::openapi(true),
        ),
    ];
    let mut all: Vec<Endpoint> = documents
        .into_iter()
        .flat_map(|(service, doc)| operations(service, &doc))
        .collect();
    all.sort();
    all
}

fn operations(service: &'static str, doc: &utoipa::openapi::OpenApi) -> Vec<Endpoint> {
    // Through the JSON form: it names each operation's method as a key, whatever utoipa's
    // in-memory layout.
    let json = serde_json::to_value(doc).unwrap_or_default();
    let Some(paths) = json["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|m| {
                    ["get", "put", "post", "delete", "patch", "head", "options"]
                        .contains(&m.as_str())
                })
                .map(move |method| Endpoint {
                    service,
                    method: method.to_uppercase(),
                    path: path.clone(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_routes_are_documented() {
        let all = all();
        let has = |service: &str, method: &str, path: &str| {
            all.iter()
                .any(|e| e.service == service && e.method == method && e.path == path)
        };
        assert!(has("order-service", "POST", "/api/v1/checkout"), "{all:?}");
        assert!(has("order-service", "GET", "/api/v1/orders/{id}"));
        assert!(has("catalog-service", "GET", "/api/v1/products"));
        assert!(has("payment-gateway", "PUT", "/admin/faults"));
        assert!(has("payment-gateway", "GET", "/readyz"));
    }
}
