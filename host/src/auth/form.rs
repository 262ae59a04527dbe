//! The form of an OAuth2 request (the token endpoint's body, the authorize
//! endpoint's query and consent form), read with RFC 6749's rules.

use super::oauth_error::OAuthError;
use http::{HeaderMap, header};
use std::collections::HashMap;

/// The largest value a form parameter may have.
const MAX_PARAM: usize = 4096;

/// The form parameters of an OAuth2 request: each at most once, none
/// oversized, empty values treated as absent (RFC 6749 3.1, 3.2).
#[derive(Debug, Default)]
pub struct Form(pub(super) HashMap<String, String>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let form_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(OAuthError::InvalidRequest(
                "the body must be application/x-www-form-urlencoded".into(),
            ));
        }
        Self::from_pairs(body)
    }

    /// Parses a query string (or any urlencoded text) with the same rules.
    pub fn from_pairs(text: &[u8]) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (name, value) in form_urlencoded::parse(text) {
            if value.len() > MAX_PARAM || name.len() > MAX_PARAM {
                return Err(OAuthError::InvalidRequest(format!(
                    "parameter `{}` is longer than {MAX_PARAM} bytes",
                    truncate(&name)
                )));
            }
            if value.is_empty() {
                continue;
            }
            if params
                .insert(name.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::InvalidRequest(format!(
                    "parameter `{name}` is given more than once"
                )));
            }
        }
        Ok(Self(params))
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::InvalidRequest(format!("parameter `{name}` is missing")))
    }
}

/// The first 40 characters of `text`, for messages that quote what a
/// client sent.
pub(super) fn truncate(text: &str) -> &str {
    text.char_indices()
        .nth(40)
        .map_or(text, |(i, _)| &text[..i])
}
