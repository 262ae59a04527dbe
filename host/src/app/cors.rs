//! The CORS layer of the whole surface: requests that carry an `Origin`
//! go through tower-http's CORS service (preflights answered there, before
//! any token is checked), deciding the origin per request — the matched
//! route's own origins when it names any, else the server's. Requests
//! without an `Origin` (not from a browser on another page) pass straight
//! on, so a plain `OPTIONS` still gets the route's `Allow`.

use crate::cors::{CorsSettings, EXPOSED, Origins};
use crate::snapshot::LiveSnapshot;
use axum::extract::Request;
use futures_util::future::Either;
use http::HeaderValue;
use http::request::Parts;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::cors::{AllowCredentials, AllowOrigin, Cors, CorsLayer};

/// Puts [`CrossOrigin`] around a service.
#[derive(Clone)]
pub struct CrossOriginLayer {
    cors: CorsLayer,
}

impl CrossOriginLayer {
    /// The layer for `settings`, looking routes up in `live`.
    pub fn new(settings: &CorsSettings, live: Arc<LiveSnapshot>) -> Self {
        let server = settings.origins.clone();
        let credentials = settings.credentials;
        let allowed = move |origin: &HeaderValue, parts: &Parts| {
            let snapshot = live.current();
            let route = snapshot.routes.match_request(parts.uri.path());
            match route.and_then(|matched| matched.value.cors_origins.clone()) {
                // A route's `*` does not extend credentials to every origin.
                Some(own) => own.allows(origin) && !(credentials && *own == Origins::Any),
                None => server.allows(origin),
            }
        };
        // Credentials are said to be allowed only to an allowed origin.
        let with_credentials = {
            let allowed = allowed.clone();
            move |origin: &HeaderValue, parts: &Parts| credentials && allowed(origin, parts)
        };
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(allowed))
            .allow_methods(settings.methods.clone())
            .allow_headers(settings.headers.clone())
            .allow_credentials(AllowCredentials::predicate(with_credentials))
            .expose_headers(EXPOSED)
            .max_age(settings.max_age);
        Self { cors }
    }
}

impl<S: Clone> Layer<S> for CrossOriginLayer {
    type Service = CrossOrigin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossOrigin {
            cors: self.cors.layer(inner.clone()),
            plain: inner,
        }
    }
}

/// CORS for requests with an `Origin`, nothing for the others.
#[derive(Clone)]
pub struct CrossOrigin<S> {
    cors: Cors<S>,
    plain: S,
}

impl<S, B> Service<Request<B>> for CrossOrigin<S>
where
    S: Service<Request<B>, Response = http::Response<axum::body::Body>> + Clone,
    B: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<<Cors<S> as Service<Request<B>>>::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if request.headers().contains_key(http::header::ORIGIN) {
            Either::Left(self.cors.call(request))
        } else {
            Either::Right(self.plain.call(request))
        }
    }
}
