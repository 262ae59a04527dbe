//! `fusio:action/response`: builds a response the way the gateway will
//! accept it — status 100 to 599, header names and values HTTP allows.

use super::HostState;
use crate::runtime::bindings::fusio::action::response::Host;
use crate::runtime::bindings::fusio::action::types::Response;

/// The most headers an action's response may carry: clients refuse (and
/// drop the connection of) answers with many more.
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// The most bytes of names and values an action's response headers may
/// have together.
pub const MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;

/// Why an action's response headers cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderLimitError {
    /// More headers than [`MAX_RESPONSE_HEADERS`].
    #[error("{0} headers is more than the {MAX_RESPONSE_HEADERS} a response may carry")]
    TooMany(usize),
    /// More bytes of names and values than [`MAX_RESPONSE_HEADER_BYTES`].
    #[error(
        "{0} bytes of headers is more than the {MAX_RESPONSE_HEADER_BYTES} a response may carry"
    )]
    TooLarge(usize),
}

/// Why `headers` are too many or too large for a response, if they are.
pub fn check_header_size(headers: &[(String, String)]) -> Result<(), HeaderLimitError> {
    if headers.len() > MAX_RESPONSE_HEADERS {
        return Err(HeaderLimitError::TooMany(headers.len()));
    }
    let bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_RESPONSE_HEADER_BYTES {
        return Err(HeaderLimitError::TooLarge(bytes));
    }
    Ok(())
}

/// Why `status` and `headers` cannot make an HTTP response.
pub(crate) fn check(status: u16, headers: &[(String, String)]) -> Result<(), String> {
    if !(100..=599).contains(&status) {
        return Err(format!(
            "status {status} is not an HTTP status (100 to 599)"
        ));
    }
    check_header_size(headers).map_err(|err| err.to_string())?;
    for (name, value) in headers {
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header `{name}` is not valid"))?;
    }
    Ok(())
}

impl Host for HostState {
    async fn build(
        &mut self,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> wasmtime::Result<Result<Response, String>> {
        Ok(check(status, &headers).map(|()| Response {
            status,
            headers,
            body,
        }))
    }
}
