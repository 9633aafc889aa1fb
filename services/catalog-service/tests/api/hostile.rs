//! What a hostile probe found on the catalog (issue 10): HEAD and OPTIONS answered 404, unlike
//! the other services. HEAD is GET without the body; OPTIONS and a wrong method name what the
//! path allows, as in order-service and the gateway.

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn head_is_get_without_the_body() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/products",
        "/api/v1/products/p-0001",
        "/healthz",
        "/readyz",
    ] {
        let get = app.get(path).await;
        let head = app
            .client
            .head(format!("{}{path}", app.address))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert_eq!(head.text().await.unwrap_or_default(), "", "{path}: no body");
    }
    let missing = app
        .client
        .head(format!("{}/api/v1/products/p-9999", app.address))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(missing.status(), 404, "HEAD of a missing product");
}

#[tokio::test]
async fn options_and_other_methods_name_what_a_path_allows() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/products",
        "/api/v1/products/p-0001",
        "/healthz",
        "/readyz",
    ] {
        let url = format!("{}{path}", app.address);
        let options = app
            .client
            .request(reqwest::Method::OPTIONS, &url)
            .send()
            .await
            .expect("OPTIONS");
        assert_eq!(options.status(), 204, "{path}");
        assert_eq!(
            options.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some("GET, HEAD, OPTIONS"),
            "{path}"
        );
        let post = app.client.post(&url).send().await.expect("POST");
        assert_eq!(
            post.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some("GET, HEAD, OPTIONS"),
            "{path}"
        );
        assert_problem(post, 405).await;
    }
}
