//! The product API, run against SQLite and against Postgres.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{assert_problem, problem_fields, TestApp};

/// Generates one `#[tokio::test]` per database for each scenario below (`sqlite::…`, and
/// `needs_postgres::…`, which needs a server: `test_support::external`).
macro_rules! on_every_database {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(&crate::helpers::spawn_app().await).await;
                }
            )*
        }
        mod needs_postgres {
            $(
                #[tokio::test]
                #[ignore = "needs: postgres"]
                async fn $scenario() {
                    let app = crate::helpers::TestApp::builder()
                        .setting("DATABASE_URL", test_support::postgres_database().await)
                        .spawn()
                        .await;
                    super::$scenario(&app).await;
                }
            )*
        }
    };
}

on_every_database!(
    pagination_walks_every_product_exactly_once,
    first_page_defaults_to_20_in_id_order,
    limit_out_of_range_is_422_naming_limit,
    invalid_cursor_is_422_naming_cursor,
    both_bad_parameters_are_listed,
    get_by_id_returns_the_product,
    unknown_id_is_404_product_not_found,
    malformed_ids_are_404,
    seed_spans_categories_and_prices,
);

async fn page(app: &TestApp, query: &str) -> Value {
    let response = app.list_products(query).await;
    assert_eq!(response.status(), 200, "GET /api/v1/products?{query}");
    response.json().await.expect("JSON page")
}

async fn pagination_walks_every_product_exactly_once(app: &TestApp) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let query = match &cursor {
            Some(c) => format!("limit=7&cursor={c}"),
            None => "limit=7".to_owned(),
        };
        let body = page(app, &query).await;
        let items = body["items"].as_array().expect("items");
        assert!(items.len() <= 7);
        seen.extend(
            items
                .iter()
                .map(|p| p["id"].as_str().expect("id").to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => {
                assert!(!items.is_empty(), "a page with a next cursor has items");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                break;
            }
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no product twice: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "id order");
    // Every product: one page of 100 holds them all.
    let all = page(app, "limit=100").await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(seen.len()));
    assert!(all["next_cursor"].is_null());
    assert!(seen.len() >= 24);
    for n in 1..=24 {
        assert!(seen.contains(&format!("p-{n:04}")), "p-{n:04} is listed");
    }
}

async fn first_page_defaults_to_20_in_id_order(app: &TestApp) {
    let body = page(app, "").await;
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["id"], "p-0001");
    assert!(body["next_cursor"].is_string());
    let second = page(
        app,
        &format!(
            "cursor={}",
            body["next_cursor"].as_str().unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(second["items"][0]["id"], "p-0021");
}

async fn limit_out_of_range_is_422_naming_limit(app: &TestApp) {
    for limit in ["0", "101", "-1", "abc", "", "1e3"] {
        let body = assert_problem(app.list_products(&format!("limit={limit}")).await, 422).await;
        assert_eq!(problem_fields(&body), ["limit"], "limit={limit}: {body}");
        assert_eq!(body["type"], "https://webstore.example/problems/validation");
    }
    let one = page(app, "limit=1").await;
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    let hundred = page(app, "limit=100").await;
    assert!(hundred["items"]
        .as_array()
        .is_some_and(|items| items.len() >= 24));
}

async fn invalid_cursor_is_422_naming_cursor(app: &TestApp) {
    // Not base64url; padded; decodes to bytes that are no id; decodes to a forbidden id.
    for cursor in ["!!!", "cC0wMDAx%3D", "__8", "cCAx", "x"] {
        let body = assert_problem(app.list_products(&format!("cursor={cursor}")).await, 422).await;
        assert_eq!(problem_fields(&body), ["cursor"], "cursor={cursor}: {body}");
    }
}

async fn both_bad_parameters_are_listed(app: &TestApp) {
    let body = assert_problem(app.list_products("limit=1000&cursor=%25%25").await, 422).await;
    assert_eq!(problem_fields(&body), ["limit", "cursor"], "{body}");
}

async fn get_by_id_returns_the_product(app: &TestApp) {
    let response = app.get_product("p-0001").await;
    assert_eq!(response.status(), 200);
    let p: Value = response.json().await.expect("JSON");
    assert_eq!(p["id"], "p-0001");
    for key in ["name", "category", "description"] {
        assert!(p[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {p}");
    }
    let cents = p["price_cents"].as_i64().expect("price_cents");
    assert_eq!(p["price_usd"].as_f64(), Some(cents as f64 / 100.0));
    assert_eq!(p["currency"], "USD");
    assert!(p["stock"].as_u64().is_some());
    // The same product as in the list.
    let listed = page(app, "limit=1").await;
    assert_eq!(listed["items"][0], p);
}

async fn unknown_id_is_404_product_not_found(app: &TestApp) {
    let body = assert_problem(app.get_product("p-9999").await, 404).await;
    assert_eq!(
        body["type"],
        "https://webstore.example/problems/product-not-found"
    );
    assert_eq!(body["product_id"], "p-9999");
}

async fn malformed_ids_are_404(app: &TestApp) {
    let too_long = "p".repeat(65);
    for id in [
        too_long.as_str(),
        "p.0001",
        "p%200001",
        "p%2F0001",
        "%C3%A9",
        "p-0001;DROP",
        "*",
        "p%00",
    ] {
        let body = assert_problem(app.get_product(id).await, 404).await;
        assert_eq!(
            body["type"], "https://webstore.example/problems/product-not-found",
            "{id}: {body}"
        );
        assert!(
            body.get("product_id").is_none(),
            "malformed ids are not echoed: {body}"
        );
    }
    // 64 characters is allowed, and simply unknown.
    let body = assert_problem(app.get_product(&"p".repeat(64)).await, 404).await;
    assert_eq!(body["product_id"], "p".repeat(64));
}

async fn seed_spans_categories_and_prices(app: &TestApp) {
    let body = page(app, "limit=100").await;
    let items = body["items"].as_array().expect("items");
    let categories: HashSet<_> = items
        .iter()
        .filter_map(|p| p["category"].as_str())
        .collect();
    for c in [
        "electronics",
        "books",
        "home",
        "outdoor",
        "apparel",
        "grocery",
    ] {
        assert!(categories.contains(c), "{c}");
    }
    let prices: Vec<f64> = items
        .iter()
        .filter_map(|p| p["price_usd"].as_f64())
        .collect();
    assert!(prices.iter().any(|&p| p < 5.0));
    assert!(prices.iter().any(|&p| p > 2000.0));
}

/// A second application on the same database finds the catalogue seeded once, not twice.
mod restart {
    use super::*;

    /// Start-up migrates and seeds; a second start on the same database must neither fail nor
    /// duplicate anything.
    async fn restart_keeps_one_catalogue(database_url: String) {
        let first = TestApp::builder()
            .setting("DATABASE_URL", &database_url)
            .spawn()
            .await;
        let before = page(&first, "limit=100").await;
        let second = TestApp::builder()
            .setting("DATABASE_URL", database_url)
            .spawn()
            .await;
        let after = page(&second, "limit=100").await;
        assert_eq!(before, after);
        assert_eq!(
            after["items"].as_array().map(Vec::len),
            Some(catalog_service::store::migrations::SEED.len())
        );
    }

    #[tokio::test]
    async fn sqlite_keeps_one_catalogue() {
        restart_keeps_one_catalogue(test_support::sqlite_url()).await;
    }

    mod needs_postgres {
        #[tokio::test]
        #[ignore = "needs: postgres"]
        async fn postgres_keeps_one_catalogue() {
            super::restart_keeps_one_catalogue(test_support::postgres_database().await).await;
        }
    }
}
