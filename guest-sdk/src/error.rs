//! Errors an action answers with instead of a response.

use crate::bindings::fusio::action::types as raw;

/// Why an action refused a request. The host turns it into an
/// `application/problem+json` response with the matching status; the text of
/// an [`Error::internal`] goes to the log, never to the client.
///
/// ```no_run
/// # use fusio_sdk::{Error, Request, Response};
/// fn handle(req: Request) -> Result<Response, Error> {
///     let id = req.uri_param("id").ok_or_else(|| Error::bad_request("id is missing"))?;
///     Err(Error::not_found(format!("no todo {id}")))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    raw: RawError,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RawError {
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    Internal(String),
    Custom {
        status: u16,
        title: String,
        detail: Option<String>,
    },
}

impl Error {
    /// 400: the request is malformed.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::bad_request("title must not be empty");
    /// ```
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::from(RawError::BadRequest(detail.into()))
    }

    /// 401: the caller must authenticate.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::unauthorized("log in first");
    /// ```
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::from(RawError::Unauthorized(detail.into()))
    }

    /// 403: the caller may not do this.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::forbidden("only the owner may delete");
    /// ```
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::from(RawError::Forbidden(detail.into()))
    }

    /// 404: the thing asked for does not exist.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::not_found("no todo 42");
    /// ```
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::from(RawError::NotFound(detail.into()))
    }

    /// 409: the request conflicts with the current state.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::conflict("the title is taken");
    /// ```
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::from(RawError::Conflict(detail.into()))
    }

    /// 500: the action failed. The text is logged with the request id; the
    /// client sees only that something went wrong.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::internal("the upstream answered garbage");
    /// ```
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::from(RawError::Internal(detail.into()))
    }

    /// Any other status (400–599) with its own title and detail.
    ///
    /// ```no_run
    /// let err = fusio_sdk::Error::custom(422, "Unprocessable", Some("the date is in the past".into()));
    /// ```
    pub fn custom(status: u16, title: impl Into<String>, detail: Option<String>) -> Self {
        Self::from(RawError::Custom {
            status,
            title: title.into(),
            detail,
        })
    }

    pub(crate) fn into_raw(self) -> raw::ActionError {
        match self.raw {
            RawError::BadRequest(d) => raw::ActionError::BadRequest(d),
            RawError::Unauthorized(d) => raw::ActionError::Unauthorized(d),
            RawError::Forbidden(d) => raw::ActionError::Forbidden(d),
            RawError::NotFound(d) => raw::ActionError::NotFound(d),
            RawError::Conflict(d) => raw::ActionError::Conflict(d),
            RawError::Internal(d) => raw::ActionError::Internal(d),
            RawError::Custom {
                status,
                title,
                detail,
            } => raw::ActionError::Custom(raw::Problem {
                status,
                title,
                detail,
            }),
        }
    }
}

/// Another action's error (through the processor) as this action's.
impl From<raw::ActionError> for Error {
    fn from(error: raw::ActionError) -> Self {
        let raw = match error {
            raw::ActionError::BadRequest(d) => RawError::BadRequest(d),
            raw::ActionError::Unauthorized(d) => RawError::Unauthorized(d),
            raw::ActionError::Forbidden(d) => RawError::Forbidden(d),
            raw::ActionError::NotFound(d) => RawError::NotFound(d),
            raw::ActionError::Conflict(d) => RawError::Conflict(d),
            raw::ActionError::Internal(d) => RawError::Internal(d),
            raw::ActionError::Custom(p) => RawError::Custom {
                status: p.status,
                title: p.title,
                detail: p.detail,
            },
        };
        Self { raw }
    }
}

impl From<RawError> for Error {
    fn from(raw: RawError) -> Self {
        Self { raw }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.raw {
            RawError::BadRequest(d) => write!(f, "bad request: {d}"),
            RawError::Unauthorized(d) => write!(f, "unauthorized: {d}"),
            RawError::Forbidden(d) => write!(f, "forbidden: {d}"),
            RawError::NotFound(d) => write!(f, "not found: {d}"),
            RawError::Conflict(d) => write!(f, "conflict: {d}"),
            RawError::Internal(d) => write!(f, "internal error: {d}"),
            RawError::Custom { status, title, .. } => write!(f, "{status} {title}"),
        }
    }
}

impl std::error::Error for Error {}
