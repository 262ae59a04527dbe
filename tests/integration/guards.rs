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

/// The layering table of ARCHITECTURE.md: each top-level module of
/// `host/src` and the modules it may import.
fn layers() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
            .unwrap();
    let start = text
        .find("<!-- layers -->")
        .expect("ARCHITECTURE.md has the layers table");
    let end = text
        .find("<!-- /layers -->")
        .expect("the layers table ends");
    text[start..end]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let uses = cells
                .get(2)?
                .split(',')
                .filter_map(|u| u.trim().strip_prefix('`')?.strip_suffix('`'))
                .map(str::to_owned)
                .collect();
            Some((name.to_owned(), uses))
        })
        .collect()
}

/// The top-level modules `crate::…` paths in `source` name, outside its
/// `#[cfg(test)]` part.
fn imported_modules(source: &str) -> BTreeSet<String> {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let single = regex::Regex::new(r"crate::(\w+)").unwrap();
    let grouped = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut found: BTreeSet<String> = single
        .captures_iter(source)
        .map(|c| c[1].to_owned())
        .collect();
    for group in grouped.captures_iter(source) {
        for part in group[1].split(',') {
            if let Some(first) = part.trim().split("::").next().filter(|p| !p.is_empty()) {
                found.insert(first.to_owned());
            }
        }
    }
    found
}

/// The `.rs` files of a top-level module (a file or a folder).
fn module_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    std::fs::read_dir(path)
        .unwrap()
        .flat_map(|entry| module_files(&entry.unwrap().path()))
        .filter(|file| file.extension().is_some_and(|e| e == "rs"))
        .collect()
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let layers = layers();
    assert!(layers.len() > 10, "{layers:?}");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let Some(allowed) = layers.get(&name) else {
            violations.push(format!("`{name}` is not in ARCHITECTURE.md's layers table"));
            continue;
        };
        for file in module_files(&path) {
            let source = std::fs::read_to_string(&file).unwrap();
            for used in imported_modules(&source) {
                if used != name && !allowed.contains(&used) {
                    violations.push(format!(
                        "{} imports `{used}`, which `{name}` may not use",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    // The table itself is a layering: no module reaches itself through it.
    fn reaches(
        layers: &std::collections::BTreeMap<String, BTreeSet<String>>,
        from: &str,
        to: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        layers.get(from).into_iter().flatten().any(|next| {
            next == to || (seen.insert(next.clone()) && reaches(layers, next, to, seen))
        })
    }
    for name in layers.keys() {
        if reaches(&layers, name, name, &mut BTreeSet::new()) {
            violations.push(format!(
                "the layers table runs in a circle through `{name}`"
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
