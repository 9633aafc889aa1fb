//! `/readyz`: 503 when the service's own database is down or the process is draining (see
//! [`crate::drain`]). Redis and downstream services are reported but never fail it — a Redis
//! outage must not pull every replica out of the load balancer at once.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct Readiness {
    database_up: bool,
    draining: bool,
    components: Map<String, Value>,
}

impl Readiness {
    pub fn new(database_up: bool) -> Self {
        let mut components = Map::new();
        components.insert("database".into(), status(database_up));
        Self {
            database_up,
            draining: false,
            components,
        }
    }

    /// A draining process is not ready, whatever its dependencies say: the load balancer must
    /// stop sending it requests.
    pub fn draining(mut self, draining: bool) -> Self {
        self.draining = draining;
        self
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
        let ready = self.database_up && !self.draining;
        let status = match (self.draining, self.database_up) {
            (true, _) => "draining",
            (false, true) => "ready",
            (false, false) => "not ready",
        };
        let body = serde_json::json!({
            "status": status,
            "components": self.components,
        });
        if ready {
            HttpResponse::Ok().json(body)
        } else {
            HttpResponse::ServiceUnavailable().json(body)
        }
    }
}

fn status(up: bool) -> Value {
    Value::from(if up { "up" } else { "down" })
}
