//! Cross-origin preflights from origins nobody allowed (none is, by default), and an `OPTIONS`
//! that only looks like one.

use reqwest::Method;

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    for origin in [
        "https://evil.example",
        "null",
        "https://shop.example.evil.example",
    ] {
        let request = app
            .client
            .request(Method::OPTIONS, app.url("/api/v1/checkout"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            );
        a.add(format!("cors: preflight from {origin}"), request);
    }
    a.into_list()
}

/// Without `Access-Control-Request-Method` an `OPTIONS` is not a preflight: it is answered as
/// anywhere (204 with `Allow`), and a foreign origin gets no CORS header to use it with.
#[tokio::test]
async fn an_options_without_a_method_is_no_preflight_and_grants_nothing() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/checkout"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(response.status(), 204);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn preflights_from_foreign_origins_are_refused() {
    let app = target(TestApp::builder()).await;
    let attacks = attacks(&app);
    assert_refused(&app, "cors", attacks).await;
}
