//! Outgoing mail (activation and password-reset links) over SMTP with
//! lettre, configured by `--smtp-url`. Without SMTP the message is appended
//! to an outbox file in the data directory (mbox format, readable by its
//! owner only), so a fresh Fusio can still activate accounts while the
//! tokens in its mail never reach the server's log: the log says only that
//! a mail to whom was written where.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How mail leaves; comes from `fusio serve`'s options.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// `smtp://[user:password@]host[:port]` (or `smtps://`); `None` logs mail.
    pub smtp_url: Option<String>,
    /// The sender, e.g. `Fusio <noreply@example.org>`.
    pub from: Option<String>,
    /// Where mail goes without SMTP.
    pub outbox: std::path::PathBuf,
}

/// Why mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL or an address is not valid.
    #[error("mail is misconfigured: {0}")]
    Config(String),
    /// The SMTP server refused or could not be reached.
    #[error("the mail could not be sent: {0}")]
    Send(String),
}

/// Sends mail, or logs it when no SMTP server is configured.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay.
    Smtp {
        /// The connection pool to the relay (boxed: it is large, and the
        /// mailer is cloned into the app state).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The sender.
        from: Mailbox,
    },
    /// No relay: messages are appended to this owner-only file.
    Outbox(std::path::PathBuf),
}

impl Mailer {
    /// The mailer `settings` describe.
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(Mailer::Outbox(settings.outbox.clone()));
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|err| MailError::Config(format!("--smtp-url: {err}")))?
            .build()
            .into();
        let from = settings
            .from
            .as_deref()
            .unwrap_or("Fusio <noreply@localhost>")
            .parse()
            .map_err(|err| MailError::Config(format!("--mail-from: {err}")))?;
        Ok(Mailer::Smtp { transport, from })
    }

    /// Sends a plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        match self {
            Mailer::Outbox(path) => {
                append_to_outbox(path, to, subject, body)
                    .map_err(|err| MailError::Send(format!("{}: {err}", path.display())))?;
                tracing::info!(
                    to,
                    subject,
                    outbox = %path.display(),
                    "no SMTP server is configured; the mail was written to the outbox"
                );
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = to
                    .parse()
                    .map_err(|err| MailError::Config(format!("recipient `{to}`: {err}")))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body.to_owned())
                    .map_err(|err| MailError::Config(err.to_string()))?;
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|err| MailError::Send(err.to_string()))
            }
        }
    }
}

/// Appends one message to the mbox file `path`, creating it readable and
/// writable by its owner only (the mail holds activation and reset tokens).
fn append_to_outbox(
    path: &std::path::Path,
    to: &str,
    subject: &str,
    body: &str,
) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let now = chrono::Utc::now();
    // mbox: a `From ` line opens each message; body lines that begin with
    // `From ` are quoted so they cannot open another.
    let mut text = format!(
        "From fusio {}\nDate: {}\nTo: {to}\nSubject: {subject}\n\n",
        now.format("%a %b %e %H:%M:%S %Y"),
        now.to_rfc2822()
    );
    for line in body.lines() {
        if line.starts_with("From ") {
            text.push('>');
        }
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    file.write_all(text.as_bytes())
}
