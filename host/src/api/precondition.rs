//! Conditional updates (RFC 9110 13.1.1): a single entity
//! answers with `ETag: "<revision>"`, and an update sent with `If-Match`
//! is applied only when the entity is still at one of the named revisions,
//! else 412 and nothing changes.

use crate::store::revision::Expected;
use http::{HeaderMap, HeaderValue, header};

/// The revisions `If-Match` admits. No header and `*` admit any (the
/// entity exists, or the handler would have answered 404); weak or
/// malformed tags can never match strongly, so they admit none.
pub fn if_match(headers: &HeaderMap) -> Expected {
    match if_match_tags(headers) {
        None => Expected::Any,
        Some(tags) => Expected::OneOf(tags.iter().filter_map(|tag| tag.parse().ok()).collect()),
    }
}

/// The strong entity tags `If-Match` names, without quotes; `None` when it
/// admits any (absent, or `*`). Weak and malformed tags are left out, so
/// they never match.
pub fn if_match_tags(headers: &HeaderMap) -> Option<Vec<String>> {
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
        if_match(&headers)
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
