//! The built-in `proxy`: a request handed on to an HTTP connection with
//! its method, path, query, headers and body, and the upstream's answer
//! handed back unchanged; the upstream learns who called from the
//! X-Fusio headers, which a client cannot forge, and never sees the
//! client's token.

use crate::support::{Backend, TestApp};
use axum::body::Bytes;
use serde_json::{Value, json};

/// An upstream that answers what it received as JSON, and a binary body.
async fn upstream() -> String {
    let echo = |method: http::Method, uri: http::Uri, headers: http::HeaderMap, body: Bytes| async move {
        // A header that came several times is a list of its values.
        let headers: serde_json::Map<String, Value> = headers
            .keys()
            .map(|name| {
                let values: Vec<Value> = headers
                    .get_all(name)
                    .iter()
                    .map(|v| Value::from(v.to_str().unwrap_or_default()))
                    .collect();
                let value = match values.as_slice() {
                    [one] => one.clone(),
                    _ => Value::Array(values),
                };
                (name.as_str().to_owned(), value)
            })
            .collect();
        (
            http::StatusCode::ACCEPTED,
            [("x-upstream", "yes")],
            axum::Json(json!({
                "method": method.as_str(),
                "path": uri.path(),
                "query": uri.query(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            })),
        )
    };
    let router = axum::Router::new()
        .route("/v1/todo/{id}", axum::routing::any(echo))
        .route("/shop/echo", axum::routing::any(echo))
        .route(
            "/shop/cookies",
            axum::routing::get(|| async {
                (
                    axum::response::AppendHeaders([
                        ("set-cookie", "a=1; Path=/"),
                        ("set-cookie", "b=2; Path=/"),
                    ]),
                    "two cookies",
                )
            }),
        )
        .route(
            "/shop/logo",
            axum::routing::get(|| async {
                (
                    [("content-type", "image/png")],
                    vec![0x89u8, b'P', 0xff, 0x00, 0xfe],
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

fn project(upstream: &str) -> String {
    format!(
        r#"
routes:
  /shop/echo:
    methods:
      GET: {{ action: shop, public: true }}
      POST: {{ action: shop, scopes: [shop] }}
  /shop/logo:
    methods:
      GET: {{ action: shop, public: true }}
  /shop/cookies:
    methods:
      GET: {{ action: shop, public: true }}
  /todo/:id:
    methods:
      PUT: {{ action: todo, public: true }}
action:
  shop:
    builtin: proxy
    config: {{ connection: Upstream }}
  todo:
    builtin: proxy
    config: {{ connection: Upstream, path: "/v1/todo/{{id}}" }}
connection:
  Upstream:
    type: http
    config:
      url: "{upstream}"
      allow_private: true
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_hands_the_request_on_with_the_x_fusio_headers() {
    let app = TestApp::start(Backend::Sqlite, &project(&upstream().await)).await;
    let (client_id, client_secret) = app.developer_app("shop").await;
    let token = app.client_credentials(&client_id, &client_secret).await;
    let base = app.serve().await;
    let client = reqwest::Client::new();

    // A caller with a token: who it is reaches the upstream, the token
    // does not; a forged X-Fusio header is replaced.
    let answer = client
        .post(format!("{base}/shop/echo?a=1&a=2&b=x%20y"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("x-fusio-user-id", "admin")
        .header("x-trace", "t-1")
        .header("x-tag", "red")
        .header("x-tag", "blue")
        .body(r#"{"item":"jam"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_eq!(answer.headers()["x-upstream"], "yes");
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/shop/echo");
    assert_eq!(seen["query"], "a=1&a=2&b=x%20y");
    assert_eq!(seen["body"], r#"{"item":"jam"}"#);
    let headers = &seen["headers"];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-trace"], "t-1");
    assert_eq!(
        headers["x-tag"],
        json!(["red", "blue"]),
        "a repeated header goes on repeated"
    );
    assert_eq!(headers["x-fusio-route-id"], "/shop/echo");
    assert_eq!(headers["x-fusio-app-id"], client_id.as_str());
    let user = headers["x-fusio-user-id"].as_str().unwrap();
    assert!(!user.is_empty() && user != "admin", "{headers}");
    assert_eq!(headers["x-fusio-remote-ip"], "127.0.0.1");
    assert!(headers.get("authorization").is_none(), "{headers}");

    // An anonymous caller: no user or app, whatever it claims.
    let seen: Value = client
        .get(format!("{base}/shop/echo"))
        .header("x-fusio-user-id", "admin")
        .header("x-fusio-app-id", "backend")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let headers = &seen["headers"];
    assert!(headers.get("x-fusio-user-id").is_none(), "{headers}");
    assert!(headers.get("x-fusio-app-id").is_none(), "{headers}");
    assert_eq!(headers["x-fusio-remote-ip"], "127.0.0.1");
    assert_eq!(seen["body"], "");

    // A configured path takes the uri fragments, encoded.
    let seen: Value = client
        .put(format!("{base}/todo/a%2Fb"))
        .body("done")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["path"], "/v1/todo/a%2Fb", "{seen}");
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["body"], "done");
    assert_eq!(seen["headers"]["x-fusio-route-id"], "/todo/:id");

    // A binary answer comes back byte for byte, with its type.
    let logo = client
        .get(format!("{base}/shop/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(
        logo.bytes().await.unwrap().as_ref(),
        [0x89u8, b'P', 0xff, 0x00, 0xfe]
    );

    // A header the upstream answers several times comes back several times.
    let cookies = client
        .get(format!("{base}/shop/cookies"))
        .send()
        .await
        .unwrap();
    let set: Vec<&str> = cookies
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set, ["a=1; Path=/", "b=2; Path=/"]);

    // The route's scopes still hold before anything is forwarded.
    let refused = client
        .post(format!("{base}/shop/echo"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

/// An upstream that is down answers 502, one that takes longer than the
/// connection's timeout 504, each a problem that keeps the reason (an
/// address, an error) to the action log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_down_or_slow_is_a_502_or_a_504() {
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            // The upstream's own behaviour: it answers after the
            // connection's timeout has passed.
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            "late"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, slow).await });
    let yaml = format!(
        r#"
routes:
  /down:
    methods:
      GET: {{ action: down, public: true }}
  /slow:
    methods:
      GET: {{ action: slow, public: true }}
action:
  down:
    builtin: proxy
    config: {{ connection: Down }}
  slow:
    builtin: proxy
    config: {{ connection: Slow }}
connection:
  Down:
    type: http
    config: {{ url: "http://{closed}", allow_private: true }}
  Slow:
    type: http
    config: {{ url: "http://{slow_address}", allow_private: true, timeout: 300ms }}
"#
    );
    let app = TestApp::start(Backend::Sqlite, &yaml).await;
    let down = app.get("/down").await;
    let problem = down.assert_problem(502);
    assert_eq!(problem["detail"], "the upstream gave no usable answer");
    assert!(
        !down.text().contains(&closed.port().to_string()),
        "{}",
        down.text()
    );
    let late = app.get("/slow").await;
    let problem = late.assert_problem(504);
    assert_eq!(problem["detail"], "the upstream did not answer in time");
}

/// Behind a proxy the server was told to trust, the client is the address
/// that proxy forwarded (not what the client wrote before it); a server
/// told nothing believes no header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client_and_no_one_else_does() {
    let upstream = upstream().await;
    let remote_ip = |base: String, forwarded: &'static str| async move {
        let seen: Value = reqwest::Client::new()
            .get(format!("{base}/shop/echo"))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen["headers"]["x-fusio-remote-ip"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let behind = TestApp::start_with(Backend::Sqlite, &project(&upstream), |options| {
        options.trusted_proxies =
            fusio::peer::TrustedProxies::parse(&["127.0.0.0/8".into()]).unwrap();
    })
    .await;
    let base = behind.serve().await;
    assert_eq!(remote_ip(base.clone(), "203.0.113.7").await, "203.0.113.7");
    assert_eq!(
        remote_ip(base.clone(), "198.51.100.1, 203.0.113.7").await,
        "203.0.113.7",
        "what the client wrote itself is not believed"
    );
    assert_eq!(remote_ip(base, "not an address").await, "127.0.0.1");

    let direct = TestApp::start(Backend::Sqlite, &project(&upstream)).await;
    assert_eq!(
        remote_ip(direct.serve().await, "203.0.113.7").await,
        "127.0.0.1"
    );
}
