//! The scope check of every system-API handler, as an extractor: a handler
//! that takes `Authorized<S>` runs only for a caller whose token holds
//! `S::SCOPE` (or a parent of it, such as `backend`).

use crate::api_error::ApiError;
use crate::auth::{Caller, endpoints, scopes};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use std::marker::PhantomData;

/// A scope a handler requires, as a type.
pub trait RequiredScope: Send + Sync {
    /// The scope's name.
    const SCOPE: &'static str;
}

/// A caller holding `S::SCOPE`; rejects with 401 or 403 (RFC 6750).
#[derive(Debug)]
pub struct Authorized<S: RequiredScope> {
    /// Who is calling.
    pub caller: Caller,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = state
            .auth
            .authenticate(&parts.headers)
            .await
            .map_err(|reason| endpoints::unauthorized(&reason, None))?;
        if let Some(slot) = parts.extensions.get::<crate::journal::CallerSlot>() {
            slot.fill(&caller.holder);
        }
        if !scopes::any_grants(caller.scopes(), S::SCOPE) {
            return Err(endpoints::insufficient_scope(&[S::SCOPE.to_owned()], None).into());
        }
        Ok(Self {
            caller,
            scope: PhantomData,
        })
    }
}
