//! Fusio's route path syntax and its translation to the matcher's.
//!
//! `/todo` is static, `/todo/:id` names a segment, `/file/*path` takes the
//! rest of the path, and `/news/$year<[0-9]+>` names a segment that must
//! match a regular expression. Paths under the reserved system prefixes can
//! never be declared.

use regex::Regex;

/// The first path segments that belong to Fusio itself.
pub const RESERVED_PREFIXES: &[&str] = &[
    "backend",
    "consumer",
    "authorization",
    "doc",
    "export",
    "system",
    "fusio",
    "developer",
    "documentation",
    "swagger-ui",
];

/// A parsed route path: what the user wrote, the matcher pattern, and the
/// regular expressions its placeholders must satisfy.
#[derive(Debug, Clone)]
pub struct RoutePath {
    source: String,
    pattern: String,
    constraints: Vec<(String, Regex)>,
}

/// Why a route path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Paths start with `/`.
    #[error("a route path starts with `/`")]
    NotAbsolute,
    /// The path is under a system prefix.
    #[error("`/{0}` is reserved for Fusio itself")]
    Reserved(String),
    /// A placeholder name is not an identifier.
    #[error(
        "`{0}` is not a valid placeholder name (letters, digits and `_`, not starting with a digit)"
    )]
    BadName(String),
    /// `*rest` only fits at the end.
    #[error("the wildcard `*{0}` must be the last segment")]
    WildcardNotLast(String),
    /// The same placeholder twice.
    #[error("the placeholder `{0}` appears twice")]
    DuplicateName(String),
    /// The constraint is not a regular expression.
    #[error("the pattern of `{name}` is not a regular expression: {reason}")]
    BadRegex {
        /// The placeholder.
        name: String,
        /// What the regex parser said.
        reason: String,
    },
    /// A character the path syntax does not allow.
    #[error("the segment `{0}` contains `{{`, `}}` or an empty part")]
    BadSegment(String),
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl RoutePath {
    /// Parses Fusio's syntax; reserved prefixes are refused.
    pub fn parse(source: &str) -> Result<Self, PathError> {
        let rest = source.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if let Some(first) = segments.first() {
            let lower = first.to_ascii_lowercase();
            if RESERVED_PREFIXES.contains(&lower.as_str()) {
                return Err(PathError::Reserved(lower));
            }
        }
        let mut pattern = String::new();
        let mut names: Vec<String> = Vec::new();
        let mut constraints = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            pattern.push('/');
            let name = if let Some(name) = segment.strip_prefix(':') {
                pattern.push_str(&format!("{{{name}}}"));
                name
            } else if let Some(name) = segment.strip_prefix('*') {
                if i + 1 != segments.len() {
                    return Err(PathError::WildcardNotLast(name.to_owned()));
                }
                pattern.push_str(&format!("{{*{name}}}"));
                name
            } else if let Some(spec) = segment.strip_prefix('$') {
                let (name, regex) = spec
                    .strip_suffix('>')
                    .and_then(|s| s.split_once('<'))
                    .ok_or_else(|| PathError::BadName(spec.to_owned()))?;
                let regex =
                    Regex::new(&format!("^(?:{regex})$")).map_err(|err| PathError::BadRegex {
                        name: name.to_owned(),
                        reason: err.to_string(),
                    })?;
                constraints.push((name.to_owned(), regex));
                pattern.push_str(&format!("{{{name}}}"));
                name
            } else {
                if segment.is_empty() && i + 1 != segments.len() || segment.contains(['{', '}']) {
                    return Err(PathError::BadSegment((*segment).to_owned()));
                }
                pattern.push_str(segment);
                continue;
            };
            if !valid_name(name) {
                return Err(PathError::BadName(name.to_owned()));
            }
            if names.iter().any(|n| n == name) {
                return Err(PathError::DuplicateName(name.to_owned()));
            }
            names.push(name.to_owned());
        }
        if pattern.is_empty() {
            pattern.push('/');
        }
        Ok(Self {
            source: source.to_owned(),
            pattern,
            constraints,
        })
    }

    /// The path as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The matcher's pattern, e.g. `/todo/{id}`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// A concrete path with each placeholder replaced by its value from
    /// `values` (percent-encoded, a wildcard's `/` kept); names the first
    /// placeholder without one.
    pub fn fill(
        &self,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<String, String> {
        use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
        const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let mut out = String::new();
        for segment in self.source.split('/').skip(1) {
            out.push('/');
            let (name, wildcard) = if let Some(name) = segment.strip_prefix(':') {
                (name, false)
            } else if let Some(name) = segment.strip_prefix('*') {
                (name, true)
            } else if let Some(rest) = segment.strip_prefix('$') {
                (rest.split('<').next().unwrap_or(rest), false)
            } else {
                out.push_str(segment);
                continue;
            };
            let value = values.get(name).ok_or_else(|| name.to_owned())?;
            if wildcard {
                let parts: Vec<String> = value
                    .split('/')
                    .map(|part| utf8_percent_encode(part, SEGMENT).to_string())
                    .collect();
                out.push_str(&parts.join("/"));
            } else {
                out.extend(utf8_percent_encode(value, SEGMENT));
            }
        }
        Ok(out)
    }

    /// Whether the captured values satisfy every `$name<regex>` constraint.
    pub fn accepts(&self, params: &[(String, String)]) -> bool {
        self.constraints.iter().all(|(name, regex)| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .is_some_and(|(_, value)| regex.is_match(value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_every_form() {
        let cases = [
            ("/", "/"),
            ("/todo", "/todo"),
            ("/todo/:id", "/todo/{id}"),
            ("/file/*path", "/file/{*path}"),
            ("/news/$year<[0-9]+>", "/news/{year}"),
            ("/a/:b/c/:d", "/a/{b}/c/{d}"),
        ];
        for (source, pattern) in cases {
            assert_eq!(
                RoutePath::parse(source).unwrap().pattern(),
                pattern,
                "{source}"
            );
        }
    }

    #[test]
    fn fills_placeholders() {
        let values: std::collections::BTreeMap<String, String> = [
            ("id".to_owned(), "a b".to_owned()),
            ("year".to_owned(), "2026".to_owned()),
            ("path".to_owned(), "x/y z".to_owned()),
        ]
        .into();
        let fill = |source: &str| RoutePath::parse(source).unwrap().fill(&values);
        assert_eq!(fill("/todo/:id").unwrap(), "/todo/a%20b");
        assert_eq!(fill("/news/$year<[0-9]+>").unwrap(), "/news/2026");
        assert_eq!(fill("/file/*path").unwrap(), "/file/x/y%20z");
        assert_eq!(fill("/").unwrap(), "/");
        assert_eq!(fill("/todo/:other").unwrap_err(), "other");
    }

    #[test]
    fn refuses_bad_paths() {
        assert_eq!(
            RoutePath::parse("todo").unwrap_err(),
            PathError::NotAbsolute
        );
        assert_eq!(
            RoutePath::parse("/Backend/x").unwrap_err(),
            PathError::Reserved("backend".into())
        );
        assert_eq!(
            RoutePath::parse("/swagger-ui").unwrap_err(),
            PathError::Reserved("swagger-ui".into())
        );
        assert_eq!(
            RoutePath::parse("/f/*rest/x").unwrap_err(),
            PathError::WildcardNotLast("rest".into())
        );
        assert_eq!(
            RoutePath::parse("/a/:id/:id").unwrap_err(),
            PathError::DuplicateName("id".into())
        );
        assert_eq!(
            RoutePath::parse("/a/:1x").unwrap_err(),
            PathError::BadName("1x".into())
        );
        assert!(matches!(
            RoutePath::parse("/a/$x<[>").unwrap_err(),
            PathError::BadRegex { .. }
        ));
        assert_eq!(
            RoutePath::parse("/a/{x}").unwrap_err(),
            PathError::BadSegment("{x}".into())
        );
    }

    #[test]
    fn reserved_prefix_only_matches_whole_segment() {
        assert!(RoutePath::parse("/systems").is_ok());
        assert!(RoutePath::parse("/docs").is_ok());
    }

    #[test]
    fn constraints_are_anchored() {
        let path = RoutePath::parse("/news/$year<[0-9]+>").unwrap();
        assert!(path.accepts(&[("year".into(), "2024".into())]));
        assert!(!path.accepts(&[("year".into(), "20x4".into())]));
        assert!(!path.accepts(&[("year".into(), "x2024".into())]));
    }

    proptest::proptest! {
        /// Any text is parsed or refused, never a panic; and what parses
        /// can be routed.
        #[test]
        fn any_path_is_parsed_or_refused(source in ".{0,60}") {
            if let Ok(path) = RoutePath::parse(&source) {
                let mut router = matchit::Router::new();
                proptest::prop_assert!(router.insert(path.pattern(), ()).is_ok(), "{} -> {}", source, path.pattern());
            }
        }

        /// Paths made of the syntax's own pieces (placeholders, wildcards,
        /// constraints, stray braces and slashes) likewise.
        #[test]
        fn syntax_like_paths_are_parsed_or_refused(pieces in proptest::collection::vec("(:[a-z_]{0,4}|\\*[a-z]{0,3}|\\$[a-z]{0,3}<[^>]{0,6}>|[a-z{}]{0,4}|)", 0..6)) {
            let source = format!("/{}", pieces.join("/"));
            if let Ok(path) = RoutePath::parse(&source) {
                let mut router = matchit::Router::new();
                proptest::prop_assert!(router.insert(path.pattern(), ()).is_ok(), "{} -> {}", source, path.pattern());
            }
        }
    }
}
