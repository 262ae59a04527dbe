//! Builds Rust action packages for `wasm32-wasip2` with cargo and finds the
//! component each produced, from cargo's JSON messages rather than guessed
//! target paths.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The Rust target actions are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// How action packages are built.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Cargo's target directory for the builds; cargo's default when `None`.
    pub target_dir: Option<PathBuf>,
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be started.
    #[error("cannot run cargo: {0}")]
    Spawn(std::io::Error),
    /// cargo reported a failure; its diagnostics went to stderr.
    #[error("cargo build failed for {package} (its errors are printed above)")]
    Failed {
        /// The package directory.
        package: PathBuf,
    },
    /// A Python module could not be built (componentize-py's message).
    #[error("building the Python module {file} failed: {reason}")]
    Python {
        /// The module's file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The build succeeded without producing a component.
    #[error(
        "building {package} produced no .wasm component; is it a `crate-type = [\"cdylib\"]` package?"
    )]
    NoArtifact {
        /// The package directory.
        package: PathBuf,
    },
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

/// Builds the package in `dir` (release, `wasm32-wasip2`) and answers the
/// path of its component.
pub async fn build_package(dir: &Path, options: &BuildOptions) -> Result<PathBuf, BuildError> {
    let manifest = dir.join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--target")
        .arg(WASM_TARGET)
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(target_dir) = &options.target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    tracing::info!(package = %dir.display(), "building action package");
    let output = command.output().await.map_err(BuildError::Spawn)?;
    if !output.status.success() {
        return Err(BuildError::Failed {
            package: dir.to_owned(),
        });
    }
    let manifest = std::fs::canonicalize(&manifest).unwrap_or(manifest);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| {
            m.reason == "compiler-artifact"
                && m.manifest_path.as_deref() == Some(manifest.as_path())
        })
        .flat_map(|m| m.filenames)
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| BuildError::NoArtifact {
            package: dir.to_owned(),
        })
}
