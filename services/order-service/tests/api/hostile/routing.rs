//! Wrong methods on the API's routes, and paths that are not quite the API's (case, trailing
//! slashes, dot segments, encoded traversal, another version, another service's route).

use reqwest::Method;

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    methods(&mut a);
    paths(&mut a);
    a.into_list()
}

fn methods(a: &mut Attacks) {
    let app = a.app;
    let body = basket(&[("p-1", 1)]);
    for m in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
        let request = app
            .client
            .request(m.clone(), app.url("/api/v1/checkout"))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("method: {m} /api/v1/checkout"), request);
    }
    for m in [Method::POST, Method::PUT, Method::DELETE] {
        let request = app
            .client
            .request(m.clone(), app.url("/api/v1/orders/some-id"))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("method: {m} /api/v1/orders/{{id}}"), request);
    }
}

fn paths(a: &mut Attacks) {
    let app = a.app;
    let body = basket(&[("p-1", 1)]);
    for path in [
        "/api/v1/checkout/",
        "/api/v1/Checkout",
        "/api/v1/checkout/../orders",
        "/api/v2/checkout",
        "/api/v1/orders/",
        "/api/v1/orders/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/v1/orders/x/y",
        "/api//v1/checkout",
        "/admin/faults",
    ] {
        let request = app
            .client
            .post(app.url(path))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("path: POST {path}"), request);
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_naming_the_allowed_one() {
    let app = spawn_app().await;
    let wrong_method = app.get("/api/v1/checkout").await;
    assert_eq!(
        wrong_method
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST, OPTIONS")
    );
    assert_problem(wrong_method, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn wrong_methods_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    methods(&mut a);
    assert_refused(&app, "methods", a.into_list()).await;
}

#[tokio::test]
async fn paths_beside_the_api_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    paths(&mut a);
    assert_refused(&app, "paths", a.into_list()).await;
}
