//! `fusio deploy` and `fusio rollback`: compile the project here, upload
//! the components the server lacks, let the server validate and plan (a
//! dry run), print the plan, then apply it against the revision that was
//! planned. Progress bars on a terminal, plain lines otherwise.

use super::{Client, ClientError, Deployed};
use crate::project::{BuildOptions, ProjectError, compile, plan::Changes};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;

/// Why `fusio deploy` or `fusio rollback` failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployCommandError {
    /// The project file is refused (here or by the server), located in the file.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The server could not be used.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// There is no revision to go back to.
    #[error("{0}")]
    NoRevision(String),
}

impl DeployCommandError {
    /// Whether the command ran and the answer is "no" — the project is
    /// refused (here or by the server), someone deployed in between, there
    /// is nothing to roll back to — rather than an error that kept it from
    /// asking (an unreadable file, an unreachable server, bad credentials,
    /// a store that failed). Exit code 1 against 2, as ripgrep does.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::Project(ProjectError::Parse { .. } | ProjectError::Invalid { .. }) => true,
            Self::Project(_) => false,
            Self::Client(ClientError::Refused { status, .. }) => {
                matches!(status, 400 | 409 | 412 | 422)
            }
            Self::Client(_) => false,
            Self::NoRevision(_) => true,
        }
    }
}

/// Says what happens: bars on a terminal, lines in CI.
struct Progress {
    terminal: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn step(&self, message: &str) -> ProgressBar {
        if self.terminal {
            let bar = ProgressBar::new_spinner().with_message(message.to_owned());
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        } else {
            eprintln!("{message}");
            ProgressBar::hidden()
        }
    }

    fn bar(&self, length: u64, message: &str) -> ProgressBar {
        if self.terminal {
            let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(message.to_owned());
            bar
        } else {
            eprintln!("{message}");
            ProgressBar::hidden()
        }
    }
}

/// Compiles `file` and deploys it to `client`'s server (or only validates
/// and plans it with `dry_run`).
pub async fn deploy(
    client: &Client,
    file: &Path,
    build: &BuildOptions,
    dry_run: bool,
) -> Result<Deployed, DeployCommandError> {
    let progress = Progress::new();
    let step = progress.step(&format!("compiling {}", file.display()));
    let compiled = compile(file, build).await;
    step.finish_and_clear();
    let compiled = compiled?;

    let hashes: Vec<String> = compiled.components.keys().cloned().collect();
    let missing = client.missing_components(&hashes).await?;
    if !missing.is_empty() {
        let total: u64 = missing
            .iter()
            .map(|sha| compiled.components[sha].len() as u64)
            .sum();
        let bar = progress.bar(
            total,
            &format!(
                "uploading {} component(s) to {}",
                missing.len(),
                client.url()
            ),
        );
        for sha256 in &missing {
            let bytes = &compiled.components[sha256];
            client.upload_component(sha256, bytes).await?;
            bar.inc(bytes.len() as u64);
        }
        bar.finish_and_clear();
    }

    let located = |err: ClientError| match err {
        ClientError::Refused { problems, .. } if !problems.is_empty() => {
            DeployCommandError::Project(compiled.locate(problems))
        }
        other => DeployCommandError::Client(other),
    };
    let step = progress.step("validating on the server");
    let planned = client.deploy(&compiled.project, true, None).await;
    step.finish_and_clear();
    let planned = planned.map_err(located)?;
    print_plan(&planned);
    if dry_run || !planned.changed {
        return Ok(planned);
    }
    let step = progress.step("applying");
    let applied = client
        .deploy(&compiled.project, false, Some(planned.revision))
        .await;
    step.finish_and_clear();
    applied.map_err(located)
}

/// Serves again the project of revision `to`, or of the newest restorable
/// revision before the served one.
pub async fn rollback(
    client: &Client,
    to: Option<i64>,
    dry_run: bool,
) -> Result<Deployed, DeployCommandError> {
    let to = match to {
        Some(to) => to,
        None => {
            let revisions = client.revisions().await?;
            let current = revisions.iter().find(|r| r.current).map_or(0, |r| r.id);
            revisions
                .iter()
                .find(|r| r.id < current && r.restorable)
                .map(|r| r.id)
                .ok_or_else(|| {
                    DeployCommandError::NoRevision(format!(
                        "there is no kept revision before {current} to roll back to"
                    ))
                })?
        }
    };
    let planned = client.rollback(to, true).await?;
    print_plan(&planned);
    if dry_run || !planned.changed {
        return Ok(planned);
    }
    Ok(client.rollback(to, false).await?)
}

fn print_plan(planned: &Deployed) {
    if !planned.changed {
        return;
    }
    println!("plan against revision {}:", planned.revision);
    print_changes("routes", &planned.plan.routes);
    print_changes("actions", &planned.plan.actions);
    print_changes("schemas", &planned.plan.schemas);
    print_changes("connections", &planned.plan.connections);
    if !planned.plan.migrations.is_empty() {
        println!(
            "  migrations to run: {}",
            planned.plan.migrations.join(", ")
        );
    }
}

fn print_changes(kind: &str, changes: &Changes) {
    if changes.is_empty() {
        return;
    }
    let mut line = format!("  {kind}:");
    for (sign, names) in [
        ('+', &changes.created),
        ('~', &changes.changed),
        ('-', &changes.removed),
    ] {
        for name in names {
            line.push_str(&format!(" {sign}{name}"));
        }
    }
    println!("{line}");
}
