//! How each SQL database Fusio connects to writes what the built-ins put
//! into a statement themselves: placeholders and quoted identifiers.

/// The SQL dialect of a connection, from its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?`, `"name"`.
    Sqlite,
    /// PostgreSQL: `$1`, `"name"`.
    Postgres,
    /// MySQL and MariaDB: `?`, `` `name` ``.
    Mysql,
}

impl Dialect {
    /// The dialect of the SQL connection at `url` (`sqlite:`, `postgres:`,
    /// `postgresql:`, `mysql:`, `mariadb:`).
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres") {
            Self::Postgres
        } else if url.starts_with("mysql") || url.starts_with("mariadb") {
            Self::Mysql
        } else {
            Self::Sqlite
        }
    }

    /// Its name as a built-in's script reads it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
        }
    }

    /// The placeholder of the `n`th (1-based) parameter of a statement.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::Sqlite | Self::Mysql => "?".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_names_the_dialect() {
        for (url, dialect) in [
            ("sqlite://todo.db", Dialect::Sqlite),
            ("sqlite::memory:", Dialect::Sqlite),
            ("postgres://u@h/db", Dialect::Postgres),
            ("postgresql://u@h/db", Dialect::Postgres),
            ("mysql://root@h/db", Dialect::Mysql),
            ("mariadb://root@h/db", Dialect::Mysql),
        ] {
            assert_eq!(Dialect::of_url(url), dialect, "{url}");
        }
        assert_eq!(Dialect::Postgres.placeholder(3), "$3");
        assert_eq!(Dialect::Mysql.placeholder(3), "?");
    }
}
