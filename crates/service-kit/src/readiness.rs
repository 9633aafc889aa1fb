//! `/readyz`: 503 only when the service's own database is down. Redis and downstream services
//! are reported but never fail it — a Redis outage must not pull every replica out of the load
//! balancer at once.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct Readiness {
    database_up: bool,
    components: Map<String, Value>,
}

impl Readiness {
    pub fn new(database_up: bool) -> Self {
        let mut components = Map::new();
        components.insert("database".into(), status(database_up));
        Self {
            database_up,
            components,
        }
    }

    /// An informational dependency (`redis`, `catalog`, …): shown, never decisive.
    pub fn inform(mut self, name: &str, up: Option<bool>) -> Self {
        let value = match up {
            Some(up) => status(up),
            None => Value::from("not configured"),
        };
        self.components.insert(name.to_owned(), value);
        self
    }

    pub fn response(self) -> HttpResponse {
        let body = serde_json::json!({
            "status": if self.database_up { "ready" } else { "not ready" },
            "components": self.components,
        });
        if self.database_up {
            HttpResponse::Ok().json(body)
        } else {
            HttpResponse::ServiceUnavailable().json(body)
        }
    }
}

fn status(up: bool) -> Value {
    Value::from(if up { "up" } else { "down" })
}
