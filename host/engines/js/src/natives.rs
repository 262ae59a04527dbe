//! The native functions the prelude builds the script API on, and the
//! conversions between the action world's records and JavaScript values.
//! Each is a synchronous host call; a host error is thrown as a JavaScript
//! `Error` whose `code` names the case (`access-denied`, `not-found`,
//! `unavailable`, `query`, `timeout`).

use crate::fusio::action::connector::{self, ConnectorError, HttpRequest, RedisValue, SqlValue};
use crate::fusio::action::types::{ActionError, Context, Request, Response};
use crate::fusio::action::{cache, config, logger, processor};
use rquickjs::function::{Func, Opt};
use rquickjs::{Array, Ctx, Exception, Function, IntoJs, Object, Result, TypedArray, Value};
use std::cell::{Cell, RefCell};

thread_local! {
    /// The SQL connections the script opened, by handle.
    static SQL: RefCell<Vec<connector::Sql>> = const { RefCell::new(Vec::new()) };
    /// Its transactions, by handle; `None` once committed or rolled back.
    static TRANSACTIONS: RefCell<Vec<Option<connector::Transaction>>> = const { RefCell::new(Vec::new()) };
    /// The request's context, for calls to other actions.
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
    /// Math.random's state, seeded on first use in each instance.
    static RANDOM: Cell<u64> = const { Cell::new(0) };
}

/// `[[name, value], …]` from name-value pairs.
fn pairs_to_js<'js>(ctx: &Ctx<'js>, pairs: Vec<(String, String)>) -> Result<Array<'js>> {
    let array = Array::new(ctx.clone())?;
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, name)?;
        pair.set(1, value)?;
        array.set(i, pair)?;
    }
    Ok(array)
}

/// Name-value pairs from `[[name, value], …]`.
fn pairs_from(array: Array<'_>) -> Result<Vec<(String, String)>> {
    array
        .iter::<Array>()
        .map(|pair| {
            let pair = pair?;
            Ok((pair.get(0)?, pair.get(1)?))
        })
        .collect()
}

/// The native functions, as one object for the prelude.
pub fn object<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    let native = Object::new(ctx.clone())?;
    native.set("random", Func::from(random))?;
    native.set("log", Func::from(log))?;
    native.set("config", Func::from(config_all))?;
    native.set("connectionKind", Func::from(connection_kind))?;
    native.set("clientAddress", Func::from(client_address))?;
    native.set("sqlOpen", Func::from(sql_open))?;
    native.set("sqlQuery", Func::from(sql_query))?;
    native.set("sqlExecute", Func::from(sql_execute))?;
    native.set("sqlBegin", Func::from(sql_begin))?;
    native.set("txQuery", Func::from(tx_query))?;
    native.set("txExecute", Func::from(tx_execute))?;
    native.set("txEnd", Func::from(tx_end))?;
    native.set("http", Func::from(http))?;
    native.set("redis", Func::from(redis))?;
    native.set("amqp", Func::from(amqp))?;
    native.set("cacheGet", Func::from(cache_get))?;
    native.set("cacheSet", Func::from(cache_set))?;
    native.set("cacheDelete", Func::from(cache_delete))?;
    native.set("cacheIncr", Func::from(cache_incr))?;
    native.set("call", Func::from(call))?;
    Ok(native)
}

/// The request as the prelude reads it; keeps its context for calls.
pub fn request<'js>(ctx: &Ctx<'js>, request: Request) -> Result<Object<'js>> {
    let raw = Object::new(ctx.clone())?;
    raw.set("method", request.method)?;
    raw.set("path", request.path)?;
    raw.set("uriParams", pairs_to_js(ctx, request.uri_params)?)?;
    raw.set("query", pairs_to_js(ctx, request.query)?)?;
    raw.set("headers", pairs_to_js(ctx, request.headers)?)?;
    // Text as it came; a body that is not UTF-8 as its bytes, unchanged.
    match String::from_utf8(request.body) {
        Ok(text) => raw.set("body", text)?,
        Err(binary) => raw.set("body", TypedArray::new(ctx.clone(), binary.into_bytes())?)?,
    }
    let context = Object::new(ctx.clone())?;
    context.set("requestId", request.context.request_id.as_str())?;
    context.set("route", request.context.route.as_str())?;
    context.set("version", request.context.version)?;
    context.set("app", request.context.app.as_deref())?;
    context.set("user", request.context.user.as_deref())?;
    context.set("scopes", request.context.scopes.clone())?;
    raw.set("context", context)?;
    CONTEXT.with(|c| *c.borrow_mut() = Some(request.context));
    Ok(raw)
}

/// The prelude's answer (status, header pairs, body) as the response,
/// checked by the host's response factory.
pub fn response<'js>(
    _ctx: &Ctx<'js>,
    answer: Object<'js>,
) -> std::result::Result<Response, ActionError> {
    let status: f64 = answer.get("status").map_err(bad_answer)?;
    if !(100.0..=599.0).contains(&status) || status.fract() != 0.0 {
        return Err(ActionError::Internal(format!(
            "response.build: {status} is not an HTTP status (100 to 599)"
        )));
    }
    let headers = answer
        .get::<_, Array>("headers")
        .and_then(pairs_from)
        .map_err(bad_answer)?;
    let body = bytes(answer.get("body").map_err(bad_answer)?).map_err(bad_answer)?;
    crate::fusio::action::response::build(status as u16, &headers, &body)
        .map_err(|reason| ActionError::Internal(format!("response.build: {reason}")))
}

fn bad_answer(err: rquickjs::Error) -> ActionError {
    ActionError::Internal(format!("the action's answer is not a response: {err}"))
}

/// A body or Redis argument: text as UTF-8, a Uint8Array as it is.
fn bytes(value: Value<'_>) -> Result<Vec<u8>> {
    if let Some(text) = value.as_string() {
        return Ok(text.to_string()?.into_bytes());
    }
    if let Ok(array) = TypedArray::<u8>::from_value(value.clone()) {
        return Ok(copy(&array));
    }
    if let Some(number) = value.as_number() {
        return Ok(number_text(number).into_bytes());
    }
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    Err(Exception::throw_type(
        value.ctx(),
        "expected a string, a number or a Uint8Array",
    ))
}

/// The bytes of a Uint8Array, copied out before any script runs again.
#[allow(unsafe_code)]
fn copy(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: the slice is copied at once, while no JavaScript runs.
    unsafe { array.as_bytes() }
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// A number as JavaScript writes it: integers without a fraction.
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 9.007_199_254_740_992e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// A connector error, thrown with its case as `code`.
fn throw(ctx: &Ctx<'_>, err: ConnectorError) -> rquickjs::Error {
    let (code, message) = match err {
        ConnectorError::AccessDenied(m) => ("access-denied", m),
        ConnectorError::NotFound(m) => ("not-found", m),
        ConnectorError::Unavailable(m) => ("unavailable", m),
        ConnectorError::Query(m) => ("query", m),
        ConnectorError::Timeout(m) => ("timeout", m),
    };
    match Exception::from_message(ctx.clone(), &message) {
        Ok(exception) => {
            let _ = exception.set("code", code);
            exception.throw()
        }
        Err(err) => err,
    }
}

fn random() -> f64 {
    // xorshift64*, seeded from the host's randomness in each instance.
    let mut state = RANDOM.with(Cell::get);
    if state == 0 {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).expect("randomness from the host");
        state = u64::from_le_bytes(seed) | 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    RANDOM.with(|r| r.set(state));
    let bits = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

fn log(level: String, message: String, fields: Array<'_>) -> Result<()> {
    let fields = pairs_from(fields)?;
    let level = match level.as_str() {
        "debug" => logger::Level::Debug,
        "warn" => logger::Level::Warn,
        "error" => logger::Level::Error,
        _ => logger::Level::Info,
    };
    logger::log(level, &message, &fields);
    Ok(())
}

fn config_all(ctx: Ctx<'_>) -> Result<Array<'_>> {
    pairs_to_js(&ctx, config::all())
}

fn client_address() -> Option<String> {
    crate::fusio::engine::script::client_address()
}

fn connection_kind<'js>(ctx: Ctx<'js>, name: String) -> Result<String> {
    crate::fusio::engine::script::connection_kind(&name).map_err(|err| throw(&ctx, err))
}

/// A SQL parameter from a JavaScript value: integers stay integers, objects
/// and arrays are JSON, a Date is a timestamp, a Uint8Array bytes.
fn sql_value(value: Value<'_>) -> Result<SqlValue> {
    let ctx = value.ctx().clone();
    if value.is_undefined() || value.is_null() {
        return Ok(SqlValue::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(SqlValue::Boolean(b));
    }
    if let Some(i) = value.as_int() {
        return Ok(SqlValue::Integer(i64::from(i)));
    }
    if let Some(f) = value.as_float() {
        if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
            return Ok(SqlValue::Integer(f as i64));
        }
        return Ok(SqlValue::Float(f));
    }
    if let Some(text) = value.as_string() {
        return Ok(SqlValue::Text(text.to_string()?));
    }
    if let Ok(array) = TypedArray::<u8>::from_value(value.clone()) {
        return Ok(SqlValue::Bytes(copy(&array)));
    }
    if let Some(object) = value.as_object() {
        let date: Function = ctx.globals().get("Date")?;
        if object.is_instance_of(&date) {
            let iso: Function = object.get("toISOString")?;
            let text: String = iso.call((rquickjs::function::This(object.clone()),))?;
            return Ok(SqlValue::Timestamp(text));
        }
        if let Some(json) = ctx.json_stringify(value.clone())? {
            return Ok(SqlValue::Json(json.to_string()?));
        }
    }
    Err(Exception::throw_type(
        &ctx,
        "a SQL parameter must be a string, number, boolean, null, Date, Uint8Array, object or array",
    ))
}

fn sql_params(params: Opt<Array<'_>>) -> Result<Vec<SqlValue>> {
    match params.0 {
        None => Ok(Vec::new()),
        Some(array) => array.iter::<Value>().map(|v| sql_value(v?)).collect(),
    }
}

fn sql_open<'js>(ctx: Ctx<'js>, name: String) -> Result<u32> {
    let sql = connector::open_sql(&name).map_err(|err| throw(&ctx, err))?;
    Ok(SQL.with(|s| {
        let mut s = s.borrow_mut();
        s.push(sql);
        (s.len() - 1) as u32
    }))
}

fn with_sql<T>(ctx: &Ctx<'_>, handle: u32, f: impl FnOnce(&connector::Sql) -> T) -> Result<T> {
    SQL.with(|s| match s.borrow().get(handle as usize) {
        Some(sql) => Ok(f(sql)),
        None => Err(Exception::throw_reference(ctx, "no such SQL connection")),
    })
}

fn with_transaction<T>(
    ctx: &Ctx<'_>,
    handle: u32,
    f: impl FnOnce(&connector::Transaction) -> T,
) -> Result<T> {
    TRANSACTIONS.with(|t| match t.borrow().get(handle as usize) {
        Some(Some(tx)) => Ok(f(tx)),
        _ => Err(Exception::throw_reference(
            ctx,
            "the transaction is over (committed or rolled back)",
        )),
    })
}

fn sql_query<'js>(
    ctx: Ctx<'js>,
    handle: u32,
    statement: String,
    params: Opt<Array<'js>>,
) -> Result<String> {
    let params = sql_params(params)?;
    with_sql(&ctx, handle, |sql| sql.query_json(&statement, &params))?
        .map_err(|err| throw(&ctx, err))
}

fn sql_execute<'js>(
    ctx: Ctx<'js>,
    handle: u32,
    statement: String,
    params: Opt<Array<'js>>,
) -> Result<f64> {
    let params = sql_params(params)?;
    with_sql(&ctx, handle, |sql| sql.execute(&statement, &params))?
        .map(|n| n as f64)
        .map_err(|err| throw(&ctx, err))
}

fn sql_begin<'js>(ctx: Ctx<'js>, handle: u32) -> Result<u32> {
    let tx = with_sql(&ctx, handle, |sql| sql.begin())?.map_err(|err| throw(&ctx, err))?;
    Ok(TRANSACTIONS.with(|t| {
        let mut t = t.borrow_mut();
        t.push(Some(tx));
        (t.len() - 1) as u32
    }))
}

fn tx_query<'js>(
    ctx: Ctx<'js>,
    handle: u32,
    statement: String,
    params: Opt<Array<'js>>,
) -> Result<String> {
    let params = sql_params(params)?;
    with_transaction(&ctx, handle, |tx| tx.query_json(&statement, &params))?
        .map_err(|err| throw(&ctx, err))
}

fn tx_execute<'js>(
    ctx: Ctx<'js>,
    handle: u32,
    statement: String,
    params: Opt<Array<'js>>,
) -> Result<f64> {
    let params = sql_params(params)?;
    with_transaction(&ctx, handle, |tx| tx.execute(&statement, &params))?
        .map(|n| n as f64)
        .map_err(|err| throw(&ctx, err))
}

fn tx_end<'js>(ctx: Ctx<'js>, handle: u32, commit: bool) -> Result<()> {
    let tx = TRANSACTIONS.with(|t| {
        t.borrow_mut()
            .get_mut(handle as usize)
            .and_then(Option::take)
    });
    let Some(tx) = tx else {
        return Err(Exception::throw_reference(
            &ctx,
            "the transaction is over (committed or rolled back)",
        ));
    };
    let outcome = if commit { tx.commit() } else { tx.rollback() };
    outcome.map_err(|err| throw(&ctx, err))
}

fn http<'js>(
    ctx: Ctx<'js>,
    name: String,
    method: String,
    path: String,
    headers: Array<'js>,
    body: Value<'js>,
) -> Result<Object<'js>> {
    let request = HttpRequest {
        method,
        path,
        headers: pairs_from(headers)?,
        body: bytes(body)?,
    };
    let answer = connector::http_send(&name, &request).map_err(|err| throw(&ctx, err))?;
    let object = Object::new(ctx.clone())?;
    object.set("status", answer.status)?;
    object.set("headers", pairs_to_js(&ctx, answer.headers)?)?;
    object.set("body", String::from_utf8_lossy(&answer.body).into_owned())?;
    object.set("bytes", TypedArray::new(ctx.clone(), answer.body)?)?;
    Ok(object)
}

fn redis<'js>(
    ctx: Ctx<'js>,
    name: String,
    command: String,
    args: Array<'js>,
) -> Result<Value<'js>> {
    let args = args
        .iter::<Value>()
        .map(|v| bytes(v?))
        .collect::<Result<Vec<_>>>()?;
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    match connector::redis(&name, &command, &args).map_err(|err| throw(&ctx, err))? {
        RedisValue::Nil => Ok(Value::new_null(ctx)),
        RedisValue::Integer(i) => (i as f64).into_js(&ctx),
        RedisValue::Bytes(b) => text(b).into_js(&ctx),
        RedisValue::Items(items) => items
            .into_iter()
            .map(text)
            .collect::<Vec<_>>()
            .into_js(&ctx),
        RedisValue::Status(s) => s.into_js(&ctx),
    }
}

fn amqp<'js>(
    ctx: Ctx<'js>,
    name: String,
    exchange: String,
    routing_key: String,
    body: Value<'js>,
    content_type: Opt<String>,
) -> Result<()> {
    let body = bytes(body)?;
    connector::amqp_publish(
        &name,
        &exchange,
        &routing_key,
        &body,
        content_type.0.as_deref(),
    )
    .map_err(|err| throw(&ctx, err))
}

fn cache_get(key: String) -> Option<String> {
    cache::get(&key).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn cache_set(key: String, value: String, ttl_ms: f64) {
    cache::set(&key, value.as_bytes(), ttl_ms.max(0.0) as u64);
}

fn cache_delete(key: String) {
    cache::delete(&key);
}

fn cache_incr(key: String, delta: f64, ttl_ms: f64) -> f64 {
    cache::incr(&key, delta as i64, ttl_ms.max(0.0) as u64) as f64
}

/// Calls `action` with `request` (`method`, `path`, `uriParams`, `query`
/// and `headers` as pairs, `body`).
fn call<'js>(ctx: Ctx<'js>, action: String, request: Object<'js>) -> Result<Object<'js>> {
    let context = CONTEXT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| Exception::throw_internal(&ctx, "no request is being handled"))?;
    let request = Request {
        method: request.get::<_, String>("method")?.to_ascii_uppercase(),
        path: request.get("path")?,
        uri_params: pairs_from(request.get("uriParams")?)?,
        query: pairs_from(request.get("query")?)?,
        headers: pairs_from(request.get("headers")?)?,
        body: bytes(request.get("body")?)?,
        context,
    };
    let answer = match processor::call(&action, &request) {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => problem(error),
        Err(error) => {
            let (code, message) = match error {
                processor::CallError::NotFound(m) => ("not-found", m),
                processor::CallError::TooDeep(m) => ("too-deep", m),
                processor::CallError::Failed(m) => ("failed", m),
            };
            let exception = Exception::from_message(ctx.clone(), &message)?;
            exception.set("code", code)?;
            return Err(exception.throw());
        }
    };
    let object = Object::new(ctx.clone())?;
    object.set("status", answer.status)?;
    object.set("headers", pairs_to_js(&ctx, answer.headers)?)?;
    object.set("body", String::from_utf8_lossy(&answer.body).into_owned())?;
    Ok(object)
}

/// A callee's refusal as the problem response the gateway would send.
fn problem(error: ActionError) -> Response {
    let (status, title, detail) = match error {
        ActionError::BadRequest(d) => (400, "Bad Request".to_owned(), Some(d)),
        ActionError::Unauthorized(d) => (401, "Unauthorized".to_owned(), Some(d)),
        ActionError::Forbidden(d) => (403, "Forbidden".to_owned(), Some(d)),
        ActionError::NotFound(d) => (404, "Not Found".to_owned(), Some(d)),
        ActionError::Conflict(d) => (409, "Conflict".to_owned(), Some(d)),
        ActionError::Internal(_) => (500, "Internal Server Error".to_owned(), None),
        ActionError::Custom(p) => (p.status, p.title, p.detail),
    };
    let mut body = format!("{{\"status\":{status},\"title\":{}", json_string(&title));
    if let Some(detail) = detail {
        body.push_str(&format!(",\"detail\":{}", json_string(&detail)));
    }
    body.push('}');
    Response {
        status,
        headers: vec![("content-type".into(), "application/problem+json".into())],
        body: body.into_bytes(),
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
