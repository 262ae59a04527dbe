//! The `fusio` binary: parses the command line, sets up logging and runs the
//! chosen command. Exit codes: 0 done, 1 the answer is no (a refused
//! deploy or rollback), 2 error (printed with its whole chain).

use anyhow::Context;
use clap::Parser;
use fusio::auth::AuthSettings;
use fusio::auth::accounts;
use fusio::cli::{
    AddAppArgs, AddUserArgs, Cli, Command, DeployArgs, ExportArgs, ExportKind, LoginArgs,
    RemoteArgs, RollbackArgs, ServeArgs, StoreArgs, TestArgs,
};
use fusio::client;
use fusio::project::BuildOptions;
use fusio::server::{BootOptions, boot, serve};
use fusio::store::Store;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    keep_backtraces_to_panics();
    limit_malloc_arenas();
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("fusio: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fusio: {err:#}");
            exit_code(&err)
        }
    }
}

/// 1 when the command ran and the answer is "no" (a refused deploy or
/// rollback, a dry run that finds problems), 2 for errors.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    let refused = err
        .downcast_ref::<client::deploy::DeployCommandError>()
        .is_some_and(client::deploy::DeployCommandError::is_refusal)
        || err
            .downcast_ref::<fusio::project::ProjectError>()
            .is_some_and(|err| {
                matches!(
                    err,
                    fusio::project::ProjectError::Parse { .. }
                        | fusio::project::ProjectError::Invalid { .. }
                )
            });
    let refused = refused || err.downcast_ref::<TestsFailed>().is_some();
    ExitCode::from(if refused { 1 } else { 2 })
}

/// Under `RUST_BACKTRACE=1` (many machines set it) every error value would
/// capture the host's backtrace: a trapping action then costs a stack walk,
/// and the first one pages the binary's unwind tables in for good. Panics
/// keep their backtraces; error values capture one only when the operator
/// asks with `RUST_LIB_BACKTRACE=1`.
#[allow(unsafe_code)]
fn keep_backtraces_to_panics() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first thing `main` does, while no other thread exists
        // that could read the environment at the same time.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}

/// glibc gives every thread that allocates a heap of its own (up to eight
/// per core) and returns little of a heap's free memory to the system. The
/// server hands an action's long steps to other threads, so request memory
/// is freed on many threads; one heap per core (at least two) keeps that
/// from adding up.
/// `MALLOC_ARENA_MAX`, when set, is the operator's choice and wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes a tuning value of the allocator; called
    // first thing in `main`, before any other thread allocates.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Other allocators keep their own counsel.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// The identity providers of a `--providers` YAML file.
fn read_providers(
    path: &std::path::Path,
) -> anyhow::Result<Vec<fusio::auth::social::ProviderSettings>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_saphyr::from_str(&text)
        .with_context(|| format!("{} is not a valid providers file", path.display()))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Version => {
            println!("fusio {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Migrate(args) => migrate(&args).await,
        Command::Adduser(args) => add_user(&args).await,
        Command::Addapp(args) => add_app(&args).await,
        Command::Login(args) => login(&args).await,
        Command::Deploy(args) => deploy(&args).await,
        Command::Rollback(args) => rollback(&args).await,
        Command::Export(args) => export(&args).await,
        Command::Test(args) => test(&args).await,
        Command::New(args) => {
            let written = fusio::scaffold::create(&args.name, args.lang)?;
            for file in written {
                println!("wrote {}", args.name.join(file).display());
            }
            println!("next: cd {} && fusio test", args.name.display());
            Ok(())
        }
        Command::Serve(args) => {
            let mut options = boot_options(&args);
            options.cors = fusio::cors::CorsSettings::new(
                &args.cors_origins,
                &args.cors_methods,
                &args.cors_headers,
                args.cors_credentials,
                args.cors_max_age,
            )
            .context("the CORS options are not usable")?;
            options.trusted_proxies = fusio::peer::TrustedProxies::parse(&args.trusted_proxies)
                .context("--trusted-proxy")?;
            options.metrics = match (&args.metrics_token, args.metrics_public) {
                (Some(token), _) => fusio::telemetry::MetricsAccess::Token(token.clone()),
                (None, true) => fusio::telemetry::MetricsAccess::Public,
                (None, false) => fusio::telemetry::MetricsAccess::Off,
            };
            options.request_log = fusio::journal::RequestLogSettings {
                enabled: !args.no_request_log,
                body_limit: usize::try_from(args.log_body_limit.as_u64()).unwrap_or(usize::MAX),
                redact: args.log_redact_headers.clone(),
                redact_query: args.log_redact_query.clone(),
                queue: args.log_queue,
            };
            options.redis = args.redis.clone();
            options.redis_prefix = args.redis_prefix.clone();
            if let Some(path) = &args.providers {
                options.providers = read_providers(path)?;
            }
            let state = boot(&options).await.context("fusio could not start")?;
            serve(state, args.listen)
                .await
                .with_context(|| format!("cannot serve on {}", args.listen))
        }
    }
}

async fn migrate(args: &StoreArgs) -> anyhow::Result<()> {
    let store = open_store(args).await?;
    store.close().await;
    println!("the system store is up to date");
    Ok(())
}

/// Opens and migrates the store, with the system scopes and roles in it.
async fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    let store = Store::open(args.database_url.as_deref(), &args.data_dir)
        .await
        .context("cannot open the system store")?;
    store
        .migrate()
        .await
        .context("cannot migrate the system store")?;
    fusio::auth::ensure_roles(&store)
        .await
        .context("cannot create the system roles")?;
    Ok(store)
}

/// A password from the environment variable `var`, or the first line of stdin.
fn password_from(var: &str) -> anyhow::Result<String> {
    match std::env::var(var) {
        Ok(password) => Ok(password),
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from stdin")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

/// `fusio login`: the password grant through the backend app; the answer
/// is kept (owner-only file) for later commands such as `fusio deploy`.
async fn login(args: &LoginArgs) -> anyhow::Result<()> {
    let password = password_from("FUSIO_PASSWORD")?;
    let path = match &args.credentials {
        Some(path) => path.clone(),
        None => client::credentials::default_path()?,
    };
    let saved = client::login(&args.url, &args.user, &password, &path).await?;
    println!(
        "logged in to {} as {}; the token is in {}",
        saved.url,
        args.user,
        path.display()
    );
    Ok(())
}

async fn connect(remote: &RemoteArgs) -> anyhow::Result<client::Client> {
    let login = client::Login::from_env(remote.credentials.clone())?;
    Ok(client::Client::connect(&remote.url, &login).await?)
}

/// `fusio deploy`: exit code 0 when the project is served (or unchanged,
/// or valid in a dry run), 2 otherwise.
async fn deploy(args: &DeployArgs) -> anyhow::Result<()> {
    let client = connect(&args.remote).await?;
    let build = BuildOptions {
        target_dir: args.build_target_dir.clone(),
    };
    let deployed = client::deploy::deploy(&client, &args.file, &build, args.dry_run).await?;
    println!("{}", deployed.message);
    Ok(())
}

/// `fusio export`: the document on stdout; an invalid file is refused
/// (exit 1) naming its entries, like a deploy.
async fn export(args: &ExportArgs) -> anyhow::Result<()> {
    use fusio::doc::openapi::{Selection, Versions, document};
    let compiled = fusio::project::compile_contract(&args.file).await?;
    let versions = match args.version.as_str() {
        "*" => Versions::Default,
        text => Versions::Number(
            text.parse()
                .with_context(|| format!("`{text}` is not a version: give a number or `*`"))?,
        ),
    };
    let path = (args.path != "*").then_some(args.path.as_str());
    let base = args.public_url.trim_end_matches('/');
    let scopes = std::collections::BTreeMap::new();
    let selection = Selection { versions, path };
    let missing = || {
        anyhow::anyhow!(
            "the file has no route `{}` in version `{}`",
            args.path,
            args.version
        )
    };
    let text = match args.kind {
        ExportKind::Raml => fusio::doc::raml::document(&compiled.project, selection, base, &scopes)
            .ok_or_else(missing)?,
        ExportKind::Openapi => {
            let document =
                document(&compiled.project, selection, base, &scopes).ok_or_else(missing)?;
            if args.yaml {
                serde_saphyr::to_string(&document)?
            } else {
                serde_json::to_string_pretty(&document)?
            }
        }
    };
    println!("{text}");
    Ok(())
}

/// Some declared test cases failed (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} test cases failed")]
struct TestsFailed {
    failed: usize,
    total: usize,
}

/// `fusio test`: every declared case, a line each, then a summary.
async fn test(args: &TestArgs) -> anyhow::Result<()> {
    use fusio::testing::cases::{Target, run_all};
    use fusio::testing::{TestOptions, TestServer};
    let build = BuildOptions {
        target_dir: args.build_target_dir.clone(),
    };
    let cache_dir = args
        .cache_dir
        .clone()
        .or_else(|| fusio::project::user_cache().map(|cache| cache.join("cwasm")));
    let server;
    let (compiled, target) = match &args.url {
        Some(base) => (
            fusio::project::compile_contract(&args.file).await?,
            Target::Remote {
                base: base.clone(),
                token: args.token.clone(),
                client: reqwest::Client::new(),
            },
        ),
        None => {
            let options = TestOptions {
                build,
                cache_dir,
                shared_databases: args.shared_databases,
            };
            server = TestServer::start(&args.file, &options).await?;
            (server.compiled().clone(), Target::InProcess(&server))
        }
    };
    if compiled.tests.is_empty() {
        println!(
            "{}: no test cases (add `tests:` under a route method)",
            args.file.display()
        );
    }
    let results = run_all(&compiled, &target, |result| {
        let where_ = result
            .location
            .map(|(line, column)| format!(" ({}:{line}:{column})", args.file.display()))
            .unwrap_or_default();
        match &result.failure {
            None => println!("ok    {} [{} ms]", result.name, result.duration.as_millis()),
            Some(reason) => println!("FAIL  {}{where_}: {reason}", result.name),
        }
        for warning in &result.warnings {
            println!("warn  {}: {warning}", result.name);
        }
    })
    .await;
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    let warnings: usize = results.iter().map(|r| r.warnings.len()).sum();
    println!(
        "{} passed, {failed} failed, {warnings} warnings",
        results.len() - failed
    );
    if let Some(path) = &args.junit {
        let xml = fusio::testing::junit::report(&args.file, &results)?;
        std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if failed > 0 {
        return Err(TestsFailed {
            failed,
            total: results.len(),
        }
        .into());
    }
    Ok(())
}

/// `fusio rollback`.
async fn rollback(args: &RollbackArgs) -> anyhow::Result<()> {
    let client = connect(&args.remote).await?;
    let deployed = client::deploy::rollback(&client, args.revision, args.dry_run).await?;
    println!("{}", deployed.message);
    Ok(())
}

async fn add_user(args: &AddUserArgs) -> anyhow::Result<()> {
    let password = password_from("FUSIO_USER_PASSWORD")?;
    let store = open_store(&args.store).await?;
    let id = accounts::add_user(
        &store,
        &accounts::Account {
            name: &args.name,
            email: args.email.as_deref(),
            password: &password,
            role: &args.role,
            scopes: &args.scopes,
        },
    )
    .await
    .with_context(|| format!("cannot create the user `{}`", args.name))?;
    store.close().await;
    println!("created the user `{}` (id {id})", args.name);
    Ok(())
}

async fn add_app(args: &AddAppArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store).await?;
    let credentials = accounts::add_app(
        &store,
        &accounts::AppRequest {
            owner: &args.user,
            name: &args.name,
            scopes: &args.scopes,
            redirect_uris: &args.redirect_uris,
            public: args.public,
        },
    )
    .await
    .with_context(|| format!("cannot create the app `{}`", args.name))?;
    store.close().await;
    println!("client_id={}", credentials.client_id);
    if let Some(secret) = credentials.client_secret {
        println!("client_secret={secret}");
        eprintln!("The secret is shown only now; Fusio keeps only its hash.");
    }
    Ok(())
}

fn boot_options(args: &ServeArgs) -> BootOptions {
    let mut options = BootOptions::new(args.store.data_dir.clone());
    options.database_url = args.store.database_url.clone();
    options.deploy = args.deploy.clone();
    options.build = BuildOptions {
        target_dir: args.build_target_dir.clone(),
    };
    options.engine.max_instances = args.max_instances;
    options.engine.max_memory = args.max_action_memory.as_u64();
    options.engine.pooling = !args.no_pooling;
    options.engine.keep_resident =
        usize::try_from(args.keep_resident.as_u64()).unwrap_or(usize::MAX);
    let issuer = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", args.listen.port()));
    options.auth = AuthSettings::new(issuer.trim_end_matches('/'));
    options.auth.access_lifetime = args.token_lifetime;
    options.auth.refresh_lifetime = args.refresh_lifetime;
    options.admin_password = args.admin_password.clone();
    options.mail = fusio::mail::MailSettings {
        smtp_url: args.smtp_url.clone(),
        from: Some(args.mail_from.clone()),
        outbox: options.mail.outbox.clone(),
    };
    options.registration = !args.no_registration;
    options.sqlite_dirs = args.sqlite_dirs.clone();
    options.secret_key = std::env::var("FUSIO_SECRET_KEY").ok();
    if let Some(file) = &args.secret_key_file {
        options.secret_key_file = file.clone();
    }
    options
}
