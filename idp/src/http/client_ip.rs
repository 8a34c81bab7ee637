//! The client's address behind trusted proxies (`server.trusted_proxies`).
//!
//! Only when the TCP peer is a configured proxy are `X-Forwarded-For` and
//! `X-Forwarded-Proto` believed. The client is the right-most address of `X-Forwarded-For`
//! that is not itself a trusted proxy (every proxy appends the address it saw, so what is left
//! of that hop may be forged by the client). One middleware ([`layer`]) rewrites the request's
//! `ConnectInfo<SocketAddr>` to that address, so every handler that reads the peer (lockout per
//! address, login history, sessions and devices, registration limits) sees the client
//! without each of them having to know about proxies; the TCP peer stays in [`TcpPeer`].

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// An address block: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

/// The parsed `server.trusted_proxies`.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses the configured list; entries were validated with the configuration.
    pub fn new(list: &[String]) -> TrustedProxies {
        TrustedProxies(list.iter().filter_map(|s| Cidr::parse(s)).collect())
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// The TCP peer of the request, before [`layer`] replaced `ConnectInfo` with the client.
#[derive(Clone, Copy, Debug)]
pub struct TcpPeer(pub SocketAddr);

/// `https` or `http` as the client used it: `X-Forwarded-Proto` from a trusted proxy, else
/// `http` (we do not terminate TLS ourselves). Informational: every URL we build comes from
/// `server.issuer`, never from request headers.
#[derive(Clone, Debug)]
pub struct ClientScheme(pub &'static str);

/// The client's address: the peer itself unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy (or the left-most entry if
/// all of them are).
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, proxies: &TrustedProxies) -> IpAddr {
    let peer_ip = peer.ip();
    if !proxies.trusts(peer_ip) {
        return peer_ip;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|h| h.parse::<IpAddr>().ok())
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    // A malformed entry makes the whole header unusable: we cannot tell which hop is which.
    let mut chosen = None;
    for ip in hops.iter().rev() {
        chosen = Some(*ip);
        if !proxies.trusts(*ip) {
            break;
        }
    }
    chosen.unwrap_or(peer_ip)
}

/// Whether the request came through a trusted proxy (its headers may be believed).
pub fn from_trusted(req: &Request, state: &AppState) -> bool {
    let peer = req.extensions().get::<TcpPeer>().map(|p| p.0).or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    });
    peer.is_some_and(|p| state.proxies.trusts(p.ip()))
}

/// Replaces `ConnectInfo<SocketAddr>` with the client's address (keeping the peer's port)
/// and records the TCP peer and the client's scheme as extensions.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let trusted = state.proxies.trusts(peer.ip());
        let ip = client_ip(req.headers(), peer, &state.proxies);
        let scheme = match req.headers().get("x-forwarded-proto") {
            Some(v) if trusted && v.as_bytes().eq_ignore_ascii_case(b"https") => "https",
            _ => "http",
        };
        let ext = req.extensions_mut();
        ext.insert(TcpPeer(peer));
        ext.insert(ClientScheme(scheme));
        ext.insert(ConnectInfo(SocketAddr::new(ip, peer.port())));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.9.9.9".parse().unwrap()));
        let one = Cidr::parse("192.0.2.1").unwrap();
        assert!(one.contains("192.0.2.1".parse().unwrap()));
        assert!(!one.contains("192.0.2.2".parse().unwrap()));
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(
            Cidr::parse("172.16.0.0/12")
                .unwrap()
                .contains("172.31.255.255".parse().unwrap())
        );
        assert!(
            !Cidr::parse("172.16.0.0/12")
                .unwrap()
                .contains("172.32.0.0".parse().unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("example.org"), None);
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let proxies = TrustedProxies::new(&["10.0.0.0/8".into()]);
        let h = headers("198.51.100.1, 203.0.113.7, 10.0.0.2");
        // Untrusted peer: its header is ignored.
        assert_eq!(
            client_ip(&h, peer("192.0.2.9"), &proxies),
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        // Trusted: the right-most hop that is not a proxy (198.51.100.1 may be forged).
        assert_eq!(
            client_ip(&h, peer("10.0.0.1"), &proxies),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Garbage in the header: the peer.
        assert_eq!(
            client_ip(&headers("x, 203.0.113.7"), peer("10.0.0.1"), &proxies),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        // No header: the peer.
        assert_eq!(
            client_ip(&HeaderMap::new(), peer("10.0.0.1"), &proxies),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
