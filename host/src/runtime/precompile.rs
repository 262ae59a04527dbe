//! The on-disk precompile cache: compiled components keyed by the component's
//! sha256 and the engine's compatibility hash, so a restart does not compile
//! again and an engine upgrade never loads stale code.

use super::RuntimeError;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How the cache has been used since the runtime started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PrecompileStats {
    /// Components loaded from a precompiled file.
    pub hits: u64,
    /// Components compiled (and then written to the cache).
    pub misses: u64,
}

pub(super) struct PrecompileCache {
    dir: PathBuf,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Feeds `Hash` output into sha256, so the engine hash is stable across runs
/// (std's `DefaultHasher` promises no such thing).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only the digest is read")
    }
}

fn engine_hash(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..12])
}

impl PrecompileCache {
    pub(super) fn open(root: &Path, engine: &Engine) -> Result<Self, RuntimeError> {
        let dir = root.join(engine_hash(engine));
        std::fs::create_dir_all(&dir).map_err(|source| RuntimeError::Cache {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    pub(super) fn stats(&self) -> PrecompileStats {
        PrecompileStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    /// The precompiled component, when the cache holds a usable one.
    pub(super) fn lookup(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path(sha256);
        if !path.exists() {
            return None;
        }
        match deserialize(engine, &path) {
            Ok(component) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(sha256, "component loaded from the precompile cache");
                Some(component)
            }
            Err(err) => {
                tracing::warn!(
                    sha256,
                    error = format!("{err:#}"),
                    "dropping an unusable precompiled file"
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Compiles `bytes` and writes the result for the next start; a write
    /// failure only costs a recompile later, so it is logged, not returned.
    pub(super) fn compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<Component> {
        let component = Component::from_binary(engine, bytes)?;
        self.misses.fetch_add(1, Ordering::Relaxed);
        if let Err(err) = self.write(sha256, &component) {
            tracing::warn!(sha256, error = err, "cannot write the precompile cache");
        }
        Ok(component)
    }

    fn write(&self, sha256: &str, component: &Component) -> Result<(), String> {
        let serialized = component.serialize().map_err(|e| format!("{e:#}"))?;
        let tmp = self
            .dir
            .join(format!("{sha256}.{}.tmp", uuid::Uuid::new_v4()));
        std::fs::write(&tmp, serialized).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, self.path(sha256)).map_err(|e| e.to_string())
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was written by `PrecompileCache::write` from
    // `Component::serialize` into our own data directory, atomically by
    // rename, under a directory named for this engine's compatibility hash.
    // wasmtime still checks its header and version before using it.
    unsafe { Component::deserialize_file(engine, path) }
}
