//! `fusio:action/response`: builds a response the way the gateway will
//! accept it — status 100 to 599, header names and values HTTP allows.

use super::HostState;
use crate::runtime::bindings::fusio::action::response::Host;
use crate::runtime::bindings::fusio::action::types::Response;

/// Why `status` and `headers` cannot make an HTTP response.
pub(crate) fn check(status: u16, headers: &[(String, String)]) -> Result<(), String> {
    if !(100..=599).contains(&status) {
        return Err(format!(
            "status {status} is not an HTTP status (100 to 599)"
        ));
    }
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
