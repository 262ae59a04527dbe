//! What the statistics count: the request log rolled up per hour and per
//! day and dimension (`fusio_request_hourly`, `fusio_request_daily`: all
//! requests, per route, app, user and client address), kept by the
//! request-log writer in the transaction of each batch, so a statistic over
//! a month reads a few thousand rows instead of a million. A statistic
//! whose filter the rollups cannot answer (a status, a method, a search, or
//! two dimensions at once) reads the log itself. System-API requests are
//! not counted.

use super::request_record::{Bound, RequestFilter, RequestRecord, bind_all};
use super::{Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;

/// How wide a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// One hour: `2026-12-05T14`.
    Hour,
    /// One day: `2026-12-05`.
    Day,
}

impl Width {
    /// The characters of a stored time that name its bucket.
    pub fn chars(self) -> usize {
        match self {
            Width::Hour => 13,
            Width::Day => 10,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Width::Hour => "fusio_request_hourly",
            Width::Day => "fusio_request_daily",
        }
    }
}

/// The buckets a statistic covers: from `from` up to, not including, `to`
/// (bucket names, `2026-11-05` or `2026-12-05T14`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The first bucket.
    pub from: String,
    /// The bucket after the last.
    pub to: String,
    /// Their width.
    pub width: Width,
}

/// What requests are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// The route's declared path.
    Route,
    /// The app's name.
    App,
    /// The user's name.
    User,
    /// The client address.
    Ip,
}

impl Dimension {
    fn name(self) -> &'static str {
        match self {
            Dimension::Route => "route",
            Dimension::App => "app",
            Dimension::User => "user",
            Dimension::Ip => "ip",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Dimension::Route => "route",
            Dimension::App => "app",
            Dimension::User => "user_name",
            Dimension::Ip => "ip",
        }
    }

    fn of(self, record: &RequestRecord) -> Option<&str> {
        match self {
            Dimension::Route => record.route.as_deref(),
            Dimension::App => record.app.as_deref(),
            Dimension::User => record.user.as_deref(),
            Dimension::Ip => record.ip.as_deref(),
        }
    }

    const ALL: [Dimension; 4] = [
        Dimension::Route,
        Dimension::App,
        Dimension::User,
        Dimension::Ip,
    ];
}

/// Requests, errors among them and their summed duration (µs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests.
    pub requests: i64,
    /// Requests the action or the server failed.
    pub errors: i64,
    /// Their durations, summed, in microseconds.
    pub duration_sum: i64,
}

impl Tally {
    /// The average duration in milliseconds (0 without requests).
    pub fn average_ms(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let average = self.duration_sum as f64 / self.requests as f64 / 1000.0;
        (average * 100.0).round() / 100.0
    }
}

/// Where a statistic reads from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The rollups (only a range, or one dimension's value, is asked).
    Rollup(Option<(Dimension, &'a str)>),
    /// The log itself, through a filter.
    Log(&'a RequestFilter),
}

/// Rows per upsert statement: six values each.
const ROWS_PER_UPSERT: usize = 128;

type Key = (String, &'static str, String);

/// Tallies to add to the rollups, per hour and per day: what one batch of
/// logged requests adds, or several merged (the writer under load adds
/// them once a second instead of once a batch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollups {
    hourly: HashMap<Key, Tally>,
    daily: HashMap<Key, Tally>,
}

impl Rollups {
    /// What `records` add (system requests add nothing).
    pub fn of(records: &[RequestRecord]) -> Self {
        let mut rollups = Self::default();
        for record in records.iter().filter(|r| !r.system) {
            for (width, tallies) in [
                (Width::Hour, &mut rollups.hourly),
                (Width::Day, &mut rollups.daily),
            ] {
                let bucket = record.created_at.get(..width.chars()).unwrap_or_default();
                let mut add = |dimension: &'static str, value: &str| {
                    let tally = tallies
                        .entry((bucket.to_owned(), dimension, value.to_owned()))
                        .or_default();
                    tally.add(record);
                };
                add("all", "");
                for dimension in Dimension::ALL {
                    if let Some(value) = dimension.of(record).filter(|v| !v.is_empty()) {
                        add(dimension.name(), value);
                    }
                }
            }
        }
        rollups
    }

    /// Adds `other` to these.
    pub fn merge(&mut self, other: Rollups) {
        for (mine, theirs) in [
            (&mut self.hourly, other.hourly),
            (&mut self.daily, other.daily),
        ] {
            for (key, tally) in theirs {
                let sum = mine.entry(key).or_default();
                sum.requests += tally.requests;
                sum.errors += tally.errors;
                sum.duration_sum += tally.duration_sum;
            }
        }
    }

    /// Whether they add nothing.
    pub fn is_empty(&self) -> bool {
        self.hourly.is_empty() && self.daily.is_empty()
    }
}

impl Tally {
    fn add(&mut self, record: &RequestRecord) {
        self.requests += 1;
        self.errors += i64::from(record.error.is_some());
        self.duration_sum += record.duration_us;
    }
}

/// Adds `rollups` to the rollup tables, inside `tx`.
pub(super) async fn add_rollups(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rollups: &Rollups,
) -> Result<(), StoreError> {
    for (width, tallies) in [(Width::Hour, &rollups.hourly), (Width::Day, &rollups.daily)] {
        let tallies: Vec<(&Key, &Tally)> = tallies.iter().collect();
        let table = width.table();
        for chunk in tallies.chunks(ROWS_PER_UPSERT) {
            let mut sql = format!(
                "INSERT INTO {table} (bucket, dimension, value, requests, errors, duration_sum) VALUES "
            );
            sql.push_str(&store.value_rows(chunk.len(), 6));
            sql.push_str(&format!(
                " ON CONFLICT (dimension, bucket, value) DO UPDATE SET \
                 requests = {table}.requests + excluded.requests, \
                 errors = {table}.errors + excluded.errors, \
                 duration_sum = {table}.duration_sum + excluded.duration_sum"
            ));
            // Only placeholders and a fixed table name are generated.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((bucket, dimension, value), tally) in chunk {
                query = query
                    .bind(bucket.clone())
                    .bind(*dimension)
                    .bind(value.clone())
                    .bind(tally.requests)
                    .bind(tally.errors)
                    .bind(tally.duration_sum);
            }
            query.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// The `FROM … WHERE …` of a statistic, the expression of its bucket, of
/// its dimension's value and of its tally, and the values to bind.
struct Select {
    from_where: String,
    bucket: String,
    value: &'static str,
    tally: &'static str,
    values: Vec<Bound>,
}

fn select(source: Source<'_>, range: &Range, by: Option<Dimension>) -> Select {
    match source {
        Source::Rollup(only) => {
            let dimension = by.or(only.map(|(d, _)| d)).map_or("all", Dimension::name);
            let mut values = vec![
                Bound::Text(dimension.to_owned()),
                Bound::Text(range.from.clone()),
                Bound::Text(range.to.clone()),
            ];
            let mut from_where = format!(
                "FROM {} WHERE dimension = $1 AND bucket >= $2 AND bucket < $3",
                range.width.table()
            );
            if let Some((_, value)) = only {
                values.push(Bound::Text(value.to_owned()));
                from_where.push_str(" AND value = $4");
            }
            Select {
                from_where,
                bucket: "bucket".to_owned(),
                value: "value",
                tally: "CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT), CAST(SUM(duration_sum) AS BIGINT)",
                values,
            }
        }
        Source::Log(filter) => {
            let filter = RequestFilter {
                from: Some(range.from.clone()),
                to: Some(range.to.clone()),
                ..filter.clone()
            };
            let (clause, values) = filter.clause();
            let mut from_where = format!("FROM fusio_request_log{clause}");
            from_where.push_str(if clause.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            from_where.push_str("system = 0");
            let column = by.map_or("route", Dimension::column);
            if by.is_some() {
                from_where.push_str(&format!(" AND {column} IS NOT NULL AND {column} <> ''"));
            }
            Select {
                from_where,
                bucket: format!("substr(created_at, 1, {})", range.width.chars()),
                value: column,
                tally: "COUNT(*), CAST(SUM(CASE WHEN error_kind IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(duration_us) AS BIGINT)",
                values,
            }
        }
    }
}

fn tally_at(row: &sqlx::any::AnyRow, first: usize) -> Result<Tally, StoreError> {
    Ok(Tally {
        requests: row.try_get::<Option<i64>, _>(first)?.unwrap_or(0),
        errors: row.try_get::<Option<i64>, _>(first + 1)?.unwrap_or(0),
        duration_sum: row.try_get::<Option<i64>, _>(first + 2)?.unwrap_or(0),
    })
}

/// What the top entities are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    /// Most requests.
    Requests,
    /// Most errors (entities without any are left out).
    Errors,
    /// Slowest on average.
    Duration,
}

impl Store {
    /// The tally of every bucket of `range` that has requests.
    pub async fn stat_series(
        &self,
        source: Source<'_>,
        range: &Range,
    ) -> Result<HashMap<String, Tally>, StoreError> {
        let select = select(source, range, None);
        let sql = format!(
            "SELECT {bucket}, {tally} {from_where} GROUP BY {bucket}",
            bucket = select.bucket,
            tally = select.tally,
            from_where = select.from_where
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &select.values)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, tally_at(row, 1)?)))
            .collect()
    }

    /// The tally of all of `range`.
    pub async fn stat_total(&self, source: Source<'_>, range: &Range) -> Result<Tally, StoreError> {
        let select = select(source, range, None);
        let sql = format!("SELECT {} {}", select.tally, select.from_where);
        let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &select.values)
            .fetch_one(&self.pool)
            .await?;
        tally_at(&row, 0)
    }

    /// The `limit` top values of `by` in `range`, ranked by `rank`, with
    /// their tallies.
    pub async fn stat_top(
        &self,
        source: Source<'_>,
        range: &Range,
        by: Dimension,
        rank: Rank,
        limit: i64,
    ) -> Result<Vec<(String, Tally)>, StoreError> {
        let select = select(source, range, Some(by));
        let order = match (rank, source) {
            (Rank::Requests, _) => "2 DESC",
            (Rank::Errors, _) => "3 DESC",
            (Rank::Duration, Source::Log(_)) => {
                "CAST(SUM(duration_us) AS DOUBLE PRECISION) / COUNT(*) DESC"
            }
            (Rank::Duration, Source::Rollup(_)) => {
                "CAST(SUM(duration_sum) AS DOUBLE PRECISION) / SUM(requests) DESC"
            }
        };
        let sql = format!(
            "SELECT {value}, {tally} {from_where} GROUP BY {value} ORDER BY {order}, 1 LIMIT {limit}",
            value = select.value,
            tally = select.tally,
            from_where = select.from_where,
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &select.values)
            .fetch_all(&self.pool)
            .await?;
        let top: Vec<(String, Tally)> = rows
            .iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, tally_at(row, 1)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(match rank {
            Rank::Errors => top.into_iter().filter(|(_, t)| t.errors > 0).collect(),
            _ => top,
        })
    }

    /// The tally per bucket and value of `by`, for the values `values`.
    pub async fn stat_series_of(
        &self,
        source: Source<'_>,
        range: &Range,
        by: Dimension,
        values: &[String],
    ) -> Result<HashMap<(String, String), Tally>, StoreError> {
        if values.is_empty() {
            return Ok(HashMap::new());
        }
        let mut select = select(source, range, Some(by));
        let first = select.values.len() + 1;
        let placeholders: Vec<String> = (first..first + values.len())
            .map(|n| format!("${n}"))
            .collect();
        select
            .values
            .extend(values.iter().cloned().map(Bound::Text));
        let sql = format!(
            "SELECT {bucket}, {value}, {tally} {from_where} AND {value} IN ({list}) GROUP BY {bucket}, {value}",
            bucket = select.bucket,
            value = select.value,
            tally = select.tally,
            from_where = select.from_where,
            list = placeholders.join(", "),
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &select.values)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    (row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?),
                    tally_at(row, 2)?,
                ))
            })
            .collect()
    }

    /// Removes rollups of buckets before `cutoff` (RFC 3339).
    pub(super) async fn prune_rollups(&self, cutoff: &str) -> Result<(), StoreError> {
        for (table, width) in [
            ("fusio_request_hourly", Width::Hour),
            ("fusio_request_daily", Width::Day),
        ] {
            let bucket = cutoff.get(..width.chars()).unwrap_or(cutoff).to_owned();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE bucket < $1"
            )))
            .bind(bucket)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}

/// Things made over time that statistics count besides requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// Access tokens issued.
    Tokens,
    /// User accounts registered.
    Users,
}

/// What activities (audit entries) are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// What was done (`deploy`, `user.update`, …).
    Action,
    /// Who did it.
    Actor,
}

impl Activity {
    fn column(self) -> &'static str {
        match self {
            Activity::Action => "action",
            Activity::Actor => "actor",
        }
    }
}

impl Store {
    /// How many of `what` were made per bucket of `range`.
    pub async fn made_per_bucket(
        &self,
        what: Made,
        range: &Range,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let table = match what {
            Made::Tokens => "fusio_token",
            Made::Users => "fusio_user",
        };
        let sql = format!(
            "SELECT substr(created_at, 1, {w}), COUNT(*) FROM {table} \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY substr(created_at, 1, {w})",
            w = range.width.chars()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&range.from)
            .bind(&range.to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The `limit` most frequent values of `by` among the audit entries of
    /// `range`, with their counts.
    pub async fn activity_top(
        &self,
        range: &Range,
        by: Activity,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let column = by.column();
        let sql = format!(
            "SELECT {column}, COUNT(*) FROM fusio_audit WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY {column} ORDER BY 2 DESC, 1 LIMIT {limit}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&range.from)
            .bind(&range.to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The audit entries per bucket and action, for the actions `actions`.
    pub async fn activity_series_of(
        &self,
        range: &Range,
        actions: &[String],
    ) -> Result<HashMap<(String, String), i64>, StoreError> {
        if actions.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = (3..3 + actions.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT substr(created_at, 1, {w}), action, COUNT(*) FROM fusio_audit \
             WHERE created_at >= $1 AND created_at < $2 AND action IN ({list}) \
             GROUP BY substr(created_at, 1, {w}), action",
            w = range.width.chars(),
            list = list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(range.from.clone())
            .bind(range.to.clone());
        for action in actions {
            query = query.bind(action.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok(((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?)))
            .collect()
    }
}
