//! The client's address as the server saw the connection (axum's
//! `ConnectInfo`, which `fusio serve` records); `None` for requests that
//! came without a socket (tests calling the router in-process). Login
//! throttling, rate limits and the request log all count by it. Forwarded
//! headers are not trusted: behind a proxy it is the proxy's address.

/// The peer address recorded in `extensions`.
pub fn address(extensions: &http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}
