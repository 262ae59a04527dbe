//! Access tokens as JWTs (RFC 9068 profile): EdDSA-signed with a `kid`,
//! verified with the algorithm pinned and `iss`, `aud` and `exp` checked.

use super::keys::Keys;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims of a Fusio access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer: this Fusio's public URL.
    pub iss: String,
    /// The resource owner: the user's store id.
    pub sub: String,
    /// The audience: this Fusio's public URL.
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// The token id, as recorded in the store for revocation.
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The app the token was issued to.
    pub client_id: String,
    /// Whether the app holds it for itself (`client_credentials`) rather
    /// than for a user: rate limits then count the app, not its owner.
    #[serde(default, skip_serializing_if = "is_false")]
    pub client_only: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Claims {
    /// The scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

/// Why a presented token is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    /// Not a JWT, a different algorithm, or a header without `kid`.
    #[error("the token is malformed or not signed with EdDSA")]
    Malformed,
    /// Signed with a key this server does not know.
    #[error("the token's key is unknown")]
    UnknownKey,
    /// The signature, issuer, audience or a required claim is wrong.
    #[error("the token is not valid: {0}")]
    Rejected(String),
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
    /// Revoked, or its app or user is no longer active.
    #[error("the token has been revoked")]
    Revoked,
}

/// Signs and verifies access tokens for one issuer.
pub struct Jwt {
    keys: Keys,
    issuer: String,
    validation: Validation,
}

impl Jwt {
    /// A signer/verifier whose issuer and audience are `issuer`.
    pub fn new(keys: Keys, issuer: String) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Self {
            keys,
            issuer,
            validation,
        }
    }

    /// The issuer (and audience) of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS to publish.
    pub fn jwks(&self) -> &serde_json::Value {
        self.keys.jwks()
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let (kid, key) = self.keys.signing();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, key).expect("an Ed25519 key signs any claims")
    }

    /// Checks the signature and the claims of `token`.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        self.decode(token, &self.validation)
    }

    /// Checks the signature and issuer of `token` but accepts it expired:
    /// for revocation and introspection, which must recognise old tokens.
    pub fn verify_signature(&self, token: &str) -> Result<Claims, InvalidToken> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        self.decode(token, &validation)
    }

    fn decode(&self, token: &str, validation: &Validation) -> Result<Claims, InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(InvalidToken::Malformed);
        }
        let kid = header.kid.ok_or(InvalidToken::Malformed)?;
        let key = self.keys.verifying(&kid).ok_or(InvalidToken::UnknownKey)?;
        jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => InvalidToken::Expired,
                _ => InvalidToken::Rejected(err.to_string()),
            })
    }
}
