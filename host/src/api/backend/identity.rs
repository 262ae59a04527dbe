//! The one path that users, apps, roles and scopes share: an entity named
//! by its id or `~name`, listed in pages, shown with its `ETag`, deleted
//! unless something still needs it. Each resource says only what differs
//! (how the store finds it, what the API shows, why it may not go); creates
//! and updates differ in their bodies and stay with the resource.

use super::{Collection, CollectionQuery, etag, listing};
use crate::api::answer::Written;
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::{Page, StoreError};
use axum::Json;
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Serialize;

/// An entity reference: a store id, or `~name`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reference<'a> {
    /// The store's id.
    Id(i64),
    /// The unique name, written `~name`.
    Name(&'a str),
}

impl<'a> Reference<'a> {
    /// Reads an id or `~name`; 400 for anything else.
    fn parse(text: &'a str) -> Result<Self, Problem> {
        match text.strip_prefix('~') {
            Some(name) if !name.is_empty() => Ok(Self::Name(name)),
            _ => text.parse().map(Self::Id).map_err(|_| {
                Problem::new(StatusCode::BAD_REQUEST)
                    .detail(format!("`{text}` is neither an id nor a ~name"))
            }),
        }
    }
}

/// An identity resource of the backend: what differs between users, apps,
/// roles and scopes on the shared path.
pub(super) trait Identity: Sized + Send + Sync {
    /// Its name in messages, e.g. `role`.
    const WHAT: &'static str;
    /// What a delete answers, e.g. "the role was deleted".
    const DELETED: &'static str;
    /// What a listing shows of each.
    type Listed: Serialize + Send;
    /// What a `GET` of one shows.
    type Shown: Serialize + Send;

    /// The one that `reference` names, if any.
    fn fetch(
        state: &AppState,
        reference: Reference<'_>,
    ) -> impl Future<Output = Result<Option<Self>, StoreError>> + Send;

    /// A page of them as the API shows them, with the total.
    fn page(
        state: &AppState,
        page: Page<'_>,
    ) -> impl Future<Output = Result<(i64, Vec<Self::Listed>), ApiError>> + Send;

    /// What a `GET` shows of this one.
    fn shown(self, state: &AppState) -> impl Future<Output = Result<Self::Shown, ApiError>> + Send;

    /// Its id and revision (its `ETag`).
    fn id_and_revision(&self) -> (i64, i64);

    /// Deletes it, or refuses (409) saying what still needs it.
    fn remove(
        &self,
        state: &AppState,
        caller: &Caller,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Finds the entity that `text` (an id or `~name`) names: 400 for a
/// reference that is neither, 404 when there is none.
pub(super) async fn find<R: Identity>(state: &AppState, text: &str) -> Result<R, ApiError> {
    let reference = Reference::parse(text)?;
    R::fetch(state, reference).await?.ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND)
            .detail(format!("no {} `{text}`", R::WHAT))
            .into()
    })
}

/// `GET` of the collection.
pub(super) async fn list<R: Identity>(
    state: &AppState,
    query: &CollectionQuery,
) -> Result<Json<Collection<R::Listed>>, ApiError> {
    listing::<R::Listed, R::Listed, ApiError, _>(query, |page| R::page(state, page)).await
}

/// `GET` of one, with its `ETag`.
pub(super) async fn get<R: Identity>(
    state: &AppState,
    text: &str,
) -> Result<impl IntoResponse + use<R>, ApiError> {
    let entity = find::<R>(state, text).await?;
    let (_, revision) = entity.id_and_revision();
    Ok((etag(revision), Json(entity.shown(state).await?)))
}

/// `DELETE` of one.
pub(super) async fn delete<R: Identity>(
    state: &AppState,
    caller: &Caller,
    text: &str,
) -> Result<Json<Written>, ApiError> {
    let entity = find::<R>(state, text).await?;
    entity.remove(state, caller).await?;
    let (id, _) = entity.id_and_revision();
    Ok(Json(Written::new(R::DELETED, id)))
}

/// A 409 naming why the entity cannot be changed that way.
pub(super) fn conflict(detail: impl Into<String>) -> ApiError {
    Problem::new(StatusCode::CONFLICT).detail(detail).into()
}

/// The `list`, `get` and `delete` handlers of an identity resource, each
/// guarded by its scope and documented for utoipa, in the resource's module.
macro_rules! identity_handlers {
    (
        $entity:ty, $scope:ty, $scope_name:literal,
        $collection:literal, $item:literal, $listed:ty, $shown:ty
    ) => {
        #[utoipa::path(get, path = $collection, params(crate::api::CollectionQuery),
            responses((status = 200, body = crate::api::Collection<$listed>), (status = 401), (status = 403)),
            security(("bearer" = [$scope_name])))]
        pub(super) async fn list(
            _: crate::api::Authorized<$scope>,
            axum::extract::State(state): axum::extract::State<crate::state::AppState>,
            axum::extract::Query(query): axum::extract::Query<crate::api::CollectionQuery>,
        ) -> Result<impl axum::response::IntoResponse, crate::api_error::ApiError> {
            super::identity::list::<$entity>(&state, &query).await
        }

        #[utoipa::path(get, path = $item, params(("id" = String, Path, description = "id or ~name")),
            responses((status = 200, body = $shown, headers(("ETag" = String))), (status = 404)),
            security(("bearer" = [$scope_name])))]
        pub(super) async fn get(
            _: crate::api::Authorized<$scope>,
            axum::extract::State(state): axum::extract::State<crate::state::AppState>,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<impl axum::response::IntoResponse, crate::api_error::ApiError> {
            super::identity::get::<$entity>(&state, &id).await
        }

        #[utoipa::path(delete, path = $item, params(("id" = String, Path, description = "id or ~name")),
            responses((status = 200, body = crate::api::answer::Written), (status = 404), (status = 409)),
            security(("bearer" = [$scope_name])))]
        pub(super) async fn delete(
            auth: crate::api::Authorized<$scope>,
            axum::extract::State(state): axum::extract::State<crate::state::AppState>,
            axum::extract::Path(id): axum::extract::Path<String>,
        ) -> Result<impl axum::response::IntoResponse, crate::api_error::ApiError> {
            super::identity::delete::<$entity>(&state, &auth.caller, &id).await
        }
    };
}
pub(super) use identity_handlers;
