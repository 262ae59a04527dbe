//! The query parameters a method declares (`parameters:` in fusio.yml):
//! their type and constraints, checked by the gateway before the action
//! runs, so a request with a missing, mistyped or out-of-range parameter is
//! refused with one entry per violation, each naming its parameter. The
//! action still receives the query as the strings the client sent.
//! Parameters a method does not declare pass through unchecked.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many violations a refused query lists.
const MAX_VIOLATIONS: usize = 16;

/// The type of a query parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    /// Any text.
    String,
    /// A whole number (`-3`, `42`).
    Integer,
    /// A number (`1.5`, `2e3`).
    Number,
    /// `true` or `false`.
    Boolean,
}

impl ParameterType {
    /// The JSON Schema type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
        }
    }
}

/// One declared query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Parameter {
    /// What its value is.
    #[serde(rename = "type")]
    pub kind: ParameterType,
    /// Whether a request must carry it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// What it is for (documentation and exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The only values it may take.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
    /// A regular expression a string value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The smallest number it may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<serde_json::Number>,
    /// The largest number it may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<serde_json::Number>,
    /// The fewest characters a string value may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// The most characters a string value may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
}

impl Parameter {
    /// The parameter's value constraints as a JSON Schema (the form the
    /// exports show and the check applies).
    pub fn schema(&self) -> serde_json::Value {
        let mut schema = serde_json::Map::new();
        schema.insert("type".into(), self.kind.as_str().into());
        let mut put = |key: &str, value: Option<serde_json::Value>| {
            if let Some(value) = value {
                schema.insert(key.into(), value);
            }
        };
        put("description", self.description.clone().map(Into::into));
        put("enum", self.allowed.clone().map(Into::into));
        put("pattern", self.pattern.clone().map(Into::into));
        put("minimum", self.minimum.clone().map(Into::into));
        put("maximum", self.maximum.clone().map(Into::into));
        put("minLength", self.min_length.map(Into::into));
        put("maxLength", self.max_length.map(Into::into));
        serde_json::Value::Object(schema)
    }

    /// `text` as this parameter's type, or why it is not one.
    fn read(&self, text: &str) -> Result<serde_json::Value, String> {
        match self.kind {
            ParameterType::String => Ok(text.into()),
            ParameterType::Integer => text
                .parse::<i64>()
                .map(Into::into)
                .map_err(|_| format!("`{text}` is not an integer")),
            ParameterType::Number => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .ok_or_else(|| format!("`{text}` is not a number")),
            ParameterType::Boolean => match text {
                "true" => Ok(true.into()),
                "false" => Ok(false.into()),
                _ => Err(format!("`{text}` is not `true` or `false`")),
            },
        }
    }
}

/// One way a query misses what its method declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ParameterViolation {
    /// The parameter.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a query was refused: every violation found, at most 16.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the query does not match the parameters: {}", describe(.0))]
pub struct QueryError(pub Vec<ParameterViolation>);

fn describe(violations: &[ParameterViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("`{}` {}", v.parameter, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why declared parameters cannot be checked (refused at deploy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{name}`: {reason}")]
pub struct ParameterError {
    /// The parameter.
    pub name: String,
    /// What is wrong with its declaration.
    pub reason: String,
}

/// The declared parameters of one method, ready to check queries.
#[derive(Debug)]
pub struct QueryCheck {
    parameters: Vec<(String, Parameter, jsonschema::Validator)>,
}

impl QueryCheck {
    /// Compiles `parameters`; the error names a parameter whose constraints
    /// make no sense (a pattern that is not a regular expression, an enum
    /// value of another type).
    pub fn compile(parameters: &BTreeMap<String, Parameter>) -> Result<Self, ParameterError> {
        let mut compiled = Vec::with_capacity(parameters.len());
        for (name, parameter) in parameters {
            let refuse = |reason: String| ParameterError {
                name: name.clone(),
                reason,
            };
            if name.is_empty() {
                return Err(refuse("a parameter needs a name".into()));
            }
            let validator = jsonschema::validator_for(&parameter.schema())
                .map_err(|e| refuse(e.to_string()))?;
            for value in parameter.allowed.iter().flatten() {
                if !validator.is_valid(value) {
                    return Err(refuse(format!(
                        "the enum value {value} is not a {}",
                        parameter.kind.as_str()
                    )));
                }
            }
            compiled.push((name.clone(), parameter.clone(), validator));
        }
        Ok(Self {
            parameters: compiled,
        })
    }

    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty()
    }

    /// Checks the query string `query` (without `?`).
    pub fn check(&self, query: &str) -> Result<(), QueryError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut violations = Vec::new();
        for (name, parameter, validator) in &self.parameters {
            let mut values = pairs.iter().filter(|(k, _)| k == name).peekable();
            if values.peek().is_none() && parameter.required {
                violations.push(ParameterViolation {
                    parameter: name.clone(),
                    message: "is required".into(),
                });
            }
            for (_, text) in values {
                let found = match parameter.read(text) {
                    Ok(value) => validator
                        .iter_errors(&value)
                        .map(|err| err.to_string())
                        .next(),
                    Err(reason) => Some(reason),
                };
                if let Some(message) = found {
                    violations.push(ParameterViolation {
                        parameter: name.clone(),
                        message,
                    });
                }
            }
        }
        violations.truncate(MAX_VIOLATIONS);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(QueryError(violations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(parameters: serde_json::Value) -> QueryCheck {
        let parameters: BTreeMap<String, Parameter> = serde_json::from_value(parameters).unwrap();
        QueryCheck::compile(&parameters).unwrap()
    }

    #[test]
    fn each_violation_names_its_parameter() {
        let check = check(json!({
            "count": { "type": "integer", "minimum": 1, "maximum": 100 },
            "sort": { "type": "string", "enum": ["asc", "desc"], "required": true },
            "q": { "type": "string", "maxLength": 5 },
            "done": { "type": "boolean" }
        }));
        assert_eq!(
            check.check("sort=asc&count=10&q=milk&done=true&other=x"),
            Ok(())
        );
        let QueryError(violations) = check.check("count=0&q=toolong&done=yes").unwrap_err();
        let named: Vec<&str> = violations.iter().map(|v| v.parameter.as_str()).collect();
        assert_eq!(named, ["count", "done", "q", "sort"]);
        assert!(violations[3].message.contains("required"));
        let QueryError(violations) = check.check("sort=up&count=many").unwrap_err();
        assert_eq!(violations.len(), 2);
        assert!(violations[0].message.contains("`many` is not an integer"));
    }

    #[test]
    fn a_declaration_that_makes_no_sense_is_refused() {
        let bad_pattern: BTreeMap<String, Parameter> =
            serde_json::from_value(json!({ "id": { "type": "string", "pattern": "([" } })).unwrap();
        assert_eq!(QueryCheck::compile(&bad_pattern).unwrap_err().name, "id");
        let bad_enum: BTreeMap<String, Parameter> =
            serde_json::from_value(json!({ "n": { "type": "integer", "enum": [1, "two"] } }))
                .unwrap();
        assert!(
            QueryCheck::compile(&bad_enum)
                .unwrap_err()
                .reason
                .contains("two")
        );
        let unknown_type =
            serde_json::from_value::<Parameter>(json!({ "type": "date" })).unwrap_err();
        assert!(unknown_type.to_string().contains("date"), "{unknown_type}");
    }
}
