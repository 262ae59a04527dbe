//! Guards on the shape of the repository that no feature test would
//! notice: the system store's two migration folders stay in step.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn migrations(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend)
}

/// The migration files of one backend, by name.
fn files(backend: &str) -> BTreeSet<String> {
    std::fs::read_dir(migrations(backend))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// What a migration does to the schema, independent of the backend's
/// types: each table's columns, each index with its columns, and what it
/// drops or alters, as lines such as `fusio_user.name` or
/// `index fusio_log_created on fusio_log(created_at)`.
fn schema_facts(sql: &str) -> BTreeSet<String> {
    let sql: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    let table =
        regex::Regex::new(r"create table (?:if not exists )?([a-z_0-9]+)\s*\(((?s:.*?))\n\);")
            .unwrap();
    let index = regex::Regex::new(
        r"create (unique )?index (?:if not exists )?([a-z_0-9]+)\s+on\s+([a-z_0-9]+)\s*\(([^)]*)\)",
    )
    .unwrap();
    let other = regex::Regex::new(r"(alter table|drop table|drop index) ([^;]*);").unwrap();
    let mut facts = BTreeSet::new();
    for found in table.captures_iter(&sql) {
        for line in found[2].lines() {
            let first = line.split_whitespace().next().unwrap_or_default();
            let first = first.trim_end_matches(',');
            if !first.is_empty()
                && !["primary", "unique", "foreign", "check", "constraint", "("].contains(&first)
            {
                facts.insert(format!("{}.{first}", &found[1]));
            }
        }
    }
    for found in index.captures_iter(&sql) {
        let columns: Vec<&str> = found[4].split(',').map(str::trim).collect();
        facts.insert(format!(
            "{}index {} on {}({})",
            found.get(1).map_or("", |m| m.as_str()),
            &found[2],
            &found[3],
            columns.join(",")
        ));
    }
    for found in other.captures_iter(&sql) {
        let words: Vec<&str> = found[2].split_whitespace().take(4).collect();
        facts.insert(format!("{} {}", &found[1], words.join(" ")));
    }
    facts
}

#[test]
fn both_migration_folders_hold_the_same_migrations() {
    let sqlite = files("sqlite");
    let postgres = files("postgres");
    assert_eq!(
        sqlite.symmetric_difference(&postgres).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "a migration is in one folder only (migrations/sqlite vs migrations/postgres)"
    );
    assert!(sqlite.len() > 5, "{sqlite:?}");
    let mut differences = Vec::new();
    for name in &sqlite {
        let read = |backend| std::fs::read_to_string(migrations(backend).join(name)).unwrap();
        let (lite, pg) = (
            schema_facts(&read("sqlite")),
            schema_facts(&read("postgres")),
        );
        assert!(!lite.is_empty(), "{name}: nothing found to compare");
        for only in lite.difference(&pg) {
            differences.push(format!("{name}: only SQLite has {only}"));
        }
        for only in pg.difference(&lite) {
            differences.push(format!("{name}: only PostgreSQL has {only}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
