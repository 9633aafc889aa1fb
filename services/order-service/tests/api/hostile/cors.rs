//! Cross-origin preflights from origins nobody allowed (none is, by default), and a preflight
//! without its method.

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
    let no_method = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/checkout"))
        .header("Origin", "https://evil.example");
    a.add("cors: preflight without a method", no_method);
    a.into_list()
}

#[tokio::test]
async fn preflights_from_foreign_origins_are_refused() {
    let app = target(TestApp::builder()).await;
    let attacks = attacks(&app);
    assert_refused(&app, "cors", attacks).await;
}
