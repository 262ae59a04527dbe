//! The example project's todo API tested from `cargo test` with
//! `fusio-test`: a fixture row, a protected write with a token holding the
//! scope `todo`, the anonymous refusal, and the JSON read back — all
//! in-process, without a socket.

use fusio_test::{Project, json};

/// The repository's `fusio.yml`, as an author would name their own.
fn project_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fusio.yml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_the_scope_writes_and_anyone_reads() {
    let api = Project::load(project_file()).await;
    api.fixture(
        "Default-Connection",
        "INSERT INTO app_todo (status, title) VALUES (1, 'from the fixture')",
    )
    .await;

    let anonymous = api
        .send(
            fusio_test::TestRequest::post("/todo").header("content-type", "application/json"),
            r#"{"title":"eggs"}"#.into(),
        )
        .await;
    anonymous.assert_status(401);

    let token = api.token(&["todo"]).await;
    let written = api
        .post_json("/todo", &token, json!({ "title": "eggs" }))
        .await;
    written
        .assert_status(201)
        .assert_json_includes(json!({ "success": true, "message": "Insert successful" }));
    let id = written.json()["id"].as_i64().expect("the new id");

    api.get(&format!("/todo/{id}"))
        .await
        .assert_status(200)
        .assert_json_includes(json!({ "id": id, "title": "eggs", "status": 1 }));
    api.get("/todo")
        .await
        .assert_status(200)
        .assert_json_includes(json!({ "totalResults": 2 }));
}
