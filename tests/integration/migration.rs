//! Connections and migrations on deploy against the real databases of this
//! machine: each file runs once, a failing file undoes the deploy's
//! migrations (where the database has transactional DDL) and changes
//! nothing, a changed applied file is refused, and credentials are sealed
//! in the store and hidden by the API.

use crate::deploy::{build, connect, start};
use crate::support::Backend;
use crate::support::sqldb::{Kind, SqlTarget};
use fusio::client::deploy::{DeployCommandError, deploy};
use fusio::project::ProjectError;
use sqlx::Connection;
use std::path::Path;

fn write_project(dir: &Path, url: &str, files: &[&str]) -> std::path::PathBuf {
    let file = dir.join("fusio.yml");
    let list = files.join(", ");
    std::fs::write(
        &file,
        format!(
            "routes:\n  /echo:\n    methods:\n      GET: {{ action: echo, public: true }}\n\
             action:\n  echo:\n    component: {echo}\n    connections: [App]\n\
             connection:\n  App:\n    type: sql\n    config:\n      url: \"{url}\"\n\
             migration:\n  App: [{list}]\n",
            echo = crate::support::guests::guest("echo").display()
        ),
    )
    .unwrap();
    file
}

fn refusal(result: Result<fusio::client::Deployed, DeployCommandError>) -> String {
    match result {
        Err(DeployCommandError::Project(err @ ProjectError::Invalid { .. })) => err.to_string(),
        other => panic!("expected a refused project, got {other:?}"),
    }
}

async fn migrations_run_once_and_a_failure_changes_nothing(kind: Kind) {
    let app = start(Backend::Sqlite).await;
    let client = connect(&app).await;
    let dir = app.dir.path().join("project");
    std::fs::create_dir_all(&dir).unwrap();
    let target = SqlTarget::new(kind, &dir).await;
    std::fs::write(dir.join("0001_todo.sql"), "CREATE TABLE todo (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL);\nINSERT INTO todo (id, title) VALUES (1, 'milk');").unwrap();
    std::fs::write(
        dir.join("0002_done.sql"),
        "CREATE TABLE done (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    std::fs::write(dir.join("0003_broken.sql"), "CREATE TABLE broken (;").unwrap();

    let first = write_project(&dir, &target.url, &["0001_todo.sql"]);
    let deployed = deploy(&client, &first, &build(), false).await.unwrap();
    assert_eq!(deployed.plan.migrations, ["App/0001_todo.sql"]);
    assert!(target.has_table("todo").await);

    // The same file again: nothing runs twice.
    let again = deploy(&client, &first, &build(), false).await.unwrap();
    assert!(!again.changed);
    let served = app.state.live.current().revision;

    // A failing file refuses the deploy; the file before it in the same
    // deploy is undone where DDL is transactional.
    let failing = write_project(
        &dir,
        &target.url,
        &["0001_todo.sql", "0002_done.sql", "0003_broken.sql"],
    );
    let message = refusal(deploy(&client, &failing, &build(), false).await);
    assert!(message.contains("`0003_broken.sql` failed"), "{message}");
    assert!(message.contains("migration.App"), "{message}");
    if kind != Kind::Mariadb {
        assert!(!target.has_table("done").await, "0002 was undone");
    }
    assert_eq!(app.state.live.current().revision, served);
    assert_eq!(app.state.store.latest_revision().await.unwrap(), served);

    // A file that ran and then changed is refused.
    std::fs::write(
        dir.join("0001_todo.sql"),
        "CREATE TABLE todo (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    let message = refusal(deploy(&client, &first, &build(), true).await);
    assert!(
        message.contains("`0001_todo.sql` changed after it ran"),
        "{message}"
    );
    assert!(
        message.contains("fusio.yml:"),
        "located in the file: {message}"
    );
    assert_eq!(app.state.live.current().revision, served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_on_sqlite() {
    migrations_run_once_and_a_failure_changes_nothing(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_on_postgres() {
    migrations_run_once_and_a_failure_changes_nothing(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_on_mariadb() {
    migrations_run_once_and_a_failure_changes_nothing(Kind::Mariadb).await;
}

/// Credentials are sealed in the store and never shown by the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_credentials_are_sealed_and_hidden() {
    let app = start(Backend::Sqlite).await;
    let client = connect(&app).await;
    let dir = app.dir.path().join("sealed");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fusio.yml");
    std::fs::write(
        &file,
        format!(
            "routes:\n  /echo:\n    methods:\n      GET: {{ action: echo, public: true }}\n\
             action:\n  echo:\n    component: {}\n    connections: [Api]\n\
             connection:\n  Api:\n    type: http\n    config:\n      url: https://api.example.com\n      \
             headers:\n        authorization: Bearer very-secret-token-4711\n",
            crate::support::guests::guest("echo").display()
        ),
    )
    .unwrap();
    let deployed = deploy(&client, &file, &build(), false).await.unwrap();
    assert_eq!(deployed.plan.connections.created, ["Api"]);

    // In the store: sealed.
    let db = app.dir.path().join("data/fusio.db");
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let contents: Vec<(String,)> =
        sqlx::query_as("SELECT content FROM fusio_revision WHERE content IS NOT NULL")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert!(!contents.is_empty());
    for (content,) in &contents {
        assert!(!content.contains("very-secret-token"), "{content}");
    }
    // Read back for the plan: the same project deploys as unchanged.
    assert!(
        !deploy(&client, &file, &build(), false)
            .await
            .unwrap()
            .changed
    );
    // Through the API: hidden.
    let admin = app.password_token("fusio", "admin", "admin password").await;
    let shown = app
        .get_bearer(&format!("/backend/revision/{}", deployed.revision), &admin)
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(
        !shown.text().contains("very-secret-token"),
        "{}",
        shown.text()
    );
    assert_eq!(
        shown.json()["project"]["connections"][0]["config"]["url"],
        "(hidden)"
    );
}
