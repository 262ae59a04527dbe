//! JSON Schemas of a project (the `jsonschema` crate): checked when a
//! project is deployed, compiled once per snapshot, and matched against
//! request bodies before the action runs, so an action only ever sees a
//! body its route promised. A schema may refer to another of the project
//! as `{"$ref": "#/components/schemas/Name"}` (the form OpenAPI uses, so the
//! exports carry schemas as they are) and to its own parts (`#/$defs/…`);
//! nothing else is resolved, and nothing is fetched from the network or the
//! file system. A reference to a missing schema, or references that come
//! back to where they started, are refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How a schema names another schema of the project.
pub const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// Where a project schema lives while its references are resolved: an
/// address that names no place outside the project.
const PROJECT_BASE: &str = "https://schemas.fusio.invalid/";

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

/// Why a document is not a usable schema of the project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The document is not a valid JSON Schema.
    #[error("not a valid JSON Schema{}: {reason}", at.as_deref().map(|at| format!(" at {at}")).unwrap_or_default())]
    Invalid {
        /// Where in the document, as a JSON pointer (none for the root).
        at: Option<String>,
        /// What the validator said.
        reason: String,
    },
    /// A `$ref` names a schema the project does not have.
    #[error("`$ref` names the schema `{0}`, which the project does not define")]
    Missing(String),
    /// References lead back to where they started.
    #[error("its references come back to it: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// A `$ref` that is neither a project schema nor a part of this one.
    #[error(
        "`$ref: {0}` is refused: refer to a schema of the project as `#/components/schemas/Name` or to a part of this one as `#/…`"
    )]
    Foreign(String),
}

/// The project schemas a document refers to, in order, once each; or the
/// first reference that points outside the project.
pub fn references(document: &serde_json::Value) -> Result<Vec<String>, SchemaError> {
    fn walk(value: &serde_json::Value, found: &mut Vec<String>) -> Result<(), SchemaError> {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                    if let Some(name) = component_name(reference) {
                        if !found.contains(&name) {
                            found.push(name);
                        }
                    } else if !reference.starts_with('#') {
                        return Err(SchemaError::Foreign(reference.clone()));
                    }
                }
                map.values().try_for_each(|v| walk(v, found))
            }
            serde_json::Value::Array(items) => items.iter().try_for_each(|v| walk(v, found)),
            _ => Ok(()),
        }
    }
    let mut found = Vec::new();
    walk(document, &mut found)?;
    Ok(found)
}

/// The schema a `#/components/schemas/Name[/…]` reference names.
fn component_name(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(COMPONENT_PREFIX)?;
    let name = rest.split('/').next().unwrap_or_default();
    (!name.is_empty()).then(|| name.replace("~1", "/").replace("~0", "~"))
}

/// `document` with its references to project schemas pointing at their
/// place in the registry (`#/components/schemas/Todo/x` → `…/Todo#/x`).
fn to_registry(document: &serde_json::Value) -> serde_json::Value {
    match document {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = match (key.as_str(), value) {
                        ("$ref", serde_json::Value::String(reference)) => {
                            match reference.strip_prefix(COMPONENT_PREFIX) {
                                Some(rest) => {
                                    let (name, pointer) =
                                        rest.split_once('/').unwrap_or((rest, ""));
                                    let fragment = if pointer.is_empty() {
                                        String::new()
                                    } else {
                                        format!("#/{pointer}")
                                    };
                                    serde_json::Value::String(format!(
                                        "{PROJECT_BASE}{name}{fragment}"
                                    ))
                                }
                                None => value.clone(),
                            }
                        }
                        _ => to_registry(value),
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(to_registry).collect())
        }
        other => other.clone(),
    }
}

/// Schema `name` of `documents` as one document that stands alone: the
/// project schemas it refers to (and those they refer to) are carried under
/// its `$defs`, and every reference points there (`#/components/schemas/X`
/// becomes `#/$defs/X`, a part of `X` `#/$defs/X/…`). What readers of the
/// documentation get; `None` when there is no such schema. The project's
/// references never come back to where they started (deploy refuses
/// that), so this ends.
pub fn self_contained(
    name: &str,
    documents: &BTreeMap<&str, &serde_json::Value>,
) -> Option<serde_json::Value> {
    let mut root = relocate(documents.get(name)?, None);
    let mut pending = references(documents.get(name)?).unwrap_or_default();
    let mut carried: Vec<String> = Vec::new();
    while let Some(next) = pending.pop() {
        if next == name || carried.contains(&next) {
            continue;
        }
        let Some(document) = documents.get(next.as_str()) else {
            continue;
        };
        pending.extend(references(document).unwrap_or_default());
        let moved = relocate(document, Some(&next));
        if let serde_json::Value::Object(map) = &mut root {
            let defs = map
                .entry("$defs")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let serde_json::Value::Object(defs) = defs {
                defs.insert(next.clone(), moved);
            }
        }
        carried.push(next);
    }
    Some(root)
}

/// `document` with its references pointing where `self_contained` puts
/// things: project schemas under `#/$defs/X`, and, for a schema carried as
/// `$defs/<carried>`, its own parts below that.
fn relocate(document: &serde_json::Value, carried: Option<&str>) -> serde_json::Value {
    match document {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = match (key.as_str(), value, carried) {
                        ("$ref", serde_json::Value::String(reference), _)
                            if reference.starts_with(COMPONENT_PREFIX) =>
                        {
                            let rest = &reference[COMPONENT_PREFIX.len()..];
                            serde_json::Value::String(format!("#/$defs/{rest}"))
                        }
                        ("$ref", serde_json::Value::String(reference), Some(owner))
                            if reference.starts_with('#') =>
                        {
                            let rest = reference.trim_start_matches('#');
                            serde_json::Value::String(format!("#/$defs/{owner}{rest}"))
                        }
                        _ => relocate(value, carried),
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(|v| relocate(v, carried)).collect())
        }
        other => other.clone(),
    }
}

/// The project's schemas, compiled together so that each may refer to the
/// others.
#[derive(Debug, Default)]
pub struct SchemaSet {
    schemas: HashMap<String, Arc<Schema>>,
}

impl SchemaSet {
    /// Compiles every schema of `documents` (name → document). The error
    /// lists each schema that cannot be used, with why: invalid, a missing
    /// or foreign reference, or references that come back to it.
    pub fn compile<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    ) -> Result<Self, Vec<(String, SchemaError)>> {
        let documents: BTreeMap<&str, &serde_json::Value> = documents.into_iter().collect();
        let mut refused = Vec::new();
        let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (name, document) in &documents {
            match references(document) {
                Ok(names) => {
                    if let Some(missing) =
                        names.iter().find(|n| !documents.contains_key(n.as_str()))
                    {
                        refused.push((name.to_string(), SchemaError::Missing(missing.clone())));
                    }
                    graph.insert(name, names);
                }
                Err(err) => refused.push((name.to_string(), err)),
            }
        }
        for name in graph.keys() {
            if let Some(cycle) = cycle_from(name, &graph) {
                refused.push((name.to_string(), SchemaError::Cycle(cycle)));
            }
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        let rewritten: Vec<(&str, serde_json::Value)> = documents
            .iter()
            .map(|(name, document)| (*name, to_registry(document)))
            .collect();
        let registry = jsonschema::Registry::new()
            .extend(
                rewritten
                    .iter()
                    .map(|(name, document)| (format!("{PROJECT_BASE}{name}"), document)),
            )
            .and_then(|builder| builder.prepare());
        let registry = match registry {
            Ok(registry) => registry,
            Err(err) => {
                let reason = err.to_string();
                return Err(documents
                    .keys()
                    .map(|name| {
                        let at = None;
                        (
                            name.to_string(),
                            SchemaError::Invalid {
                                at,
                                reason: reason.clone(),
                            },
                        )
                    })
                    .collect());
            }
        };
        let mut schemas = HashMap::with_capacity(rewritten.len());
        for (name, document) in &rewritten {
            let built = jsonschema::options()
                .with_registry(&registry)
                .with_base_uri(format!("{PROJECT_BASE}{name}"))
                .build(document);
            match built {
                Ok(validator) => {
                    schemas.insert(
                        name.to_string(),
                        Arc::new(Schema {
                            name: (*name).into(),
                            validator,
                        }),
                    );
                }
                Err(err) => refused.push((name.to_string(), invalid(&err))),
            }
        }
        if refused.is_empty() {
            Ok(Self { schemas })
        } else {
            Err(refused)
        }
    }

    /// The compiled schema `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Schema>> {
        self.schemas.get(name)
    }
}

/// The references from `start` that come back to it, as the names on the
/// way (`A → B → A`), if any.
fn cycle_from(start: &str, graph: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        start: &str,
        graph: &BTreeMap<&str, Vec<String>>,
        path: &mut Vec<String>,
        seen: &mut Vec<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.contains(next) {
                continue;
            }
            seen.push(next.clone());
            path.push(next.clone());
            if visit(next, start, graph, path, seen) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_owned()];
    visit(start, start, graph, &mut path, &mut Vec::new()).then_some(path)
}

/// A validator's refusal of a document as a `SchemaError`.
fn invalid(err: &jsonschema::ValidationError<'_>) -> SchemaError {
    let at = err.instance_path().to_string();
    SchemaError::Invalid {
        at: (!at.is_empty()).then_some(at),
        reason: err.to_string(),
    }
}

impl Schema {
    /// Compiles `document`; the error says why it is not a usable schema.
    pub fn compile(name: &str, document: &serde_json::Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::validator_for(document).map_err(|err| invalid(&err))?;
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

    fn set(
        documents: &[(&'static str, serde_json::Value)],
    ) -> Result<SchemaSet, Vec<(String, SchemaError)>> {
        SchemaSet::compile(documents.iter().map(|(n, d)| (*n, d)))
    }

    #[test]
    fn a_schema_refers_to_another_and_to_its_own_parts() {
        let schemas = set(&[
            (
                "Order",
                json!({
                    "type": "object",
                    "properties": { "line": { "$ref": "#/components/schemas/Line" } },
                    "required": ["line"]
                }),
            ),
            (
                "Line",
                json!({
                    "type": "object",
                    "properties": { "sku": { "$ref": "#/$defs/sku" } },
                    "required": ["sku"],
                    "$defs": { "sku": { "type": "string", "minLength": 3 } }
                }),
            ),
        ])
        .unwrap();
        let order = schemas.get("Order").unwrap();
        assert!(order.check(br#"{"line":{"sku":"ABC"}}"#).is_ok());
        match order.check(br#"{"line":{"sku":"A"}}"#).unwrap_err() {
            BodyError::Invalid { violations, .. } => {
                assert_eq!(violations[0].pointer, "/line/sku");
            }
            other => panic!("{other:?}"),
        }
        assert!(order.check(br#"{"line":{}}"#).is_err());
    }

    #[test]
    fn missing_foreign_and_circular_references_are_refused_by_name() {
        let refused =
            set(&[("Order", json!({ "$ref": "#/components/schemas/Line" }))]).unwrap_err();
        assert_eq!(
            refused,
            vec![("Order".to_owned(), SchemaError::Missing("Line".into()))]
        );

        let refused = set(&[("Order", json!({ "$ref": "file:///etc/passwd" }))]).unwrap_err();
        assert!(matches!(&refused[0].1, SchemaError::Foreign(r) if r == "file:///etc/passwd"));

        let refused = set(&[
            (
                "A",
                json!({ "properties": { "b": { "$ref": "#/components/schemas/B" } } }),
            ),
            (
                "B",
                json!({ "items": { "$ref": "#/components/schemas/A" } }),
            ),
            ("C", json!({ "$ref": "#/components/schemas/A" })),
        ])
        .unwrap_err();
        let cycles: Vec<_> = refused
            .iter()
            .map(|(name, err)| (name.as_str(), err.to_string()))
            .collect();
        assert_eq!(cycles.len(), 2, "{cycles:?}");
        assert!(cycles.contains(&("A", "its references come back to it: A → B → A".into())));
        assert!(cycles.contains(&("B", "its references come back to it: B → A → B".into())));

        let refused = set(&[("Me", json!({ "$ref": "#/components/schemas/Me" }))]).unwrap_err();
        assert_eq!(
            refused[0].1,
            SchemaError::Cycle(vec!["Me".into(), "Me".into()])
        );
    }

    #[test]
    fn a_self_contained_schema_checks_what_the_set_checks() {
        let order = json!({
            "type": "object",
            "properties": { "line": { "$ref": "#/components/schemas/Line" } },
            "required": ["line"]
        });
        let line = json!({
            "type": "object",
            "properties": { "sku": { "$ref": "#/$defs/sku" } },
            "required": ["sku"],
            "$defs": { "sku": { "type": "string", "minLength": 3 } }
        });
        let documents = BTreeMap::from([("Order", &order), ("Line", &line)]);
        let alone = self_contained("Order", &documents).unwrap();
        assert_eq!(alone["properties"]["line"]["$ref"], "#/$defs/Line");
        assert_eq!(
            alone["$defs"]["Line"]["properties"]["sku"]["$ref"],
            "#/$defs/Line/$defs/sku"
        );
        let validator = jsonschema::validator_for(&alone).unwrap();
        assert!(validator.is_valid(&json!({ "line": { "sku": "ABC" } })));
        assert!(!validator.is_valid(&json!({ "line": { "sku": "A" } })));
        assert!(!validator.is_valid(&json!({ "line": {} })));
        assert!(self_contained("Nothing", &documents).is_none());
    }
}
