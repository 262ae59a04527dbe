//! `/backend/statistic/{name}` and `/backend/dashboard`: PHP Fusio's
//! statistics over the request log (rolled up per hour and day), the
//! issued tokens, the registrations and the audit log, in its chart shape
//! `{labels, series: [{name, data}]}` (`count_requests`: `{count, from,
//! to}`). They take the request log's filters; `from` and `to` default to
//! the last 30 days, in buckets of a day, or of an hour when the range is
//! under two days. Entity charts show the top 6.

use super::log_filter::{LogQuery, instant};
use crate::api::{Authorized, RequiredScope};
use crate::api_error::ApiError;
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::request_log::RequestFilter;
use crate::store::request_stats::{Activity, Dimension, Made, Range, Rank, Source, Tally, Width};
use crate::store::{Store, StoreError};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, DurationRound, Utc};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

/// The scope `backend.statistic`.
#[derive(Debug)]
pub struct StatisticScope;
impl RequiredScope for StatisticScope {
    const SCOPE: &'static str = "backend.statistic";
}

/// Entities an entity chart shows.
const TOP: i64 = 6;

/// The statistics, by their names in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Statistic {
    IncomingRequests,
    CountRequests,
    MostUsedRoutes,
    MostUsedApps,
    RequestsPerRoute,
    RequestsPerIp,
    RequestsPerUser,
    ErrorsPerRoute,
    TimeAverage,
    TimePerRoute,
    IssuedTokens,
    UserRegistrations,
    MostUsedActivities,
    ActivitiesPerUser,
}

const NAMES: [(&str, Statistic); 14] = [
    ("incoming_requests", Statistic::IncomingRequests),
    ("count_requests", Statistic::CountRequests),
    ("most_used_routes", Statistic::MostUsedRoutes),
    ("most_used_apps", Statistic::MostUsedApps),
    ("requests_per_route", Statistic::RequestsPerRoute),
    ("requests_per_ip", Statistic::RequestsPerIp),
    ("requests_per_user", Statistic::RequestsPerUser),
    ("errors_per_route", Statistic::ErrorsPerRoute),
    ("time_average", Statistic::TimeAverage),
    ("time_per_route", Statistic::TimePerRoute),
    ("issued_tokens", Statistic::IssuedTokens),
    ("user_registrations", Statistic::UserRegistrations),
    ("most_used_activities", Statistic::MostUsedActivities),
    ("activities_per_user", Statistic::ActivitiesPerUser),
];

/// The panels of the dashboard, in order.
const DASHBOARD: [Statistic; 9] = [
    Statistic::IncomingRequests,
    Statistic::CountRequests,
    Statistic::MostUsedRoutes,
    Statistic::MostUsedApps,
    Statistic::TimeAverage,
    Statistic::ErrorsPerRoute,
    Statistic::IssuedTokens,
    Statistic::UserRegistrations,
    Statistic::MostUsedActivities,
];

/// A chart: one label per bucket or entity, one series per line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Chart {
    labels: Vec<String>,
    series: Vec<Series>,
}

/// One line of a chart.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    name: String,
    #[schema(value_type = Vec<f64>)]
    data: Vec<Value>,
}

/// The range and buckets `query` asks for, or a 400 naming the parameter.
fn range(query: &LogQuery) -> Result<(Range, Vec<String>), Problem> {
    let parse = |name: &str, given: &Option<String>| {
        given
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|text| instant(name, text))
            .transpose()
    };
    let to = parse("to", &query.to)?.unwrap_or_else(Utc::now);
    let from = parse("from", &query.from)?.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(Problem::new(StatusCode::BAD_REQUEST).detail("`from` must be before `to`"));
    }
    if to - from > Duration::days(3660) {
        return Err(Problem::new(StatusCode::BAD_REQUEST)
            .detail("`from` and `to` may be at most ten years apart"));
    }
    let (width, step) = if to - from < Duration::days(2) {
        (Width::Hour, Duration::hours(1))
    } else {
        (Width::Day, Duration::days(1))
    };
    let first = from.duration_trunc(step).unwrap_or(from);
    let mut end = to.duration_trunc(step).unwrap_or(to);
    if end < to {
        end += step;
    }
    let name = |at: DateTime<Utc>| match width {
        Width::Hour => at.format("%Y-%m-%dT%H").to_string(),
        Width::Day => at.format("%Y-%m-%d").to_string(),
    };
    let mut labels = Vec::new();
    let mut at = first;
    while at < end {
        labels.push(name(at));
        at += step;
    }
    Ok((
        Range {
            from: name(first),
            to: name(end),
            width,
        },
        labels,
    ))
}

/// Where the figures come from: the rollups when at most one of route,
/// app, user and address is asked for and nothing else, else the log.
fn source(filter: &RequestFilter) -> Source<'_> {
    let rollable = filter.status.is_none() && filter.method.is_none() && filter.search.is_none();
    let asked: Vec<(Dimension, &str)> = [
        (Dimension::Route, &filter.route),
        (Dimension::App, &filter.app),
        (Dimension::User, &filter.user),
        (Dimension::Ip, &filter.ip),
    ]
    .into_iter()
    .filter_map(|(d, v)| v.as_deref().map(|v| (d, v)))
    .collect();
    match (rollable, asked.as_slice()) {
        (true, []) => Source::Rollup(None),
        (true, [one]) => Source::Rollup(Some(*one)),
        _ => Source::Log(filter),
    }
}

fn count(n: i64) -> Value {
    Value::from(n)
}

/// A chart of one series over the buckets.
fn over_buckets(name: &str, labels: &[String], value: impl Fn(&str) -> Value) -> Chart {
    Chart {
        series: vec![Series {
            name: name.to_owned(),
            data: labels.iter().map(|l| value(l)).collect(),
        }],
        labels: labels.to_vec(),
    }
}

/// A chart of one series over entities.
fn over_entities(name: &str, entities: Vec<(String, Value)>) -> Chart {
    let (labels, data) = entities.into_iter().unzip();
    Chart {
        labels,
        series: vec![Series {
            name: name.to_owned(),
            data,
        }],
    }
}

/// A chart of one series per top entity over the buckets.
async fn per_top(
    store: &Store,
    source: Source<'_>,
    range: &Range,
    labels: &[String],
    by: Dimension,
) -> Result<Chart, StoreError> {
    let top: Vec<String> = store
        .stat_top(source, range, by, Rank::Requests, TOP)
        .await?
        .into_iter()
        .map(|(value, _)| value)
        .collect();
    let tallies = store.stat_series_of(source, range, by, &top).await?;
    Ok(Chart {
        series: top
            .iter()
            .map(|value| Series {
                name: value.clone(),
                data: labels
                    .iter()
                    .map(|l| {
                        count(
                            tallies
                                .get(&(l.clone(), value.clone()))
                                .map_or(0, |t| t.requests),
                        )
                    })
                    .collect(),
            })
            .collect(),
        labels: labels.to_vec(),
    })
}

async fn compute(
    store: &Store,
    statistic: Statistic,
    filter: &RequestFilter,
    range: &Range,
    labels: &[String],
) -> Result<Value, StoreError> {
    let source = source(filter);
    let top = |by, rank| store.stat_top(source, range, by, rank, TOP);
    let requests = |entities: Vec<(String, Tally)>| {
        entities
            .into_iter()
            .map(|(v, t)| (v, count(t.requests)))
            .collect()
    };
    let chart = match statistic {
        Statistic::CountRequests => {
            let total = store.stat_total(source, range).await?;
            return Ok(json!({"count": total.requests, "from": range.from, "to": range.to}));
        }
        Statistic::IncomingRequests => {
            let series = store.stat_series(source, range).await?;
            over_buckets("Requests", labels, |l| {
                count(series.get(l).map_or(0, |t| t.requests))
            })
        }
        Statistic::TimeAverage => {
            let series = store.stat_series(source, range).await?;
            over_buckets("Average time (ms)", labels, |l| {
                Value::from(series.get(l).map_or(0.0, Tally::average_ms))
            })
        }
        Statistic::MostUsedRoutes => {
            per_top(store, source, range, labels, Dimension::Route).await?
        }
        Statistic::MostUsedApps => per_top(store, source, range, labels, Dimension::App).await?,
        Statistic::RequestsPerRoute => over_entities(
            "Requests",
            requests(top(Dimension::Route, Rank::Requests).await?),
        ),
        Statistic::RequestsPerIp => over_entities(
            "Requests",
            requests(top(Dimension::Ip, Rank::Requests).await?),
        ),
        Statistic::RequestsPerUser => over_entities(
            "Requests",
            requests(top(Dimension::User, Rank::Requests).await?),
        ),
        Statistic::ErrorsPerRoute => over_entities(
            "Errors",
            top(Dimension::Route, Rank::Errors)
                .await?
                .into_iter()
                .map(|(v, t)| (v, count(t.errors)))
                .collect(),
        ),
        Statistic::TimePerRoute => over_entities(
            "Average time (ms)",
            top(Dimension::Route, Rank::Duration)
                .await?
                .into_iter()
                .map(|(v, t)| (v, Value::from(t.average_ms())))
                .collect(),
        ),
        Statistic::IssuedTokens | Statistic::UserRegistrations => {
            let (what, name) = if statistic == Statistic::IssuedTokens {
                (Made::Tokens, "Tokens")
            } else {
                (Made::Users, "Registrations")
            };
            let made = store.made_per_bucket(what, range).await?;
            over_buckets(name, labels, |l| count(made.get(l).copied().unwrap_or(0)))
        }
        Statistic::MostUsedActivities => {
            let top: Vec<String> = store
                .activity_top(range, Activity::Action, TOP)
                .await?
                .into_iter()
                .map(|(action, _)| action)
                .collect();
            let counts = store.activity_series_of(range, &top).await?;
            Chart {
                series: top
                    .iter()
                    .map(|action| Series {
                        name: action.clone(),
                        data: labels
                            .iter()
                            .map(|l| {
                                count(
                                    counts
                                        .get(&(l.clone(), action.clone()))
                                        .copied()
                                        .unwrap_or(0),
                                )
                            })
                            .collect(),
                    })
                    .collect(),
                labels: labels.to_vec(),
            }
        }
        Statistic::ActivitiesPerUser => over_entities(
            "Activities",
            store
                .activity_top(range, Activity::Actor, TOP)
                .await?
                .into_iter()
                .map(|(actor, n)| (actor, count(n)))
                .collect(),
        ),
    };
    Ok(serde_json::to_value(chart).unwrap_or_default())
}

#[utoipa::path(get, path = "/backend/statistic/{name}",
    params(("name" = String, Path, description = "incoming_requests, count_requests, most_used_routes, most_used_apps, requests_per_route, requests_per_ip, requests_per_user, errors_per_route, time_average, time_per_route, issued_tokens, user_registrations, most_used_activities, activities_per_user"), LogQuery),
    responses((status = 200, body = Chart), (status = 400), (status = 404)),
    security(("bearer" = ["backend.statistic"])))]
pub(super) async fn get(
    _: Authorized<StatisticScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    let statistic = NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            Problem::new(StatusCode::NOT_FOUND).detail(format!(
                "no statistic `{name}`; there are {}",
                NAMES.map(|(n, _)| n).join(", ")
            ))
        })?;
    let (filter, _) = query.filter(false)?;
    let (range, labels) = range(&query)?;
    Ok(Json(
        compute(&state.store, statistic, &filter, &range, &labels).await?,
    ))
}

#[utoipa::path(get, path = "/backend/dashboard", params(LogQuery),
    responses((status = 200, body = Object, description = "the dashboard's panels by statistic name")),
    security(("bearer" = ["backend.statistic"])))]
pub(super) async fn dashboard(
    _: Authorized<StatisticScope>,
    State(state): State<AppState>,
    Query(query): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    let (filter, _) = query.filter(false)?;
    let (range, labels) = range(&query)?;
    let mut panels = serde_json::Map::new();
    for statistic in DASHBOARD {
        let name = NAMES
            .iter()
            .find(|(_, s)| *s == statistic)
            .map_or("", |(n, _)| *n);
        panels.insert(
            name.to_owned(),
            compute(&state.store, statistic, &filter, &range, &labels).await?,
        );
    }
    Ok(Json(Value::Object(panels)))
}
