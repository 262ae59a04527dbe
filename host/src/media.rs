//! Media types of request bodies: what a method accepts (`contentTypes:`
//! in fusio.yml, `text/*` for a family) and whether a request's
//! `Content-Type` is one of them. A body without a `Content-Type` counts as
//! `application/octet-stream` (RFC 9110, 8.3).

/// The media type a body without `Content-Type` has.
pub const UNTYPED: &str = "application/octet-stream";

/// Whether `text` is a media range a method may accept: `type/subtype` or
/// `type/*`, both tokens.
pub fn is_media_range(text: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match text.split_once('/') {
        Some((kind, "*")) => token(kind),
        Some((kind, sub)) => token(kind) && token(sub),
        None => false,
    }
}

/// The media type of a `Content-Type` value, lower-case, without its
/// parameters (`Application/JSON; charset=utf-8` → `application/json`).
pub fn essence(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or(UNTYPED)
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a body of media type `essence` is among `accepted`.
pub fn accepts(accepted: &[String], essence: &str) -> bool {
    accepted.iter().any(|range| {
        let range = range.to_ascii_lowercase();
        match range.strip_suffix("/*") {
            Some(kind) => essence.split('/').next() == Some(kind),
            None => range == essence,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_essences_and_matches() {
        assert!(is_media_range("application/json") && is_media_range("text/*"));
        assert!(!is_media_range("json") && !is_media_range("*/json") && !is_media_range("a b/c"));
        assert_eq!(
            essence(Some("Application/JSON; charset=utf-8")),
            "application/json"
        );
        assert_eq!(essence(None), UNTYPED);
        let accepted = ["application/json".to_owned(), "text/*".to_owned()];
        assert!(accepts(&accepted, "application/json"));
        assert!(accepts(&accepted, "text/csv"));
        assert!(!accepts(&accepted, "application/xml"));
        assert!(!accepts(&accepted, UNTYPED));
    }
}
