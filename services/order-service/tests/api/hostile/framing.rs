//! Requests framed wrongly on the socket, which reqwest will not send: 3 MB chunked without a
//! Content-Length, and a Content-Length longer or shorter than the body.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    // Each with a trace of the test's own, so that a panic they caused would be this test's.
    let head = |extra: &str| {
        format!(
            "POST /api/v1/checkout HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {ALICE_KEY}\r\nContent-Type: application/json\r\ntraceparent: {}\r\nConnection: close\r\n{extra}\r\n",
            app.port,
            app.new_trace(true).traceparent()
        )
    };
    let mut chunked = head("Transfer-Encoding: chunked\r\n").into_bytes();
    for _ in 0..48 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        chunked.extend(std::iter::repeat_n(b' ', 64 * 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    a.socket("raw: 3 MB chunked, no Content-Length", chunked);
    let body = basket(&[("p-1", 1)]).to_string();
    let mut lying = head(&format!("Content-Length: {}\r\n", body.len() + 100)).into_bytes();
    lying.extend_from_slice(body.as_bytes());
    a.socket("raw: Content-Length longer than the body", lying);
    let mut short = head("Content-Length: 10\r\n").into_bytes();
    short.extend_from_slice(body.as_bytes());
    a.socket("raw: Content-Length shorter than the body", short);
    a.into_list()
}

#[tokio::test]
async fn wrongly_framed_bodies_are_refused() {
    let app = target(TestApp::builder()).await;
    let attacks = attacks(&app);
    assert_refused(&app, "framing", attacks).await;
}
