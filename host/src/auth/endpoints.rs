//! The HTTP side of the authorization server: `/authorization/*` and the
//! RFC 8414 metadata document.

use super::grant::{Form, OAuthError, answer};
use super::throttle::ClientAddress;
use super::{Auth, InvalidToken, Unauthenticated, secret};
use crate::api_error::ApiError;
use crate::problem::Problem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// The largest body the OAuth2 endpoints read.
const MAX_FORM: usize = 64 * 1024;

/// The routes of the authorization server, for the application router.
pub fn router() -> Router<Auth> {
    Router::new()
        .route("/authorization/token", post(token))
        .route(
            "/authorization/authorize",
            get(super::authorize::show).post(super::authorize::decide),
        )
        .route("/authorization/jwks", get(jwks))
        .route("/authorization/revoke", post(revoke))
        .route("/authorization/introspect", post(introspect))
        .route("/authorization/whoami", get(whoami))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
}

/// The OpenAPI description of the authorization server's endpoints, for
/// the system API's document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(paths(
        token,
        super::authorize::show,
        super::authorize::decide,
        jwks,
        revoke,
        introspect,
        whoami,
        metadata
    ))]
    struct Authorization;
    Authorization::openapi()
}

#[utoipa::path(post, path = "/authorization/token",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "grant_type (authorization_code, client_credentials, password, refresh_token) and its parameters (RFC 6749)"),
    responses((status = 200, description = "an access token (RFC 6749 5.1)"),
        (status = 400, description = "an RFC 6749 error"), (status = 401, description = "the client is not authenticated")))]
async fn token(
    State(auth): State<Auth>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form = Form::parse(&headers, &body)?;
        auth.token(&headers, &form, address).await
    }
    .await;
    answer(result.map(Json))
}

#[utoipa::path(get, path = "/authorization/jwks",
    responses((status = 200, description = "the public keys that sign access tokens (RFC 7517)")))]
async fn jwks(State(auth): State<Auth>) -> Response {
    let mut response = Json(auth.jwt().jwks().clone()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// RFC 8414: what this authorization server supports and where.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server",
    responses((status = 200, description = "the authorization server's metadata (RFC 8414)")))]
async fn metadata(State(auth): State<Auth>) -> Json<serde_json::Value> {
    let issuer = auth.jwt().issuer();
    Json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorization/authorize"),
        "token_endpoint": format!("{issuer}/authorization/token"),
        "jwks_uri": format!("{issuer}/authorization/jwks"),
        "revocation_endpoint": format!("{issuer}/authorization/revoke"),
        "introspection_endpoint": format!("{issuer}/authorization/introspect"),
        "grant_types_supported": ["authorization_code", "client_credentials", "password", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": super::scopes::SYSTEM.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
    }))
}

/// RFC 7009: revokes an access or refresh token of the calling client.
/// Answers 200 whether or not the token was known, so that the endpoint
/// cannot be used to probe tokens.
#[utoipa::path(post, path = "/authorization/revoke",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded", description = "token (RFC 7009)"),
    responses((status = 200, description = "revoked, or unknown")))]
async fn revoke(State(auth): State<Auth>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let form = Form::parse(&headers, &body)?;
        let app = auth.client(&headers, &form).await?;
        let token = form.require("token")?;
        let store = &auth.inner.store;
        // A refresh token ends its whole grant, access tokens included.
        if let Some(record) = store.token_by_refresh(&secret::hash(token)).await? {
            if record.app_id == app.id {
                auth.revoke_family(&record.family).await?;
            }
        } else if let Ok(claims) = auth.jwt().verify_signature(token)
            && claims.client_id == app.client_id
        {
            auth.revoke_token(&claims.jti).await?;
        }
        Ok::<_, OAuthError>(StatusCode::OK)
    }
    .await;
    answer(result)
}

/// RFC 7662: whether a token is active and what it holds. Only confidential
/// clients may ask.
#[utoipa::path(post, path = "/authorization/introspect",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded", description = "token (RFC 7662)"),
    responses((status = 200, description = "whether the token is active, and its claims")))]
async fn introspect(State(auth): State<Auth>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let form = Form::parse(&headers, &body)?;
        let app = auth.client(&headers, &form).await?;
        if app.secret_hash.is_none() {
            return Err(OAuthError::UnauthorizedClient(
                "a public client cannot introspect tokens".into(),
            ));
        }
        let token = form.require("token")?;
        let mut token_headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            token_headers.insert(header::AUTHORIZATION, value);
        }
        Ok(match auth.authenticate(&token_headers).await {
            Ok(caller) => {
                let claims = caller.claims;
                serde_json::json!({
                    "active": true,
                    "scope": claims.scope,
                    "client_id": claims.client_id,
                    "sub": claims.sub,
                    "exp": claims.exp,
                    "iat": claims.iat,
                    "iss": claims.iss,
                    "aud": claims.aud,
                    "jti": claims.jti,
                    "token_type": "Bearer",
                })
            }
            Err(_) => serde_json::json!({ "active": false }),
        })
    }
    .await;
    answer(result.map(Json))
}

/// The caller's identity: the user and app behind the bearer token.
#[utoipa::path(get, path = "/authorization/whoami",
    responses((status = 200, description = "the user and app behind the token"), (status = 401, description = "no valid token")),
    security(("bearer" = [])))]
async fn whoami(
    State(auth): State<Auth>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = auth
        .authenticate(&headers)
        .await
        .map_err(|err| unauthorized(&err, None))?;
    let user = match caller.claims.sub.parse::<i64>() {
        Ok(id) => auth
            .inner
            .store
            .user_by_id(id)
            .await
            .map_err(|err| ApiError::failed("the system store failed", &err))?,
        Err(_) => None,
    };
    let user =
        user.ok_or_else(|| unauthorized(&Unauthenticated::Invalid(InvalidToken::Revoked), None))?;
    Ok(Json(serde_json::json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "status": user.status,
        "role": user.role,
        "app": caller.claims.client_id,
        "scopes": caller.claims.scopes().collect::<Vec<_>>(),
    })))
}

/// 401 with the RFC 6750 challenge.
pub fn unauthorized(reason: &Unauthenticated, request_id: Option<&str>) -> Problem {
    let challenge = format!(
        "Bearer realm=\"Fusio\", error=\"invalid_token\", error_description=\"{}\"",
        reason.to_string().replace('"', "'")
    );
    Problem::new(StatusCode::UNAUTHORIZED)
        .detail(reason.to_string())
        .request_id(request_id)
        .header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer")),
        )
}

/// 403 with the RFC 6750 challenge naming the scopes that would do.
pub fn insufficient_scope(required: &[String], request_id: Option<&str>) -> Problem {
    let challenge = format!(
        "Bearer realm=\"Fusio\", error=\"insufficient_scope\", scope=\"{}\"",
        required.join(" ")
    );
    Problem::new(StatusCode::FORBIDDEN)
        .detail(format!(
            "the token holds none of the scopes this route requires: {}",
            required.join(", ")
        ))
        .request_id(request_id)
        .header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer")),
        )
}
