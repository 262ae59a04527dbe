//! Fusio: an API management server whose business logic runs as sandboxed
//! WebAssembly components.
//!
//! The crate is one library with firm module boundaries and a thin binary
//! (`main.rs`) on top. See `ARCHITECTURE.md` for the map.

pub mod api;
pub mod api_error;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod confine;
pub mod connect;
pub mod cors;
pub mod digest;
pub mod doc;
pub mod gateway;
pub mod journal;
pub mod limit;
pub mod mail;
pub mod media;
pub mod peer;
pub mod problem;
pub mod project;
pub mod query;
pub mod request_id;
pub mod routes;
pub mod runtime;
pub mod scaffold;
pub mod schema;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod state;
pub mod store;
pub mod sync;
pub mod tables;
pub mod telemetry;
pub mod testing;
