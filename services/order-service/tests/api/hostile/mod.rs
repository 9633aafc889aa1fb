//! Proof by attack: hundreds of hostile requests, one file per subject — malformed JSON and
//! encodings ([`malformed`]), wrong types ([`types`]), boundary and overflow numbers
//! ([`numbers`]), unknown, duplicated and client-priced fields ([`fields`]), oversized bodies
//! ([`sizes`]), requests framed wrongly on the socket ([`framing`]), unicode and injection
//! strings wherever a string goes ([`strings`]), missing, duplicated and conflicting headers
//! ([`headers`]), cross-origin preflights ([`cors`]), wrong methods and odd paths
//! ([`routing`]); and one test per finding of the hostile probe in issue 10 ([`probe`]).
//!
//! Every test starts its own application with two real orders in its tables, sends its attacks
//! and asserts: every answer is a 4xx problem+json, the order tables are byte for byte what they
//! were, the gateway was not called again, and nothing panicked in this test's requests.
//! `needs_postgres` sends every subject's attacks to one application on PostgreSQL.

mod cors;
mod fields;
mod framing;
mod headers;
mod malformed;
mod numbers;
mod probe;
mod routing;
mod sizes;
mod strings;
mod types;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::*;

/// One hostile request: a name for the report, and what to send.
pub struct Attack {
    name: String,
    request: Request,
}

enum Request {
    Http(Box<reqwest::RequestBuilder>),
    /// Bytes reqwest would not send, written to the socket as they are.
    Socket(Vec<u8>),
}

/// Collects a subject's attacks against one application.
pub struct Attacks<'a> {
    pub app: &'a TestApp,
    list: Vec<Attack>,
}

impl<'a> Attacks<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            list: Vec::new(),
        }
    }

    /// A checkout request as Alice, to add a body and headers to.
    pub fn checkout(&self) -> reqwest::RequestBuilder {
        self.app.checkout_request(Some(ALICE_KEY))
    }

    pub fn add(&mut self, name: impl Into<String>, request: reqwest::RequestBuilder) {
        self.list.push(Attack {
            name: name.into(),
            request: Request::Http(Box::new(request)),
        });
    }

    /// A checkout with this JSON body.
    pub fn json(&mut self, name: impl Into<String>, body: Value) {
        let request = self.checkout().json(&body);
        self.add(name, request);
    }

    /// A checkout with these bytes as an `application/json` body.
    pub fn raw(&mut self, name: impl Into<String>, body: impl Into<reqwest::Body>) {
        let request = self
            .checkout()
            .header("content-type", "application/json")
            .body(body);
        self.add(name, request);
    }

    /// `bytes` written to a fresh connection.
    pub fn socket(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.list.push(Attack {
            name: name.into(),
            request: Request::Socket(bytes),
        });
    }

    pub fn into_list(self) -> Vec<Attack> {
        self.list
    }
}

/// The line most attacks vary.
pub fn valid_line() -> Value {
    json!({"product_id": "p-1", "quantity": 1})
}

/// A valid checkout body with `field` (top level, or of the one line) set to `value`.
pub fn body_with(field: &str, value: Value) -> Value {
    let mut body = json!({"country": "US", "payment_method": "card", "items": [valid_line()]});
    match field {
        "product_id" | "quantity" => body["items"][0][field] = value,
        _ => body[field] = value,
    }
    body
}

/// An application with two products, a gateway that charges, and two real orders to protect:
/// the checksum of the tables must cover something.
pub async fn target(builder: TestAppBuilder) -> TestApp {
    let app = builder.spawn().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    app.given_charge_succeeds("ch_1").await;
    for key in ["seed-1", "seed-2"] {
        assert_created(
            app.post_checkout_keyed(&basket(&[("p-1", 2), ("p-2", 1)]), ALICE_KEY, key)
                .await,
        )
        .await;
    }
    app
}

/// Sends every attack and asserts the suite's invariants; returns how many were sent.
pub async fn assert_refused(app: &TestApp, subject: &str, attacks: Vec<Attack>) -> usize {
    let before = app.tables_checksum().await;
    let orders_before = app.order_count().await;
    let charges_before = app.charge_requests().await.len();

    let total = attacks.len();
    let mut failures = Vec::new();
    let mut by_status = BTreeMap::<u16, usize>::new();
    for attack in attacks {
        let answer = match attack.request {
            Request::Http(request) => send(*request).await,
            Request::Socket(bytes) => send_raw(app.port, bytes).await,
        };
        match answer {
            Ok((status, content_type, text)) => {
                *by_status.entry(status).or_default() += 1;
                if let Some(why) = problem_failure(status, &content_type, &text) {
                    failures.push(format!("{}: {why}", attack.name));
                }
            }
            Err(e) => failures.push(format!("{}: no answer ({e})", attack.name)),
        }
    }
    eprintln!("hostile {subject}: {total} requests, answers by status: {by_status:?}");
    assert!(total > 0, "{subject}: no attack sent");
    assert!(
        failures.is_empty(),
        "{subject}: {} of {total} hostile requests were not answered with a 4xx problem+json:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(app.tables_checksum().await, before, "the tables changed");
    assert_eq!(app.order_count().await, orders_before);
    assert_eq!(
        app.charge_requests().await.len(),
        charges_before,
        "the gateway was called"
    );
    assert_eq!(app.panics(), Vec::<String>::new(), "something panicked");
    let panicked: Vec<String> = app
        .logs()
        .into_iter()
        .filter(|l| l.contains("panicked at"))
        .collect();
    assert!(panicked.is_empty(), "{panicked:?}");
    total
}

async fn send(request: reqwest::RequestBuilder) -> Result<(u16, String, String), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    Ok((status, content_type, text))
}

/// Sends `bytes` on a fresh connection and returns (status, content type, body), reading
/// until the server closes.
async fn send_raw(port: u16, bytes: Vec<u8>) -> Result<(u16, String, String), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    // The server may answer (413) before it has read everything: write in the background and
    // ignore a reset once it has.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&bytes).await;
        let _ = writer.shutdown().await;
        writer
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) if !answer.is_empty() => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    })
    .await;
    drop(writing);
    match read {
        Err(_) if answer.is_empty() => return Err("no answer within 10 s".to_owned()),
        Ok(Err(e)) => return Err(e),
        _ => {}
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let content_type = header("content-type").unwrap_or_default();
    // A keep-alive server may have read our extra bytes as a second request: keep only the
    // first answer's body.
    let length = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(body.len());
    let body = body.get(..length).unwrap_or(body);
    Ok((status, content_type, body.to_owned()))
}

/// `None` if the answer is a 4xx problem+json, else what is wrong with it.
fn problem_failure(status: u16, content_type: &str, text: &str) -> Option<String> {
    let problem: Option<Value> = serde_json::from_str(text).ok();
    let ok = (400..500).contains(&status)
        && content_type == PROBLEM_JSON
        && problem.as_ref().is_some_and(|p| {
            p["status"] == status
                && p["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("https://webstore.example/problems/"))
                && p["title"].is_string()
        });
    (!ok).then(|| {
        let shown: String = text.chars().take(200).collect();
        format!("{status} {content_type:?} {shown}")
    })
}

/// A subject's name and all its attacks.
type Subject = (&'static str, fn(&TestApp) -> Vec<Attack>);

/// Every subject's attacks against one application on PostgreSQL.
mod needs_postgres {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn every_hostile_request_gets_a_4xx_problem_and_changes_nothing() {
        let database = test_support::postgres_database().await;
        let app = target(TestApp::builder().setting("DATABASE_URL", database)).await;
        let subjects: [Subject; 10] = [
            ("malformed", malformed::attacks),
            ("types", types::attacks),
            ("numbers", numbers::attacks),
            ("fields", fields::attacks),
            ("sizes", sizes::attacks),
            ("framing", framing::attacks),
            ("strings", strings::attacks),
            ("headers", headers::attacks),
            ("cors", cors::attacks),
            ("routing", routing::attacks),
        ];
        let mut total = 0;
        for (subject, attacks) in subjects {
            total += assert_refused(&app, subject, attacks(&app)).await;
        }
        eprintln!("hostile requests on PostgreSQL: {total}");
    }
}
