//! `/consumer`: the developer portal's API. Registration with an activation
//! mail, login, and the caller's own apps, limited to the scopes the caller
//! holds.

mod account;
mod apps;
mod grants;
mod providers;
mod registration;
mod session;

use super::{Authorized, RequiredScope};
use crate::problem::Problem;
use crate::state::AppState;
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The scope `consumer.account`.
#[derive(Debug)]
pub struct AccountScope;

impl RequiredScope for AccountScope {
    const SCOPE: &'static str = "consumer.account";
}

/// The scope `consumer.grant`.
#[derive(Debug)]
pub struct GrantsScope;

impl RequiredScope for GrantsScope {
    const SCOPE: &'static str = "consumer.grant";
}

/// The scope `consumer.app`.
#[derive(Debug)]
pub struct AppsScope;

impl RequiredScope for AppsScope {
    const SCOPE: &'static str = "consumer.app";
}

/// Every `/consumer` route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registration::register))
        .routes(routes!(registration::activate))
        .routes(routes!(session::login, session::refresh))
        .routes(routes!(registration::request_password_reset))
        .routes(routes!(registration::confirm_password_reset))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(account::get_account, account::update_account))
        .routes(routes!(apps::update_app, apps::delete_app))
        .routes(routes!(apps::rotate_secret))
        .routes(routes!(grants::list_grants))
        .routes(routes!(providers::provider_login))
        .routes(routes!(providers::provider_callback))
        .routes(routes!(grants::revoke_grant))
        .routes(routes!(account::change_password))
}

fn valid_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn caller_id<S: RequiredScope>(auth: &Authorized<S>) -> Result<i64, Problem> {
    auth.caller
        .claims
        .sub
        .parse()
        .map_err(|_| Problem::new(StatusCode::FORBIDDEN).detail("the token names no user"))
}
