//! Just enough HTTP/1.1 over `std::net` for the dev tools: GET a readiness endpoint or a small
//! JSON document.
//!
//! Not a general client (no TLS, redirects or keep-alive); an HTTP client crate would add more
//! build time to xtask than all of its own code.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bodies larger than this are refused (readiness answers and one product are tiny).
const MAX_RESPONSE: usize = 4 << 20;

#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The start of the body as text, for messages.
    pub fn body_snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text.to_owned(),
        }
    }
}

/// `GET http://{addr}{path}`, all of it (connect, send, receive) within `timeout`.
pub fn get(addr: &str, path: &str, timeout: Duration) -> io::Result<Response> {
    let deadline = Instant::now() + timeout;
    let socket_addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to nothing"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&socket_addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: a server may answer (and close) after the first packet of a request.
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: webstore-devstack\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no complete answer within {timeout:?}"),
            ));
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut chunk)?;
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_RESPONSE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response too large",
            ));
        }
        // Complete per Content-Length or chunked framing, even if the server keeps the connection.
        if let Some(response) = parse_response(&buf, n == 0)? {
            return Ok(response);
        }
    }
}

/// Parses `buf` as one HTTP/1.x response: `Ok(None)` while more bytes are needed; `eof` says the
/// peer closed the connection (which ends a body that has neither length nor chunks).
pub fn parse_response(buf: &[u8], eof: bool) -> io::Result<Option<Response>> {
    let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidData, msg.to_owned());
    let truncated = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-response",
        )
    };

    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if eof { Err(truncated()) } else { Ok(None) };
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("response head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(invalid("malformed status line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(invalid("not an HTTP/1.x response"));
    }
    let status: u16 = code.parse().map_err(|_| invalid("malformed status code"))?;

    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| invalid("malformed Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }

    let body = &buf[head_end + 4..];
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Some(Response {
            status,
            body: Vec::new(),
        }));
    }
    if chunked {
        return match decode_chunked(body)? {
            Some(body) => Ok(Some(Response { status, body })),
            None if eof => Err(truncated()),
            None => Ok(None),
        };
    }
    match content_length {
        Some(len) if body.len() >= len => Ok(Some(Response {
            status,
            body: body[..len].to_vec(),
        })),
        Some(_) if eof => Err(truncated()),
        Some(_) => Ok(None),
        None if eof => Ok(Some(Response {
            status,
            body: body.to_vec(),
        })),
        None => Ok(None),
    }
}

/// The decoded body once the last (zero-size) chunk has arrived; trailers are ignored.
fn decode_chunked(mut rest: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = find(rest, b"\r\n") else {
            return Ok(None);
        };
        let size_line = std::str::from_utf8(&rest[..line_end]).unwrap_or_default();
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "malformed chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    fn parse(raw: &str, eof: bool) -> io::Result<Option<Response>> {
        parse_response(raw.as_bytes(), eof)
    }

    #[test]
    fn content_length() {
        let raw = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello";
        assert_eq!(
            parse(raw, false).unwrap(),
            Some(Response {
                status: 200,
                body: b"hello".to_vec()
            })
        );
        assert_eq!(
            parse(&raw[..raw.len() - 2], false).unwrap(),
            None,
            "needs more bytes"
        );
        assert!(parse(&raw[..raw.len() - 2], true).is_err(), "closed early");
    }

    #[test]
    fn chunked() {
        let raw = "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n";
        let response = parse(raw, false).unwrap().unwrap();
        assert_eq!(response.status, 503);
        assert_eq!(response.body, b"{\"a\":1}");
        assert_eq!(parse(&raw[..raw.len() - 7], false).unwrap(), None);
    }

    #[test]
    fn body_until_close() {
        let raw = "HTTP/1.0 200 OK\r\n\r\nall of it";
        assert_eq!(parse(raw, false).unwrap(), None);
        assert_eq!(parse(raw, true).unwrap().unwrap().body, b"all of it");
    }

    #[test]
    fn malformed() {
        assert!(parse("SSH-2.0-OpenSSH\r\n\r\n", true).is_err());
        assert!(parse("HTTP/1.1 abc\r\n\r\n", true).is_err());
        assert!(parse("HTTP/1.1 200 OK\r\n", true).is_err());
        assert_eq!(
            parse("HTTP/1.1 204 No Content\r\n\r\n", false)
                .unwrap()
                .unwrap()
                .status,
            204
        );
    }

    #[test]
    fn snippet_is_short() {
        let response = Response {
            status: 503,
            body: "x".repeat(500).into_bytes(),
        };
        assert_eq!(response.body_snippet().chars().count(), 201);
    }

    #[test]
    fn get_from_a_local_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let n = conn.read(&mut request).unwrap();
            let request = String::from_utf8_lossy(&request[..n]).into_owned();
            // Keeps the connection open: the client must stop at Content-Length.
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            thread::sleep(Duration::from_millis(300));
            request
        });
        let response = get(&addr, "/readyz", Duration::from_secs(5)).unwrap();
        assert_eq!(
            response,
            Response {
                status: 200,
                body: b"ok".to_vec()
            }
        );
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /readyz HTTP/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("Host: {addr}\r\n")));
    }
}
