//! JSON Schemas of a project (the `jsonschema` crate): checked when a
//! project is deployed, compiled once per snapshot, and matched against
//! request bodies before the action runs, so an action only ever sees a
//! body its route promised. References are resolved only inside a
//! document: nothing is fetched from the network or the file system.

use std::sync::Arc;

/// How many violations a refused body lists.
const MAX_VIOLATIONS: usize = 16;

/// A compiled schema.
pub struct Schema {
    name: Arc<str>,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("name", &self.name).finish()
    }
}

/// One way a body misses its schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Violation {
    /// JSON Pointer to the offending value (`""` is the whole body).
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON at all.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON that misses the schema.
    #[error("the body does not match the schema `{schema}`: {}", describe(.violations))]
    Invalid {
        /// The schema's name.
        schema: String,
        /// What is wrong, at most [`MAX_VIOLATIONS`].
        violations: Vec<Violation>,
    },
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            let at = if v.pointer.is_empty() {
                "/"
            } else {
                &v.pointer
            };
            format!("{at}: {}", v.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a document is not a usable JSON Schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid JSON Schema{}: {reason}", at.as_deref().map(|at| format!(" at {at}")).unwrap_or_default())]
pub struct SchemaError {
    /// Where in the document, as a JSON pointer (none for the root).
    pub at: Option<String>,
    /// What the validator said.
    pub reason: String,
}

impl Schema {
    /// Compiles `document`; the error says why it is not a usable schema.
    pub fn compile(name: &str, document: &serde_json::Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::validator_for(document).map_err(|err| {
            let at = err.instance_path().to_string();
            SchemaError {
                at: (!at.is_empty()).then_some(at),
                reason: err.to_string(),
            }
        })?;
        Ok(Self {
            name: name.into(),
            validator,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks a request body against the schema.
    pub fn check(&self, body: &[u8]) -> Result<(), BodyError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| BodyError::NotJson(e.to_string()))?;
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(&value)
            .take(MAX_VIOLATIONS)
            .map(|err| Violation {
                pointer: err.instance_path().to_string(),
                message: err.to_string(),
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(BodyError::Invalid {
                schema: self.name.to_string(),
                violations,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_bodies_and_names_the_offending_value() {
        let todo = Schema::compile(
            "Todo",
            &json!({
                "type": "object",
                "properties": { "title": { "type": "string", "minLength": 1 } },
                "required": ["title"]
            }),
        )
        .unwrap();
        assert!(todo.check(br#"{"title":"milk"}"#).is_ok());
        match todo.check(br#"{"title":""}"#).unwrap_err() {
            BodyError::Invalid { schema, violations } => {
                assert_eq!(schema, "Todo");
                assert_eq!(violations[0].pointer, "/title");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(todo.check(b"{"), Err(BodyError::NotJson(_))));
        assert!(Schema::compile("Bad", &json!({ "type": 12 })).is_err());
        assert!(
            Schema::compile("Remote", &json!({ "$ref": "https://example.com/s.json" })).is_err(),
            "nothing is fetched"
        );
    }
}
