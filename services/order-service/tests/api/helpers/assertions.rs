//! Assertions on answers: problem+json, created orders, OpenMetrics lines.

use serde_json::Value;

use super::app::PROBLEM_JSON;

/// Asserts status, `application/problem+json` and the stable `type`; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, slug: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("read the problem body");
    assert_eq!(actual, status, "status; body: {text}");
    assert_eq!(content_type, PROBLEM_JSON, "content type; body: {text}");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(
        body["type"],
        format!("https://webstore.example/problems/{slug}"),
        "type; body: {text}"
    );
    assert_eq!(body["status"], status, "status member; body: {text}");
    assert!(body["title"].is_string(), "title; body: {text}");
    body
}

/// The `field` of every entry in a validation problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts status 201 and returns the JSON body.
pub async fn assert_created(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the body");
    assert_eq!(status, 201, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// The lines of OpenMetrics text that start with `prefix`.
pub fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// A response header as text, if present and visible ASCII.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
