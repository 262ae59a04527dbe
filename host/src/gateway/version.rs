//! Which version of a route answers: the one the `Accept` header names
//! (`application/vnd.acme.v2+json`, PHP Fusio's convention), else the
//! route's default (its highest production version). A closed version is
//! gone; a version that does not exist is not acceptable.

use super::GatewayError;
use crate::snapshot::{RouteMethods, RouteVersions};
use crate::store::model::VersionStatus;
use http::{HeaderMap, header};

/// The version number an `Accept` header asks for, when it names one: a
/// vendor media type whose subtype ends in `.v<N>` (before any `+suffix`).
pub fn asked_version(headers: &HeaderMap) -> Option<u32> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|media| {
            let media = media.split(';').next()?.trim();
            let (_, subtype) = media.split_once('/')?;
            let subtype = subtype.strip_prefix("vnd.")?;
            let name = subtype.split('+').next()?;
            let (_, number) = name.rsplit_once(".v")?;
            number.parse().ok()
        })
}

/// The version that answers this request.
pub fn select<'a>(
    route: &'a RouteVersions,
    headers: &HeaderMap,
) -> Result<&'a RouteMethods, GatewayError> {
    let chosen = match asked_version(headers) {
        Some(asked) => route
            .versions
            .get(&asked)
            .ok_or_else(|| GatewayError::UnknownVersion {
                asked,
                available: route
                    .versions
                    .values()
                    .filter(|v| v.status != VersionStatus::Closed)
                    .map(|v| v.version)
                    .collect(),
            })?,
        None => route
            .default
            .and_then(|number| route.versions.get(&number))
            .ok_or(GatewayError::Gone(None))?,
    };
    if chosen.status == VersionStatus::Closed {
        return Err(GatewayError::Gone(Some(chosen.version)));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn accept(value: &str) -> Option<u32> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        asked_version(&headers)
    }

    #[test]
    fn reads_the_version_from_a_vendor_media_type() {
        assert_eq!(accept("application/vnd.acme.v2+json"), Some(2));
        assert_eq!(
            accept("text/html, application/vnd.acme.todo.v13+json;q=0.9"),
            Some(13)
        );
        assert_eq!(accept("application/vnd.acme.v1"), Some(1));
        assert_eq!(accept("application/json"), None);
        assert_eq!(accept("application/vnd.acme+json"), None);
        assert_eq!(accept("application/vnd.acme.vx+json"), None);
    }

    proptest::proptest! {
        /// Any bytes a client may send as `Accept` are read without a panic.
        #[test]
        fn any_accept_header_is_read_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                headers.insert(header::ACCEPT, value);
            }
            let _ = asked_version(&headers);
        }

        /// Near-misses of the vendor syntax (numbers too long, stray
        /// parameters and suffixes) are read without a panic.
        #[test]
        fn near_vendor_types_are_read_without_panic(value in "[a-z/ ]{0,12}vnd[.a-z]{0,6}\\.v[0-9x-]{0,25}(\\+[a-z]{0,5})?(;[a-z=0-9.]{0,8})?(,.{0,20})?") {
            if let Ok(value) = HeaderValue::from_str(&value) {
                let mut headers = HeaderMap::new();
                headers.insert(header::ACCEPT, value);
                let _ = asked_version(&headers);
            }
        }

        /// Every version number round-trips through the media type.
        #[test]
        fn every_version_number_is_read_back(version in proptest::num::u32::ANY, vendor in "[a-z]{1,10}") {
            proptest::prop_assert_eq!(accept(&format!("application/vnd.{vendor}.v{version}+json")), Some(version));
        }
    }
}
