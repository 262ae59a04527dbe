//! Starting Fusio: open and migrate the store, create the runtime, load what
//! is deployed, optionally deploy a project file, then listen.

use crate::app::{AppState, router};
use crate::auth::social::{ProviderSettings, Providers, SocialError};
use crate::auth::{self, Auth, AuthError, AuthSettings};
use crate::confine::Confinement;
use crate::mail::{MailError, MailSettings, Mailer};
use crate::project::{self, BuildOptions, Deployer, ProjectError};
use crate::runtime::{EngineSettings, Runtime, RuntimeError, TickerPriority};
use crate::secrets::Cipher;
use crate::snapshot::{LiveSnapshot, SnapshotError};
use crate::store::{Store, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything `boot` needs; `fusio serve` fills it from its options.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// The data directory (embedded database, precompile cache).
    pub data_dir: PathBuf,
    /// The store URL; SQLite in the data directory when `None`.
    pub database_url: Option<String>,
    /// How the engine is built.
    pub engine: EngineSettings,
    /// A project file to deploy before serving.
    pub deploy: Option<PathBuf>,
    /// How action packages are built.
    pub build: BuildOptions,
    /// How tokens are issued.
    pub auth: AuthSettings,
    /// The `admin` user's password on a first start; generated and printed
    /// once when `None`.
    pub admin_password: Option<String>,
    /// How mail leaves.
    pub mail: MailSettings,
    /// Whether developers may register through `/consumer/register`.
    pub registration: bool,
    /// External identity providers developers may log in with.
    pub providers: Vec<ProviderSettings>,
    /// The key sealing connection credentials, base64 (else the key file).
    pub secret_key: Option<String>,
    /// The key file used without `secret_key`; created on a first start.
    pub secret_key_file: PathBuf,
    /// Directories where SQLite connections may name absolute paths.
    pub sqlite_dirs: Vec<PathBuf>,
    /// Which browser origins may call, and how.
    pub cors: crate::cors::CorsSettings,
    /// Who may read `/system/metrics`.
    pub metrics: crate::telemetry::MetricsAccess,
    /// The Redis where every node counts rate limits; in-process when
    /// `None`.
    pub redis: Option<String>,
    /// The prefix of the rate-limit keys in that Redis.
    pub redis_prefix: String,
    /// How requests are logged.
    pub request_log: crate::journal::RequestLogSettings,
    /// The proxies whose `X-Forwarded-For` names the client (none: the
    /// connection's peer is the client).
    pub trusted_proxies: crate::peer::TrustedProxies,
}

impl BootOptions {
    /// Defaults for `data_dir`: SQLite there, cache there, nothing to deploy.
    pub fn new(data_dir: PathBuf) -> Self {
        let outbox = data_dir.join("outbox.mbox");
        Self {
            engine: EngineSettings::new(data_dir.join("cache")),
            secret_key_file: data_dir.join("secret.key"),
            data_dir,
            database_url: None,
            deploy: None,
            build: BuildOptions::default(),
            auth: AuthSettings::new("http://localhost:8080"),
            admin_password: None,
            mail: MailSettings {
                outbox,
                ..MailSettings::default()
            },
            registration: true,
            providers: Vec::new(),
            secret_key: None,
            sqlite_dirs: Vec::new(),
            cors: crate::cors::CorsSettings::default(),
            metrics: crate::telemetry::MetricsAccess::Off,
            redis: None,
            redis_prefix: "fusio:".to_owned(),
            request_log: crate::journal::RequestLogSettings::default(),
            trusted_proxies: crate::peer::TrustedProxies::default(),
        }
    }

    /// What user connections of this node may reach: never the store,
    /// the secret key, the precompile cache or the rest of the data
    /// directory.
    pub fn confinement(&self) -> Confinement {
        let mut protected = vec![
            self.data_dir.join("fusio.db"),
            self.secret_key_file.clone(),
            self.engine.cache_dir.clone(),
        ];
        let store_url = self.database_url.as_deref();
        if let Some(url) = store_url.filter(|url| url.starts_with("sqlite:"))
            && let Ok(options) = url.parse::<sqlx::sqlite::SqliteConnectOptions>()
        {
            protected.push(options.get_filename().to_owned());
        }
        Confinement::new(&self.data_dir, &self.sqlite_dirs, &protected, store_url)
    }
}

/// Why Fusio could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The store is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime could not start.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The deployed revision could not be loaded.
    #[error("cannot load the deployed revision")]
    Snapshot(#[from] SnapshotError),
    /// The project file was refused.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// Identity could not be set up.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Mail is misconfigured.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// An identity provider is misconfigured.
    #[error(transparent)]
    Social(#[from] SocialError),
    /// The rate-limit Redis URL is unusable.
    #[error(transparent)]
    Limiter(#[from] crate::limit::LimiterError),
    /// The key for connection credentials is unusable.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
}

/// Opens and migrates the store, creates the runtime, loads the deployed
/// revision and deploys `options.deploy` when given.
pub async fn boot(options: &BootOptions) -> Result<AppState, BootError> {
    let mailer = Mailer::new(&options.mail)?;
    let providers = Arc::new(Providers::new(&options.providers, &options.auth.issuer)?);
    let cipher = Cipher::load(options.secret_key.as_deref(), &options.secret_key_file)?;
    let store = Store::open(options.database_url.as_deref(), &options.data_dir)
        .await?
        .with_cipher(Arc::new(cipher));
    store.migrate().await?;
    let auth = Auth::new(store.clone(), options.auth.clone()).await?;
    if let Some(first) = auth::bootstrap(&store, options.admin_password.as_deref()).await? {
        match first.generated_password {
            // Printed, never logged: it is shown once and not stored in clear.
            Some(password) => eprintln!(
                "\nFirst start: created the user `admin` with the password\n\n    {password}\n\n\
                 It is shown only now. Set FUSIO_ADMIN_PASSWORD on a first start to choose it.\n"
            ),
            None => tracing::info!("first start: created the user `admin`"),
        }
    }
    if options.metrics != crate::telemetry::MetricsAccess::Off {
        // Recording starts now; without a reader nothing is recorded at all.
        crate::telemetry::install();
    }
    let limiter = match &options.redis {
        Some(url) => crate::limit::Limiter::shared(url, &options.redis_prefix)?,
        None => crate::limit::Limiter::local(),
    };
    let journal = crate::journal::RequestLog::start(&store, options.request_log.clone());
    tokio::spawn(crate::journal::prune(store.clone()));
    let runtime = Runtime::new(options.engine.clone())?;
    tracing::info!(
        store = ?store.backend(),
        allocator = ?runtime.pooling(),
        epoch_ticker = ?runtime.ticker_priority(),
        "runtime ready"
    );
    if runtime.ticker_priority() == TickerPriority::Normal {
        tracing::warn!(
            "the epoch ticker runs at normal priority (real-time scheduling needs CAP_SYS_NICE): \
             on a saturated core a computing action may keep its worker a few milliseconds past its tick"
        );
    }
    let live = Arc::new(LiveSnapshot::default());
    let deployer = Deployer::new(
        store.clone(),
        runtime.clone(),
        live.clone(),
        Arc::new(options.confinement()),
    );
    deployer.refresh().await?;
    if let Some(file) = &options.deploy {
        let outcome = project::deploy_file(&deployer, file, &options.build, "cli").await?;
        if outcome.changed {
            tracing::info!(file = %file.display(), revision = outcome.revision, "project deployed");
        } else {
            tracing::info!(file = %file.display(), revision = outcome.revision, "project unchanged");
        }
    }
    Ok(AppState {
        runtime,
        store,
        live,
        deployer,
        auth,
        mailer,
        registration: options.registration,
        providers,
        cors: Arc::new(options.cors.clone()),
        exports: crate::doc::export_cache(),
        metrics: options.metrics.clone(),
        limiter,
        journal,
        trusted_proxies: Arc::new(options.trusted_proxies.clone()),
    })
}

/// Serves `state` on `listen` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let store = state.store.clone();
    let follower = crate::sync::follow(
        state.store.clone(),
        state.deployer.clone(),
        state.auth.clone(),
    );
    // The peer address feeds login throttling (`auth::throttle`).
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    follower.abort();
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
