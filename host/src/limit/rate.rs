//! Rates compiled for the request path: each rate's window parsed once, and
//! for every endpoint the allocations that can apply to it, highest
//! priority first, so a request only asks who the caller is.

use crate::store::model::{AllocationRecord, RateRecord};
use http::{HeaderValue, Method};
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The name of the rate every caller gets unless a higher one applies.
pub const DEFAULT: &str = "Default";
/// The name of the rate anonymous callers get.
pub const DEFAULT_ANONYMOUS: &str = "Default-Anonymous";

/// The rates a project gets when it never said: PHP Fusio's defaults, 3600
/// requests an hour for everyone and 900 for anonymous callers.
pub fn defaults() -> Vec<RateRecord> {
    vec![
        RateRecord {
            name: DEFAULT.to_owned(),
            priority: 0,
            rate_limit: 3600,
            timespan: "PT1H".to_owned(),
            allocations: vec![AllocationRecord::default()],
        },
        RateRecord {
            name: DEFAULT_ANONYMOUS.to_owned(),
            priority: 4,
            rate_limit: 900,
            timespan: "PT1H".to_owned(),
            allocations: vec![AllocationRecord {
                authenticated: Some(false),
                ..AllocationRecord::default()
            }],
        },
    ]
}

/// Why a rate cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// The limit is 0.
    #[error("rateLimit must be at least 1")]
    ZeroLimit,
    /// The timespan is not an ISO 8601 duration Fusio can count in.
    #[error("timespan `{given}` {reason}")]
    Timespan {
        /// As written.
        given: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An allocation names a method HTTP does not know.
    #[error("allocation {index}: `{method}` is not an upper-case HTTP method")]
    Method {
        /// The allocation's position, from 0.
        index: usize,
        /// As written.
        method: String,
    },
}

/// A timespan as an ISO 8601 duration (`PT1H`, `PT30M`, `P1D`, `P1W`):
/// whole seconds, from one second to 366 days. Months and years have no
/// fixed length and are refused (write `P30D`).
pub fn timespan(text: &str) -> Result<Duration, RateError> {
    let refuse = |reason| RateError::Timespan {
        given: text.to_owned(),
        reason,
    };
    let parsed = match iso8601::parsers::parse_duration(text.as_bytes()) {
        Ok(([], parsed)) => parsed,
        _ => {
            return Err(refuse(
                "is not an ISO 8601 duration such as PT1H, PT1M or P1D",
            ));
        }
    };
    let seconds = match parsed {
        iso8601::Duration::Weeks(weeks) => u64::from(weeks) * 7 * 86_400,
        iso8601::Duration::YMDHMS {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        } => {
            if year != 0 || month != 0 {
                return Err(refuse(
                    "counts in months or years, which have no fixed length; write days (P30D)",
                ));
            }
            if millisecond != 0 {
                return Err(refuse("is not a whole number of seconds"));
            }
            u64::from(day) * 86_400
                + u64::from(hour) * 3_600
                + u64::from(minute) * 60
                + u64::from(second)
        }
    };
    if seconds == 0 {
        return Err(refuse("is empty; a window is at least PT1S"));
    }
    if seconds > 366 * 86_400 {
        return Err(refuse("is longer than a year"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `text` as a structured-field string (RFC 8941): quoted, with `"` and
/// `\` escaped. Rate names hold neither, but a name is data.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One rate, ready to count with.
#[derive(Debug)]
pub struct Rate {
    /// Its name.
    pub name: Arc<str>,
    /// Requests per window.
    pub limit: NonZeroU32,
    /// The window.
    pub window: Duration,
    /// Its `RateLimit-Policy` header value.
    pub(super) policy: HeaderValue,
    /// Its name as a structured-field string.
    pub(super) quoted: String,
    /// Its limit as a header value.
    pub(super) limit_header: HeaderValue,
    /// This rate's in-process counters, found once in the node's registry.
    pub(super) local: OnceLock<Arc<super::counters::Counters>>,
}

impl Rate {
    /// `record` compiled; its allocations are compiled by [`RatePlan`].
    pub fn compile(record: &RateRecord) -> Result<Self, RateError> {
        let limit = NonZeroU32::new(record.rate_limit).ok_or(RateError::ZeroLimit)?;
        let window = timespan(&record.timespan)?;
        let quoted = quoted(&record.name);
        let policy = HeaderValue::from_str(&format!("{quoted};q={limit};w={}", window.as_secs()))
            .unwrap_or(HeaderValue::from_static(""));
        Ok(Self {
            name: record.name.as_str().into(),
            limit,
            window,
            policy,
            quoted,
            limit_header: HeaderValue::from(limit.get()),
            local: OnceLock::new(),
        })
    }

    /// The time one request takes to come back: window ÷ limit.
    pub fn interval(&self) -> Duration {
        self.window / self.limit.get()
    }
}

/// An allocation of a rate, with the conditions that depend on the caller.
#[derive(Debug, Clone)]
struct Allocation {
    rate: Arc<Rate>,
    priority: i64,
    route: Option<String>,
    method: Option<Method>,
    app: Option<String>,
    user: Option<String>,
    authenticated: Option<bool>,
}

/// Who is calling, as allocations match it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Who<'a> {
    /// The caller's app and user names; `None` for an anonymous caller.
    pub holder: Option<(&'a str, &'a str)>,
}

/// The rates of one endpoint that can apply, highest priority first; empty
/// when none can (the endpoint is not limited).
#[derive(Debug, Clone, Default)]
pub struct Candidates(Arc<[CallerCondition]>);

#[derive(Debug, Clone)]
struct CallerCondition {
    rate: Arc<Rate>,
    app: Option<String>,
    user: Option<String>,
    authenticated: Option<bool>,
}

impl Candidates {
    /// The rate that applies to `who`, if any.
    pub fn pick(&self, who: Who<'_>) -> Option<&Arc<Rate>> {
        self.0
            .iter()
            .find(|condition| {
                let authenticated = who.holder.is_some();
                condition.authenticated.is_none_or(|a| a == authenticated)
                    && condition
                        .app
                        .as_deref()
                        .is_none_or(|app| who.holder.is_some_and(|(a, _)| a == app))
                    && condition
                        .user
                        .as_deref()
                        .is_none_or(|user| who.holder.is_some_and(|(_, u)| u == user))
            })
            .map(|condition| &condition.rate)
    }

    /// Whether no rate can apply.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A project's rates, compiled: what [`RatePlan::for_endpoint`] narrows
/// down per endpoint when the snapshot is assembled.
#[derive(Debug, Default)]
pub struct RatePlan {
    allocations: Vec<Allocation>,
}

impl RatePlan {
    /// Compiles `records`; the first refused one is answered with its name.
    pub fn compile(records: &[RateRecord]) -> Result<Self, (String, RateError)> {
        let mut allocations = Vec::new();
        for record in records {
            let refused = |err| (record.name.clone(), err);
            let rate = Arc::new(Rate::compile(record).map_err(refused)?);
            for (index, allocation) in record.allocations.iter().enumerate() {
                let method = match &allocation.method {
                    None => None,
                    Some(text) => Some(parse_method(text).ok_or_else(|| {
                        refused(RateError::Method {
                            index,
                            method: text.clone(),
                        })
                    })?),
                };
                allocations.push(Allocation {
                    rate: rate.clone(),
                    priority: record.priority,
                    route: allocation.route.clone(),
                    method,
                    app: allocation.app.clone(),
                    user: allocation.user.clone(),
                    authenticated: allocation.authenticated,
                });
            }
        }
        // Highest priority first; among equals, by name, so the choice
        // never depends on the order rates were written in.
        allocations.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| a.rate.name.cmp(&b.rate.name))
        });
        Ok(Self { allocations })
    }

    /// The allocations that can apply to `method` of the route `route`.
    pub fn for_endpoint(&self, route: &str, method: &Method) -> Candidates {
        Candidates(
            self.allocations
                .iter()
                .filter(|a| a.route.as_deref().is_none_or(|r| r == route))
                .filter(|a| a.method.as_ref().is_none_or(|m| m == method))
                .map(|a| CallerCondition {
                    rate: a.rate.clone(),
                    app: a.app.clone(),
                    user: a.user.clone(),
                    authenticated: a.authenticated,
                })
                .collect(),
        )
    }
}

/// An HTTP method as fusio.yml spells it: upper-case letters.
fn parse_method(text: &str) -> Option<Method> {
    let upper = !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase());
    upper
        .then(|| Method::from_bytes(text.as_bytes()).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_structured_field_strings() {
        assert_eq!(quoted("Default"), "\"Default\"");
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\cd\"");
    }

    #[test]
    fn timespans_are_iso_8601_durations_in_whole_seconds() {
        assert_eq!(timespan("PT1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(timespan("PT1M"), Ok(Duration::from_secs(60)));
        assert_eq!(timespan("P1D"), Ok(Duration::from_secs(86_400)));
        assert_eq!(timespan("P1W"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(timespan("P1DT2H3M4S"), Ok(Duration::from_secs(93_784)));
        for refused in [
            "", "1H", "PT1Hx", "P1M", "P1Y", "PT0S", "PT0.5S", "P400D", "PT",
        ] {
            assert!(timespan(refused).is_err(), "{refused} is refused");
        }
    }

    fn plan(yaml: &str) -> RatePlan {
        let records: Vec<RateRecord> = serde_json::from_str(yaml).unwrap();
        RatePlan::compile(&records).unwrap()
    }

    #[test]
    fn the_highest_priority_matching_allocation_applies() {
        let plan = plan(
            r#"[
            {"name": "Default", "rateLimit": 10, "timespan": "PT1H", "allocation": [{}]},
            {"name": "Anonymous", "priority": 4, "rateLimit": 5, "timespan": "PT1H",
             "allocation": [{"authenticated": false}]},
            {"name": "Partner", "priority": 9, "rateLimit": 100, "timespan": "PT1H",
             "allocation": [{"app": "partner"}, {"user": "carol", "route": "/todo", "method": "POST"}]}
        ]"#,
        );
        let get = plan.for_endpoint("/todo", &Method::GET);
        let post = plan.for_endpoint("/todo", &Method::POST);
        let name = |c: &Candidates, who| c.pick(who).map(|r| r.name.to_string());
        let anonymous = Who::default();
        let partner = Who {
            holder: Some(("partner", "dave")),
        };
        let carol = Who {
            holder: Some(("other", "carol")),
        };
        assert_eq!(name(&get, anonymous).as_deref(), Some("Anonymous"));
        assert_eq!(name(&get, partner).as_deref(), Some("Partner"));
        assert_eq!(name(&get, carol).as_deref(), Some("Default"));
        assert_eq!(name(&post, carol).as_deref(), Some("Partner"));
        assert!(plan.for_endpoint("/x", &Method::GET).pick(carol).is_some());
    }

    #[test]
    fn a_rate_without_allocations_applies_to_no_one() {
        let plan = plan(r#"[{"name": "Idle", "rateLimit": 1, "timespan": "PT1S"}]"#);
        assert!(plan.for_endpoint("/", &Method::GET).is_empty());
    }

    #[test]
    fn refusals_name_the_rate() {
        let records: Vec<RateRecord> = serde_json::from_str(
            r#"[{"name": "Bad", "rateLimit": 0, "timespan": "PT1H", "allocation": [{}]}]"#,
        )
        .unwrap();
        let (name, err) = RatePlan::compile(&records).unwrap_err();
        assert_eq!((name.as_str(), err), ("Bad", RateError::ZeroLimit));
    }
}
