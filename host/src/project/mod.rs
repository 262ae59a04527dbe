//! Deploying a project: `compile` reads `fusio.yml` and builds its
//! components (the file side, run by `fusio deploy` or locally),
//! `validate` checks every entry and loads every component (the server
//! side), and the `Deployer` stores a validated project as a new revision
//! and swaps it in. Validation is complete before anything is written, so a
//! refused project changes nothing.
//!
//! Parsing never panics: every problem becomes a [`ProjectError`] that names
//! the file and the line and column or the offending entry.

mod build;
pub mod builtin;
pub mod compile;
mod python;

pub mod deployer;
pub mod file;
pub mod migrate;
pub mod plan;
mod substitute;
pub mod validate;

pub use build::{BuildError, BuildOptions, WASM_TARGET, build_package};
pub use compile::{Compiled, DeclaredCase, compile, compile_contract};
pub use deployer::{DeployError, DeployRequest, Deployer, Outcome};
pub use plan::Plan;
pub use python::{COMPONENTIZE_PY, build_python, user_cache};

use crate::snapshot::Components;
use crate::store::StoreError;
use crate::store::model::Project;
use serde_saphyr::Location;
use std::fmt;
use std::path::{Path, PathBuf};

/// One refused entry of a project file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryProblem {
    /// Line and column of the entry, when known (never on the server,
    /// which has no file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<(u64, u64)>,
    /// The entry, e.g. `routes."/hello".methods.GET`.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a project file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The file cannot be read.
    #[error("cannot read {}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("{}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Entries are invalid; every one found is listed.
    #[error("{} is refused:\n{}", file.display(), ProblemList(file, problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The refused entries.
        problems: Vec<EntryProblem>,
    },
    /// The store could not take the project.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The deploy was refused for a reason outside the file.
    #[error("{0}")]
    Deploy(String),
}

struct ProblemList<'a>(&'a Path, &'a [EntryProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.1.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}", self.0.display())?;
            if let Some((line, column)) = problem.location {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": {}: {}", problem.entry, problem.reason)?;
        }
        Ok(())
    }
}

pub(crate) fn at(location: Location) -> Option<(u64, u64)> {
    (location != Location::UNKNOWN).then(|| (location.line(), location.column()))
}

/// Sorts what has no meaningful order, so the same project always has the
/// same records (and deploying it again changes nothing).
pub fn normalize(project: &mut Project) {
    project.actions.sort_by(|a, b| a.name.cmp(&b.name));
    project.schemas.sort_by(|a, b| a.name.cmp(&b.name));
    project.connections.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(rates) = &mut project.rates {
        rates.sort_by(|a, b| a.name.cmp(&b.name));
    }
    for action in &mut project.actions {
        action.connections.sort();
        action.connections.dedup();
    }
    for route in &mut project.routes {
        route.versions.sort_by_key(|version| version.version);
        for version in &mut route.versions {
            for method in &mut version.methods {
                method.scopes.sort();
                method.scopes.dedup();
            }
        }
    }
}

/// Compiles the project in `file` and deploys it through `deployer`, with
/// problems located in the file.
pub async fn deploy_file(
    deployer: &Deployer,
    file: &Path,
    build: &BuildOptions,
    author: &str,
) -> Result<Outcome, ProjectError> {
    let compiled = compile(file, build).await?;
    let components: Vec<_> = compiled.components.values().cloned().collect();
    deployer
        .deploy(DeployRequest {
            project: compiled.project.clone(),
            components: Components::Local(&compiled.components),
            new_components: components,
            source: format!("file:{}", file.display()),
            author: author.to_owned(),
            expected: None,
            dry_run: false,
        })
        .await
        .map_err(|err| match err {
            DeployError::Invalid(problems) => compiled.locate(problems),
            DeployError::Store(err) => ProjectError::Store(err),
            other => ProjectError::Deploy(other.to_string()),
        })
}
