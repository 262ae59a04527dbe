//! The system API under `/backend` (and later `/consumer`): resources that
//! follow the system API's conventions (collection envelope, `~name` lookups,
//! problem+json), each guarded by its backend scope, documented with utoipa
//! so code and OpenAPI cannot drift.

mod answer;
pub mod backend;
mod collection;
pub mod consumer;
pub mod doc;
pub mod export;
mod guard;
mod precondition;
pub mod rejections;

pub use collection::{Collection, CollectionQuery};
pub use guard::{Authorized, RequiredScope};
