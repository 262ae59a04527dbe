//! `fusio new` for each language, then `fusio test` inside the new
//! directory: the cases it wrote pass; a case made to fail exits 1 and
//! writes JUnit XML that a JUnit parser (Python's junitparser) reads.

use crate::support::guests::build_target_dir;
use crate::support::process::fusio;
use std::path::Path;

/// `fusio test` in `dir` with the suite's shared build and compile caches.
fn fusio_test(dir: &Path, junit: &Path) -> std::process::Output {
    fusio()
        .current_dir(dir)
        .arg("test")
        .arg("--junit")
        .arg(junit)
        .arg("--build-target-dir")
        .arg(build_target_dir("scaffold"))
        .arg("--cache-dir")
        .arg(build_target_dir("cwasm-cache"))
        .env_remove("RUST_LOG")
        .output()
        .expect("fusio runs")
}

/// What junitparser reads from `report`: tests, failures and the failing
/// cases' names.
fn read_junit(report: &Path) -> serde_json::Value {
    let script = r#"
import json, sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
tests = failures = 0
failed = []
for suite in xml:
    for case in suite:
        tests += 1
        if any(isinstance(r, Failure) for r in case.result):
            failures += 1
            failed.append(case.name)
print(json.dumps({"tests": tests, "failures": failures, "failed": failed}))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(report)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("junitparser's counts")
}

fn new_project_passes_then_a_failing_case_exits_1(lang: &str) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(format!("demo-{lang}"));
    let made = fusio()
        .arg("new")
        .arg(&dir)
        .args(["--lang", lang])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(dir.join("README.md").is_file());
    let again = fusio().arg("new").arg(&dir).output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing project is not overwritten"
    );

    let report = root.path().join("report.xml");
    let passed = fusio_test(&dir, &report);
    let stdout = String::from_utf8_lossy(&passed.stdout);
    assert!(
        passed.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&passed.stderr)
    );
    assert!(stdout.contains("ok    greets by name"), "{stdout}");
    assert!(
        stdout.contains("2 passed, 0 failed, 0 warnings"),
        "{stdout}"
    );
    assert_eq!(
        read_junit(&report),
        serde_json::json!({ "tests": 2, "failures": 0, "failed": [] })
    );

    // A wrong expectation fails that case alone, with a reason.
    let yml = std::fs::read_to_string(dir.join("fusio.yml")).unwrap();
    std::fs::write(
        dir.join("fusio.yml"),
        yml.replace(
            "contains: { message: Hello Ada! }",
            "contains: { message: Hello Grace! }",
        ),
    )
    .unwrap();
    let failed = fusio_test(&dir, &report);
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  greets by name"), "{stdout}");
    assert!(stdout.contains("\"Hello Grace!\""), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    assert_eq!(
        read_junit(&report),
        serde_json::json!({ "tests": 2, "failures": 1, "failed": ["greets by name"] })
    );
}

#[test]
fn a_new_javascript_project_passes_its_tests() {
    new_project_passes_then_a_failing_case_exits_1("js");
}

#[test]
fn a_new_python_project_passes_its_tests() {
    new_project_passes_then_a_failing_case_exits_1("python");
}

#[test]
fn a_new_rust_project_passes_its_tests() {
    new_project_passes_then_a_failing_case_exits_1("rust");
}

/// A project whose connection reaches a database of its own (here
/// PostgreSQL) is refused by `fusio test` before anything runs on it, so a
/// test never writes into a database that was not meant for tests; with
/// `--shared-databases` the same cases run on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fusio_test_uses_a_database_of_its_own_only_when_told() {
    use crate::support::sqldb::{Kind, SqlTarget};
    let root = tempfile::tempdir().unwrap();
    let target = SqlTarget::new(Kind::Postgres, root.path()).await;
    std::fs::write(
        root.path().join("fusio.yml"),
        format!(
            r#"
routes:
  /count:
    methods:
      GET:
        action: count
        public: true
        tests:
          - name: counts the rows
            status: 200
            contains: {{ entry: [{{ n: 0 }}] }}
action:
  count:
    builtin: sql-query
    config: {{ connection: Db, sql: "SELECT COUNT(*) AS n FROM visit" }}
connection:
  Db:
    type: sql
    config:
      url: "{url}"
migration:
  Db: [visit.sql]
"#,
            url = target.url
        ),
    )
    .unwrap();
    std::fs::write(
        root.path().join("visit.sql"),
        "CREATE TABLE visit (id INTEGER);",
    )
    .unwrap();
    let report = root.path().join("report.xml");

    let refused = fusio_test(root.path(), &report);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("the connection `Db` is a PostgreSQL database used as configured"),
        "{stderr}"
    );
    assert!(!target.has_table("visit").await, "nothing ran on it");

    let shared = fusio()
        .current_dir(root.path())
        .args(["test", "--shared-databases", "--build-target-dir"])
        .arg(build_target_dir("scaffold"))
        .arg("--cache-dir")
        .arg(build_target_dir("cwasm-cache"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&shared.stdout);
    assert!(
        shared.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&shared.stderr)
    );
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    assert!(target.has_table("visit").await);
}
