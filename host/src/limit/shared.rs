//! Counting in Redis, so every node shares one allowance per caller: the
//! same GCRA as the local side, as one Lua script per request (atomic in
//! Redis, timed by Redis' own clock so the nodes' clocks do not matter).

use super::headers::Verdict;
use super::rate::Rate;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;

/// GCRA over the caller's theoretical arrival time (TAT, microseconds):
/// a request is allowed when, counted, the TAT stays within one window of
/// now. Answers `{allowed, retry_after_us, reset_us}`. The key lapses when
/// the allowance is whole again.
const SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > window then
  return {0, next_tat - window - now, tat - now}
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.floor((next_tat - now) / 1000) + 1)
return {1, 0, next_tat - now}
";

/// How long one check may take before the node counts locally instead.
const CHECK_TIMEOUT: Duration = Duration::from_millis(250);

/// The shared counters in one Redis.
pub struct Shared {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
    script: redis::Script,
}

/// Why Redis could not count a request.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// Redis answered with an error or the connection failed.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    /// No answer in time.
    #[error("Redis did not answer within {}ms", CHECK_TIMEOUT.as_millis())]
    Timeout,
}

impl Shared {
    /// Counters in the Redis at `url`, under keys starting with `prefix`.
    /// Nothing is connected yet: a Redis that is down at start is retried
    /// as it would be later.
    pub fn new(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
            prefix: prefix.to_owned(),
            script: redis::Script::new(SCRIPT),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CHECK_TIMEOUT)
            .set_response_timeout(CHECK_TIMEOUT)
            .set_number_of_retries(0);
        self.connection
            .get_or_try_init(|| self.client.get_connection_manager_with_config(config))
            .await
            .cloned()
            .map_err(SharedError::Redis)
    }

    /// Counts one request of `subject` against `rate`.
    pub async fn check(&self, rate: &Arc<Rate>, subject: &str) -> Result<Verdict, SharedError> {
        // The window as whole intervals, so exactly `limit` requests fit
        // however the division rounds.
        let interval = micros(rate.interval()).max(1);
        let window = interval * u64::from(rate.limit.get());
        let key = format!("{}rate:{}:{subject}", self.prefix, rate.name);
        let counted = async {
            let mut connection = self.connection().await?;
            let answer: (u8, u64, u64) = self
                .script
                .key(key)
                .arg(interval)
                .arg(window)
                .invoke_async(&mut connection)
                .await?;
            Ok::<_, SharedError>(answer)
        };
        let (allowed, retry_after, reset) = tokio::time::timeout(CHECK_TIMEOUT * 2, counted)
            .await
            .map_err(|_| SharedError::Timeout)??;
        let remaining = if allowed == 1 {
            u32::try_from(window.saturating_sub(reset) / interval).unwrap_or(u32::MAX)
        } else {
            0
        };
        Ok(Verdict {
            rate: rate.clone(),
            allowed: allowed == 1,
            remaining,
            reset: Duration::from_micros(reset),
            retry_after: Duration::from_micros(retry_after),
        })
    }

    /// Whether Redis answers a `PING`.
    pub async fn ping(&self) -> bool {
        let ping = async {
            let mut connection = self.connection().await?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map_err(SharedError::Redis)
        };
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT * 2, ping).await,
            Ok(Ok(_))
        )
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
