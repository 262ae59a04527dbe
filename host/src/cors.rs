//! Cross-origin requests (CORS): which browser origins may call the API,
//! with which methods and headers, whether with credentials, and how long a
//! browser may keep a preflight's answer. The server's settings apply to
//! every path — user routes, the system API, `/authorization/token` — and a
//! route of the project may name its own origins. The layer that answers
//! preflights (in `app`, before any token is checked or any action runs)
//! applies them. Off (no origin allowed) unless configured.

use http::{HeaderName, HeaderValue, Method};
use std::time::Duration;

/// The response headers a browser script may read.
pub const EXPOSED: [HeaderName; 4] = [
    HeaderName::from_static("x-request-id"),
    http::header::ETAG,
    http::header::LOCATION,
    HeaderName::from_static("deprecation"),
];

/// Which origins may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origins {
    /// None: browsers on other origins are refused (the default).
    #[default]
    None,
    /// Every origin (`*`).
    Any,
    /// These origins exactly (`https://app.example.com`).
    List(Vec<String>),
}

impl Origins {
    /// Reads a list of origins, where `*` alone means any.
    pub fn parse(origins: &[String]) -> Result<Self, CorsError> {
        if origins.is_empty() {
            return Ok(Self::None);
        }
        if origins.iter().any(|o| o == "*") {
            return if origins.len() == 1 {
                Ok(Self::Any)
            } else {
                Err(CorsError::AnyAndList)
            };
        }
        for origin in origins {
            let url = reqwest::Url::parse(origin).map_err(|_| CorsError::Origin(origin.clone()))?;
            let bare = url.path() == "/" && !origin.ends_with('/') && url.query().is_none();
            if !matches!(url.scheme(), "http" | "https") || !bare {
                return Err(CorsError::Origin(origin.clone()));
            }
        }
        Ok(Self::List(origins.to_vec()))
    }

    /// Whether `origin` may call.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::List(list) => list.iter().any(|o| o.as_bytes() == origin.as_bytes()),
        }
    }
}

/// Why CORS settings cannot be used (the server refuses to start, a
/// deploy refuses the route).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsError {
    /// An origin that is not `scheme://host[:port]`.
    #[error("`{0}` is not an origin: write scheme://host[:port], e.g. https://app.example.com")]
    Origin(String),
    /// `*` next to named origins.
    #[error("`*` allows every origin; list origins or give `*` alone")]
    AnyAndList,
    /// A method name that is not one.
    #[error("`{0}` is not an HTTP method")]
    Method(String),
    /// A header name that is not one.
    #[error("`{0}` is not a header name")]
    Header(String),
    /// Credentials for every origin would let any site act as the user.
    #[error("credentials cannot be allowed for every origin (`*`): list the origins")]
    CredentialsForAny,
}

/// The server's CORS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsSettings {
    /// Which origins may call (routes may name their own).
    pub origins: Origins,
    /// The methods a preflight allows.
    pub methods: Vec<Method>,
    /// The request headers a preflight allows.
    pub headers: Vec<HeaderName>,
    /// Whether browsers may send cookies and `Authorization` along.
    pub credentials: bool,
    /// How long a browser may keep a preflight's answer.
    pub max_age: Duration,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self {
            origins: Origins::None,
            methods: [
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ]
            .into(),
            headers: [
                http::header::AUTHORIZATION,
                http::header::CONTENT_TYPE,
                http::header::ACCEPT,
                http::header::IF_MATCH,
            ]
            .into(),
            credentials: false,
            max_age: Duration::from_secs(3600),
        }
    }
}

impl CorsSettings {
    /// Settings from the server's options: origins (`*` alone for any),
    /// method and header names (empty: the defaults).
    pub fn new(
        origins: &[String],
        methods: &[String],
        headers: &[String],
        credentials: bool,
        max_age: Duration,
    ) -> Result<Self, CorsError> {
        let defaults = Self::default();
        let origins = Origins::parse(origins)?;
        if credentials && origins == Origins::Any {
            return Err(CorsError::CredentialsForAny);
        }
        let methods = if methods.is_empty() {
            defaults.methods
        } else {
            methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| CorsError::Method(m.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        let headers = if headers.is_empty() {
            defaults.headers
        } else {
            headers
                .iter()
                .map(|h| {
                    HeaderName::from_bytes(h.as_bytes()).map_err(|_| CorsError::Header(h.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Self {
            origins,
            methods,
            headers,
            credentials,
            max_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn origins_are_exact_or_any_alone() {
        assert_eq!(Origins::parse(&[]), Ok(Origins::None));
        assert_eq!(Origins::parse(&strings(&["*"])), Ok(Origins::Any));
        assert_eq!(
            Origins::parse(&strings(&["*", "https://a.example"])),
            Err(CorsError::AnyAndList)
        );
        for bad in [
            "a.example",
            "https://a.example/",
            "https://a.example/app",
            "ftp://a.example",
        ] {
            assert!(Origins::parse(&strings(&[bad])).is_err(), "{bad}");
        }
        let list =
            Origins::parse(&strings(&["https://a.example", "http://localhost:5173"])).unwrap();
        assert!(list.allows(&HeaderValue::from_static("http://localhost:5173")));
        assert!(!list.allows(&HeaderValue::from_static("https://b.example")));
    }

    #[test]
    fn credentials_need_named_origins() {
        let any = CorsSettings::new(&strings(&["*"]), &[], &[], true, Duration::ZERO);
        assert_eq!(any, Err(CorsError::CredentialsForAny));
        let named = CorsSettings::new(
            &strings(&["https://a.example"]),
            &strings(&["get"]),
            &[],
            true,
            Duration::ZERO,
        )
        .unwrap();
        assert_eq!(named.methods, [Method::GET]);
        assert!(
            CorsSettings::new(&[], &[], &strings(&["bad header"]), false, Duration::ZERO).is_err()
        );
    }
}
