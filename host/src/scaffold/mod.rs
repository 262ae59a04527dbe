//! `fusio new`: a project directory that serves and passes `fusio test` as
//! it is — fusio.yml with one route, its action in the chosen language,
//! test cases and a README with the two commands.

use std::path::{Path, PathBuf};

/// The language of the new project's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// A Rust package built for wasm32-wasip2 with fusio-sdk.
    Rust,
    /// A script run by the engine Fusio ships.
    Js,
    /// A module built with componentize-py.
    Python,
}

/// Why a project could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The directory exists and holds something.
    #[error("{0} exists and is not empty")]
    NotEmpty(PathBuf),
    /// The project name cannot name a directory.
    #[error("`{0}` is not a project name (letters, digits, `-` and `_`)")]
    BadName(String),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

const FUSIO_YML: &str = include_str!("templates/fusio.yml");
const README: &str = include_str!("templates/README.md");
const GITIGNORE: &str = include_str!("templates/gitignore");
const HELLO_JS: &str = include_str!("templates/hello.js");
const HELLO_PY: &str = include_str!("templates/hello.py");
const CARGO_TOML: &str = include_str!("templates/Cargo.toml");
const LIB_RS: &str = include_str!("templates/lib.rs");

/// Where the Rust template finds fusio-sdk: the checkout this binary was
/// built from when it is still there, else the repository.
fn sdk_dependency() -> String {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk");
    match checkout.canonicalize() {
        Ok(path) if path.join("Cargo.toml").is_file() => {
            format!("{{ path = {:?} }}", path.display().to_string())
        }
        _ => format!("{{ git = {:?} }}", env!("CARGO_PKG_REPOSITORY")),
    }
}

/// Writes a new project into `dir` (created; it must not hold anything);
/// answers the files written, relative to it.
pub fn create(dir: &Path, language: Language) -> Result<Vec<PathBuf>, ScaffoldError> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .ok_or_else(|| ScaffoldError::BadName(dir.display().to_string()))?;
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(ScaffoldError::NotEmpty(dir.to_owned()));
    }
    let (component, language_name, action): (&str, &str, Vec<(&str, String)>) = match language {
        Language::Js => (
            "actions/hello.js",
            "JavaScript",
            vec![("actions/hello.js", HELLO_JS.into())],
        ),
        Language::Python => (
            "actions/hello.py",
            "Python",
            vec![("actions/hello.py", HELLO_PY.into())],
        ),
        Language::Rust => (
            "actions/hello",
            "Rust",
            vec![
                (
                    "actions/hello/Cargo.toml",
                    CARGO_TOML.replace("{{sdk}}", &sdk_dependency()),
                ),
                ("actions/hello/src/lib.rs", LIB_RS.into()),
            ],
        ),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{component}}", component)
            .replace("{{language}}", language_name)
    };
    let mut files = vec![
        ("fusio.yml", fill(FUSIO_YML)),
        ("README.md", fill(README)),
        (".gitignore", GITIGNORE.to_owned()),
    ];
    files.extend(action);
    let mut written = Vec::new();
    for (relative, text) in files {
        let path = dir.join(relative);
        let write = || {
            std::fs::create_dir_all(path.parent().expect("a parent"))?;
            std::fs::write(&path, text)
        };
        write().map_err(|source| ScaffoldError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(PathBuf::from(relative));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_directory_that_holds_something_and_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("x"), "").unwrap();
        assert!(matches!(
            create(&taken, Language::Js),
            Err(ScaffoldError::NotEmpty(_))
        ));
        assert!(matches!(
            create(&dir.path().join("a b"), Language::Js),
            Err(ScaffoldError::BadName(_))
        ));
        let made = create(&dir.path().join("demo"), Language::Python).unwrap();
        assert!(made.contains(&PathBuf::from("actions/hello.py")));
        let yml = std::fs::read_to_string(dir.path().join("demo/fusio.yml")).unwrap();
        assert!(yml.contains("component: actions/hello.py"), "{yml}");
    }
}
