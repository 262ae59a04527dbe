//! The application's state: everything a request handler may need, and
//! the narrower views of it (`FromRef`) that layers below the API take, so
//! that the gateway, for one, sees only what it uses.

use crate::auth::Auth;
use crate::gateway::GatewayState;
use crate::runtime::Runtime;
use crate::snapshot::LiveSnapshot;
use crate::store::Store;
use std::sync::Arc;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The WebAssembly runtime.
    pub runtime: Runtime,
    /// The system store.
    pub store: Store,
    /// The snapshot being served.
    pub live: Arc<LiveSnapshot>,
    /// The authorization server and token checker.
    pub auth: Auth,
    /// Validates, stores and swaps in projects.
    pub deployer: crate::project::Deployer,
    /// Sends activation and reset mail.
    pub mailer: crate::mail::Mailer,
    /// Whether `/consumer/register` is open.
    pub registration: bool,
    /// External identity providers for `/consumer/provider/{name}`.
    pub providers: Arc<crate::auth::social::Providers>,
    /// Which browser origins may call, and how.
    pub cors: Arc<crate::cors::CorsSettings>,
    /// Who may read `/system/metrics`.
    pub metrics: crate::telemetry::MetricsAccess,
    /// The exported documents of the served revisions.
    pub exports: crate::doc::ExportCache,
    /// Counts requests against their rates.
    pub limiter: crate::limit::Limiter,
    /// Logs requests (`None`: off).
    pub journal: Option<crate::journal::RequestLog>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<crate::peer::TrustedProxies>,
}

impl axum::extract::FromRef<AppState> for GatewayState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            live: state.live.clone(),
            runtime: state.runtime.clone(),
            auth: state.auth.clone(),
            limiter: state.limiter.clone(),
            journal: state.journal.clone(),
        }
    }
}
