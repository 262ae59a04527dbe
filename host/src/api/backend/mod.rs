//! `/backend`: the administration API. The identity resources — users,
//! apps, scopes, roles and tokens — each in its own module and each needing
//! its `backend.*` scope. Single entities answer with an `ETag`, and updates
//! honour `If-Match` (see `precondition`).

mod apps;
mod component;
mod config;
mod connection_check;
mod deploy;
mod entities;
mod execute;
mod identity;
mod log;
mod log_filter;
mod redact;
mod resources;
mod roles;
mod schema_check;
mod scopes;
mod statistic;
mod tokens;
mod users;

pub use apps::AppView;
pub use users::UserView;

use super::RequiredScope;
use super::answer::Written;
pub(crate) use super::answer::bad_request;
use super::precondition::etag;
use super::{Collection, CollectionQuery};
use crate::api_error::ApiError;
use crate::state::AppState;
use crate::store::Page;
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

macro_rules! scope {
    ($name:ident, $scope:literal) => {
        #[doc = concat!("The scope `", $scope, "`.")]
        #[derive(Debug)]
        pub struct $name;
        impl RequiredScope for $name {
            const SCOPE: &'static str = $scope;
        }
    };
}
scope!(UserScope, "backend.user");
scope!(AppScope, "backend.app");
scope!(ScopeScope, "backend.scope");
scope!(TokenScope, "backend.token");
scope!(RoleScope, "backend.role");
scope!(DeployScope, "backend.deploy");
scope!(AuditScope, "backend.audit");

/// Every `/backend` route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::update, apps::delete))
        .routes(routes!(apps::tokens))
        .routes(routes!(scopes::list, scopes::create))
        .routes(routes!(scopes::get, scopes::update, scopes::delete))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::update, roles::delete))
        .routes(routes!(tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(deploy::missing))
        .routes(routes!(deploy::deploy))
        .routes(routes!(deploy::revisions))
        .routes(routes!(deploy::revision))
        .routes(routes!(deploy::rollback))
        .routes(routes!(deploy::audit))
        .routes(routes!(log::list))
        .routes(routes!(log::get))
        .routes(routes!(log::errors))
        .routes(routes!(log::error))
        .routes(routes!(log::action))
        .routes(routes!(statistic::get))
        .routes(routes!(statistic::dashboard))
        .routes(routes!(resources::routes::list, resources::routes::create))
        .routes(routes!(
            resources::routes::get,
            resources::routes::update,
            resources::routes::delete
        ))
        .routes(routes!(
            resources::actions::list,
            resources::actions::create
        ))
        .routes(routes!(
            resources::actions::get,
            resources::actions::update,
            resources::actions::delete
        ))
        .routes(routes!(execute::execute))
        .routes(routes!(schema_check::check))
        .routes(routes!(connection_check::check_connection))
        .routes(routes!(config::get, config::update))
        .routes(routes!(
            resources::schemas::list,
            resources::schemas::create
        ))
        .routes(routes!(
            resources::schemas::get,
            resources::schemas::update,
            resources::schemas::delete
        ))
        .routes(routes!(
            resources::connections::list,
            resources::connections::create
        ))
        .routes(routes!(
            resources::connections::get,
            resources::connections::update,
            resources::connections::delete
        ))
        .routes(routes!(resources::rates::list, resources::rates::create))
        .routes(routes!(
            resources::rates::get,
            resources::rates::update,
            resources::rates::delete
        ))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(deploy::upload))
                .routes(routes!(component::replace, component::read))
                .layer(component::limit()),
        )
}

/// The OpenAPI document of `/backend`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A created entity: 201 with its message.
fn created(message: &str, id: i64) -> Response {
    (StatusCode::CREATED, Json(Written::new(message, id))).into_response()
}

/// An updated entity: its message and its new `ETag`.
fn updated(message: &str, id: i64, revision: i64) -> Response {
    (etag(revision), Json(Written::new(message, id))).into_response()
}

/// A listing: checks the page, fetches it and wraps it in the envelope.
async fn listing<'q, T, V, E, Fut>(
    query: &'q CollectionQuery,
    fetch: impl FnOnce(Page<'q>) -> Fut,
) -> Result<Json<Collection<V>>, ApiError>
where
    Fut: Future<Output = Result<(i64, Vec<T>), E>>,
    ApiError: From<E>,
    V: From<T> + Serialize,
{
    let page = query.page()?;
    let (total, rows) = fetch(page).await?;
    Ok(Json(Collection::new(
        page,
        total,
        rows.into_iter().map(V::from).collect(),
    )))
}

/// The client ids of Fusio's own apps, which the backend and portal need.
const FIRST_PARTY: [&str; 2] = [
    crate::auth::bootstrap::BACKEND_CLIENT_ID,
    crate::auth::bootstrap::PORTAL_CLIENT_ID,
];
