//! Counting in Redis, so every node shares one allowance per caller: the
//! same GCRA as the local side, in a Lua script (atomic in Redis, timed by
//! Redis' own clock so the nodes' clocks do not matter).
//!
//! One task per node sends the checks: what arrives while a script is on
//! its way is counted by the next one, in arrival order, in one round
//! trip. An idle node sends each check at once; a busy one pays one round
//! trip per batch instead of one per request. Every check is still decided
//! by Redis alone, atomically, so the count stays exact across nodes.

use super::headers::Verdict;
use super::rate::Rate;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// GCRA over each caller's theoretical arrival time (TAT, microseconds):
/// a request is allowed when, counted, the TAT stays within one window of
/// now. `KEYS` are the callers, `ARGV` their rates' interval and window in
/// pairs; answers `allowed, retry_after_us, reset_us` per key, in order. A
/// key lapses when its allowance is whole again.
const SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local answers = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  if next_tat - now > window then
    answers[#answers + 1] = 0
    answers[#answers + 1] = next_tat - window - now
    answers[#answers + 1] = tat - now
  else
    redis.call('SET', key, next_tat, 'PX', math.floor((next_tat - now) / 1000) + 1)
    answers[#answers + 1] = 1
    answers[#answers + 1] = 0
    answers[#answers + 1] = next_tat - now
  end
end
return answers
";

/// How long one check may take before the node counts locally instead.
const CHECK_TIMEOUT: Duration = Duration::from_millis(250);
/// Checks sent in one script, at most.
const BATCH: usize = 256;
/// Checks waiting for the sender, at most; more are refused to Redis and
/// counted locally like a Redis that does not answer.
const QUEUE: usize = 16 * 1024;

/// The shared counters in one Redis. Cheap to clone.
#[derive(Clone)]
pub struct Shared {
    connector: Arc<Connector>,
    sender: mpsc::Sender<Check>,
    prefix: Arc<str>,
}

/// Opens the one connection the node's checks share.
struct Connector {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
}

/// One request to count, on its way to the sender.
struct Check {
    key: String,
    interval: u64,
    window: u64,
    answer: oneshot::Sender<Result<Counted, SharedError>>,
}

/// What Redis decided about one check.
#[derive(Debug, Clone, Copy)]
struct Counted {
    allowed: bool,
    retry_after: u64,
    reset: u64,
}

/// Why Redis could not count a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SharedError {
    /// Redis answered with an error or the connection failed.
    #[error(transparent)]
    Redis(Arc<redis::RedisError>),
    /// No answer in time.
    #[error("Redis did not answer within {}ms", CHECK_TIMEOUT.as_millis())]
    Timeout,
    /// The script answered something else than one verdict per check.
    #[error("the counting script answered {0} values for {1} checks")]
    Garbled(usize, usize),
    /// More checks wait than the sender takes.
    #[error("too many checks wait for Redis")]
    Busy,
}

impl From<redis::RedisError> for SharedError {
    fn from(err: redis::RedisError) -> Self {
        Self::Redis(Arc::new(err))
    }
}

impl Connector {
    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CHECK_TIMEOUT)
            .set_response_timeout(CHECK_TIMEOUT)
            .set_number_of_retries(0);
        Ok(self
            .connection
            .get_or_try_init(|| self.client.get_connection_manager_with_config(config))
            .await?
            .clone())
    }
}

impl Shared {
    /// Counters in the Redis at `url`, under keys starting with `prefix`.
    /// Nothing is connected yet: a Redis that is down at start is retried
    /// as it would be later. Must be called within a Tokio runtime (it
    /// starts the sender).
    pub fn new(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let connector = Arc::new(Connector {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
        });
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(send_checks(connector.clone(), receiver));
        Ok(Self {
            connector,
            sender,
            prefix: Arc::from(prefix),
        })
    }

    /// Counts one request of `subject` against `rate`.
    pub async fn check(&self, rate: &Arc<Rate>, subject: &str) -> Result<Verdict, SharedError> {
        // The window as whole intervals, so exactly `limit` requests fit
        // however the division rounds.
        let interval = micros(rate.interval()).max(1);
        let window = interval * u64::from(rate.limit.get());
        let (answer, answered) = oneshot::channel();
        let check = Check {
            key: format!("{}rate:{}:{subject}", self.prefix, rate.name),
            interval,
            window,
            answer,
        };
        self.sender.try_send(check).map_err(|_| SharedError::Busy)?;
        let counted = tokio::time::timeout(CHECK_TIMEOUT * 2, answered)
            .await
            .map_err(|_| SharedError::Timeout)?
            .map_err(|_| SharedError::Timeout)??;
        let remaining = if counted.allowed {
            u32::try_from(window.saturating_sub(counted.reset) / interval).unwrap_or(u32::MAX)
        } else {
            0
        };
        Ok(Verdict {
            rate: rate.clone(),
            allowed: counted.allowed,
            remaining,
            reset: Duration::from_micros(counted.reset),
            retry_after: Duration::from_micros(counted.retry_after),
        })
    }

    /// Whether Redis answers a `PING`.
    pub async fn ping(&self) -> bool {
        let ping = async {
            let mut connection = self.connector.connection().await?;
            Ok::<_, SharedError>(
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await?,
            )
        };
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT * 2, ping).await,
            Ok(Ok(_))
        )
    }
}

/// The sender: takes what waits (up to [`BATCH`]), counts it in one
/// script, answers each check, and goes on while the node lives.
async fn send_checks(connector: Arc<Connector>, mut receiver: mpsc::Receiver<Check>) {
    let script = redis::Script::new(SCRIPT);
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let answers = tokio::time::timeout(CHECK_TIMEOUT * 2, count(&connector, &script, &batch))
            .await
            .unwrap_or(Err(SharedError::Timeout));
        match answers {
            Ok(answers) => {
                for (check, counted) in batch.drain(..).zip(answers) {
                    let _ = check.answer.send(Ok(counted));
                }
            }
            Err(err) => {
                for check in batch.drain(..) {
                    let _ = check.answer.send(Err(err.clone()));
                }
            }
        }
    }
}

/// Counts `batch` in one script.
async fn count(
    connector: &Connector,
    script: &redis::Script,
    batch: &[Check],
) -> Result<Vec<Counted>, SharedError> {
    let mut connection = connector.connection().await?;
    let mut invocation = script.prepare_invoke();
    for check in batch {
        invocation.key(&check.key);
    }
    for check in batch {
        invocation.arg(check.interval).arg(check.window);
    }
    let values: Vec<i64> = invocation.invoke_async(&mut connection).await?;
    if values.len() != batch.len() * 3 {
        return Err(SharedError::Garbled(values.len(), batch.len()));
    }
    Ok(values
        .chunks_exact(3)
        .map(|v| Counted {
            allowed: v[0] == 1,
            retry_after: u64::try_from(v[1]).unwrap_or(0),
            reset: u64::try_from(v[2]).unwrap_or(0),
        })
        .collect())
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
