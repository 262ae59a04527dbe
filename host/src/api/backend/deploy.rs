//! `/backend/deploy`, `/backend/component`, `/backend/revision` and
//! `/backend/audit`: how `fusio deploy` and `fusio rollback` reach a server.
//! Components are uploaded content-addressed (only those the server lacks),
//! then the project is sent as JSON, validated completely, stored as a new
//! revision and swapped in; a refused project changes nothing and its
//! problems name the entries.

use super::{AuditScope, DeployScope, listing};
use crate::api::answer::{bad_request, json, respond, store_problem};
use crate::api::precondition::if_match_tags;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::digest::sha256_hex;
use crate::problem::Problem;
use crate::project::{DeployError, DeployRequest, Outcome, Plan};
use crate::snapshot::Components;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::deploy::RevisionInfo;
use crate::store::model::Project;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// The largest component `PUT /backend/component/{sha256}` takes.
pub const MAX_COMPONENT: usize = 64 * 1024 * 1024;

/// `POST /backend/component/missing`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentList {
    /// sha256 hashes, lower-case hex.
    components: Vec<String>,
}

/// The hashes the server lacks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Missing {
    missing: Vec<String>,
}

/// `?dryRun=true`: validate and plan only.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeployQuery {
    #[serde(default)]
    dry_run: bool,
}

/// What a deploy or rollback did (or, dry, would do).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deployed {
    success: bool,
    message: String,
    /// The revision served afterwards.
    revision: i64,
    /// Whether the project differs from the one that was served.
    changed: bool,
    /// Whether nothing was applied (a dry run).
    dry_run: bool,
    plan: Plan,
}

/// A revision as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionView {
    id: i64,
    source: String,
    author: Option<String>,
    created_at: String,
    /// Whether a rollback to it is possible.
    restorable: bool,
    /// Whether it is the one served.
    current: bool,
}

/// An audit-log entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    id: i64,
    actor: String,
    action: String,
    entity: String,
    detail: serde_json::Value,
    created_at: String,
}

impl From<AuditEntry> for AuditView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            actor: entry.actor,
            action: entry.action,
            entity: entry.entity,
            detail: entry.detail,
            created_at: entry.created_at,
        }
    }
}

/// `project` with every connection setting's value hidden: credentials are
/// never shown in clear (the keys still say what is set).
pub(super) fn redacted(mut project: Project) -> Project {
    for connection in &mut project.connections {
        if let serde_json::Value::Object(config) = &mut connection.config {
            for value in config.values_mut() {
                *value = serde_json::Value::String(super::entities::HIDDEN.into());
            }
        }
    }
    project
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Who the audit log names: the user and the app they used.
pub(super) async fn actor(state: &AppState, caller: &crate::auth::Caller) -> String {
    let claims = &caller.claims;
    let user = match claims.sub.parse::<i64>() {
        Ok(id) => state
            .store
            .user_by_id(id)
            .await
            .ok()
            .flatten()
            .map(|u| u.name),
        Err(_) => None,
    };
    format!(
        "{} via {}",
        user.unwrap_or_else(|| format!("user {}", claims.sub)),
        claims.client_id
    )
}

pub(super) fn deploy_problem(headers: &HeaderMap, err: DeployError) -> Problem {
    match err {
        DeployError::Invalid(problems) => {
            let detail = problems
                .iter()
                .map(|p| format!("{}: {}", p.entry, p.reason))
                .collect::<Vec<_>>()
                .join("; ");
            bad_request(format!("the project is refused: {detail}")).extension(
                "problems",
                serde_json::to_value(&problems).unwrap_or_default(),
            )
        }
        DeployError::Stale(what) => Problem::new(StatusCode::PRECONDITION_FAILED)
            .detail(format!("another deploy landed first: {what}; plan again")),
        DeployError::NoSuchRevision(_) => {
            Problem::new(StatusCode::NOT_FOUND).detail(err.to_string())
        }
        DeployError::Store(err) => store_problem(headers, err),
    }
}

/// Deploys `project`, whose components are in the store, for `caller`;
/// refusals as problems.
pub(super) async fn deploy_stored(
    state: &AppState,
    caller: &crate::auth::Caller,
    headers: &HeaderMap,
    project: Project,
    source: &str,
    expected: Option<i64>,
    dry_run: bool,
) -> Result<Outcome, Problem> {
    state
        .deployer
        .deploy(DeployRequest {
            project,
            components: Components::Stored(&state.store),
            new_components: Vec::new(),
            source: source.to_owned(),
            author: actor(state, caller).await,
            expected,
            dry_run,
        })
        .await
        .map_err(|e| deploy_problem(headers, e))
}

fn answer(outcome: Outcome, dry_run: bool, what: &str) -> Json<Deployed> {
    let message = match (outcome.changed, dry_run) {
        (false, _) => format!("nothing changed; revision {} is served", outcome.revision),
        (true, true) => format!("the {what} is valid; nothing was applied (dry run)"),
        (true, false) => format!("the {what} is served as revision {}", outcome.revision),
    };
    Json(Deployed {
        success: true,
        message,
        revision: outcome.revision,
        changed: outcome.changed,
        dry_run,
        plan: outcome.plan,
    })
}

/// The revision an `If-Match` names (`"7"`), if any.
fn expected_revision(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    match if_match_tags(headers).as_deref() {
        None => Ok(None),
        Some([tag]) => tag
            .parse()
            .map(Some)
            .map_err(|_| bad_request("`If-Match` must name one revision, e.g. \"7\"")),
        Some(_) => Err(bad_request("`If-Match` must name one revision, e.g. \"7\"")),
    }
}

#[utoipa::path(post, path = "/backend/component/missing", request_body = ComponentList,
    responses((status = 200, body = Missing), (status = 400)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn missing(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let list: ComponentList = json(&body)?;
        if let Some(bad) = list.components.iter().find(|c| !is_sha256(c)) {
            return Err(bad_request(format!(
                "`{bad}` is not a sha256 in lower-case hex"
            )));
        }
        let missing = state
            .store
            .missing_components(&list.components)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Missing { missing }))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/component/{sha256}", params(("sha256" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = crate::api::answer::Written), (status = 400), (status = 413)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn upload(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let actual = sha256_hex(&body);
        if actual != sha256 {
            return Err(bad_request(format!(
                "the body's sha256 is {actual}, not {sha256}; the upload was damaged or mislabelled"
            )));
        }
        state
            .store
            .put_component(&body)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok((
            StatusCode::CREATED,
            Json(crate::api::answer::Written::new(
                "the component is stored",
                &sha256,
            )),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/backend/deploy", params(DeployQuery), request_body = Object,
    responses((status = 200, body = Deployed), (status = 400), (status = 412)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn deploy(
    auth: Authorized<DeployScope>,
    State(state): State<AppState>,
    Query(query): Query<DeployQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let project: Project = json(&body)?;
        let expected = expected_revision(&headers)?;
        let outcome = deploy_stored(
            &state,
            &auth.caller,
            &headers,
            project,
            "api",
            expected,
            query.dry_run,
        )
        .await?;
        Ok(answer(outcome, query.dry_run, "project"))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(get, path = "/backend/revision", params(CollectionQuery),
    responses((status = 200, body = Collection<RevisionView>)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn revisions(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    let served = state.live.current().revision;
    listing::<_, RevisionView, _>(&headers, &query, |page| async move {
        let (total, rows) = state.store.list_revisions(page).await?;
        Ok((
            total,
            rows.into_iter()
                .map(|r: RevisionInfo| RevisionView {
                    current: r.id == served,
                    id: r.id,
                    source: r.source,
                    author: r.author,
                    created_at: r.created_at,
                    restorable: r.restorable,
                })
                .collect::<Vec<_>>(),
        ))
    })
    .await
}

/// A revision's project.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionProject {
    id: i64,
    #[schema(value_type = Object)]
    project: Project,
}

#[utoipa::path(get, path = "/backend/revision/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = RevisionProject), (status = 404)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn revision(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let stored = state
            .store
            .revision_project(id)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| {
                Problem::new(StatusCode::NOT_FOUND)
                    .detail(format!("no revision {id} with a kept project"))
            })?;
        Ok(Json(RevisionProject {
            id,
            project: redacted(stored.project),
        }))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/backend/revision/{id}/rollback", params(("id" = i64, Path), DeployQuery),
    responses((status = 200, body = Deployed), (status = 400), (status = 404)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn rollback(
    auth: Authorized<DeployScope>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<DeployQuery>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let outcome = state
            .deployer
            .rollback(id, &actor(&state, &auth.caller).await, query.dry_run)
            .await
            .map_err(|e| deploy_problem(&headers, e))?;
        Ok(answer(
            outcome,
            query.dry_run,
            &format!("project of revision {id}"),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(get, path = "/backend/audit", params(CollectionQuery),
    responses((status = 200, body = Collection<AuditView>)),
    security(("bearer" = ["backend.audit"])))]
pub(super) async fn audit(
    _: Authorized<AuditScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, AuditView, _>(&headers, &query, |page| state.store.list_audit(page)).await
}

/// Larger bodies for component uploads than the system API's 2 MB default.
pub(super) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_COMPONENT)
}
