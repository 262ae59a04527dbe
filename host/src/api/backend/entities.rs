//! The project's entities — routes, actions, schemas, connections, rates — as
//! backend resources. They live in the served revision's project, so every
//! write is a deploy: the whole project with the change is validated, stored
//! as a new revision and swapped in, or refused with nothing changed, and
//! the audit log records it. An entity is addressed by its name (`~name`,
//! or the name itself; a route's name is its path) and answers an `ETag`
//! of its content; a write with a stale `If-Match` gets 412.

use super::deploy::deploy_stored;
use super::listing;
use super::redact::{HIDDEN, holds_hidden, redacted};
use crate::api::CollectionQuery;
use crate::api::answer::{Written, json};
use crate::api::precondition::{IfMatch, etag_of};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::digest::sha256_hex;
use crate::problem::Problem;
use crate::runtime::ActionSpec;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::model::{ConnectionRecord, Project, RateRecord, RouteRecord, SchemaRecord};
use axum::Json;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of project entity.
pub(super) trait Entity:
    Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// Its name in messages, e.g. `route`.
    const KIND: &'static str;
    /// Its unique name.
    fn key(&self) -> &str;
    /// Every entity of this kind in a project.
    fn all(project: &mut Project) -> &mut Vec<Self>;
    /// As the API shows it (credentials hidden).
    fn shown(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
    /// Why a written entity cannot be taken as it is, before validation.
    fn refuse(&self) -> Option<String> {
        None
    }
    /// Whether a written body may carry its code inline as `source` (a
    /// script), stored like an uploaded component and named by its sha256.
    const INLINE_SOURCE: bool = false;
}

impl Entity for RouteRecord {
    const KIND: &'static str = "route";
    fn key(&self) -> &str {
        &self.path
    }
    fn all(project: &mut Project) -> &mut Vec<Self> {
        &mut project.routes
    }
}

impl Entity for ActionSpec {
    const KIND: &'static str = "action";
    const INLINE_SOURCE: bool = true;
    fn key(&self) -> &str {
        &self.name
    }
    fn all(project: &mut Project) -> &mut Vec<Self> {
        &mut project.actions
    }
}

impl Entity for SchemaRecord {
    const KIND: &'static str = "schema";
    fn key(&self) -> &str {
        &self.name
    }
    fn all(project: &mut Project) -> &mut Vec<Self> {
        &mut project.schemas
    }
}

impl Entity for ConnectionRecord {
    const KIND: &'static str = "connection";
    fn key(&self) -> &str {
        &self.name
    }
    fn all(project: &mut Project) -> &mut Vec<Self> {
        &mut project.connections
    }
    fn refuse(&self) -> Option<String> {
        holds_hidden(&self.config).then(|| {
            format!(
                "connection.{}: a setting is `{HIDDEN}`, which is how the API shows settings; send every setting in clear",
                self.name
            )
        })
    }
    fn shown(&self) -> serde_json::Value {
        let hidden = redacted(Project {
            connections: vec![self.clone()],
            ..Project::default()
        });
        serde_json::to_value(&hidden.connections[0]).unwrap_or_default()
    }
}

impl Entity for RateRecord {
    const KIND: &'static str = "rate";
    fn key(&self) -> &str {
        &self.name
    }
    /// A revision that never said has the default rates, which a write
    /// then makes its own.
    fn all(project: &mut Project) -> &mut Vec<Self> {
        project.rates.get_or_insert_with(crate::limit::defaults)
    }
}

/// The content tag of an entity: its `ETag`.
fn tag<E: Entity>(entity: &E) -> String {
    let bytes = serde_json::to_vec(entity).unwrap_or_default();
    sha256_hex(&bytes)[..16].to_owned()
}

/// The name a path segment addresses (`~name` or the name).
fn name_of(id: &str) -> &str {
    id.strip_prefix('~').unwrap_or(id)
}

fn missing<E: Entity>(name: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND).detail(format!("no {} `{name}`", E::KIND))
}

/// A page of the served project's entities whose name contains the search.
pub(super) async fn list<E: Entity>(
    state: &AppState,
    query: &CollectionQuery,
) -> Result<impl IntoResponse + use<E>, ApiError> {
    listing::<_, serde_json::Value, StoreError, _>(query, |page| async move {
        let mut project = state.store.current().await?.project;
        let matching: Vec<&E> = E::all(&mut project)
            .iter()
            .filter(|e| page.search.is_none_or(|s| e.key().contains(s)))
            .collect();
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        let entry = matching
            .into_iter()
            .skip(usize::try_from(page.start).unwrap_or(0))
            .take(usize::try_from(page.count).unwrap_or(0))
            .map(Entity::shown)
            .collect::<Vec<_>>();
        Ok((total, entry))
    })
    .await
}

/// The served project's entity at `id` (`~name` or the name), or the
/// problem to answer (404 naming it, or the store's).
pub(super) async fn served<E: Entity>(state: &AppState, id: &str) -> Result<E, ApiError> {
    let mut project = state.store.current().await?.project;
    let name = name_of(id);
    let all = E::all(&mut project);
    let position = all
        .iter()
        .position(|e| e.key() == name)
        .ok_or_else(|| missing::<E>(name))?;
    Ok(all.swap_remove(position))
}

/// One entity with its `ETag`.
pub(super) async fn get<E: Entity>(
    state: &AppState,
    id: &str,
) -> Result<impl IntoResponse + use<E>, ApiError> {
    let entity: E = served(state, id).await?;
    Ok((etag_of(&tag(&entity)), Json(entity.shown())))
}

/// How a write changes the entities of one kind.
pub(super) enum Change<E> {
    /// A new entity.
    Create(E),
    /// The entity at the id, replaced.
    Update(String, E),
    /// The entity at the id, removed.
    Delete(String),
}

/// Applies `change` to the served project and deploys the result.
pub(super) async fn write<E: Entity>(
    state: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    change: Change<E>,
) -> Result<Response, ApiError> {
    let current = state.store.current().await?;
    let mut project = current.project;
    let list = E::all(&mut project);
    let position = |name: &str, list: &Vec<E>| list.iter().position(|e| e.key() == name);
    let check_tag = |entity: &E| match if_match.tags() {
        Some(tags) if !tags.contains(&tag(entity)) => Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
        )
        .detail(format!(
            "the {} changed since you read it (If-Match names an older ETag); read it again",
            E::KIND
        ))),
        _ => Ok(()),
    };
    let refused = match &change {
        Change::Create(entity) | Change::Update(_, entity) => entity.refuse(),
        Change::Delete(_) => None,
    };
    if let Some(reason) = refused {
        return Err(crate::api::answer::bad_request(reason).into());
    }
    let (status, verb, written) = match change {
        Change::Create(entity) => {
            if position(entity.key(), list).is_some() {
                return Err(Problem::new(StatusCode::CONFLICT)
                    .detail(format!("a {} `{}` already exists", E::KIND, entity.key()))
                    .into());
            }
            list.push(entity.clone());
            (StatusCode::CREATED, "created", Some(entity))
        }
        Change::Update(id, entity) => {
            let name = name_of(&id);
            let at = position(name, list).ok_or_else(|| missing::<E>(name))?;
            check_tag(&list[at])?;
            if entity.key() != name && position(entity.key(), list).is_some() {
                return Err(Problem::new(StatusCode::CONFLICT)
                    .detail(format!("a {} `{}` already exists", E::KIND, entity.key()))
                    .into());
            }
            list[at] = entity.clone();
            (StatusCode::OK, "updated", Some(entity))
        }
        Change::Delete(id) => {
            let name = name_of(&id);
            let at = position(name, list).ok_or_else(|| missing::<E>(name))?;
            check_tag(&list[at])?;
            list.remove(at);
            (StatusCode::OK, "deleted", None)
        }
    };
    let source = format!("api:{}", E::KIND);
    let outcome = deploy_stored(
        state,
        caller,
        project,
        &source,
        Some(current.revision),
        false,
    )
    .await?;
    let key = written.as_ref().map_or("", |e| e.key()).to_owned();
    let message = format!(
        "the {} was {verb}; revision {} is served",
        E::KIND,
        outcome.revision
    );
    let answer = (status, Json(Written::new(message, key)));
    Ok(match written {
        Some(entity) => (etag_of(&tag(&entity)), answer).into_response(),
        None => answer.into_response(),
    })
}

/// A create from a JSON body.
pub(super) async fn create<E: Entity>(
    state: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let body = staged::<E>(state, body).await?;
    write(state, caller, if_match, Change::Create(json::<E>(&body)?)).await
}

/// The body with an inline `source` stored and replaced by its `sha256`
/// (and `code` JavaScript unless it says otherwise): how a script typed in
/// the backend is saved. A `builtin` (with its `config`) becomes the
/// built-in's script and checked config first. Any other body is taken as
/// it is.
async fn staged<E: Entity>(state: &AppState, body: &Bytes) -> Result<Bytes, ApiError> {
    if !E::INLINE_SOURCE {
        return Ok(body.clone());
    }
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_slice(body) else {
        return Ok(body.clone());
    };
    if let Some(builtin) = fields.remove("builtin") {
        let serde_json::Value::String(builtin) = builtin else {
            return Err(Problem::new(StatusCode::BAD_REQUEST)
                .detail("`builtin` names a built-in action, e.g. \"static\"")
                .into());
        };
        let config: std::collections::BTreeMap<String, serde_json::Value> =
            match fields.remove("config") {
                None => Default::default(),
                Some(serde_json::Value::Object(map)) => map.into_iter().collect(),
                Some(_) => {
                    return Err(Problem::new(StatusCode::BAD_REQUEST)
                        .detail("`config` is an object")
                        .into());
                }
            };
        let served = state.store.current().await?.project;
        let connections = |name: &str| {
            let connection = served.connections.iter().find(|c| c.name == name)?;
            let url = connection.config.get("url").and_then(|u| u.as_str());
            Some((connection.kind, url.unwrap_or_default().to_owned()))
        };
        let expanded =
            crate::project::builtin::expand(&builtin, &config, &connections).map_err(|reason| {
                Problem::new(StatusCode::BAD_REQUEST)
                    .detail(format!("builtin `{builtin}`: {reason}"))
            })?;
        if let Some(connection) = &expanded.connection {
            let grants = fields
                .entry("connections")
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(list) = grants
                && !list.iter().any(|c| c.as_str() == Some(connection))
            {
                list.push(connection.clone().into());
            }
        }
        fields.insert("source".into(), expanded.script.into());
        fields.insert("builtin".into(), builtin.into());
        fields.insert(
            "config".into(),
            serde_json::to_value(expanded.config).unwrap_or_default(),
        );
    }
    let Some(source) = fields.remove("source") else {
        return Ok(body.clone());
    };
    let serde_json::Value::String(text) = source else {
        return Err(Problem::new(StatusCode::BAD_REQUEST)
            .detail("`source` must be the script's text")
            .into());
    };
    let sha256 = state.store.put_component(text.as_bytes()).await?;
    fields.insert("sha256".into(), sha256.into());
    fields.entry("code").or_insert_with(|| "javascript".into());
    Ok(serde_json::to_vec(&fields).unwrap_or_default().into())
}

/// An update of `id` from a JSON body (the whole entity).
pub(super) async fn update<E: Entity>(
    state: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    id: String,
    body: &Bytes,
) -> Result<Response, ApiError> {
    write(
        state,
        caller,
        if_match,
        Change::Update(id, json::<E>(&staged::<E>(state, body).await?)?),
    )
    .await
}

/// A delete of `id`.
pub(super) async fn delete<E: Entity>(
    state: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    id: String,
) -> Result<Response, ApiError> {
    write::<E>(state, caller, if_match, Change::Delete(id)).await
}
