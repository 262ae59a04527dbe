//! The route table: an immutable index from request paths to whatever the
//! caller attaches to each route, built once per deployed revision.

mod path;

pub use path::{PathError, RESERVED_PREFIXES, RoutePath};

use percent_encoding::percent_decode_str;

/// Routes indexed for matching. Immutable: a new revision builds a new table.
#[derive(Debug)]
pub struct RouteTable<T> {
    router: matchit::Router<usize>,
    entries: Vec<(RoutePath, T)>,
}

/// A matched route with the values of its placeholders.
#[derive(Debug)]
pub struct RouteMatch<'a, T> {
    /// The route's path.
    pub path: &'a RoutePath,
    /// What the caller attached to the route.
    pub value: &'a T,
    /// Placeholder values, percent-decoded.
    pub params: Vec<(String, String)>,
}

/// Two routes that cannot both be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the route `{path}` conflicts with another route: {reason}")]
pub struct RouteConflict {
    /// The route that could not be added.
    pub path: String,
    /// What the matcher said.
    pub reason: String,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        Self {
            router: matchit::Router::new(),
            entries: Vec::new(),
        }
    }
}

impl<T> RouteTable<T> {
    /// Indexes `entries`; the first route that overlaps another is refused.
    pub fn build(entries: Vec<(RoutePath, T)>) -> Result<Self, RouteConflict> {
        let mut router = matchit::Router::new();
        for (index, (path, _)) in entries.iter().enumerate() {
            router
                .insert(path.pattern(), index)
                .map_err(|err| RouteConflict {
                    path: path.as_str().to_owned(),
                    reason: err.to_string(),
                })?;
        }
        Ok(Self { router, entries })
    }

    /// The route serving `path`, if any.
    pub fn match_request(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        let matched = self.router.at(path).ok()?;
        let (route, value) = &self.entries[*matched.value];
        let params: Vec<(String, String)> = matched
            .params
            .iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    percent_decode_str(v).decode_utf8_lossy().into_owned(),
                )
            })
            .collect();
        route.accepts(&params).then_some(RouteMatch {
            path: route,
            value,
            params,
        })
    }

    /// Every route, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &(RoutePath, T)> {
        self.entries.iter()
    }

    /// How many routes there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(paths: &[&str]) -> Result<RouteTable<usize>, RouteConflict> {
        RouteTable::build(
            paths
                .iter()
                .enumerate()
                .map(|(i, p)| (RoutePath::parse(p).unwrap(), i))
                .collect(),
        )
    }

    #[test]
    fn matches_and_decodes_params() {
        let t = table(&["/todo", "/todo/:id", "/file/*path", "/news/$year<[0-9]+>"]).unwrap();
        assert_eq!(*t.match_request("/todo").unwrap().value, 0);
        let m = t.match_request("/todo/a%20b").unwrap();
        assert_eq!(m.params, vec![("id".to_owned(), "a b".to_owned())]);
        let m = t.match_request("/file/a/b/c.txt").unwrap();
        assert_eq!(m.params, vec![("path".to_owned(), "a/b/c.txt".to_owned())]);
        assert_eq!(*t.match_request("/news/2024").unwrap().value, 3);
        assert!(t.match_request("/news/latest").is_none());
        assert!(t.match_request("/nothing").is_none());
    }

    #[test]
    fn static_segments_win_over_placeholders() {
        let t = table(&["/todo/:id", "/todo/done"]).unwrap();
        assert_eq!(*t.match_request("/todo/done").unwrap().value, 1);
        assert_eq!(*t.match_request("/todo/7").unwrap().value, 0);
    }

    #[test]
    fn conflicts_are_refused() {
        let err = table(&["/todo/:id", "/todo/:name"]).unwrap_err();
        assert_eq!(err.path, "/todo/:name");
        assert!(table(&["/a", "/a"]).is_err());
    }
}
