//! Rate limits: exactly the limit passes per app, per user and per client
//! address, with the draft's headers and a 429 problem after; refusals
//! before the rate is counted (401) do not count; rates are managed at
//! `/backend/rate` and in fusio.yml; two nodes sharing a Redis count one
//! allowance, and keep serving on local counts while it is down.

use crate::support::app::{TestResponse, send_to};
use crate::support::{Backend, TestApp, on_both_stores};
use axum::Router;
use axum::body::Body;
use http::{Method, Request};
use std::time::{Duration, Instant};

const PROJECT: &str = r#"
rate:
  Anonymous:
    priority: 4
    rateLimit: 3
    timespan: PT1H
    allocation:
      - authenticated: false
  Members:
    rateLimit: 2
    timespan: PT1H
    allocation:
      - authenticated: true
routes:
  /open:
    methods:
      GET: { action: echo, public: true }
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
action:
  echo:
    component: "{guest:echo}"
"#;

const ADMIN_PASSWORD: &str = "admin password";

async fn start(backend: Backend, yaml: &str) -> TestApp {
    TestApp::start_with(backend, yaml, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
}

/// The rate-limit headers of an answer: RateLimit-Policy, RateLimit and
/// the X-RateLimit trio.
fn limit_headers(response: &TestResponse) -> [Option<&str>; 5] {
    [
        response.header("ratelimit-policy"),
        response.header("ratelimit"),
        response.header("x-ratelimit-limit"),
        response.header("x-ratelimit-remaining"),
        response.header("x-ratelimit-reset"),
    ]
}

/// Checks an answer that passed with `remaining` left of `name`'s `limit`
/// per hour.
fn assert_passed(response: &TestResponse, name: &str, limit: u32, remaining: u32) {
    assert_eq!(response.status, 200, "{}", response.text());
    let [policy, current, x_limit, x_remaining, x_reset] = limit_headers(response);
    assert_eq!(
        policy,
        Some(format!("\"{name}\";q={limit};w=3600").as_str())
    );
    let current = current.expect("RateLimit");
    assert!(
        current.starts_with(&format!("\"{name}\";r={remaining};t=")),
        "{current}"
    );
    assert_eq!(x_limit, Some(limit.to_string().as_str()));
    assert_eq!(x_remaining, Some(remaining.to_string().as_str()));
    let reset: u64 = x_reset.unwrap().parse().unwrap();
    // Each spent request comes back after an hour ÷ limit.
    let spent = u64::from(limit - remaining);
    assert!(
        reset <= spent * 3600 / u64::from(limit) + 1 && reset > 0,
        "reset {reset}"
    );
    assert!(response.header("retry-after").is_none());
}

/// Checks a refusal by `name`.
fn assert_refused(response: &TestResponse, name: &str, limit: u32) {
    let problem = response.assert_problem(429);
    assert_eq!(problem["rate"], name);
    let [policy, current, _, x_remaining, _] = limit_headers(response);
    assert_eq!(
        policy,
        Some(format!("\"{name}\";q={limit};w=3600").as_str())
    );
    assert!(current.unwrap().starts_with(&format!("\"{name}\";r=0;")));
    assert_eq!(x_remaining, Some("0"));
    let retry: u64 = response.header("retry-after").unwrap().parse().unwrap();
    // The next request comes back after an hour ÷ limit, at most.
    assert!(
        retry >= 1 && retry <= 3600 / u64::from(limit) + 1,
        "retry {retry}"
    );
}

async fn get(app: &TestApp, uri: &str, token: Option<&str>) -> TestResponse {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

on_both_stores!(exactly_the_limit_passes_per_app_and_per_user);
async fn exactly_the_limit_passes_per_app_and_per_user(backend: Backend) {
    let app = start(backend, PROJECT).await;
    let (client_id, client_secret) = app.developer_app("echo.read").await;

    // Requests refused before the rate is counted do not count.
    for _ in 0..5 {
        get(&app, "/private", Some("not-a-token"))
            .await
            .assert_problem(401);
    }

    // Per app: two tokens the app holds for itself share one allowance.
    let first = app.client_credentials(&client_id, &client_secret).await;
    let second = app.client_credentials(&client_id, &client_secret).await;
    assert_passed(&get(&app, "/private", Some(&first)).await, "Members", 2, 1);
    assert_passed(&get(&app, "/private", Some(&second)).await, "Members", 2, 0);
    assert_refused(&get(&app, "/private", Some(&first)).await, "Members", 2);
    assert_refused(&get(&app, "/private", Some(&second)).await, "Members", 2);

    // Per user: the app's owner, through the portal's client, has an
    // allowance of their own; two of their tokens share it. (The portal's
    // client may hand out the project's scope, as an operator allows.)
    let mut store = app.store_connection().await;
    sqlx::query(
        "INSERT INTO fusio_app_scope (app_id, scope_id) \
         SELECT a.id, s.id FROM fusio_app a, fusio_scope s \
         WHERE a.client_id = 'developer' AND s.name = 'echo.read'",
    )
    .execute(&mut store)
    .await
    .unwrap();
    let user_first = app.password_token("developer", "dev", "dev password").await;
    let user_second = app.password_token("developer", "dev", "dev password").await;
    assert_passed(
        &get(&app, "/private", Some(&user_first)).await,
        "Members",
        2,
        1,
    );
    assert_passed(
        &get(&app, "/private", Some(&user_second)).await,
        "Members",
        2,
        0,
    );
    assert_refused(
        &get(&app, "/private", Some(&user_first)).await,
        "Members",
        2,
    );

    // Anonymous callers (here all of one, unknown, address) have theirs.
    for remaining in [2, 1, 0] {
        assert_passed(&get(&app, "/open", None).await, "Anonymous", 3, remaining);
    }
    assert_refused(&get(&app, "/open", None).await, "Anonymous", 3);
}

/// `GET url` from the local address `from`.
async fn get_from(from: &str, url: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .local_address(Some(from.parse().unwrap()))
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .expect("the server answers")
}

#[tokio::test]
async fn anonymous_callers_are_counted_per_client_address() {
    let app = start(Backend::Sqlite, PROJECT).await;
    let base = app.serve().await;
    let url = format!("{base}/open");
    for remaining in ["2", "1", "0"] {
        let answer = get_from("127.0.0.1", &url).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["x-ratelimit-remaining"], remaining);
    }
    let refused = get_from("127.0.0.1", &url).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert!(refused.headers().contains_key("retry-after"));
    // Another address has its own allowance.
    let other = get_from("127.0.0.2", &url).await;
    assert_eq!(other.status(), 200);
    assert_eq!(other.headers()["x-ratelimit-remaining"], "2");
}

#[tokio::test]
async fn a_project_that_never_said_gets_the_default_rates() {
    let yaml = PROJECT
        .split_once("routes:")
        .map(|(_, routes)| format!("routes:{routes}"))
        .unwrap();
    let app = start(Backend::Sqlite, &yaml).await;
    let open = get(&app, "/open", None).await;
    assert_passed(&open, "Default-Anonymous", 900, 899);
    let (client_id, client_secret) = app.developer_app("echo.read").await;
    let token = app.client_credentials(&client_id, &client_secret).await;
    assert_passed(
        &get(&app, "/private", Some(&token)).await,
        "Default",
        3600,
        3599,
    );
}

/// A backend token for the admin.
async fn admin(app: &TestApp) -> String {
    app.password_token("fusio", "admin", ADMIN_PASSWORD).await
}

async fn send_json(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<serde_json::Value>,
    if_match: Option<&str>,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    app.send(request.body(body).unwrap()).await
}

on_both_stores!(rates_are_managed_in_the_backend);
async fn rates_are_managed_in_the_backend(backend: Backend) {
    // No `rate:`: the defaults, as on a first start.
    let app = start(
        backend,
        "routes:\n  /private:\n    methods:\n      GET: { action: echo, scopes: [echo.read] }\n\
         action:\n  echo:\n    component: \"{guest:echo}\"\n",
    )
    .await;
    let token = admin(&app).await;
    let listed = send_json(&app, Method::GET, "/backend/rate", &token, None, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let names: Vec<String> = listed.json()["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rate| rate["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Default", "Default-Anonymous"]);
    let anonymous = send_json(
        &app,
        Method::GET,
        "/backend/rate/~Default-Anonymous",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"name": "Default-Anonymous", "priority": 4, "rateLimit": 900,
            "timespan": "PT1H", "allocation": [{"authenticated": false}]})
    );

    // A partner app gets a rate of its own, of higher priority.
    let (client_id, client_secret) = app.developer_app("echo.read").await;
    let partner = serde_json::json!({"name": "Partner", "priority": 10, "rateLimit": 1,
        "timespan": "PT1H", "allocation": [{"app": "Dev app", "route": "/private"}]});
    let created = send_json(
        &app,
        Method::POST,
        "/backend/rate",
        &token,
        Some(partner.clone()),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let app_token = app.client_credentials(&client_id, &client_secret).await;
    assert_passed(
        &get(&app, "/private", Some(&app_token)).await,
        "Partner",
        1,
        0,
    );
    assert_refused(&get(&app, "/private", Some(&app_token)).await, "Partner", 1);

    // Bad input is refused, naming the rate and the reason, and changes
    // nothing.
    let read = send_json(
        &app,
        Method::GET,
        "/backend/rate/~Partner",
        &token,
        None,
        None,
    )
    .await;
    let tag = read.header("etag").unwrap().to_owned();
    let revision = app.state.live.current().revision;
    for (body, reason) in [
        (
            serde_json::json!({"name": "Partner", "rateLimit": 1, "timespan": "P1M", "allocation": [{}]}),
            "months",
        ),
        (
            serde_json::json!({"name": "Partner", "rateLimit": 0, "timespan": "PT1H", "allocation": [{}]}),
            "rateLimit must be at least 1",
        ),
        (
            serde_json::json!({"name": "Partner", "rateLimit": 1, "timespan": "PT1H",
                "allocation": [{"route": "/nowhere"}]}),
            "the route `/nowhere` is not defined",
        ),
        (
            serde_json::json!({"name": "Partner", "rateLimit": 1, "timespan": "PT1H",
                "allocation": [{"method": "get"}]}),
            "not an upper-case HTTP method",
        ),
    ] {
        let refused = send_json(
            &app,
            Method::PUT,
            "/backend/rate/~Partner",
            &token,
            Some(body),
            Some(&tag),
        )
        .await;
        let problem = refused.assert_problem(400);
        assert!(problem.to_string().contains(reason), "{problem}");
        assert!(problem.to_string().contains("rate.Partner"), "{problem}");
    }
    let unknown_field = send_json(
        &app,
        Method::PUT,
        "/backend/rate/~Partner",
        &token,
        Some(
            serde_json::json!({"name": "Partner", "rateLimit": 1, "timespan": "PT1H", "limit": 3}),
        ),
        Some(&tag),
    )
    .await;
    unknown_field.assert_problem(400);
    assert_eq!(app.state.live.current().revision, revision);

    // A stale If-Match is refused; a fresh one updates.
    let raised = serde_json::json!({"name": "Partner", "priority": 10, "rateLimit": 5,
        "timespan": "PT1H", "allocation": [{"app": "Dev app"}]});
    let stale = send_json(
        &app,
        Method::PUT,
        "/backend/rate/~Partner",
        &token,
        Some(raised.clone()),
        Some("\"0000000000000000\""),
    )
    .await;
    stale.assert_problem(412);
    let updated = send_json(
        &app,
        Method::PUT,
        "/backend/rate/~Partner",
        &token,
        Some(raised),
        Some(&tag),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    // A changed rate counts afresh.
    assert_passed(
        &get(&app, "/private", Some(&app_token)).await,
        "Partner",
        5,
        4,
    );

    // Deleted, the app falls back to the default rate.
    let deleted = send_json(
        &app,
        Method::DELETE,
        "/backend/rate/~Partner",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_passed(
        &get(&app, "/private", Some(&app_token)).await,
        "Default",
        3600,
        3599,
    );

    // The backend's rates survive a deploy of a file without `rate:`.
    send_json(
        &app,
        Method::POST,
        "/backend/rate",
        &token,
        Some(partner),
        None,
    )
    .await;
    let app = app.restart(true).await;
    let token = admin(&app).await;
    let kept = send_json(
        &app,
        Method::GET,
        "/backend/rate/~Partner",
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(kept.status, 200, "{}", kept.text());
}

#[tokio::test]
async fn a_bad_rate_in_the_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = PROJECT.replace(
        "timespan: PT1H\n    allocation:\n      - authenticated: true",
        "timespan: one hour\n    allocation:\n      - authenticated: true",
    );
    let file = crate::support::app::write_project(dir.path(), &yaml);
    let db = crate::support::db::TestDb::new(Backend::Sqlite, dir.path()).await;
    let mut options = crate::support::app::options(dir.path(), &db);
    options.deploy = Some(file);
    let Err(err) = fusio::server::boot(&options).await else {
        panic!("a bad rate is refused")
    };
    let message = format!("{err}");
    let line = yaml
        .lines()
        .position(|l| l.starts_with("  Members:"))
        .unwrap()
        + 1;
    assert!(
        message.contains(&format!(
            "fusio.yml:{line}:3: rate.Members: timespan `one hour`"
        )),
        "{message}"
    );
}

/// A Redis server of this test's own, on a port of its own, which the
/// test stops and starts again.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (apt package redis-server)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server listens"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a node counts, as `/system/health` says.
async fn counting(node: &Router) -> String {
    let request = Request::get("/system/health").body(Body::empty()).unwrap();
    send_to(node.clone(), request).await.json()["rateLimit"]["counting"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends `GET /private` with `token` alternately to `nodes`, `count`
/// times; answers how many passed, and checks every other was a 429.
async fn spread(nodes: &[Router; 2], token: &str, count: usize) -> usize {
    let mut passed = 0;
    for i in 0..count {
        let request = Request::get("/private")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let answer = send_to(nodes[i % 2].clone(), request).await;
        match answer.status.as_u16() {
            200 => passed += 1,
            429 => {}
            other => panic!("{other}: {}", answer.text()),
        }
    }
    passed
}

/// The value of the sample whose line starts with `series` (0 before it
/// is recorded).
fn metric(series: &str) -> u64 {
    fusio::telemetry::render()
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.split_whitespace().last())
        .map_or(0, |v| v.parse().unwrap())
}

fn fallbacks() -> u64 {
    metric("fusio_rate_limit_redis_fallbacks_total ")
}

/// Refusals by the rate `Shared`, which only this test's project has.
fn refusals() -> u64 {
    metric("fusio_rate_limit_rejections_total{rate=\"Shared\"}")
}

#[tokio::test]
async fn two_nodes_sharing_redis_count_one_allowance_and_survive_its_outage() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let yaml = PROJECT
        .replace("rateLimit: 2", "rateLimit: 4")
        .replace("Members:", "Shared:");
    let first = TestApp::start_with(Backend::Sqlite, &yaml, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
        options.redis = Some(url.clone());
        options.metrics = fusio::telemetry::MetricsAccess::Public;
    })
    .await;
    let nodes = [first.router(), first.another_node().await];
    let (client_id, client_secret) = first.developer_app("echo.read").await;
    let token = first.client_credentials(&client_id, &client_secret).await;
    assert_eq!(counting(&nodes[0]).await, "redis");

    // Spread over both nodes, exactly the limit passes; the metrics count
    // the refusals.
    let refused = refusals();
    assert_eq!(spread(&nodes, &token, 10).await, 4);
    assert_eq!(refusals() - refused, 6);

    // Redis stops: both nodes keep serving, each on its own count.
    redis.stop();
    let before = fallbacks();
    assert_eq!(spread(&nodes, &token, 12).await, 8);
    for node in &nodes {
        assert_eq!(counting(node).await, "localRedisDown");
    }
    assert_eq!(
        fallbacks() - before,
        12,
        "every local count is in the metrics"
    );

    // Redis is back (empty): the nodes return to it on their own, and
    // share one allowance again — on local counts they would refuse all.
    let _redis = OwnRedis::start(port);
    for node in &nodes {
        let started = Instant::now();
        while counting(node).await != "redis" {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the node returns to Redis"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(spread(&nodes, &token, 10).await, 4);
}

/// Many checks at once travel to Redis together; each is still decided
/// alone, in order, so a concurrent burst over both nodes lets exactly the
/// limit through and every other request gets a 429 with `Retry-After`.
#[tokio::test]
async fn a_concurrent_burst_over_two_nodes_passes_exactly_the_limit() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = OwnRedis::start(port);
    let yaml = PROJECT.replace("rateLimit: 2", "rateLimit: 50");
    let first = TestApp::start_with(Backend::Sqlite, &yaml, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
        options.redis = Some(format!("redis://127.0.0.1:{}", redis.port));
    })
    .await;
    let nodes = [first.router(), first.another_node().await];
    let (client_id, client_secret) = first.developer_app("echo.read").await;
    let token = first.client_credentials(&client_id, &client_secret).await;

    let mut burst = tokio::task::JoinSet::new();
    for i in 0..300 {
        let request = Request::get("/private")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        burst.spawn(send_to(nodes[i % 2].clone(), request));
    }
    let (mut passed, mut refused) = (0, 0);
    while let Some(answer) = burst.join_next().await {
        let answer = answer.unwrap();
        match answer.status.as_u16() {
            200 => passed += 1,
            429 => {
                assert!(answer.header("retry-after").is_some());
                refused += 1;
            }
            other => panic!("{other}: {}", answer.text()),
        }
    }
    assert_eq!((passed, refused), (50, 250));
    assert_eq!(counting(&nodes[1]).await, "redis", "Redis counted them all");
    let scripts = redis_calls(redis.port, "evalsha") + redis_calls(redis.port, "eval");
    assert!(
        (1..300).contains(&scripts),
        "checks that wait together go in one script: {scripts} scripts for 300 checks"
    );
}

/// How often the Redis at `port` ran `command`, from `INFO commandstats`.
fn redis_calls(port: u16, command: &str) -> u64 {
    let output = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "INFO", "commandstats"])
        .output()
        .expect("redis-cli runs");
    let prefix = format!("cmdstat_{command}:calls=");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}
