//! The client's address behind reverse proxies (`TRUSTED_PROXIES`).
//!
//! A forwarding header is believed only when the TCP peer is a configured proxy, and only the
//! one header the proxies are said to write ([`ForwardedHeader`]): a proxy that appends to
//! `X-Forwarded-For` passes a client's own `Forwarded` through untouched, so reading both
//! would let the client choose. The header's hops are walked right to left — each one was
//! written by the hop to its right — and the first address that is not a trusted proxy is the
//! client. Everything to its left was written by that client and is ignored.
//!
//! An unreadable hop (`unknown`, an obfuscated `_name`, garbage) ends the walk at the last
//! trusted hop: clients behind a proxy that hides them share that proxy's address, which is
//! what an empty list gives anyway, and no client can pick another's address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;

/// One `TRUSTED_PROXIES` entry: `10.0.0.0/8`, `2001:db8::/32`, or a bare address (`/32`,
/// `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not an address or CIDR block (such as 10.0.0.0/8 or 2001:db8::/32): {why}")]
pub struct InvalidCidr {
    pub entry: String,
    pub why: &'static str,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(ip)), self.prefix, 32) == u128::from(u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(ip), self.prefix, 128) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `bits` with everything past the first `prefix` of `width` bits cleared.
fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let host_bits = u32::from(width - prefix);
    bits >> host_bits << host_bits
}

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let invalid = |why| InvalidCidr {
            entry: entry.to_owned(),
            why,
        };
        let (address, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let address: IpAddr = address.parse().map_err(|_| invalid("not an IP address"))?;
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| invalid("the prefix length is too long for the address"))?,
            Some(_) => return Err(invalid("the prefix length is not a number")),
        };
        let bits = match address {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        if masked(bits, prefix, width) != bits {
            // 10.1.2.3/8 is almost always a typo for 10.1.2.3 or 10.0.0.0/8: say so rather
            // than trust a range nobody meant.
            return Err(invalid("host bits are set after the prefix"));
        }
        Ok(Self {
            network: address,
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Which forwarding header the trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!(
                "expected x-forwarded-for or forwarded, got {value:?}"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// The proxies whose forwarding header is believed. Empty (the default): none, and the client
/// is always the TCP peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    blocks: Vec<Cidr>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// A comma- or whitespace-separated list of CIDR blocks and addresses; the error names the
    /// first bad entry.
    pub fn parse(list: &str, header: ForwardedHeader) -> Result<Self, InvalidCidr> {
        let blocks = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self { blocks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn blocks(&self) -> &[Cidr] {
        &self.blocks
    }

    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }

    /// The client's address: `peer` itself unless `peer` is a trusted proxy, then the
    /// rightmost hop of the forwarding header that is not one.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let values = headers
            .get_all(self.header.name())
            .filter_map(|v| v.to_str().ok());
        // Repeated header lines are one list, in order (RFC 9110 §5.3).
        let hops: Vec<&str> = values.flat_map(|v| split_list(v)).collect();
        for hop in hops.into_iter().rev() {
            let address = match self.header {
                ForwardedHeader::XForwardedFor => node_address(hop),
                ForwardedHeader::Forwarded => forwarded_for(hop).and_then(node_address),
            };
            let Some(address) = address else {
                return client;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`, from a dual-stack listener) is its IPv4
/// address, so `10.0.0.0/8` matches it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Splits a header list on commas outside double quotes (a `Forwarded` value may quote one).
fn split_list(value: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(value[start..].trim());
    items.retain(|s| !s.is_empty());
    items
}

/// The `for=` parameter of one `Forwarded` element, unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list, ForwardedHeader::XForwardedFor).unwrap()
    }

    #[test]
    fn blocks_parse_and_match() {
        let list = trusted("10.0.0.0/8, 192.168.1.7 2001:db8::/32,::1");
        assert_eq!(list.blocks().len(), 4);
        for inside in [
            "10.0.0.1",
            "10.255.255.255",
            "192.168.1.7",
            "2001:db8::5",
            "::1",
        ] {
            assert!(list.trusts(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "192.168.1.8", "2001:db9::1", "::2", "127.0.0.1"] {
            assert!(!list.trusts(ip(outside)), "{outside}");
        }
        assert!(list.trusts(ip("::ffff:10.1.2.3")), "a mapped IPv4 peer");
        assert!(trusted("0.0.0.0/0").trusts(ip("203.0.113.9")));
        assert!(!trusted("0.0.0.0/0").trusts(ip("2001:db8::1")));
        assert!(trusted("").is_empty());
    }

    #[test]
    fn a_bad_entry_is_named() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1/8",
            "proxy.local",
            "10.0.0.0/",
            "::/129",
            "1.2.3.4/x",
        ] {
            let list = format!("127.0.0.1, {bad}");
            let err = TrustedProxies::parse(&list, ForwardedHeader::Forwarded).unwrap_err();
            assert_eq!(err.entry, bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let list = trusted("10.0.0.0/8");
        let spoofed = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=198.51.100.2"),
        ]);
        assert_eq!(
            list.client_ip(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &spoofed),
            ip("10.0.0.1"),
            "an empty list trusts nobody"
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let list = trusted("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        // The client wrote the first two entries itself; the proxies appended the rest.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 7.7.7.7, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(list.client_ip(peer, &chain), ip("203.0.113.9"));
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9:5555, 10.0.0.2"),
        ]);
        assert_eq!(list.client_ip(peer, &split), ip("203.0.113.9"));
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.2")]);
        assert_eq!(list.client_ip(peer, &all_trusted), ip("10.9.9.9"));
        assert_eq!(list.client_ip(peer, &HeaderMap::new()), peer, "no header");
        let garbage = headers(&[("x-forwarded-for", "6.6.6.6, unknown, 10.0.0.2")]);
        assert_eq!(
            list.client_ip(peer, &garbage),
            ip("10.0.0.2"),
            "an unreadable hop ends the walk at the last trusted one"
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let xff = trusted("10.0.0.0/8");
        let fwd = TrustedProxies::parse("10.0.0.0/8", ForwardedHeader::Forwarded).unwrap();
        let both = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1",
            ),
        ]);
        let peer = ip("10.0.0.1");
        assert_eq!(xff.client_ip(peer, &both), ip("198.51.100.7"));
        assert_eq!(fwd.client_ip(peer, &both), ip("2001:db8:cafe::17"));
        let obfuscated = headers(&[("forwarded", "for=_hidden, For=10.0.0.3")]);
        assert_eq!(fwd.client_ip(peer, &obfuscated), ip("10.0.0.3"));
        let quoted_comma = headers(&[("forwarded", "for=\"203.0.113.1\";ext=\"a,b\"")]);
        assert_eq!(fwd.client_ip(peer, &quoted_comma), ip("203.0.113.1"));
    }

    #[test]
    fn header_names_parse() {
        assert_eq!(
            ForwardedHeader::parse(" Forwarded "),
            Ok(ForwardedHeader::Forwarded)
        );
        assert_eq!(
            ForwardedHeader::parse("X-Forwarded-For"),
            Ok(ForwardedHeader::XForwardedFor)
        );
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
    }
}
