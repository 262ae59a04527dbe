//! The guest test components under `tests/guests`, built once per test run
//! for wasm32-wasip2 into the test target directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
}

/// Cargo's target directory for guest and example builds made by tests.
pub fn build_target_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target_dir = build_target_dir("guests");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(repo_root().join("tests/guests/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building tests/guests failed");
        target_dir.join("wasm32-wasip2/release")
    })
}

/// The path of a built guest component, e.g. `guest("echo")`.
pub fn guest(name: &str) -> PathBuf {
    let path = built().join(format!("guest_{}.wasm", name.replace('-', "_")));
    assert!(path.is_file(), "no guest component at {}", path.display());
    path
}

/// The repository's root, for the example project.
pub fn root() -> &'static Path {
    repo_root()
}
