//! Migrations on deploy: the SQL files a project lists per connection run
//! once each, in order. A file that ran is never run again, and changing it
//! afterwards is refused (add a new file instead). The pending files of a
//! connection run in one transaction of that database: where the database
//! allows DDL in transactions (PostgreSQL, SQLite) a failing file undoes
//! them all and the deploy is refused with nothing changed. MySQL commits
//! DDL as it goes, so there a failure leaves the files before it applied.

use super::EntryProblem;
use super::compile::migration_entry;
use crate::confine::Confinement;
use crate::connect::sql::{self, ScriptError, Single};
use crate::digest::sha256_hex;
use crate::store::applied::AppliedMigration;
use crate::store::model::{MigrationRecord, Project};
use crate::store::{Store, StoreError};
use std::time::Duration;

/// How long connecting to a migrated database may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The migrations of a project that have not run yet, in order.
#[derive(Debug, Default)]
pub struct Pending<'a> {
    files: Vec<&'a MigrationRecord>,
}

impl Pending<'_> {
    /// Whether a migration of the connection `name` is among them.
    pub fn touches(&self, name: &str) -> bool {
        self.files.iter().any(|m| m.connection == name)
    }

    /// `connection/file` of each, for the plan.
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|m| format!("{}/{}", m.connection, m.file))
            .collect()
    }
}

/// Why migrations cannot run.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A migration is refused (changed after it ran, or it failed).
    #[error("{} migrations are refused", .0.len())]
    Refused(Vec<EntryProblem>),
    /// The system store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(connection: &str, reason: impl ToString) -> MigrateError {
    MigrateError::Refused(vec![EntryProblem {
        location: None,
        entry: migration_entry(connection),
        reason: reason.to_string(),
    }])
}

/// The migrations of `project` that have not run; refuses a file that ran
/// with other contents.
pub async fn pending<'a>(store: &Store, project: &'a Project) -> Result<Pending<'a>, MigrateError> {
    let applied = store.applied_migrations().await?;
    let mut pending = Pending::default();
    let mut problems = Vec::new();
    for migration in &project.migrations {
        let ran = applied
            .iter()
            .find(|a| a.connection == migration.connection && a.file == migration.file);
        match ran {
            None => pending.files.push(migration),
            Some(ran) if ran.sha256 != sha256_hex(migration.sql.as_bytes()) => {
                problems.push(EntryProblem {
                    location: None,
                    entry: migration_entry(&migration.connection),
                    reason: format!(
                        "`{}` changed after it ran on `{}` (sha256 {} then); migrations run once, so add a new file instead",
                        migration.file,
                        migration.connection,
                        &ran.sha256[..12]
                    ),
                });
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(pending)
    } else {
        Err(MigrateError::Refused(problems))
    }
}

/// One confined connection to the SQL connection `name` of `project`.
async fn connect(
    project: &Project,
    name: &str,
    confinement: &Confinement,
) -> Result<Single, String> {
    let record = project
        .connections
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("the connection `{name}` is not defined"))?;
    let config = sql::kind::settings(record).map_err(|err| err.to_string())?;
    let target = confinement
        .sql_target(&config.url)
        .map_err(|err| err.to_string())?;
    tokio::time::timeout(CONNECT_TIMEOUT, Single::connect(&target))
        .await
        .map_err(|_| format!("cannot connect within {}s", CONNECT_TIMEOUT.as_secs()))?
        .map_err(|err| format!("cannot connect: {err}"))
}

/// Runs `script` (statements separated by `;`) on the SQL connection
/// `name` of `project`, in one transaction, confined like a migration but
/// not recorded: a test's fixture.
pub async fn run_script(
    project: &Project,
    name: &str,
    script: &str,
    confinement: &Confinement,
) -> Result<(), String> {
    let mut conn = connect(project, name, confinement).await?;
    let ran = conn.run_in_transaction(&[script]).await;
    conn.close().await;
    ran.map_err(|err| match err {
        ScriptError::Failed { source, .. } => source.to_string(),
        other => other.to_string(),
    })
}

/// Runs `pending` against their databases and records each.
pub async fn run(
    store: &Store,
    project: &Project,
    pending: &Pending<'_>,
    confinement: &Confinement,
) -> Result<(), MigrateError> {
    let mut by_connection: Vec<(&str, Vec<&MigrationRecord>)> = Vec::new();
    for migration in &pending.files {
        match by_connection
            .iter_mut()
            .find(|(name, _)| *name == migration.connection)
        {
            Some((_, files)) => files.push(migration),
            None => by_connection.push((&migration.connection, vec![migration])),
        }
    }
    for (name, files) in by_connection {
        let mut conn = connect(project, name, confinement)
            .await
            .map_err(|reason| refused(name, reason))?;
        let scripts: Vec<&str> = files.iter().map(|f| f.sql.as_str()).collect();
        let ran = conn.run_in_transaction(&scripts).await;
        conn.close().await;
        ran.map_err(|err| {
            refused(
                name,
                match err {
                    ScriptError::Failed { index, source } => format!(
                        "`{}` failed, so no migration of this deploy ran: {source}",
                        files[index].file
                    ),
                    other => format!(
                        "{other}: {}",
                        std::error::Error::source(&other)
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ),
                },
            )
        })?;
        for file in files {
            store
                .record_migration(&AppliedMigration {
                    connection: file.connection.clone(),
                    file: file.file.clone(),
                    sha256: sha256_hex(file.sql.as_bytes()),
                })
                .await?;
            tracing::info!(connection = name, file = %file.file, "migration ran");
        }
    }
    Ok(())
}
