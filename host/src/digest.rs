//! Content hashes: a component is stored and cached under its sha256, a
//! migration is recognised by it. Ground floor: every layer may use it.

use sha2::{Digest, Sha256};

/// The lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
