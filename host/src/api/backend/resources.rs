//! The handlers of `/backend/routes`, `/backend/action`, `/backend/schema`,
//! `/backend/connection` and `/backend/rate`: list, get, create, update, delete, each
//! guarded by its scope and documented for utoipa; the work is done by
//! `entities`, the same for every kind.

use super::entities;
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, CollectionQuery, RequiredScope};
use crate::api_error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

/// Generates the five handlers of one resource in a module of its own.
macro_rules! resource {
    (
        $module:ident, $entity:ty, $scope:ident, $scope_name:literal,
        $collection:literal, $item:literal
    ) => {
        #[doc = concat!("`", $collection, "`: the project's ", stringify!($module), ".")]
        pub(crate) mod $module {
            use super::*;

            #[doc = concat!("The scope `", $scope_name, "`.")]
            #[derive(Debug)]
            pub struct $scope;
            impl RequiredScope for $scope {
                const SCOPE: &'static str = $scope_name;
            }

            #[utoipa::path(get, path = $collection, params(CollectionQuery),
                responses((status = 200, body = Object)),
                security(("bearer" = [$scope_name])))]
            pub(in super::super) async fn list(
                _: Authorized<$scope>,
                State(state): State<AppState>,
                Query(query): Query<CollectionQuery>,
            ) -> Result<impl IntoResponse, ApiError> {
                entities::list::<$entity>(&state, &query).await
            }

            #[utoipa::path(get, path = $item, params(("name" = String, Path, description = "~name")),
                responses((status = 200, body = Object, headers(("ETag" = String))), (status = 404)),
                security(("bearer" = [$scope_name])))]
            pub(in super::super) async fn get(
                _: Authorized<$scope>,
                State(state): State<AppState>,
                Path(name): Path<String>,
            ) -> Result<impl IntoResponse, ApiError> {
                entities::get::<$entity>(&state, &name).await
            }

            #[utoipa::path(post, path = $collection, request_body = Object,
                responses((status = 201, body = crate::api::answer::Written), (status = 400), (status = 409), (status = 412)),
                security(("bearer" = [$scope_name])))]
            pub(in super::super) async fn create(
                auth: Authorized<$scope>,
                State(state): State<AppState>,
                if_match: IfMatch,
                body: Bytes,
            ) -> Result<Response, ApiError> {
                entities::create::<$entity>(&state, &auth.caller, &if_match, &body).await
            }

            #[utoipa::path(put, path = $item, params(("name" = String, Path, description = "~name")),
                request_body = Object,
                responses((status = 200, body = crate::api::answer::Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
                security(("bearer" = [$scope_name])))]
            pub(in super::super) async fn update(
                auth: Authorized<$scope>,
                State(state): State<AppState>,
                Path(name): Path<String>,
                if_match: IfMatch,
                body: Bytes,
            ) -> Result<Response, ApiError> {
                entities::update::<$entity>(&state, &auth.caller, &if_match, name, &body).await
            }

            #[utoipa::path(delete, path = $item, params(("name" = String, Path, description = "~name")),
                responses((status = 200, body = crate::api::answer::Written), (status = 400), (status = 404), (status = 412)),
                security(("bearer" = [$scope_name])))]
            pub(in super::super) async fn delete(
                auth: Authorized<$scope>,
                State(state): State<AppState>,
                Path(name): Path<String>,
                if_match: IfMatch,
            ) -> Result<Response, ApiError> {
                entities::delete::<$entity>(&state, &auth.caller, &if_match, name).await
            }
        }
    };
}

resource!(
    routes,
    crate::store::model::RouteRecord,
    RoutesScope,
    "backend.routes",
    "/backend/routes",
    "/backend/routes/{name}"
);
resource!(
    actions,
    crate::runtime::ActionSpec,
    ActionScope,
    "backend.action",
    "/backend/action",
    "/backend/action/{name}"
);
resource!(
    schemas,
    crate::store::model::SchemaRecord,
    SchemaScope,
    "backend.schema",
    "/backend/schema",
    "/backend/schema/{name}"
);
resource!(
    connections,
    crate::store::model::ConnectionRecord,
    ConnectionScope,
    "backend.connection",
    "/backend/connection",
    "/backend/connection/{name}"
);
resource!(
    rates,
    crate::store::model::RateRecord,
    RateScope,
    "backend.rate",
    "/backend/rate",
    "/backend/rate/{name}"
);
