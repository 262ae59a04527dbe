//! The credentials `fusio login` keeps for later commands: an owner-only
//! JSON file in the user's config directory, with the token, the refresh
//! token and when the token expires.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A saved login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The server.
    pub url: String,
    /// Who logged in.
    pub user: String,
    /// The bearer token.
    pub access_token: String,
    /// Renews the token once it expires.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Unix seconds after which the token no longer works.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// Why credentials could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No file: nobody logged in.
    #[error("not logged in ({} does not exist): run `fusio login` or set FUSIO_CLIENT_ID and FUSIO_CLIENT_SECRET", .0.display())]
    Missing(PathBuf),
    /// No place for the file.
    #[error("no HOME or XDG_CONFIG_HOME: give --credentials")]
    NoHome,
    /// The file cannot be read or written.
    #[error("cannot use {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not what `fusio login` writes.
    #[error("{} is not a credentials file: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Where credentials live unless `--credentials` says otherwise:
/// `$XDG_CONFIG_HOME/fusio/credentials.json` or `~/.config/fusio/…`.
pub fn default_path() -> Result<PathBuf, CredentialsError> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .map(|dir| dir.join("fusio/credentials.json"))
        .ok_or(CredentialsError::NoHome)
}

impl Credentials {
    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => CredentialsError::Missing(path.to_owned()),
            _ => CredentialsError::Io {
                path: path.to_owned(),
                source,
            },
        })?;
        serde_json::from_slice(&bytes).map_err(|e| CredentialsError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Writes the file at `path`, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let io = |source| CredentialsError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let bytes = serde_json::to_vec_pretty(self).expect("credentials always serialize");
        write_private(path, &bytes).map_err(io)
    }

    /// Whether the token has expired or will within a minute.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at - 60 <= now)
    }
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
