//! Write Fusio actions in Rust.
//!
//! An action is one function from a [`Request`] to a [`Response`]; the
//! [`action`] attribute turns it into the `handler` export of the
//! `fusio:action` WebAssembly component world. Build it with
//! `cargo build --target wasm32-wasip2` and list it in `fusio.yml`.
//!
//! ```no_run
//! use fusio_sdk::{action, Error, Request, Response};
//!
//! #[action]
//! fn handle(req: Request) -> Result<Response, Error> {
//!     let name = req.query("name").unwrap_or("World");
//!     Response::json(200, &serde_json::json!({ "message": format!("Hello {name}!") }))
//! }
//! ```
//!
//! Each request runs in a fresh instance, so globals start anew every time:
//! keep state in the host's connections, never in statics.
#![deny(missing_docs)]

extern crate self as fusio_sdk;

pub mod amqp;
pub mod cache;
pub mod config;
mod error;
pub mod http;
pub mod log;
pub mod processor;
pub mod redis;
mod request;
mod response;
pub mod sql;

pub use error::Error;
/// Marks the one function that answers every request of this component.
///
/// ```no_run
/// #[fusio_sdk::action]
/// fn handle(req: fusio_sdk::Request) -> Result<fusio_sdk::Response, fusio_sdk::Error> {
///     Ok(fusio_sdk::Response::text(200, format!("you asked for {}", req.path())))
/// }
/// ```
pub use fusio_sdk_macros::action;
pub use request::{Context, Request};
pub use response::Response;

/// The raw bindings generated from `wit/`; the rest of this crate wraps them.
#[doc(hidden)]
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "action",
        pub_export_macro: true,
        export_macro_name: "__export_action",
        default_bindings_module: "::fusio_sdk::bindings",
        runtime_path: "::fusio_sdk::__private::wit_bindgen::rt",
    });
}

/// What the [`action`] attribute expands to; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::exports::fusio::action::handler::Guest;
    pub use crate::bindings::fusio::action::types::{
        ActionError as RawError, Request as RawRequest, Response as RawResponse,
    };
    pub use wit_bindgen;

    /// Runs the author's function on the wrapped request and unwraps its answer.
    pub fn dispatch<F>(raw: RawRequest, handler: F) -> Result<RawResponse, RawError>
    where
        F: FnOnce(crate::Request) -> Result<crate::Response, crate::Error>,
    {
        handler(crate::Request::from_raw(raw))
            .map(crate::Response::into_raw)
            .map_err(crate::Error::into_raw)
    }
}
