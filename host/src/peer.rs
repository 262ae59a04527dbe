//! The client's address: the peer of the connection as the server saw it
//! (axum's `ConnectInfo`, which `fusio serve` records), or, when that peer
//! is a proxy the server was told to trust (`--trusted-proxy`), the
//! address that proxy forwarded in `X-Forwarded-For`. `None` for requests
//! that came without a socket (tests calling the router in-process).
//! Login throttling, rate limits, the request log and the actions all
//! count by it.

use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;

/// The client address a trusted proxy forwarded, recorded by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Forwarded(IpAddr);

/// The client's address recorded in `extensions`: what a trusted proxy
/// forwarded, else the connection's peer.
pub fn address(extensions: &http::Extensions) -> Option<IpAddr> {
    if let Some(Forwarded(ip)) = extensions.get::<Forwarded>() {
        return Some(*ip);
    }
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// Why a trusted proxy is not an address or a network.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is neither an IP address nor a network (10.0.0.0/8, fd00::/8)")]
pub struct NotANetwork(pub String);

/// The proxies whose `X-Forwarded-For` is believed; none by default, so a
/// client cannot choose its own address by sending the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses (`10.0.0.5`) and networks (`10.0.0.0/8`).
    pub fn parse(items: &[String]) -> Result<Self, NotANetwork> {
        items
            .iter()
            .map(|item| {
                let item = item.trim();
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| NotANetwork(item.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the `X-Forwarded-For` values: each
    /// trusted hop appended the address it saw, so the list is walked from
    /// the right past every trusted address, and the first other one is
    /// the client (what lies left of it, the client itself may have
    /// written). A hop that is not an address ends the walk at the last
    /// trusted one.
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// Middleware: records the client a trusted proxy forwarded, for
/// [`address`].
pub async fn resolve(
    axum::extract::State(trusted): axum::extract::State<Arc<TrustedProxies>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !trusted.0.is_empty()
        && let Some(peer) = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip())
    {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        let client = trusted.client(peer, forwarded);
        request.extensions_mut().insert(Forwarded(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_forwards_and_only_trusted_hops_are_passed() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.1".into()]).unwrap();
        let client = |peer: &str, header: &[&str]| trusted.client(ip(peer), header.iter().copied());
        // An untrusted peer's header is the client's own word.
        assert_eq!(client("203.0.113.9", &["1.2.3.4"]), ip("203.0.113.9"));
        assert_eq!(client("10.1.1.1", &["1.2.3.4"]), ip("1.2.3.4"));
        // What the client wrote left of the first untrusted hop is ignored.
        assert_eq!(
            client("10.1.1.1", &["6.6.6.6, 1.2.3.4, 192.0.2.1"]),
            ip("1.2.3.4")
        );
        assert_eq!(
            client("10.1.1.1", &["6.6.6.6", "1.2.3.4, 10.2.2.2"]),
            ip("1.2.3.4")
        );
        // Every hop trusted: the leftmost; no header or a bad hop: the last
        // trusted one.
        assert_eq!(client("10.1.1.1", &["10.3.3.3, 10.2.2.2"]), ip("10.3.3.3"));
        assert_eq!(client("10.1.1.1", &[]), ip("10.1.1.1"));
        assert_eq!(client("10.1.1.1", &["1.2.3.4, nonsense"]), ip("10.1.1.1"));
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/33".into()]),
            Err(NotANetwork("10.0.0.0/33".into()))
        );
    }
}
