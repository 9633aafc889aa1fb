//! What a hostile client found that only a real process shows (issue 10): every malformed HTTP
//! request wrote one ERROR line from actix's dispatcher — 500 requests in 0.09 s, 500 ERROR lines,
//! no peer, no limit. A client's mistake is not a server error: at most one WARN line per ten
//! seconds, saying how many it stands for.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use devstack::Probe;
use system_tests::{binaries, free_port, launch, start_ready, Scratch};

fn binary(service: &str) -> PathBuf {
    binaries()
        .and_then(|b| Ok(b.get(service)?))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Writes `bytes` on a fresh connection and reads until the server closes it (or 5 s pass).
fn send_raw(port: u16, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn malformed_requests_write_no_error_lines() {
    let dir = Scratch::new("hostile-logs").expect("scratch directory");
    let port = free_port().expect("free port");
    let launch = launch("order-service", binary("order-service"), dir.path())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/orders.db?mode=rwc", dir.path().display()),
        )
        .env("OTEL_SDK_DISABLED", "true")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    let service = start_ready(launch, &Probe::new(format!("127.0.0.1:{port}"), "/readyz"))
        .unwrap_or_else(|e| panic!("order-service did not become ready: {e:#}"));

    let garbage: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    ];
    let sent = 200;
    let started = Instant::now();
    for i in 0..sent {
        let answer = send_raw(port, garbage[i % garbage.len()]);
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "request {i} answered {answer:?}"
        );
    }
    let elapsed = started.elapsed();

    // The first malformed request's line is written when actix closes that connection, long
    // before the last answer; wait (bounded) until it is in the file.
    let deadline = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = service.log_text();
        if log.contains("\"client_error\":true") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(
        errors.is_empty(),
        "ERROR lines for client mistakes:\n{}",
        errors.join("\n")
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"client_error\":true"))
        .collect();
    // One per ten seconds at most, each with the number it stands for.
    let windows = 1 + (elapsed.as_secs() / 10) as usize;
    assert!(
        (1..=windows + 1).contains(&warnings.len()),
        "{} WARN lines for {sent} malformed requests in {elapsed:?}:\n{}",
        warnings.len(),
        warnings.join("\n")
    );
    assert!(warnings.iter().all(|l| l.contains("\"level\":\"WARN\"")));
    eprintln!(
        "{sent} malformed requests in {elapsed:?}: {} ERROR lines, {} WARN lines",
        errors.len(),
        warnings.len()
    );
}
