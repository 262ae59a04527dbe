//! Builds Python actions into action components with componentize-py (from
//! PyPI, installed with pip the first time it is missing): the user's
//! module, Fusio's API module (`fusio.py`) and an entry module that exports
//! the handler, against the action world. A build is kept by the hash of
//! its inputs, so deploying an unchanged module does not build it again.

use super::build::{BuildError, BuildOptions};
use crate::digest::sha256_hex;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The componentize-py release Fusio builds with.
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// The action world, as the builder reads it.
const WORLD: &str = include_str!("../../../wit/action.wit");

/// The Python side of the action API, importable as `fusio`.
const API: &str = include_str!("../../engines/python/fusio.py");

/// Runs componentize-py's command line from its Python package, so a
/// console script missing from PATH does not matter.
const RUN: &str =
    "import sys, componentize_py; sys.argv[0] = 'componentize-py'; componentize_py.script()";

/// Builds the module in `file` and answers the path of its component.
pub async fn build_python(file: &Path, options: &BuildOptions) -> Result<PathBuf, BuildError> {
    let failed = |reason: String| BuildError::Python {
        file: file.to_owned(),
        reason,
    };
    let module = file
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| is_identifier(s) && *s != "fusio" && *s != "fusio_main")
        .ok_or_else(|| {
            failed(
                "the file name must be a Python module name (letters, digits, `_`), not `fusio`"
                    .into(),
            )
        })?
        .to_owned();
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let key =
        inputs_hash(dir, &module).map_err(|e| failed(format!("cannot read the module: {e}")))?;
    let root = cache_root(options, dir);
    let out = root.join(format!("{key}.wasm"));
    if out.is_file() {
        // Used again: the pruning below keeps what was used last.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(&out)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(out);
    }
    // A directory of its own: two deploys may build the same module at once.
    let work = root.join(format!("{key}.{}.build", uuid::Uuid::new_v4().simple()));
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().expect("a parent"))
            .and_then(|()| std::fs::write(path, text))
    };
    write(work.join("wit/action.wit"), WORLD)
        .and_then(|()| write(work.join("app/fusio.py"), API))
        .and_then(|()| write(work.join("app/fusio_main.py"), &entry(&module)))
        .map_err(|e| failed(format!("cannot write the build directory: {e}")))?;
    ensure_tool().await.map_err(&failed)?;
    tracing::info!(module = %file.display(), "building Python action");
    let built = work.join("action.wasm");
    let output = tokio::process::Command::new(python())
        .arg("-c")
        .arg(RUN)
        .arg("-q")
        .arg("-d")
        .arg(work.join("wit"))
        .arg("-w")
        .arg("action")
        .arg("componentize")
        .arg("fusio_main")
        .arg("-p")
        .arg(work.join("app"))
        .arg("-p")
        .arg(dir)
        .arg("-o")
        .arg(&built)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| failed(format!("cannot run Python: {e}")))?;
    let kept = if output.status.success() {
        std::fs::rename(&built, &out).map_err(|e| failed(format!("cannot keep the build: {e}")))
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    };
    let _ = std::fs::remove_dir_all(&work);
    if kept.is_ok() {
        prune(&root, KEPT_BUILDS);
    }
    kept.map(|()| out)
}

/// How many built modules the cache keeps (each is ~20 MB).
const KEPT_BUILDS: usize = 16;

/// Removes all but the `keep` most recently used builds in `root`.
fn prune(root: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut builds: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "wasm"))
        .filter_map(|path| Some((path.metadata().ok()?.modified().ok()?, path)))
        .collect();
    builds.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
    for (_, old) in builds.into_iter().skip(keep) {
        let _ = std::fs::remove_file(old);
    }
}

/// The module componentize-py starts from: it exports the handler and
/// hands each request to the user's `handle`.
fn entry(module: &str) -> String {
    format!(
        "import fusio\nimport {module}\nfrom wit_world import exports\n\n\
         class Handler(exports.Handler):\n    def handle(self, request):\n        \
         return fusio.run({module}.handle, request)\n"
    )
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a build depends on: the Python files beside the module (which it
/// may import), the API, the world and the builder's version.
fn inputs_hash(dir: &Path, module: &str) -> std::io::Result<String> {
    let mut files = Vec::new();
    collect(dir, &mut files, 0)?;
    files.sort();
    let mut text = format!(
        "{COMPONENTIZE_PY}\0{module}\0{}\0{}\0",
        sha256_hex(API.as_bytes()),
        sha256_hex(WORLD.as_bytes())
    );
    for path in files {
        let bytes = std::fs::read(&path)?;
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        text.push_str(&format!("{}\0{}\0", relative.display(), sha256_hex(&bytes)));
    }
    Ok(sha256_hex(text.as_bytes()))
}

/// The `.py` files below `dir`, a few levels deep, skipping build output.
fn collect(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 4 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && !matches!(name, "target" | "__pycache__" | "node_modules")
            {
                collect(&path, files, depth + 1)?;
            }
        } else if name.ends_with(".py") {
            files.push(path);
        }
    }
    Ok(())
}

/// Where builds are kept: below the build's target directory when one is
/// given, else in the user's cache (never a shared temporary directory,
/// where another user could plant a component under a hash).
fn cache_root(options: &BuildOptions, dir: &Path) -> PathBuf {
    if let Some(target) = &options.target_dir {
        return target.join("fusio-python");
    }
    match user_cache() {
        Some(cache) => cache.join("python"),
        None => dir.join(".fusio-build"),
    }
}

/// Fusio's directory in the user's cache (`$XDG_CACHE_HOME/fusio`, else
/// `~/.cache/fusio`), when there is a home to put it in.
pub fn user_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|cache| cache.join("fusio"))
}

fn python() -> String {
    std::env::var("FUSIO_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// componentize-py importable, installed with pip when it is not.
async fn ensure_tool() -> Result<(), String> {
    let importable = || async {
        tokio::process::Command::new(python())
            .args(["-c", "import componentize_py"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    };
    if importable().await {
        return Ok(());
    }
    tracing::info!("installing {COMPONENTIZE_PY} with pip");
    let output = tokio::process::Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            COMPONENTIZE_PY,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| format!("cannot run Python ({}): {e}", python()))?;
    if output.status.success() && importable().await {
        return Ok(());
    }
    Err(format!(
        "Python actions need {COMPONENTIZE_PY}, and pip could not install it: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn the_cache_keeps_the_builds_used_last() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for i in 0..5u64 {
            let path = root.path().join(format!("{i}.wasm"));
            let file = std::fs::File::create(&path).unwrap();
            // Build `i` was used `i` hours ago.
            file.set_modified(now - Duration::from_secs(3600 * i))
                .unwrap();
        }
        std::fs::write(root.path().join("notes.txt"), "kept").unwrap();
        prune(root.path(), 3);
        let mut left: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["0.wasm", "1.wasm", "2.wasm", "notes.txt"]);
    }
}
