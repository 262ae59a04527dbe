//! Loading project files: the example project, and a corpus of invalid files
//! under `tests/projects/invalid` that must each be refused with the file and
//! the line/column or the offending entry named, changing nothing.

use crate::support::guests::guest;
use crate::support::{Backend, TestApp, on_both_stores};
use fusio::project::{self, BuildOptions};
use std::path::Path;

const VALID: &str = r#"
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
"#;

/// Copies the components the corpus refers to next to its files.
pub(crate) fn corpus_dir(dir: &Path) -> std::path::PathBuf {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::copy(guest("echo"), corpus.join("echo.wasm")).unwrap();
    std::fs::copy(guest("wrong-world"), corpus.join("wrong-world.wasm")).unwrap();
    std::fs::copy(guest("sql"), corpus.join("sql.wasm")).unwrap();
    std::fs::write(corpus.join("text.wasm"), "this is not WebAssembly").unwrap();
    std::fs::write(corpus.join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(
        corpus.join("create.sql"),
        "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT NOT NULL);",
    )
    .unwrap();
    std::fs::write(corpus.join("broken.sql"), "CREATE TABLE oops (;").unwrap();
    std::fs::write(
        corpus.join("broken.js"),
        "module.exports = function () {\n  return (;\n};\n",
    )
    .unwrap();
    std::fs::write(
        corpus.join("latin1.js"),
        b"// caf\xe9\nmodule.exports = () => 1;\n",
    )
    .unwrap();
    corpus
}

/// Whether `message` holds `name:LINE:COLUMN`.
fn has_location(message: &str, name: &str) -> bool {
    message.match_indices(name).any(|(i, _)| {
        let mut parts = message[i + name.len()..].split(':');
        parts.next() == Some("")
            && parts
                .next()
                .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|c| c.starts_with(|ch: char| ch.is_ascii_digit()))
    })
}

pub(crate) fn expectations(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .collect()
}

/// Deploys every file of the invalid corpus with `deploy` (which answers
/// the refusal's message, or `None` when the file was accepted) and lists
/// what is wrong: an accepted file, a message without the file and its
/// line/column, or one that lacks an `# expect:` text.
pub(crate) async fn corpus_failures<F, Fut>(dir: &Path, mut deploy: F) -> Vec<String>
where
    F: FnMut(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let corpus = corpus_dir(dir);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/projects/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "the corpus has {} files", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(case).unwrap();
        let file = corpus.join(name);
        std::fs::write(&file, &text).unwrap();
        let expected = expectations(&text);
        assert!(!expected.is_empty(), "{name} has no `# expect:` line");
        let Some(message) = deploy(file).await else {
            failures.push(format!("{name}: accepted"));
            continue;
        };
        if !message.contains(name) {
            failures.push(format!(
                "{name}: the message does not name the file:\n{message}"
            ));
        }
        if !has_location(&message, name) && !message.contains("line ") {
            failures.push(format!(
                "{name}: the message has no line/column:\n{message}"
            ));
        }
        for want in expected {
            if !message.contains(want) {
                failures.push(format!("{name}: expected `{want}` in:\n{message}"));
            }
        }
    }
    failures
}

async fn every_invalid_file_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::start(backend, VALID).await;
    let failures = corpus_failures(app.dir.path(), |file| {
        let deployer = app.state.deployer.clone();
        async move {
            project::deploy_file(&deployer, &file, &BuildOptions::default(), "test")
                .await
                .err()
                .map(|err| err.to_string())
        }
    })
    .await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(
        app.state.store.current().await.unwrap().revision,
        1,
        "the store changed"
    );
    assert_eq!(
        app.state.live.current().revision,
        1,
        "the served snapshot changed"
    );
    assert_eq!(app.get("/echo").await.status, 200);
}

async fn a_refused_file_at_boot_stops_the_start_and_keeps_the_stored_revision(backend: Backend) {
    let app = TestApp::start(backend, VALID).await;
    let corpus = corpus_dir(app.dir.path());
    let bad = corpus.join("reserved.yml");
    std::fs::write(
        &bad,
        "routes:\n  /system/x:\n    methods:\n      GET: { action: echo }\naction:\n  echo:\n    component: echo.wasm\n",
    )
    .unwrap();
    let mut options = app.options.clone();
    options.deploy = Some(bad);
    let err = fusio::server::boot(&options)
        .await
        .err()
        .expect("boot refuses the file");
    let message = err.to_string();
    assert!(
        message.contains("reserved.yml:2:3: routes.\"/system/x\""),
        "{message}"
    );
    assert!(message.contains("`/system` is reserved"), "{message}");
    let stored = app.state.store.current().await.unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.project.routes[0].path, "/echo");
}

on_both_stores!(
    every_invalid_file_is_refused_and_changes_nothing,
    a_refused_file_at_boot_stops_the_start_and_keeps_the_stored_revision,
);
