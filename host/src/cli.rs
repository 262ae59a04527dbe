//! The command line. Every option has help text and a `FUSIO_…` environment
//! variable, so `fusio serve --help` is the configuration reference.

use bytesize::ByteSize;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Fusio: API management with business logic as WebAssembly components.
#[derive(Debug, Parser)]
#[command(
    name = "fusio",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 done; 1 the command ran and the answer is no (a refused deploy \
                  or rollback, a dry run that finds problems); 2 an error (bad flags, an \
                  unreadable file, a server that cannot be reached)."
)]
pub struct Cli {
    /// Log filter, e.g. `info` or `fusio=debug,tower_http=info`.
    #[arg(long, global = true, env = "FUSIO_LOG", default_value = "info")]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API: migrate the store, load the deployed actions and listen.
    Serve(Box<ServeArgs>),
    /// Apply pending system-store migrations and exit.
    Migrate(StoreArgs),
    /// Create a user (password from FUSIO_USER_PASSWORD or the first line of stdin).
    Adduser(AddUserArgs),
    /// Create an app for a user and print its client id and secret (shown once).
    Addapp(AddAppArgs),
    /// Log in to a Fusio server and keep the token for later commands (password from FUSIO_PASSWORD or stdin).
    Login(LoginArgs),
    /// Build the project in fusio.yml and deploy it to a server: upload, validate, print the plan, apply.
    Deploy(DeployArgs),
    /// Serve again what an earlier revision served (default: the one before the current).
    Rollback(RollbackArgs),
    /// Write the API described by fusio.yml as a document, without a server (for CI).
    Export(ExportArgs),
    /// Write a new project directory (fusio.yml, one action, test cases, a README) that passes `fusio test`.
    New(NewArgs),
    /// Run the test cases declared in fusio.yml against a throwaway in-process server (or a live one).
    Test(TestArgs),
    /// Print the version and exit.
    Version,
}

/// Where the system store lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and the precompile cache; created when missing.
    #[arg(long, env = "FUSIO_DATA_DIR", default_value = ".fusio")]
    pub data_dir: PathBuf,
    /// System-store URL (`postgres://…` or `sqlite://…`); defaults to `fusio.db` in the data directory.
    #[arg(long = "database", env = "FUSIO_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Options of `fusio login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// The server.
    #[arg(long, env = "FUSIO_URL", default_value = "http://localhost:8080")]
    pub url: String,
    /// The user name.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// Where the token is kept (default: `fusio/credentials.json` in the user's config directory).
    #[arg(long, env = "FUSIO_CREDENTIALS")]
    pub credentials: Option<PathBuf>,
}

/// How a command reaches a server.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The server.
    #[arg(long, env = "FUSIO_URL", default_value = "http://localhost:8080")]
    pub url: String,
    /// The saved login of `fusio login` (FUSIO_CLIENT_ID and FUSIO_CLIENT_SECRET, when set, are used instead).
    #[arg(long, env = "FUSIO_CREDENTIALS")]
    pub credentials: Option<PathBuf>,
}

/// Options of `fusio deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The project file.
    #[arg(default_value = "fusio.yml")]
    pub file: PathBuf,
    /// The server and the login.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Validate and print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Cargo target directory for building action packages (cargo's default when unset).
    #[arg(long, env = "FUSIO_BUILD_TARGET_DIR")]
    pub build_target_dir: Option<PathBuf>,
}

/// Options of `fusio new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The directory to create; its name is the project's.
    pub name: PathBuf,
    /// The language of its action.
    #[arg(long, value_enum, default_value = "js")]
    pub lang: crate::scaffold::Language,
}

/// Options of `fusio test`.
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// The project file.
    #[arg(default_value = "fusio.yml")]
    pub file: PathBuf,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Run against this running server instead of a throwaway one.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: the access token sent where a case names scopes.
    #[arg(long, env = "FUSIO_TEST_TOKEN")]
    pub token: Option<String>,
    /// Cargo target directory for building action packages (cargo's default when unset).
    #[arg(long, env = "FUSIO_BUILD_TARGET_DIR")]
    pub build_target_dir: Option<PathBuf>,
    /// Where compiled components are kept between runs (default: the user's cache).
    #[arg(long, env = "FUSIO_TEST_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Use the project's PostgreSQL, MySQL/MariaDB and Redis connections as
    /// configured (the tests write to them); without it such a project is
    /// refused. SQLite files are made afresh either way.
    #[arg(
        long,
        env = "FUSIO_TEST_SHARED_DATABASES",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub shared_databases: bool,
}

/// Options of `fusio export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// The project file.
    #[arg(default_value = "fusio.yml")]
    pub file: PathBuf,
    /// The route version: a number, or `*` for each route's default version.
    #[arg(long, default_value = "*")]
    pub version: String,
    /// One route's path as written in the file, or `*` for every route.
    #[arg(long, default_value = "*")]
    pub path: String,
    /// The server's public URL, written as the document's server.
    #[arg(
        long,
        env = "FUSIO_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,
    /// YAML instead of JSON (OpenAPI; RAML is always YAML).
    #[arg(long)]
    pub yaml: bool,
}

/// The documents `fusio export` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportKind {
    /// OpenAPI 3.1.
    Openapi,
    /// RAML 1.0.
    Raml,
}

/// Options of `fusio rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The revision whose project to serve again (default: the newest kept one before the current).
    pub revision: Option<i64>,
    /// The server and the login.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `fusio adduser`.
#[derive(Debug, Clone, Args)]
pub struct AddUserArgs {
    /// Where the system store lives.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The login name.
    #[arg(long)]
    pub name: String,
    /// The email address.
    #[arg(long)]
    pub email: Option<String>,
    /// The role: `Administrator` or `Consumer`.
    #[arg(long, default_value = "Consumer")]
    pub role: String,
    /// A scope beyond the role's (repeatable); it must exist.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
}

/// Options of `fusio addapp`.
#[derive(Debug, Clone, Args)]
pub struct AddAppArgs {
    /// Where the system store lives.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The owner's login name.
    #[arg(long)]
    pub user: String,
    /// The app's name.
    #[arg(long)]
    pub name: String,
    /// A scope the app may ask for (repeatable); it must exist.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// A redirect URI for the authorization-code flow (repeatable).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// A public client: no secret (for apps that cannot keep one).
    #[arg(long)]
    pub public: bool,
}

/// Options of `fusio serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where the system store lives.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address and port to listen on.
    #[arg(long, env = "FUSIO_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Deploy this project file (fusio.yml) before serving; a refused file stops the start.
    #[arg(long, env = "FUSIO_DEPLOY")]
    pub deploy: Option<PathBuf>,
    /// Cargo target directory for building action packages (cargo's default when unset).
    #[arg(long, env = "FUSIO_BUILD_TARGET_DIR")]
    pub build_target_dir: Option<PathBuf>,
    /// Action instances that may run at once; more are answered 503 with Retry-After.
    #[arg(long, env = "FUSIO_MAX_INSTANCES", default_value_t = 1000)]
    pub max_instances: u32,
    /// The largest memory limit an action may ask for.
    #[arg(long, env = "FUSIO_MAX_ACTION_MEMORY", default_value = "256 MiB")]
    pub max_action_memory: ByteSize,
    /// Dirty memory a pool slot resets in place between requests instead of returning it to the kernel.
    #[arg(long, env = "FUSIO_KEEP_RESIDENT", default_value = "1 MiB")]
    pub keep_resident: ByteSize,
    /// Never use the pooling allocator (for machines that limit virtual memory).
    #[arg(long, env = "FUSIO_NO_POOLING")]
    pub no_pooling: bool,
    /// The server's public URL: issuer and audience of its tokens (default http://localhost:<port>).
    #[arg(long, env = "FUSIO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long an access token is valid.
    #[arg(long, env = "FUSIO_TOKEN_LIFETIME", default_value = "1h", value_parser = humantime::parse_duration)]
    pub token_lifetime: std::time::Duration,
    /// How long a refresh token is valid.
    #[arg(long, env = "FUSIO_REFRESH_LIFETIME", default_value = "30d", value_parser = humantime::parse_duration)]
    pub refresh_lifetime: std::time::Duration,
    /// SMTP relay for activation mail, `smtp://user:password@host:port` (unset: mail goes to the log).
    #[arg(long, env = "FUSIO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of Fusio's mail.
    #[arg(
        long,
        env = "FUSIO_MAIL_FROM",
        default_value = "Fusio <noreply@localhost>"
    )]
    pub mail_from: String,
    /// A YAML file listing identity providers (GitHub, Google, Facebook, OpenID Connect) for developer login.
    #[arg(long, env = "FUSIO_PROVIDERS")]
    pub providers: Option<PathBuf>,
    /// Close `/consumer/register`: developers cannot sign up themselves.
    #[arg(long, env = "FUSIO_NO_REGISTRATION")]
    pub no_registration: bool,
    /// The key that seals connection credentials in the store: a file holding 32 base64 bytes, created on a first start; every node of one store needs the same (FUSIO_SECRET_KEY, the key itself, takes precedence).
    #[arg(long, env = "FUSIO_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// A directory where SQLite connections may name absolute paths (`sqlite:/DIR/app.db`); repeat for several, or separate them with `:` in the variable. Relative paths are files in <data-dir>/connections.
    #[arg(long = "sqlite-dir", env = "FUSIO_SQLITE_DIRS", value_delimiter = ':')]
    pub sqlite_dirs: Vec<PathBuf>,
    /// The `admin` user's password on a first start (generated and printed once when unset).
    #[arg(long, env = "FUSIO_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// A browser origin that may call the API (`https://app.example.com`), repeatable or comma-separated; `*` alone allows every origin. None by default: cross-origin calls are refused.
    #[arg(
        long = "cors-origin",
        env = "FUSIO_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// A method cross-origin calls may use (default GET, POST, PUT, PATCH, DELETE); repeatable or comma-separated.
    #[arg(
        long = "cors-method",
        env = "FUSIO_CORS_METHODS",
        value_delimiter = ','
    )]
    pub cors_methods: Vec<String>,
    /// A request header cross-origin calls may send (default Authorization, Content-Type, Accept, If-Match); repeatable or comma-separated.
    #[arg(
        long = "cors-header",
        env = "FUSIO_CORS_HEADERS",
        value_delimiter = ','
    )]
    pub cors_headers: Vec<String>,
    /// A proxy (an address or a network, e.g. `10.0.0.0/8`) whose `X-Forwarded-For` names the client, repeatable or comma-separated. None by default: the connection's peer is the client.
    #[arg(
        long = "trusted-proxy",
        env = "FUSIO_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Let cross-origin calls carry credentials (cookies, Authorization); needs named origins.
    #[arg(long, env = "FUSIO_CORS_CREDENTIALS")]
    pub cors_credentials: bool,
    /// Serve `/system/metrics` (Prometheus) to scrapers presenting this bearer token.
    #[arg(long, env = "FUSIO_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve `/system/metrics` to anyone (when the network already decides who reaches it).
    #[arg(long, env = "FUSIO_METRICS_PUBLIC", conflicts_with = "metrics_token")]
    pub metrics_public: bool,
    /// Log no requests (the request and error log stay empty).
    #[arg(long, env = "FUSIO_NO_REQUEST_LOG")]
    pub no_request_log: bool,
    /// How much of a request body the request log keeps (0: none).
    #[arg(long, env = "FUSIO_LOG_BODY_LIMIT", default_value = "4 KiB")]
    pub log_body_limit: bytesize::ByteSize,
    /// A request header whose value the request log hides, besides Authorization, Proxy-Authorization and Cookie; repeatable or comma-separated.
    #[arg(
        long = "log-redact-header",
        env = "FUSIO_LOG_REDACT_HEADERS",
        value_delimiter = ','
    )]
    pub log_redact_headers: Vec<http::HeaderName>,
    /// A query parameter whose value the request log hides on user routes, besides `access_token` (repeatable or comma-separated).
    #[arg(
        long = "log-redact-query",
        env = "FUSIO_LOG_REDACT_QUERY",
        value_delimiter = ','
    )]
    pub log_redact_query: Vec<String>,
    /// Log records waiting to be written, at most; more are dropped and counted.
    #[arg(long, env = "FUSIO_LOG_QUEUE", default_value_t = 10_000)]
    pub log_queue: usize,
    /// Count rate limits in this Redis (`redis://host:6379`), shared by every node; in-process without it.
    #[arg(long, env = "FUSIO_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    /// The prefix of Fusio's keys in that Redis.
    #[arg(long, env = "FUSIO_REDIS_PREFIX", default_value = "fusio:")]
    pub redis_prefix: String,
    /// How long a browser may keep a preflight's answer.
    #[arg(long, env = "FUSIO_CORS_MAX_AGE", default_value = "1h", value_parser = humantime::parse_duration)]
    pub cors_max_age: std::time::Duration,
}
