//! `fusio:action/connector` from a guest: SQL on a granted connection (a
//! SQLite database migrated on deploy), parameters that stay data, a
//! connection that was not granted, and a component that imports the
//! connector without any grant (refused at deploy).

use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::Request;
use sqlx::Connection;

const PROJECT: &str = r#"
routes:
  /todo:
    methods:
      GET: { action: todo, public: true }
      POST: { action: todo, public: true }
action:
  todo:
    component: "{guest:sql}"
    connections: [App]
    config:
      connection: App
connection:
  App:
    type: sql
    config:
      url: sqlite:${dir.src}/app.db
  Secret:
    type: sql
    config:
      url: sqlite:${dir.src}/secret.db
migration:
  App: [todo.sql]
"#;

async fn start() -> TestApp {
    TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        let dir = options.deploy.as_ref().unwrap().parent().unwrap();
        std::fs::write(
            dir.join("todo.sql"),
            "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT NOT NULL);",
        )
        .unwrap();
    })
    .await
}

async fn post(app: &TestApp, body: &str) -> crate::support::app::TestResponse {
    app.send(
        Request::post("/todo")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_queries_its_granted_connection_and_parameters_stay_data() {
    let app = start().await;
    let inserted = post(&app, "milk").await;
    assert_eq!(inserted.status, 200, "{}", inserted.text());
    assert_eq!(inserted.json()["inserted"], 1);
    post(&app, "bread").await;

    let all = app.get("/todo").await.json();
    assert_eq!(all["totalResults"], 2);
    assert_eq!(
        all["entry"][0],
        serde_json::json!({ "id": 1, "title": "milk" })
    );

    // An injection attempt through a parameter is stored as a title.
    let attack = "x'); DROP TABLE todo; --";
    assert_eq!(post(&app, attack).await.status, 200);
    let found = app
        .get(&format!("/todo?title={}", urlencode(attack)))
        .await
        .json();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["entry"][0]["title"], attack);
    assert_eq!(
        app.get("/todo").await.json()["totalResults"],
        3,
        "the table is intact"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_was_not_granted_is_access_denied() {
    let app = start().await;
    let denied = app.get("/todo?open=Secret").await;
    assert_eq!(denied.status, 502, "{}", denied.text());
    assert_eq!(denied.json()["error"], "access-denied");
    assert!(
        denied.json()["detail"]
            .as_str()
            .unwrap()
            .contains("`Secret`")
    );
    let missing = app.get("/todo?open=Nowhere").await;
    assert_eq!(missing.json()["error"], "access-denied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_traps_inside_a_transaction_leaves_no_rows() {
    let app = start().await;
    let trapped = app.get("/todo?tx=trap").await;
    trapped.assert_problem(500);
    let none = app.get("/todo?title=in-tx").await.json();
    assert_eq!(none["totalResults"], 0, "the transaction was rolled back");
    let committed = app.get("/todo?tx=commit").await;
    assert_eq!(committed.status, 200, "{}", committed.text());
    let one = app.get("/todo?title=in-tx").await.json();
    assert_eq!(one["totalResults"], 1);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A host call that outlives the action's timeout ends the request with 504
/// and gives its pool connection back: with a pool of one, the next
/// request gets a connection at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_query_past_the_timeout_is_504_and_frees_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db::TestDb::new(Backend::Postgres, dir.path()).await;
    let url = db.url.clone().unwrap();
    let project = format!(
        r#"
routes:
  /todo:
    methods:
      GET: {{ action: todo, public: true }}
action:
  todo:
    component: "{{guest:sql}}"
    connections: [App]
    config:
      connection: App
    limits:
      timeout: 1s
connection:
  App:
    type: sql
    config:
      url: "{url}"
      max_connections: 1
"#
    );
    let app = TestApp::start(Backend::Sqlite, &project).await;
    let started = std::time::Instant::now();
    let slow = app.get("/todo?pg_sleep=60").await;
    slow.assert_problem(504);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the request ended at its deadline, not when the query did"
    );
    let started = std::time::Instant::now();
    let quick = app.get("/todo?pg_sleep=0").await;
    assert_eq!(quick.status, 200, "{}", quick.text());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the pool's only connection was free again"
    );
    // The server ends the cut-off statement too (the pool's
    // statement_timeout is the action's timeout), instead of sleeping on
    // for a minute in a backend nobody waits for.
    let database = url.rsplit('/').next().unwrap().to_owned();
    let mut sleeping = -1;
    for _ in 0..50 {
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sleeping = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = $1 AND state = 'active' AND query LIKE '%pg_sleep(%' \
             AND pid <> pg_backend_pid()",
        )
        .bind(&database)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        let _ = admin.close().await;
        if sleeping == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(sleeping, 0, "the cut-off pg_sleep still runs on the server");
    drop(db);
}

/// `fusio:action/cache`: a value survives requests (which share no memory)
/// until its time to live ends, and one action never sees another's keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_value_lives_until_its_ttl_in_its_action_s_namespace() {
    let app = TestApp::start(
        Backend::Sqlite,
        r#"
routes:
  /cache:
    methods:
      GET: { action: cached, public: true }
      PUT: { action: cached, public: true }
      DELETE: { action: cached, public: true }
  /other:
    methods:
      GET: { action: other, public: true }
action:
  cached:
    component: "{guest:cached}"
  other:
    component: "{guest:cached}"
"#,
    )
    .await;
    let put = |uri: &'static str, body: &'static str| {
        let app = &app;
        async move {
            app.send(Request::put(uri).body(Body::from(body)).unwrap())
                .await
        }
    };
    assert_eq!(put("/cache?key=a&ttl=60000", "kept").await.status, 204);
    assert_eq!(put("/cache?key=b&ttl=300", "brief").await.status, 204);
    assert_eq!(app.get("/cache?key=a").await.text(), "kept");
    assert_eq!(app.get("/cache?key=b").await.text(), "brief");
    app.get("/other?key=a").await.assert_problem(404);

    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    app.get("/cache?key=b").await.assert_problem(404);
    assert_eq!(app.get("/cache?key=a").await.text(), "kept");
    let deleted = app
        .send(Request::delete("/cache?key=a").body(Body::empty()).unwrap())
        .await;
    assert_eq!(deleted.status, 204);
    app.get("/cache?key=a").await.assert_problem(404);
}

/// An upstream HTTP service on loopback: `/hello` answers the API key it
/// got, `/sized/{n}` answers n KiB with a `Content-Length`, `/streamed/{n}`
/// answers n KiB in chunks without one.
async fn upstream() -> String {
    use axum::extract::Path;
    let router = axum::Router::new()
        .route(
            "/hello",
            axum::routing::get(|headers: http::HeaderMap| async move {
                let key = headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                format!("hello from upstream, key {key}")
            }),
        )
        .route(
            "/sized/{n}",
            axum::routing::get(|Path(n): Path<usize>| async move { vec![b'x'; n * 1024] }),
        )
        .route(
            "/streamed/{n}",
            axum::routing::get(|Path(n): Path<usize>| async move {
                let chunks = (0..n).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024]));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// A project whose `GET /proxy` runs the proxy guest on the HTTP
/// connection `Upstream` with `config` (YAML lines: url, headers, …).
fn proxy_project(config: &str) -> String {
    let config: String = config.lines().map(|l| format!("      {l}\n")).collect();
    format!(
        r#"
routes:
  /proxy:
    methods:
      GET: {{ action: proxy, public: true }}
action:
  proxy:
    component: "{{guest:proxy}}"
    connections: [Upstream]
    config:
      connection: Upstream
connection:
  Upstream:
    type: http
    config:
{config}"#
    )
}

/// An HTTP connection sends the connection's headers to its base URL; one
/// that points at a loopback address is refused unless it allows private
/// addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_connection_to_loopback_is_refused_unless_allowed() {
    let url = upstream().await;
    let project = |allow: bool, url: &str| {
        proxy_project(&format!(
            "url: \"{url}\"\nheaders: {{ x-api-key: the-key }}\nallow_private: {allow}"
        ))
    };
    let refused = TestApp::start(Backend::Sqlite, &project(false, &url)).await;
    let answer = refused.get("/proxy?path=/hello").await;
    assert_eq!(answer.status, 502, "{}", answer.text());
    assert_eq!(answer.json()["error"], "access-denied");
    assert!(
        answer.json()["detail"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    // A name that resolves to loopback is refused as well.
    let by_name = url.replace("127.0.0.1", "localhost");
    let refused = TestApp::start(Backend::Sqlite, &project(false, &by_name)).await;
    let answer = refused.get("/proxy?path=/hello").await;
    assert_eq!(answer.json()["error"], "access-denied", "{}", answer.text());

    let allowed = TestApp::start(Backend::Sqlite, &project(true, &url)).await;
    let answer = allowed.get("/proxy?path=/hello").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.text(), "hello from upstream, key the-key");
}

/// An answer larger than the connection's `max_response` is refused to the
/// guest with the limit named, whether its size is announced or not; one
/// within the limit arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_answer_beyond_max_response_is_refused() {
    let url = upstream().await;
    let app = TestApp::start(
        Backend::Sqlite,
        &proxy_project(&format!(
            "url: \"{url}\"\nallow_private: true\nmax_response: 64 KiB"
        )),
    )
    .await;
    let within = app.get("/proxy?path=/streamed/64").await;
    assert_eq!(within.status, 200, "{}", within.text());
    assert_eq!(within.body.len(), 64 * 1024);
    for path in ["/sized/65", "/streamed/65"] {
        let refused = app.get(&format!("/proxy?path={path}")).await;
        assert_eq!(refused.status, 502, "{path}: {}", refused.text());
        assert_eq!(refused.json()["error"], "query");
        let detail = refused.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("max_response (64.0 KiB)"), "{detail}");
    }
}

/// A guest's path stays below the connection's base URL: dot-segments
/// that climb out of it (where its headers, its credentials, would go to
/// another API on the same host) are access-denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_path_cannot_climb_out_of_the_base_url() {
    let url = upstream().await;
    let app = TestApp::start(
        Backend::Sqlite,
        &proxy_project(&format!("url: \"{url}/sized/\"\nallow_private: true")),
    )
    .await;
    let below = app.get("/proxy?path=1").await;
    assert_eq!(below.status, 200, "{}", below.text());
    assert_eq!(below.body.len(), 1024);
    for path in ["../hello", "/a/../../hello", "%2e%2e/hello"] {
        let climbed = app.get(&format!("/proxy?path={path}")).await;
        assert_eq!(climbed.status, 502, "{path}: {}", climbed.text());
        assert_eq!(climbed.json()["error"], "access-denied", "{path}");
    }
    // Nor can a header send it elsewhere or change how it travels.
    for header in ["Host:other.example", "transfer-encoding:chunked"] {
        let refused = app.get(&format!("/proxy?path=1&header={header}")).await;
        assert_eq!(refused.status, 502, "{header}: {}", refused.text());
        assert_eq!(refused.json()["error"], "query");
        assert!(
            refused.json()["detail"]
                .as_str()
                .unwrap()
                .contains("is set by the connection"),
            "{}",
            refused.text()
        );
    }
    let own = app.get("/proxy?path=1&header=x-trace:abc").await;
    assert_eq!(own.status, 200, "an action's own header passes");
}

/// `POST /backend/connection/{name}/test` says whether a connection works,
/// and why not, quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_checks_say_what_works_and_why_not() {
    let app = TestApp::start_with(
        Backend::Sqlite,
        r#"
routes:
  /todo:
    methods:
      GET: { action: todo, public: true }
action:
  todo:
    component: "{guest:sql}"
    connections: [Local]
    config:
      connection: Local
connection:
  Local:
    type: sql
    config: { url: "sqlite:${dir.src}/check.db" }
  Down:
    type: sql
    config: { url: "postgres://postgres@127.0.0.1:1/postgres" }
  NoSuchRole:
    type: sql
    config: { url: "postgres://nobody_at_all@127.0.0.1:5432/postgres" }
  Cache:
    type: redis
    config: { url: "redis://127.0.0.1:6379" }
  Queue:
    type: amqp
    config: { url: "amqp://guest:guest@127.0.0.1:5672/%2f" }
  WrongQueuePassword:
    type: amqp
    config: { url: "amqp://guest:wrong-password@127.0.0.1:5672" }
  NoSuchVhost:
    type: amqp
    config: { url: "amqp://guest:guest@127.0.0.1:5672/fusio-no-such-vhost" }
  WrongCachePassword:
    type: redis
    config: { url: "redis://:wrong-password@127.0.0.1:6379" }
"#,
        |o| o.admin_password = Some("admin password".into()),
    )
    .await;
    let token = app.password_token("fusio", "admin", "admin password").await;
    let check = |name: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let started = std::time::Instant::now();
            let answer = app
                .send(
                    Request::post(format!("/backend/connection/~{name}/test"))
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(8),
                "{name} hung"
            );
            answer.json()
        }
    };
    assert_eq!(check("Local").await["ok"], true);
    let down = check("Down").await;
    assert_eq!(down["ok"], false);
    assert!(
        down["message"].as_str().unwrap().contains("cannot connect"),
        "{down}"
    );
    let role = check("NoSuchRole").await;
    assert_eq!(role["ok"], false);
    assert!(
        role["message"].as_str().unwrap().contains("nobody_at_all"),
        "{role}"
    );
    assert_eq!(check("Cache").await["ok"], true);
    assert_eq!(check("Queue").await["ok"], true);
    // Reachable, but the credentials or the vhost are wrong: said so.
    for name in ["WrongQueuePassword", "NoSuchVhost", "WrongCachePassword"] {
        let refused = check(name).await;
        assert_eq!(refused["ok"], false, "{name}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .starts_with("cannot connect: "),
            "{name}: {refused}"
        );
    }
    let login = check("WrongQueuePassword").await;
    assert!(
        login["message"]
            .as_str()
            .unwrap()
            .contains("wrong user or password"),
        "{login}"
    );
}

/// Redis through a granted connection, against the machine's Redis: counts
/// and lists under a key prefix of the test's own (removed afterwards);
/// administrative commands are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_counts_in_redis_and_cannot_administer_it() {
    let app = TestApp::start(
        Backend::Sqlite,
        r#"
routes:
  /visits:
    methods:
      GET: { action: visits, public: true }
action:
  visits:
    component: "{guest:visits}"
    connections: [Cache]
    config:
      connection: Cache
connection:
  Cache:
    type: redis
    config: { url: "redis://127.0.0.1:6379" }
"#,
    )
    .await;
    let prefix = format!("fusio-test-{}", uuid::Uuid::new_v4().simple());
    let key = format!("{prefix}:home");
    let first = app.get(&format!("/visits?key={key}")).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["count"], 1);
    let second = app.get(&format!("/visits?key={key}")).await.json();
    assert_eq!(second["count"], 2);
    assert_eq!(second["log"], serde_json::json!(["visit 1", "visit 2"]));

    // Scripting, administration, scans and unknown commands are refused.
    let script = "return redis.call('SET', KEYS[1], 'owned')";
    for command in [
        "command=FLUSHALL".to_owned(),
        format!("command=EVAL&arg={}&arg=1&arg={key}", urlencode(script)),
        "command=EVALSHA&arg=0000&arg=0".to_owned(),
        "command=FUNCTION&arg=LIST".to_owned(),
        "command=FCALL&arg=f&arg=0".to_owned(),
        "command=SCRIPT&arg=FLUSH".to_owned(),
        "command=KEYS&arg=*".to_owned(),
        "command=SCAN&arg=0".to_owned(),
        "command=SELECT&arg=1".to_owned(),
        "command=MODULE&arg=LIST".to_owned(),
        "command=DEBUG&arg=SLEEP&arg=0".to_owned(),
        "command=CONFIG&arg=GET&arg=*".to_owned(),
        "command=BLPOP&arg=x&arg=0".to_owned(),
        "command=NO-SUCH-COMMAND".to_owned(),
    ] {
        let refused = app.get(&format!("/visits?{command}")).await;
        assert_eq!(refused.status, 502, "{command}: {}", refused.text());
        assert_eq!(refused.json()["error"], "access-denied", "{command}");
    }
    // The README's data commands work.
    for (command, args) in [
        ("SET", vec![format!("{prefix}:s"), "v".into()]),
        ("HSET", vec![format!("{prefix}:h"), "f".into(), "v".into()]),
        ("SADD", vec![format!("{prefix}:set"), "m".into()]),
        ("ZADD", vec![format!("{prefix}:z"), "1".into(), "m".into()]),
        ("EXPIRE", vec![format!("{prefix}:s"), "60".into()]),
        ("INCRBY", vec![format!("{prefix}:n"), "5".into()]),
        ("PUBLISH", vec![format!("{prefix}:channel"), "hi".into()]),
    ] {
        let query: String = args.iter().map(|a| format!("&arg={a}")).collect();
        let ran = app.get(&format!("/visits?command={command}{query}")).await;
        assert_eq!(ran.status, 200, "{command}: {}", ran.text());
    }

    // The test's keys, read and removed by the test itself.
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let stored: i64 = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 2, "the count survived the flush attempt");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .arg(format!("{key}:log"))
        .arg(format!("{prefix}:s"))
        .arg(format!("{prefix}:h"))
        .arg(format!("{prefix}:set"))
        .arg(format!("{prefix}:z"))
        .arg(format!("{prefix}:n"))
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// `POST /visits?{query}` with `body`: the visits guest publishes it.
async fn publish(
    app: &TestApp,
    query: &str,
    body: &'static str,
) -> crate::support::app::TestResponse {
    app.send(
        Request::post(format!("/visits?{query}"))
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// The guest's answer to a connector error `unavailable` whose detail
/// contains `reason`.
fn assert_unavailable(answer: &crate::support::app::TestResponse, reason: &str) {
    assert_eq!(answer.status, 502, "{}", answer.text());
    assert_eq!(answer.json()["error"], "unavailable", "{}", answer.text());
    assert!(
        answer.json()["detail"].as_str().unwrap().contains(reason),
        "{}",
        answer.text()
    );
}

/// AMQP through a granted connection, against the machine's RabbitMQ (its
/// URL names the vhost `/` as `%2f`): the guest publishes, the test
/// consumes from a queue of its own (deleted afterwards); a message the
/// broker refuses (a queue that rejects publishes) is an error for the
/// guest, not a silent loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_by_a_guest_reaches_rabbitmq() {
    use amqprs::channel::{BasicGetArguments, QueueDeclareArguments, QueueDeleteArguments};
    use amqprs::connection::{Connection, OpenConnectionArguments};
    let app = TestApp::start(
        Backend::Sqlite,
        r#"
routes:
  /visits:
    methods:
      POST: { action: visits, public: true }
action:
  visits:
    component: "{guest:visits}"
    connections: [Queue]
    config:
      queue: Queue
connection:
  Queue:
    type: amqp
    config: { url: "amqp://guest:guest@127.0.0.1:5672/%2f" }
"#,
    )
    .await;
    let queue = format!("fusio-test-{}", uuid::Uuid::new_v4().simple());
    let full = format!("{queue}-full");
    let connection = Connection::open(&OpenConnectionArguments::new(
        "127.0.0.1",
        5672,
        "guest",
        "guest",
    ))
    .await
    .unwrap();
    let channel = connection.open_channel(None).await.unwrap();
    channel
        .queue_declare(QueueDeclareArguments::new(&queue))
        .await
        .unwrap();
    // A queue that holds nothing and refuses publishes: the broker nacks.
    let mut refusing = amqprs::FieldTable::new();
    refusing.insert("x-max-length".try_into().unwrap(), amqprs::FieldValue::l(0));
    refusing.insert("x-overflow".try_into().unwrap(), "reject-publish".into());
    channel
        .queue_declare(
            QueueDeclareArguments::new(&full)
                .arguments(refusing)
                .finish(),
        )
        .await
        .unwrap();
    let refused = publish(&app, &format!("queue={full}"), "no room").await;
    assert_unavailable(&refused, "refused");

    let published = publish(&app, &format!("queue={queue}"), "hello, queue").await;
    assert_eq!(published.status, 200, "{}", published.text());

    let mut got = None;
    for _ in 0..50 {
        if let Some((_, _, body)) = channel
            .basic_get(BasicGetArguments::new(&queue).no_ack(true).finish())
            .await
            .unwrap()
        {
            got = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // An exchange that does not exist: the broker closes the channel, and
    // the guest hears why at once (not at its deadline); the next publish
    // gets a fresh channel.
    let query = format!("queue={queue}&exchange=fusio-no-such-exchange");
    let nowhere = publish(&app, &query, "lost").await;
    assert_unavailable(&nowhere, "fusio-no-such-exchange");
    let again = publish(&app, &format!("queue={queue}"), "again").await;
    assert_eq!(again.status, 200, "{}", again.text());

    for name in [&queue, &full] {
        channel
            .queue_delete(QueueDeleteArguments::new(name))
            .await
            .unwrap();
    }
    let _ = connection.close().await;
    assert_eq!(got.as_deref(), Some(&b"hello, queue"[..]));
}

/// `fusio:action/processor`: an action hands the request to another (a
/// fresh instance of its own) and answers what it answered; an action that
/// calls itself stops at the depth limit with a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_processor_chains_actions_and_stops_recursion() {
    let app = TestApp::start(
        Backend::Sqlite,
        r#"
routes:
  /chain:
    methods:
      GET: { action: first, public: true }
  /loop:
    methods:
      GET: { action: loop, public: true }
action:
  first:
    component: "{guest:chain}"
    config: { next: echo, name: first }
  echo:
    component: "{guest:echo}"
    config: { generation: "9" }
  loop:
    component: "{guest:chain}"
    config: { next: loop, name: loop }
"#,
    )
    .await;
    let chained = app.get("/chain?q=1").await;
    assert_eq!(chained.status, 200, "{}", chained.text());
    assert_eq!(chained.header("x-via"), Some("first"));
    let body = chained.json();
    assert_eq!(
        crate::deploy::generation(&body),
        "9",
        "the echo action answered"
    );
    assert_eq!(
        body["context"]["requestId"],
        chained.request_id(),
        "one request id"
    );

    let looped = app.get("/loop").await;
    let problem = looped.assert_problem(508);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the most is 8"),
        "{problem}"
    );
}

/// A Redis or AMQP connection that cannot work (nothing listens, a wrong
/// password) answers the guest a typed `unavailable` error, well before
/// the action's deadline, and the client a problem through `?`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_and_amqp_are_typed_errors_that_never_hang() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let app = TestApp::start(
        Backend::Sqlite,
        &format!(
            r#"
routes:
  /visits:
    methods:
      GET: {{ action: visits, public: true }}
      POST: {{ action: visits, public: true }}
action:
  visits:
    component: "{{guest:visits}}"
    connections: [Cache, Queue]
    config:
      connection: Cache
      queue: Queue
    limits:
      timeout: 30s
connection:
  Cache:
    type: redis
    config: {{ url: "redis://{closed}" }}
  Queue:
    type: amqp
    config: {{ url: "amqp://guest:wrong-password@127.0.0.1:5672" }}
"#
        ),
    )
    .await;
    // A 502 from the guest, not the deadline's 504: the error came first.
    let redis = app.get("/visits?key=fusio-test-unreachable").await;
    assert_unavailable(&redis, "");
    let amqp = publish(&app, "queue=fusio-test-unreachable", "lost").await;
    assert_unavailable(&amqp, "");
}
