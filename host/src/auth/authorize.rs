//! `GET|POST /authorization/authorize`: the authorization-code flow (RFC 6749
//! 4.1) with PKCE S256 required (RFC 7636). GET shows a login and consent
//! page; POST checks the credentials and the decision and redirects back to
//! the client with a code or an error.
//!
//! Errors about the client or its redirect URI are shown on the page and
//! never redirected (RFC 6749 4.1.2.1); every other error goes back to the
//! client's redirect URI with `state`.

use super::grant::{Form, OAuthError};
use super::throttle::ClientAddress;
use super::{Auth, secret, unix_now};
use crate::store::identity::{App, CodeRecord, Status};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// How long a code may wait for its exchange.
const CODE_LIFETIME: i64 = 60;

/// The parameters of an authorization request, checked.
struct AuthorizeRequest {
    app: App,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: String,
}

/// Why an authorization request cannot go on.
enum Refusal {
    /// Shown on the page: the client or its redirect URI cannot be trusted.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(reason) => page(
                StatusCode::BAD_REQUEST,
                &format!(
                    "<h1>This sign-in link is not valid</h1><p>{}</p>",
                    text(&reason)
                ),
            ),
            Refusal::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => redirect_back(
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
            ),
        }
    }
}

impl Auth {
    /// Checks client, redirect URI, response type and PKCE, in that order.
    async fn authorize_request(&self, form: &Form) -> Result<AuthorizeRequest, Refusal> {
        let client_id = form
            .get("client_id")
            .ok_or_else(|| Refusal::Page("the client_id is missing".into()))?;
        let app = self
            .store()
            .app_by_client_id(client_id)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "authorize: the store failed");
                Refusal::Page("the server could not check the client".into())
            })?
            .filter(|app| app.status == Status::Active)
            .ok_or_else(|| Refusal::Page("the client is unknown or not active".into()))?;
        let redirect_uri = match form.get("redirect_uri") {
            Some(uri) if app.redirect_uris.iter().any(|known| known == uri) => uri.to_owned(),
            Some(_) => {
                return Err(Refusal::Page(
                    "the redirect_uri is not registered for this client".into(),
                ));
            }
            None if app.redirect_uris.len() == 1 => app.redirect_uris[0].clone(),
            None => return Err(Refusal::Page("the redirect_uri is missing".into())),
        };
        let state = form.get("state").map(str::to_owned);
        let refuse = |error, description: &str| Refusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description: description.into(),
        };
        match form.get("response_type") {
            Some("code") => {}
            Some(_) => {
                return Err(refuse(
                    "unsupported_response_type",
                    "only response_type=code is supported",
                ));
            }
            None => return Err(refuse("invalid_request", "the response_type is missing")),
        }
        let code_challenge = form.get("code_challenge").ok_or_else(|| {
            refuse(
                "invalid_request",
                "PKCE is required: code_challenge is missing",
            )
        })?;
        if form.get("code_challenge_method") != Some("S256") {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256 (plain is refused)",
            ));
        }
        if code_challenge.len() != 43 {
            return Err(refuse(
                "invalid_request",
                "code_challenge must be a base64url SHA-256 (43 characters)",
            ));
        }
        Ok(AuthorizeRequest {
            code_challenge: code_challenge.to_owned(),
            app,
            redirect_uri,
            scope: form.get("scope").map(str::to_owned),
            state,
        })
    }
}

/// `GET /authorization/authorize`: the login and consent page.
#[utoipa::path(get, path = "/authorization/authorize",
    params(("response_type" = String, Query), ("client_id" = String, Query), ("redirect_uri" = Option<String>, Query),
        ("scope" = Option<String>, Query), ("state" = Option<String>, Query),
        ("code_challenge" = String, Query), ("code_challenge_method" = String, Query, description = "S256")),
    responses((status = 200, description = "the login and consent page", content_type = "text/html")))]
pub async fn show(State(auth): State<Auth>, RawQuery(query): RawQuery) -> Response {
    let form = match Form::from_pairs(query.unwrap_or_default().as_bytes()) {
        Ok(form) => form,
        Err(err) => return Refusal::Page(err.to_string()).into_response(),
    };
    match auth.authorize_request(&form).await {
        Ok(request) => consent_page(&request, &form, None),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /authorization/authorize`: the decision, with the user's
/// credentials.
#[utoipa::path(post, path = "/authorization/authorize",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the request's parameters, decision (allow or deny), username and password"),
    responses((status = 303, description = "back to the client with a code or an error")))]
pub async fn decide(
    State(auth): State<Auth>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match Form::parse(&headers, &body) {
        Ok(form) => form,
        Err(err) => return Refusal::Page(err.to_string()).into_response(),
    };
    let request = match auth.authorize_request(&form).await {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let state = request.state.as_deref();
    if form.get("decision") != Some("allow") {
        return redirect_back(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
            state,
        );
    }
    let user = match sign_in(&auth, &request, &form, address).await {
        Ok(user) => user,
        Err(answer) => return *answer,
    };
    let scope = match auth
        .scope_for(&request.app, user.id, request.scope.as_deref())
        .await
    {
        Ok(scope) => scope,
        Err(err) => {
            let error = match err {
                OAuthError::InvalidScope(_) => "invalid_scope",
                _ => "server_error",
            };
            return redirect_back(
                &request.redirect_uri,
                &[("error", error), ("error_description", &err.to_string())],
                state,
            );
        }
    };
    issue_code(&auth, &request, user.id, scope).await
}

/// The user whose credentials the consent form carries, or the answer
/// that says why not (the form again, throttled, a store failure).
async fn sign_in(
    auth: &Auth,
    request: &AuthorizeRequest,
    form: &Form,
    address: Option<std::net::IpAddr>,
) -> Result<crate::store::identity::User, Box<Response>> {
    let name = form.get("username").unwrap_or_default();
    let given = form.get("password").unwrap_or_default();
    match auth.login(name, given, address).await {
        Ok(super::Login::Active(user)) => Ok(user),
        Ok(super::Login::Throttled(throttled)) => {
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "<h1>Too many failed sign-ins</h1><p>{}</p>",
                    text(&throttled.to_string())
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, throttled.retry_after.as_secs().into());
            Err(Box::new(response))
        }
        Ok(_) => Err(Box::new(consent_page(
            request,
            form,
            Some("The username or password is wrong."),
        ))),
        Err(err) => {
            tracing::error!(error = %err, "authorize: the store failed");
            Err(Box::new(page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<h1>Something went wrong</h1>",
            )))
        }
    }
}

/// Stores a one-time code for `user_id` with `scope` and sends the user
/// back to the client with it (or with `server_error`).
async fn issue_code(
    auth: &Auth,
    request: &AuthorizeRequest,
    user_id: i64,
    scope: String,
) -> Response {
    let state = request.state.as_deref();
    let code = secret::generate();
    let record = CodeRecord {
        id: 0,
        app_id: request.app.id,
        user_id,
        redirect_uri: request.redirect_uri.clone(),
        scope,
        code_challenge: request.code_challenge.clone(),
        expires_at: unix_now() + CODE_LIFETIME,
        used: false,
    };
    if let Err(err) = auth
        .store()
        .insert_code(&secret::hash(&code), &record)
        .await
    {
        tracing::error!(error = %err, "authorize: cannot store the code");
        return redirect_back(
            &request.redirect_uri,
            &[
                ("error", "server_error"),
                ("error_description", "the code could not be issued"),
            ],
            state,
        );
    }
    redirect_back(&request.redirect_uri, &[("code", &code)], state)
}

/// A 303 to the client's redirect URI with `params` and `state` added to
/// its query.
fn redirect_back(redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut response =
        Redirect::to(&format!("{redirect_uri}{separator}{}", query.finish())).into_response();
    super::grant::no_store(response.headers_mut());
    response
}

fn consent_page(request: &AuthorizeRequest, form: &Form, error: Option<&str>) -> Response {
    let hidden: String = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|name| form.get(name).map(|value| (name, value)))
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            attr(value)
        )
    })
    .collect();
    let scopes = request
        .scope
        .as_deref()
        .unwrap_or("everything this app may ask for");
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", text(e)))
        .unwrap_or_default();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    page(
        status,
        &format!(
            "<h1>Sign in to authorize {app}</h1>\
             <p><strong>{app}</strong> asks for access to: <code>{scopes}</code></p>{error}\
             <form method=\"post\" action=\"/authorization/authorize\">{hidden}\
             <label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button name=\"decision\" value=\"allow\">Allow</button>\
             <button name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
             </form>",
            app = text(&request.app.name),
            scopes = text(scopes),
        ),
    )
}

/// A plain HTML page that may not be framed or cached.
fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Fusio</title><style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
         label{{display:block;margin:.75rem 0}}input{{display:block;width:100%;padding:.4rem}}\
         button{{margin:.75rem .5rem 0 0;padding:.4rem 1rem}}.error{{color:#b00020}}</style></head>\
         <body>{body}</body></html>"
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    super::grant::no_store(headers);
    response
}
