//! Conditional updates (RFC 9110 13.1.1): a single entity
//! answers with `ETag: "<revision>"`, and an update sent with `If-Match`
//! is applied only when the entity is still at one of the named revisions,
//! else 412 and nothing changes.

use crate::store::revision::Expected;
use axum::extract::FromRequestParts;
use http::{HeaderMap, HeaderValue, header};
use std::convert::Infallible;

/// The `If-Match` of a request, as an extractor: what a conditional write
/// needs of the request's headers, and nothing more.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    /// The store revisions it admits. No header and `*` admit any (the
    /// entity exists, or the handler would have answered 404); weak or
    /// malformed tags can never match strongly, so they admit none.
    pub fn expected(&self) -> Expected {
        match &self.0 {
            None => Expected::Any,
            Some(tags) => Expected::OneOf(tags.iter().filter_map(|tag| tag.parse().ok()).collect()),
        }
    }

    /// The strong tags it names, without quotes; `None` when it admits any.
    pub fn tags(&self) -> Option<&[String]> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(if_match_tags(&parts.headers)))
    }
}

/// The strong entity tags `If-Match` names, without quotes; `None` when it
/// admits any (absent, or `*`). Weak and malformed tags are left out, so
/// they never match.
fn if_match_tags(headers: &HeaderMap) -> Option<Vec<String>> {
    let values: Vec<&str> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() || values.iter().any(|value| value.trim() == "*") {
        return None;
    }
    Some(
        values
            .iter()
            .flat_map(|value| value.split(','))
            .filter_map(|tag| Some(tag.trim().strip_prefix('"')?.strip_suffix('"')?.to_owned()))
            .collect(),
    )
}

/// The `ETag` of an entity with content tag `tag`.
pub fn etag_of(tag: &str) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{tag}\""))
        .expect("a hex tag in quotes is a valid header value");
    [(header::ETAG, value)]
}

/// The `ETag` of an entity at `revision`.
pub fn etag(revision: i64) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{revision}\""))
        .expect("a number in quotes is a valid header value");
    [(header::ETAG, value)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(values: &[&str]) -> Expected {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        }
        IfMatch(if_match_tags(&headers)).expected()
    }

    #[test]
    fn reads_if_match() {
        assert_eq!(expected(&[]), Expected::Any);
        assert_eq!(expected(&["*"]), Expected::Any);
        assert_eq!(expected(&["\"3\""]), Expected::OneOf(vec![3]));
        assert_eq!(
            expected(&["\"3\", \"5\"", "\"7\""]),
            Expected::OneOf(vec![3, 5, 7])
        );
        assert_eq!(expected(&["W/\"3\""]), Expected::OneOf(vec![]));
        assert_eq!(expected(&["3"]), Expected::OneOf(vec![]));
    }
}
