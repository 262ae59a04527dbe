//! Outgoing mail (activation and password-reset links) over SMTP with
//! lettre, configured by `--smtp-url`. Without SMTP the message is written
//! to the log, so a fresh Fusio can still activate accounts.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How mail leaves; comes from `fusio serve`'s options.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// `smtp://[user:password@]host[:port]` (or `smtps://`); `None` logs mail.
    pub smtp_url: Option<String>,
    /// The sender, e.g. `Fusio <noreply@example.org>`.
    pub from: Option<String>,
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
    /// No relay: messages go to the log.
    Log,
}

impl Mailer {
    /// The mailer `settings` describe.
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(Mailer::Log);
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
            Mailer::Log => {
                tracing::info!(
                    to,
                    subject,
                    body,
                    "no SMTP server is configured; the mail is logged"
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
