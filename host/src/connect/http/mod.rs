//! HTTP connections: one reqwest client per connection's settings, with its
//! base URL, default headers and timeout. Private, loopback and link-local
//! addresses are refused unless the connection allows them — checked on
//! every address a name resolves to (a custom resolver) and on addresses
//! written as IPs; redirects are not followed, so a redirect cannot lead
//! around the check.

pub mod kind;
mod settings;

use crate::runtime::{ConnectorError, HttpRequest, HttpResponse};
use settings::HttpConfig;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How long a request may take unless the connection says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer body read unless the connection says otherwise.
const DEFAULT_MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Headers the connection sets, never the action: where the request goes
/// (`host`), how it travels (hop-by-hop headers) and how long it is.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Why an address was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} is a private or loopback address; the connection does not allow those (allow_private)"
)]
struct PrivateAddress(IpAddr);

/// Whether `ip` is not on the public internet.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                // fc00::/7 unique local, fe80::/10 link local.
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves names, refusing private addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some(private) = addrs.iter().find(|a| is_private(a.ip())) {
                return Err(Box::new(PrivateAddress(private.ip()))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client for one HTTP connection.
#[derive(Clone, Debug)]
pub(super) struct HttpClient {
    client: reqwest::Client,
    base: String,
    /// `base` parsed, to keep requests below it.
    base_url: reqwest::Url,
    allow_private: bool,
    max_response: u64,
}

impl HttpClient {
    pub(super) fn new(config: &HttpConfig) -> Result<Self, ConnectorError> {
        let mut headers = http::HeaderMap::new();
        for (name, value) in &config.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConnectorError::NotFound(format!("header name `{name}`")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| ConnectorError::NotFound(format!("the value of header `{name}`")))?;
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .redirect(reqwest::redirect::Policy::none());
        if !config.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let base_url = reqwest::Url::parse(&config.url)
            .map_err(|e| ConnectorError::NotFound(format!("config.url: {e}")))?;
        Ok(Self {
            base_url,
            client: builder
                .build()
                .map_err(|e| ConnectorError::Unavailable(e.to_string()))?,
            base: config.url.trim_end_matches('/').to_owned(),
            allow_private: config.allow_private,
            max_response: config
                .max_response
                .map_or(DEFAULT_MAX_RESPONSE, |size| size.as_u64()),
        })
    }

    pub(super) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let url = format!("{}/{}", self.base, request.path.trim_start_matches('/'));
        let url = reqwest::Url::parse(&url).map_err(|e| {
            ConnectorError::Query(format!("`{}` is not a valid path: {e}", request.path))
        })?;
        if !self.within_base(&url) {
            return Err(ConnectorError::AccessDenied(format!(
                "`{}` leads outside the connection's base URL",
                request.path
            )));
        }
        if !self.allow_private
            && let Some(ip) = url
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .and_then(|h| h.parse::<IpAddr>().ok())
            && is_private(ip)
        {
            return Err(ConnectorError::AccessDenied(PrivateAddress(ip).to_string()));
        }
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| ConnectorError::Query(format!("`{}` is not a method", request.method)))?;
        if let Some((name, _)) = request
            .headers
            .iter()
            .find(|(name, _)| RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        {
            return Err(ConnectorError::Query(format!(
                "the header `{name}` is set by the connection, not by the action"
            )));
        }
        let mut outgoing = self.client.request(method, url).body(request.body);
        for (name, value) in request.headers {
            outgoing = outgoing.header(name, value);
        }
        let response = outgoing.send().await.map_err(failure)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = self.read_body(response).await?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl HttpClient {
    /// Whether `url` (the base URL joined with a guest's path, dot-segments
    /// resolved) stays on the base URL's origin and below its path: the
    /// connection's headers (its credentials) go only where it points.
    fn within_base(&self, url: &reqwest::Url) -> bool {
        let prefix = self.base_url.path().trim_end_matches('/');
        url.origin() == self.base_url.origin()
            && (url.path() == prefix
                || url.path().starts_with(&format!("{prefix}/"))
                || prefix.is_empty())
    }

    /// The answer's body, refused as soon as it is known to exceed the
    /// connection's `max_response` (by its `Content-Length`, or while
    /// reading), so a huge answer never fills the host's memory.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, ConnectorError> {
        let too_large = || {
            ConnectorError::Query(format!(
                "the answer is larger than the connection's max_response ({})",
                bytesize::ByteSize::b(self.max_response).display().iec()
            ))
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_response)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failure)? {
            if (body.len() + chunk.len()) as u64 > self.max_response {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A failed request: refused addresses are access-denied, a slow service a
/// timeout, anything else unavailable.
fn failure(err: reqwest::Error) -> ConnectorError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(current) = cause {
        if let Some(private) = current.downcast_ref::<PrivateAddress>() {
            return ConnectorError::AccessDenied(private.to_string());
        }
        cause = current.source();
    }
    if err.is_timeout() {
        ConnectorError::Timeout("the service did not answer within the connection's timeout".into())
    } else {
        ConnectorError::Unavailable(err.without_url().to_string())
    }
}
