//! `/backend/deploy`, `/backend/component`, `/backend/revision` and
//! `/backend/audit`: how `fusio deploy` and `fusio rollback` reach a server.
//! Components are uploaded content-addressed (only those the server lacks),
//! then the project is sent as JSON, validated completely, stored as a new
//! revision and swapped in; a refused project changes nothing and its
//! problems name the entries.

use super::{AuditScope, DeployScope, listing};
use crate::api::answer::{bad_request, json};
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::api_error::ApiError;
use crate::digest::sha256_hex;
use crate::problem::Problem;
use crate::project::{DeployError, DeployRequest, Outcome, Plan};
use crate::snapshot::Components;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::AuditEntry;
use crate::store::deploy::RevisionInfo;
use crate::store::model::Project;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use http::StatusCode;
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
#[into_params(parameter_in = Query, rename_all = "camelCase")]
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

/// A refused deploy as the client's problem (400 listing the problems,
/// 412 stale, 404 unknown revision); a store failure as the server's.
pub(super) fn deploy_problem(err: DeployError) -> ApiError {
    match err {
        DeployError::Invalid(problems) => {
            let detail = problems
                .iter()
                .map(|p| format!("{}: {}", p.entry, p.reason))
                .collect::<Vec<_>>()
                .join("; ");
            bad_request(format!("the project is refused: {detail}"))
                .extension(
                    "problems",
                    serde_json::to_value(&problems).unwrap_or_default(),
                )
                .into()
        }
        DeployError::Stale(what) => Problem::new(StatusCode::PRECONDITION_FAILED)
            .detail(format!("another deploy landed first: {what}; plan again"))
            .into(),
        DeployError::NoSuchRevision(_) => Problem::new(StatusCode::NOT_FOUND)
            .detail(err.to_string())
            .into(),
        DeployError::Store(err) => err.into(),
    }
}

/// Deploys `project`, whose components are in the store, for `caller`;
/// refusals as problems.
pub(super) async fn deploy_stored(
    state: &AppState,
    caller: &crate::auth::Caller,
    project: Project,
    source: &str,
    expected: Option<i64>,
    dry_run: bool,
) -> Result<Outcome, ApiError> {
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
        .map_err(deploy_problem)
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
fn expected_revision(if_match: &IfMatch) -> Result<Option<i64>, Problem> {
    match if_match.tags() {
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
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let list: ComponentList = json(&body)?;
    if let Some(bad) = list.components.iter().find(|c| !is_sha256(c)) {
        return Err(bad_request(format!("`{bad}` is not a sha256 in lower-case hex")).into());
    }
    let missing = state.store.missing_components(&list.components).await?;
    Ok(Json(Missing { missing }))
}

#[utoipa::path(put, path = "/backend/component/{sha256}", params(("sha256" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = crate::api::answer::Written), (status = 400), (status = 413)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn upload(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let actual = sha256_hex(&body);
    if actual != sha256 {
        return Err(bad_request(format!(
            "the body's sha256 is {actual}, not {sha256}; the upload was damaged or mislabelled"
        ))
        .into());
    }
    state.store.put_component(&body).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::api::answer::Written::new(
            "the component is stored",
            &sha256,
        )),
    ))
}

#[utoipa::path(post, path = "/backend/deploy", params(DeployQuery), request_body = Object,
    responses((status = 200, body = Deployed), (status = 400), (status = 412)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn deploy(
    auth: Authorized<DeployScope>,
    State(state): State<AppState>,
    Query(query): Query<DeployQuery>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let project: Project = json(&body)?;
    let expected = expected_revision(&if_match)?;
    let outcome = deploy_stored(
        &state,
        &auth.caller,
        project,
        "api",
        expected,
        query.dry_run,
    )
    .await?;
    Ok(answer(outcome, query.dry_run, "project"))
}

#[utoipa::path(get, path = "/backend/revision", params(CollectionQuery),
    responses((status = 200, body = Collection<RevisionView>)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn revisions(
    _: Authorized<DeployScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let served = state.live.current().revision;
    listing::<_, RevisionView, StoreError, _>(&query, |page| async move {
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
) -> Result<impl IntoResponse, ApiError> {
    let stored = state.store.revision_project(id).await?.ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND).detail(format!("no revision {id} with a kept project"))
    })?;
    Ok(Json(RevisionProject {
        id,
        project: super::redact::redacted(stored.project),
    }))
}

#[utoipa::path(post, path = "/backend/revision/{id}/rollback", params(("id" = i64, Path), DeployQuery),
    responses((status = 200, body = Deployed), (status = 400), (status = 404)),
    security(("bearer" = ["backend.deploy"])))]
pub(super) async fn rollback(
    auth: Authorized<DeployScope>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<DeployQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let outcome = state
        .deployer
        .rollback(id, &actor(&state, &auth.caller).await, query.dry_run)
        .await
        .map_err(deploy_problem)?;
    Ok(answer(
        outcome,
        query.dry_run,
        &format!("project of revision {id}"),
    ))
}

#[utoipa::path(get, path = "/backend/audit", params(CollectionQuery),
    responses((status = 200, body = Collection<AuditView>)),
    security(("bearer" = ["backend.audit"])))]
pub(super) async fn audit(
    _: Authorized<AuditScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    listing::<_, AuditView, _, _>(&query, |page| state.store.list_audit(page)).await
}

/// Larger bodies for component uploads than the system API's 2 MB default.
pub(super) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_COMPONENT)
}
