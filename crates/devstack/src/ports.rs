//! Loopback ports: a free one for tests, a check for the fixed ones `up` and the bench use.

use std::net::TcpListener;

use crate::{Error, Result, HOST};

/// A free loopback port: bound, then released. Another process may take it before the caller
/// binds it; tests accept that small race rather than pass listeners into child processes.
pub fn free_port() -> Result<u16> {
    TcpListener::bind((HOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(Error::io("finding a free loopback port"))
}

pub fn is_free(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

/// `Ok` if `port` can be bound now; otherwise an error naming who needs it.
pub fn ensure_free(port: u16, wanted_by: &str) -> Result<()> {
    if is_free(port) {
        Ok(())
    } else {
        Err(Error::PortTaken {
            host: HOST,
            port,
            wanted_by: wanted_by.to_owned(),
        })
    }
}

/// The first port from `preferred` to `last` that `is_free` accepts.
pub fn first_free(preferred: u16, last: u16, is_free: impl Fn(u16) -> bool) -> Option<u16> {
    (preferred..=last).find(|port| is_free(*port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_free_port() {
        assert_eq!(first_free(9090, 9099, |_| true), Some(9090));
        assert_eq!(first_free(9090, 9099, |p| p >= 9092), Some(9092));
        assert_eq!(first_free(9090, 9099, |_| false), None);
    }

    #[test]
    fn a_bound_port_is_taken() {
        let listener = TcpListener::bind((HOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!is_free(port));
        let err = ensure_free(port, "the test").unwrap_err().to_string();
        assert!(
            err.contains(&port.to_string()) && err.contains("the test"),
            "{err}"
        );
        drop(listener);
        assert!(free_port().unwrap() > 0);
    }
}
