//! The Ed25519 keys that sign access tokens. They live in the system store
//! so that every node signs and verifies with the same keys; the first node
//! to start creates one. The newest key signs, every unretired key verifies
//! and is published in the JWKS.

use super::AuthError;
use crate::store::Store;
use crate::store::identity::SigningKey;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const ALGORITHM: &str = "EdDSA";

/// The loaded keys: one to sign with, all to verify with.
pub struct Keys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
}

impl Keys {
    /// Loads the store's keys, creating the first one when there is none.
    /// Keys an older Fusio stored in clear are sealed first, so after a
    /// start none is readable without the secret key.
    pub async fn load_or_create(store: &Store) -> Result<Self, AuthError> {
        store.seal_clear_signing_keys().await?;
        let mut stored = store.signing_keys().await?;
        if stored.is_empty() {
            store.insert_signing_key(&generate()).await?;
            // Another node may have created one at the same moment: reading
            // back makes every node pick the same newest key.
            stored = store.signing_keys().await?;
        }
        Self::from_stored(&stored)
    }

    fn from_stored(stored: &[SigningKey]) -> Result<Self, AuthError> {
        let newest = stored
            .iter()
            .find(|key| key.algorithm == ALGORITHM)
            .ok_or_else(|| AuthError::Keys("no EdDSA signing key is stored".into()))?;
        let seed: [u8; 32] = STANDARD
            .decode(&newest.private_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| AuthError::Keys(format!("signing key {} is unreadable", newest.kid)))?;
        let der = ed25519_dalek::SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .map_err(|err| AuthError::Keys(format!("signing key {}: {err}", newest.kid)))?;
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for key in stored.iter().filter(|key| key.algorithm == ALGORITHM) {
            let decoding = DecodingKey::from_ed_components(&key.public_key)
                .map_err(|err| AuthError::Keys(format!("public key {}: {err}", key.kid)))?;
            verifying.insert(key.kid.clone(), decoding);
            jwks.push(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": key.public_key,
                "kid": key.kid,
                "alg": ALGORITHM,
                "use": "sig",
            }));
        }
        Ok(Self {
            signing_kid: newest.kid.clone(),
            signing: EncodingKey::from_ed_der(der.as_bytes()),
            verifying,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    /// The key id and key that sign new tokens.
    pub fn signing(&self) -> (&str, &EncodingKey) {
        (&self.signing_kid, &self.signing)
    }

    /// The key that verifies tokens signed under `kid`.
    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// The JSON Web Key Set served at `/authorization/jwks`.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

/// A fresh Ed25519 key; its id is derived from the public key.
fn generate() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the operating system has no random source");
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    SigningKey {
        kid: hex::encode(&Sha256::digest(public)[..8]),
        algorithm: ALGORITHM.into(),
        private_key: STANDARD.encode(seed),
        public_key: URL_SAFE_NO_PAD.encode(public),
    }
}
