//! The incoming request and its context, with lookups by name.

use crate::Error;
use crate::bindings::fusio::action::types as raw;
use serde::de::DeserializeOwned;

/// An incoming request: method, path, route placeholders, query, headers and body.
///
/// ```no_run
/// # use fusio_sdk::{Request, Response, Error};
/// fn handle(req: Request) -> Result<Response, Error> {
///     let id = req.uri_param("id").ok_or_else(|| Error::bad_request("no id"))?;
///     Response::json(200, &serde_json::json!({ "id": id, "method": req.method() }))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    raw: raw::Request,
}

/// Who is calling and through which route.
///
/// ```no_run
/// # fn f(req: fusio_sdk::Request) {
/// let ctx = req.context();
/// fusio_sdk::log::info(format!("request {} on {}", ctx.request_id(), ctx.route()));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    raw: &'a raw::Context,
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

impl Request {
    /// The record the host gave, to hand to another action.
    pub(crate) fn raw(&self) -> &raw::Request {
        &self.raw
    }

    pub(crate) fn from_raw(raw: raw::Request) -> Self {
        Self { raw }
    }

    /// The upper-case HTTP method.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// if req.method() == "POST" { /* create */ }
    /// # }
    /// ```
    pub fn method(&self) -> &str {
        &self.raw.method
    }

    /// The request path without the query string, e.g. `/todo/42`.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// assert!(req.path().starts_with('/'));
    /// # }
    /// ```
    pub fn path(&self) -> &str {
        &self.raw.path
    }

    /// The value of a route placeholder, e.g. `id` for the route `/todo/:id`.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let id: Option<u64> = req.uri_param("id").and_then(|v| v.parse().ok());
    /// # }
    /// ```
    pub fn uri_param(&self, name: &str) -> Option<&str> {
        lookup(&self.raw.uri_params, name)
    }

    /// Every route placeholder and its value.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// for (name, value) in req.uri_params() { fusio_sdk::log::debug(format!("{name}={value}")); }
    /// # }
    /// ```
    pub fn uri_params(&self) -> &[(String, String)] {
        &self.raw.uri_params
    }

    /// The first value of a query parameter, percent-decoded.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let page = req.query("page").unwrap_or("1");
    /// # }
    /// ```
    pub fn query(&self, name: &str) -> Option<&str> {
        lookup(&self.raw.query, name)
    }

    /// Every query parameter in the order the client sent them.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let tags: Vec<&str> = req.query_pairs().iter().filter(|(k, _)| k == "tag").map(|(_, v)| v.as_str()).collect();
    /// # }
    /// ```
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.raw.query
    }

    /// The first value of a header; `name` is matched case-insensitively.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let agent = req.header("User-Agent").unwrap_or("unknown");
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.raw
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header as (lower-case name, value) pairs, in the order they
    /// came. Credential headers (`Authorization`, `Cookie`,
    /// `Proxy-Authorization`) are not among them unless the action's entry
    /// lists them in `forwardHeaders`.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// for (name, value) in req.headers() {
    ///     fusio_sdk::log::info(format!("{name}: {value}"));
    /// }
    /// # }
    /// ```
    pub fn headers(&self) -> &[(String, String)] {
        &self.raw.headers
    }

    /// The raw body bytes.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let size = req.body().len();
    /// # }
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.raw.body
    }

    /// The body decoded as JSON; a body that does not decode is the client's
    /// fault, so the error is a 400 naming what was wrong.
    ///
    /// ```no_run
    /// # use fusio_sdk::{Request, Response, Error};
    /// #[derive(serde::Deserialize)]
    /// struct Todo { title: String }
    /// fn handle(req: Request) -> Result<Response, Error> {
    ///     let todo: Todo = req.json()?;
    ///     Response::json(201, &serde_json::json!({ "title": todo.title }))
    /// }
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.raw.body)
            .map_err(|err| Error::bad_request(format!("the request body is not valid JSON: {err}")))
    }

    /// Who is calling and through which route.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let anonymous = req.context().user().is_none();
    /// # }
    /// ```
    pub fn context(&self) -> Context<'_> {
        Context {
            raw: &self.raw.context,
        }
    }
}

impl<'a> Context<'a> {
    /// The request id, also sent to the client as `X-Request-Id`.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let id = req.context().request_id().to_owned();
    /// # }
    /// ```
    pub fn request_id(&self) -> &'a str {
        &self.raw.request_id
    }

    /// The route as declared, e.g. `/todo/:id`.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let route = req.context().route();
    /// # }
    /// ```
    pub fn route(&self) -> &'a str {
        &self.raw.route
    }

    /// The selected route version.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let v2 = req.context().version() >= 2;
    /// # }
    /// ```
    pub fn version(&self) -> u32 {
        self.raw.version
    }

    /// The calling app, when the caller presented a token.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let app = req.context().app().unwrap_or("anonymous");
    /// # }
    /// ```
    pub fn app(&self) -> Option<&'a str> {
        self.raw.app.as_deref()
    }

    /// The authenticated user, when there is one.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let user = req.context().user();
    /// # }
    /// ```
    pub fn user(&self) -> Option<&'a str> {
        self.raw.user.as_deref()
    }

    /// The scopes the caller's token holds.
    ///
    /// ```no_run
    /// # fn f(req: fusio_sdk::Request) {
    /// let may_write = req.context().scopes().iter().any(|s| s == "todo.write");
    /// # }
    /// ```
    pub fn scopes(&self) -> &'a [String] {
        &self.raw.scopes
    }
}
