//! Where a user connection may reach. A project's SQL connection (used by
//! its actions and its migrations alike) names a database; this module
//! decides, before anything connects, whether that database is the
//! connection's own or part of the server: SQLite files live in the
//! connections directory (`<data-dir>/connections/`) or below a directory
//! the operator allowed, never on the system store, the secret key or the
//! precompile cache; a PostgreSQL connection never names the store's own
//! database. What a statement may do once connected is the SQL layer's
//! business (the SQLite guard refuses `ATTACH` and friends).

use std::path::{Component, Path, PathBuf};

/// The name of the directory below the data directory that holds the
/// SQLite files of user connections.
pub const CONNECTIONS_DIR: &str = "connections";

/// What user connections of one node may reach.
#[derive(Debug, Clone)]
pub struct Confinement {
    data_dir: PathBuf,
    connections_dir: PathBuf,
    allowed: Vec<PathBuf>,
    protected: Vec<PathBuf>,
    store: Option<ServerDatabase>,
}

/// Where a SQL connection connects, once confined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlTarget {
    /// A SQLite file the connection owns (normalized, links resolved).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database per pooled connection.
    SqliteMemory,
    /// A database server (`postgres:`, `mysql:`), its URL as written.
    Server(String),
}

/// A database on a server, as far as a URL tells: enough to recognise the
/// store's own database under another spelling of its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServerDatabase {
    host: String,
    port: u16,
    database: String,
}

/// Why a connection may not reach where its URL points: the text names
/// the setting and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(String);

impl Confinement {
    /// The confinement of a node whose data directory is `data_dir`.
    /// `allowed` are the directories where absolute SQLite paths may lie
    /// (`--sqlite-dir`); `protected` are the server's own files and
    /// directories (store file, secret key, precompile cache), refused
    /// wherever they are; `store_url` is the system store's URL when it is
    /// a database server.
    pub fn new(
        data_dir: &Path,
        allowed: &[PathBuf],
        protected: &[PathBuf],
        store_url: Option<&str>,
    ) -> Self {
        let data_dir = canonical_or_absolute(data_dir);
        Self {
            connections_dir: data_dir.join(CONNECTIONS_DIR),
            allowed: allowed.iter().map(|d| canonical_or_absolute(d)).collect(),
            protected: protected.iter().map(|p| canonical_or_absolute(p)).collect(),
            store: store_url.and_then(server_database),
            data_dir,
        }
    }

    /// The directory holding the SQLite files of relative `sqlite:` paths.
    pub fn connections_dir(&self) -> &Path {
        &self.connections_dir
    }

    /// Where the connection URL `url` connects, or why it may not: the
    /// reason names what is wrong, so a deploy can say it with the entry.
    /// A relative SQLite file's directories are created here (a file is
    /// created on first connect).
    pub fn sql_target(&self, url: &str) -> Result<SqlTarget, Unreachable> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return self.sqlite(rest).map_err(Unreachable);
        }
        if let Some(database) = server_database(url)
            && self.store.as_ref() == Some(&database)
        {
            return Err(Unreachable(format!(
                "config.url names the system store's own database `{}` on {}:{}; \
                 give the connection a database (and role) of its own",
                database.database, database.host, database.port
            )));
        }
        Ok(SqlTarget::Server(url.to_owned()))
    }

    fn sqlite(&self, rest: &str) -> Result<SqlTarget, String> {
        const FORMS: &str = "write `sqlite:NAME.db` (a file in the server's connections directory) \
                             or `sqlite:/absolute/path.db` (below a --sqlite-dir)";
        if rest == ":memory:" {
            return Ok(SqlTarget::SqliteMemory);
        }
        if rest.starts_with("//") {
            return Err(format!("`sqlite://` URLs are not accepted: {FORMS}"));
        }
        if rest.starts_with("file:") || rest.starts_with(':') {
            return Err(format!(
                "SQLite URIs and special names are not accepted: {FORMS}"
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(format!(
                "options (`?…`) are not accepted in a sqlite: URL: {FORMS}"
            ));
        }
        if rest.is_empty() || rest.contains('\0') || rest.ends_with('/') {
            return Err(format!("config.url names no file: {FORMS}"));
        }
        let path = Path::new(rest);
        let mut normal = PathBuf::new();
        for component in path.components() {
            match component {
                Component::ParentDir => {
                    return Err(format!(
                        "`..` is not accepted in a sqlite: path (`{rest}`): {FORMS}"
                    ));
                }
                Component::CurDir => {}
                other => normal.push(other),
            }
        }
        let (base, file) = if normal.is_absolute() {
            let base = self
                .allowed
                .iter()
                .find(|dir| normal.starts_with(dir))
                .ok_or_else(|| {
                    if self.allowed.is_empty() {
                        format!(
                            "`{rest}` is an absolute path, and the server allows none \
                             (start it with --sqlite-dir DIR to allow files below DIR)"
                        )
                    } else {
                        format!(
                            "`{rest}` is not below a directory the server allows ({})",
                            self.allowed
                                .iter()
                                .map(|d| d.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                })?;
            (base.clone(), normal)
        } else {
            (
                self.connections_dir.clone(),
                self.connections_dir.join(&normal),
            )
        };
        let file = resolve_below(&base, &file).map_err(|reason| format!("`{rest}` {reason}"))?;
        if self.is_protected(&file) {
            return Err(format!(
                "`{rest}` is one of the server's own files (system store, secret key, \
                 precompile cache or data directory); a connection needs a database of its own"
            ));
        }
        Ok(SqlTarget::SqliteFile(file))
    }

    /// Whether `file` (canonical) belongs to the server: a protected file
    /// or one of SQLite's companions of it (`-wal`, `-shm`, `-journal`), a
    /// file below a protected directory, or anything in the data directory
    /// outside the connections directory.
    fn is_protected(&self, file: &Path) -> bool {
        let in_data_dir =
            file.starts_with(&self.data_dir) && !file.starts_with(&self.connections_dir);
        in_data_dir
            || self.protected.iter().any(|p| {
                file.starts_with(p)
                    || (file.parent() == p.parent()
                        && match (file.file_name(), p.file_name()) {
                            (Some(f), Some(p)) => f
                                .to_string_lossy()
                                .starts_with(&format!("{}-", p.to_string_lossy())),
                            _ => false,
                        })
            })
    }
}

/// `file` (below `base`, lexically) with its directory created and its
/// links resolved, or why it leaves `base` or is no plain file.
fn resolve_below(base: &Path, file: &Path) -> Result<PathBuf, String> {
    let parent = file.parent().ok_or("names no file")?;
    let name = file.file_name().ok_or("names no file")?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create its directory {}: {e}", parent.display()))?;
    let base = base
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", base.display()))?;
    let parent = parent
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", parent.display()))?;
    if !parent.starts_with(&base) {
        return Err(format!("leaves {} through a symbolic link", base.display()));
    }
    let file = parent.join(name);
    match std::fs::symlink_metadata(&file) {
        Ok(meta) if meta.file_type().is_symlink() => {
            Err("is a symbolic link; name the file itself".into())
        }
        Ok(meta) if !meta.is_file() => Err("is not a file".into()),
        _ => Ok(file),
    }
}

/// `path` with its links resolved when it exists, else made absolute.
fn canonical_or_absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|dir| dir.join(path))
            .unwrap_or_else(|_| path.to_owned())
    })
}

/// The database a `postgres:` URL names (host, port, database), with
/// every loopback spelling (`localhost`, `127.0.0.1`, `::1`, a socket
/// directory) taken as one host.
fn server_database(url: &str) -> Option<ServerDatabase> {
    use sqlx::postgres::PgConnectOptions;
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        return None;
    }
    let options: PgConnectOptions = url.parse().ok()?;
    let host = options.get_host().trim_matches(['[', ']']).to_lowercase();
    let loopback = host == "localhost"
        || host.starts_with('/')
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Some(ServerDatabase {
        host: if loopback { "localhost".into() } else { host },
        port: options.get_port(),
        database: options
            .get_database()
            .unwrap_or_else(|| options.get_username())
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{Confinement, SqlTarget};
    use std::path::PathBuf;

    fn confinement(dir: &std::path::Path, allowed: &[PathBuf]) -> Confinement {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("fusio.db"), b"").unwrap();
        Confinement::new(
            &data,
            allowed,
            &[
                data.join("fusio.db"),
                data.join("secret.key"),
                data.join("cache"),
            ],
            Some("postgres://postgres@127.0.0.1:5432/fusio"),
        )
    }

    #[test]
    fn a_relative_path_is_a_file_in_the_connections_directory() {
        let dir = tempfile::tempdir().unwrap();
        let c = confinement(dir.path(), &[]);
        let first = c.sql_target("sqlite:todo.db");
        let want = c.connections_dir().canonicalize().unwrap().join("todo.db");
        assert_eq!(first, Ok(SqlTarget::SqliteFile(want.clone())));
        assert_eq!(
            c.sql_target("sqlite:./todo.db"),
            Ok(SqlTarget::SqliteFile(want))
        );
        let nested = c.sql_target("sqlite:app/todo.db").unwrap();
        assert_eq!(
            nested,
            SqlTarget::SqliteFile(
                c.connections_dir()
                    .canonicalize()
                    .unwrap()
                    .join("app/todo.db")
            )
        );
    }

    #[test]
    fn ways_out_of_the_connections_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = confinement(dir.path(), &[]);
        for (url, says) in [
            ("sqlite:x/../fusio.db", "`..`"),
            ("sqlite:../fusio.db", "`..`"),
            ("sqlite://fusio.db", "sqlite://"),
            ("sqlite:///etc/passwd", "sqlite://"),
            ("sqlite:file:fusio.db", "URIs"),
            ("sqlite:todo.db?mode=rwc", "options"),
            ("sqlite:todo.db#x", "options"),
            ("sqlite:", "names no file"),
            ("sqlite:/etc/passwd", "allows none"),
        ] {
            let err = c.sql_target(url).expect_err(url);
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
        let store = dir.path().join("data/fusio.db");
        let err = c
            .sql_target(&format!("sqlite:{}", store.display()))
            .unwrap_err();
        assert!(err.to_string().contains("allows none"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = confinement(dir.path(), &[]);
        std::fs::create_dir_all(c.connections_dir()).unwrap();
        std::os::unix::fs::symlink(dir.path().join("data"), c.connections_dir().join("up"))
            .unwrap();
        let err = c.sql_target("sqlite:up/fusio.db").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        std::os::unix::fs::symlink(
            dir.path().join("data/fusio.db"),
            c.connections_dir().join("store.db"),
        )
        .unwrap();
        let err = c.sql_target("sqlite:store.db").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[test]
    fn absolute_paths_work_below_an_allowed_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("dbs");
        std::fs::create_dir_all(&allowed).unwrap();
        let c = confinement(dir.path(), std::slice::from_ref(&allowed));
        let inside = allowed.join("app.db");
        assert_eq!(
            c.sql_target(&format!("sqlite:{}", inside.display())),
            Ok(SqlTarget::SqliteFile(
                allowed.canonicalize().unwrap().join("app.db")
            ))
        );
        let outside = dir.path().join("other.db");
        let err = c
            .sql_target(&format!("sqlite:{}", outside.display()))
            .unwrap_err();
        assert!(err.to_string().contains("not below a directory"), "{err}");
    }

    #[test]
    fn the_server_s_own_files_are_refused_even_below_an_allowed_directory() {
        let dir = tempfile::tempdir().unwrap();
        let c = confinement(dir.path(), &[dir.path().to_owned()]);
        for file in [
            "data/fusio.db",
            "data/fusio.db-wal",
            "data/secret.key",
            "data/cache/x.db",
            "data/other.db",
        ] {
            let url = format!("sqlite:{}", dir.path().join(file).display());
            let err = c.sql_target(&url).expect_err(file);
            assert!(
                err.to_string().contains("server's own files"),
                "{file}: {err}"
            );
        }
        let own = format!(
            "sqlite:{}",
            dir.path().join("data/connections/a.db").display()
        );
        assert!(c.sql_target(&own).is_ok());
    }

    #[test]
    fn the_store_s_own_postgres_database_is_refused_under_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let c = confinement(dir.path(), &[]);
        for url in [
            "postgres://postgres@127.0.0.1:5432/fusio",
            "postgres://app:pw@localhost/fusio",
            "postgresql://app@[::1]:5432/fusio",
        ] {
            let err = c.sql_target(url).expect_err(url);
            assert!(err.to_string().contains("system store"), "{url}: {err}");
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/app",
            "postgres://postgres@127.0.0.1:5433/fusio",
            "postgres://postgres@db.example/fusio",
            "mysql://root@127.0.0.1/fusio",
        ] {
            assert_eq!(
                c.sql_target(url),
                Ok(SqlTarget::Server(url.into())),
                "{url}"
            );
        }
    }
}
