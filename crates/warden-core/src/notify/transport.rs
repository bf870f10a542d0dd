//! Where emails go: the log (development) or an SMTP server (lettre).

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};

use super::{
    Email, LOG_TARGET,
    settings::{NotifierSettings, SmtpSettings, SmtpTls, TransportKind},
};

/// Why a send failed. The message text is stored in `last_error` and logged,
/// so it must never carry credentials; lettre's errors carry only the server's
/// reply or the I/O error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The message can never be sent as written (e.g. an unparsable
    /// recipient): the worker marks it failed without retrying.
    #[error("message rejected: {0}")]
    Permanent(String),
    /// Connection, timeout or server errors: worth retrying.
    #[error("{0}")]
    Transient(String),
}

impl TransportError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Settings that cannot produce a working transport; reported at start-up.
#[derive(Debug, thiserror::Error)]
pub enum TransportConfigError {
    #[error("notifier.smtp.host is empty")]
    EmptyHost,
    #[error("notifier.smtp.from is not a valid mailbox: {0}")]
    InvalidFrom(String),
    #[error("notifier.smtp.username and notifier.smtp.password must be set together")]
    IncompleteCredentials,
    #[error("cannot set up TLS for notifier.smtp.host: {0}")]
    Tls(String),
}

/// Sends one email. Implementations are shared by the worker across tasks.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    async fn send(&self, email: &Email) -> Result<(), TransportError>;
}

/// The transport `settings.transport` selects.
pub fn transport_from(
    settings: &NotifierSettings,
) -> Result<Box<dyn Transport>, TransportConfigError> {
    Ok(match settings.transport {
        TransportKind::Log => Box::new(LogTransport),
        TransportKind::Smtp => Box::new(SmtpTransport::new(&settings.smtp)?),
    })
}

/// Writes each message, body included, to the log at INFO under
/// `warden::notify`. For development only: bodies hold password-reset and
/// invite links, and showing them on a developer's machine without a mail
/// server is exactly what this transport is for. Production uses `smtp`.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTransport;

#[async_trait::async_trait]
impl Transport for LogTransport {
    async fn send(&self, email: &Email) -> Result<(), TransportError> {
        tracing::info!(
            target: LOG_TARGET,
            to = %email.to,
            subject = %email.subject,
            body = %email.body_text,
            "email (log transport; not sent)"
        );
        Ok(())
    }
}

/// Sends through an SMTP server. A connection is opened per message (no pool):
/// volumes are small, and pooling would need a runtime at construction.
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    tls: SmtpTls,
}

// Hand-written so credentials can never reach a log through Debug.
impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    pub fn new(settings: &SmtpSettings) -> Result<Self, TransportConfigError> {
        let host = settings.host.trim();
        if host.is_empty() {
            return Err(TransportConfigError::EmptyHost);
        }
        let from: Mailbox =
            settings.from.parse().map_err(|err: lettre::address::AddressError| {
                TransportConfigError::InvalidFrom(err.to_string())
            })?;
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        // `builder_dangerous` only means "no TLS preset": TLS is set explicitly.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1))));
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => {
                builder = builder
                    .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
            }
            (None, None) => {}
            _ => return Err(TransportConfigError::IncompleteCredentials),
        }
        Ok(Self {
            mailer: builder.build(),
            from,
            host: host.to_owned(),
            port: settings.port,
            tls: settings.tls,
        })
    }

    fn message(&self, email: &Email) -> Result<Message, TransportError> {
        let to: Mailbox = email.to.parse().map_err(|err: lettre::address::AddressError| {
            TransportError::Permanent(format!("invalid recipient: {err}"))
        })?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(email.body_text.clone())
            .map_err(|err| TransportError::Permanent(err.to_string()))
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, TransportConfigError> {
    TlsParameters::new(host.to_owned()).map_err(|err| TransportConfigError::Tls(err.to_string()))
}

#[async_trait::async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, email: &Email) -> Result<(), TransportError> {
        let message = self.message(email)?;
        self.mailer
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| TransportError::Transient(err.to_string()))
    }
}
