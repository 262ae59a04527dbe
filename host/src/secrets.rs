//! Encryption at rest for connection credentials (XChaCha20-Poly1305). The
//! key never lives in the store: it comes from `FUSIO_SECRET_KEY` (base64 of
//! 32 bytes) or a key file (created with a random key on a first start,
//! readable by its owner only). Every node of one store needs the same key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::{Path, PathBuf};

/// The prefix of a sealed value, naming the scheme.
const PREFIX: &str = "sealed:v1:";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// Why secrets cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key is not 32 bytes of base64.
    #[error("the secret key must be 32 bytes, base64-encoded ({0})")]
    BadKey(String),
    /// The key file cannot be read or created.
    #[error("cannot use the key file {}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A sealed value does not open with this key (another key, or damaged).
    #[error(
        "a sealed value does not open with this server's key; every node needs the same FUSIO_SECRET_KEY or key file"
    )]
    WrongKey,
}

/// Seals and opens values with the server's key.
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(…)")
    }
}

impl Cipher {
    /// A cipher over 32 key bytes.
    pub fn from_key(key: &[u8]) -> Result<Self, SecretError> {
        if key.len() != KEY_LEN {
            return Err(SecretError::BadKey(format!("{} bytes given", key.len())));
        }
        Ok(Self {
            aead: XChaCha20Poly1305::new_from_slice(key)
                .map_err(|e| SecretError::BadKey(e.to_string()))?,
        })
    }

    /// The key from `base64` when given, else from `file` (created with a
    /// fresh random key when missing).
    pub fn load(base64: Option<&str>, file: &Path) -> Result<Self, SecretError> {
        if let Some(text) = base64 {
            let key = STANDARD
                .decode(text.trim())
                .map_err(|e| SecretError::BadKey(e.to_string()))?;
            return Self::from_key(&key);
        }
        let io = |source| SecretError::KeyFile {
            path: file.to_owned(),
            source,
        };
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let key = STANDARD
                    .decode(text.trim())
                    .map_err(|e| SecretError::BadKey(format!("{}: {e}", file.display())))?;
                Self::from_key(&key)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                getrandom::fill(&mut key).map_err(|e| io(std::io::Error::other(e.to_string())))?;
                write_new_private(file, STANDARD.encode(key).as_bytes()).map_err(io)?;
                Self::from_key(&key)
            }
            Err(err) => Err(io(err)),
        }
    }

    /// Whether `text` is something [`Self::seal`] made (with any key).
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX)
    }

    /// `plaintext` sealed with a fresh nonce, as text.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the system has randomness");
        let sealed = self
            .aead
            .encrypt(&XNonce::from(nonce), plaintext)
            .expect("encryption with a valid key cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Opens what [`Self::seal`] made.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or(SecretError::WrongKey)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::WrongKey)?;
        self.aead
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| SecretError::WrongKey)
    }
}

/// Creates `path` (never overwriting) readable by its owner only.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret.key");
        let cipher = Cipher::load(None, &file).unwrap();
        let again = Cipher::load(None, &file).unwrap();
        let sealed = cipher.seal(b"postgres://u:correct-horse-battery@db/app");
        assert!(!sealed.contains("correct-horse-battery"));
        assert_ne!(
            sealed,
            cipher.seal(b"postgres://u:correct-horse-battery@db/app"),
            "fresh nonce"
        );
        assert_eq!(
            again.open(&sealed).unwrap(),
            b"postgres://u:correct-horse-battery@db/app"
        );
        let other = Cipher::from_key(&[7; 32]).unwrap();
        assert!(matches!(other.open(&sealed), Err(SecretError::WrongKey)));
        let mut bytes = STANDARD
            .decode(sealed.strip_prefix(PREFIX).unwrap())
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{PREFIX}{}", STANDARD.encode(bytes));
        assert!(matches!(cipher.open(&tampered), Err(SecretError::WrongKey)));
        assert!(Cipher::load(Some("c2hvcnQ="), &file).is_err());
    }
}
