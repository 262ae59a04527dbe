//! Fusio's JavaScript engine: QuickJS (through rquickjs) in an action
//! component. `wizer-initialize` creates the runtime and context and
//! evaluates the API prelude once; the snapshot tool saves that memory into
//! the component, so every fresh instance starts with the engine ready.
//! When the host loads a script, `check` compiles it to bytecode; each
//! request then runs that bytecode (from the host's `script` import), with
//! no parsing, and calls the function it exports with PHP Fusio's worker
//! arguments.

wit_bindgen::generate!({ path: "wit", world: "fusio:engine/js", generate_all });

mod natives;

use exports::fusio::action::handler::Guest as Handler;
use exports::fusio::engine::check::{Guest as Check, SyntaxError};
use fusio::action::types::{ActionError, Request, Response};
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Object, Persistent, Promise, Runtime,
    Value, context::EvalOptions, promise::PromiseState,
};
use std::cell::RefCell;

/// The engine, created once (before the snapshot) and kept for the
/// instance's one request.
struct Engine {
    // Dropped after the context: it owns the heap the context lives in.
    context: Context,
    _runtime: Runtime,
    /// The prelude's `run(handler, request)`.
    run: Persistent<Function<'static>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

const PRELUDE: &str = include_str!("prelude.js");

/// Bytes a request may allocate before QuickJS' cycle collector first runs.
const GC_HEADROOM: usize = 8 * 1024 * 1024;

fn create() -> Engine {
    let runtime = Runtime::new().expect("a QuickJS runtime");
    let context = Context::full(&runtime).expect("a QuickJS context");
    let run = context.with(|ctx| {
        let native = natives::object(&ctx).expect("the native functions");
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = true;
        options.filename = Some("fusio:prelude".into());
        let install: Function = ctx
            .eval_with_options(PRELUDE, options)
            .catch(&ctx)
            .unwrap_or_else(|err| panic!("the prelude does not evaluate: {err}"));
        let run: Function = install
            .call((native,))
            .catch(&ctx)
            .unwrap_or_else(|err| panic!("the prelude does not install: {err}"));
        Persistent::save(&ctx, run)
    });
    // Collect what creating the engine left behind, then let a request
    // allocate a good deal before the collector runs: its mark phase writes
    // to every object of the heap, which in a fresh instance means copying
    // every page of the snapshot. Most garbage is freed by reference
    // counting anyway, and the instance's memory cap still bounds the rest.
    runtime.run_gc();
    let used = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
    runtime.set_gc_threshold(used + GC_HEADROOM);
    Engine {
        context,
        _runtime: runtime,
        run,
    }
}

fn with_engine<T>(f: impl FnOnce(&Engine) -> T) -> T {
    ENGINE.with(|engine| {
        let mut engine = engine.borrow_mut();
        f(engine.get_or_insert_with(create))
    })
}

struct Js;

impl Guest for Js {
    fn wizer_initialize() {
        ENGINE.with(|engine| *engine.borrow_mut() = Some(create()));
    }
}

impl Handler for Js {
    fn handle(request: Request) -> Result<Response, ActionError> {
        let source = fusio::engine::script::source();
        with_engine(|engine| {
            engine.context.with(|ctx| {
                let failed = |err: CaughtError<'_>| ActionError::Internal(describe(err));
                let module = Object::new(ctx.clone()).map_err(internal)?;
                let exports = Object::new(ctx.clone()).map_err(internal)?;
                module.set("exports", exports.clone()).map_err(internal)?;
                ctx.globals()
                    .set("module", module.clone())
                    .map_err(internal)?;
                ctx.globals().set("exports", exports).map_err(internal)?;
                if source.bytecode.is_empty() {
                    let mut options = EvalOptions::default();
                    options.global = true;
                    options.strict = false;
                    options.filename = Some(source.name);
                    ctx.eval_with_options::<(), _>(source.text, options)
                        .catch(&ctx)
                        .map_err(failed)?;
                } else {
                    run_bytecode(&ctx, &source.bytecode)
                        .catch(&ctx)
                        .map_err(failed)?;
                }
                let handler: Value = module.get("exports").map_err(internal)?;
                let raw = natives::request(&ctx, request).map_err(internal)?;
                let run = engine.run.clone().restore(&ctx).map_err(internal)?;
                let promise: Promise = run.call((handler, raw)).catch(&ctx).map_err(failed)?;
                settle(&ctx, &promise)?;
                let answer: Object = promise.finish().catch(&ctx).map_err(failed)?;
                natives::response(&ctx, answer)
            })
        })
    }
}

/// Runs the job queue until `promise` settles; a promise that waits on
/// nothing that can happen (no job left) is the action's error.
fn settle(ctx: &Ctx<'_>, promise: &Promise<'_>) -> Result<(), ActionError> {
    while promise.state() == PromiseState::Pending {
        if !ctx.execute_pending_job() {
            return Err(ActionError::Internal(
                "the action's promise never settled: it waits on something no code will do".into(),
            ));
        }
    }
    Ok(())
}

fn internal(err: rquickjs::Error) -> ActionError {
    ActionError::Internal(format!("the JavaScript engine failed: {err}"))
}

/// A thrown value as text: an error's name, message and stack.
fn describe(err: CaughtError<'_>) -> String {
    match err {
        CaughtError::Exception(exception) => {
            let message = exception.message().unwrap_or_default();
            let name: String = exception.get("name").unwrap_or_else(|_| "Error".to_owned());
            match exception.stack().filter(|s| !s.trim().is_empty()) {
                Some(stack) => format!("{name}: {message}\n{}", stack.trim_end()),
                None => format!("{name}: {message}"),
            }
        }
        CaughtError::Value(value) => {
            let ctx = value.ctx().clone();
            let text = ctx
                .json_stringify(value.clone())
                .ok()
                .flatten()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("{value:?}"));
            format!("uncaught {text}")
        }
        CaughtError::Error(err) => err.to_string(),
    }
}

impl Check for Js {
    fn check(name: String, text: String) -> Result<Vec<u8>, SyntaxError> {
        with_engine(|engine| engine.context.with(|ctx| compile_only(&ctx, &name, text)))
    }
}

/// Runs a script from the bytecode [`compile_only`] wrote.
#[allow(unsafe_code)]
fn run_bytecode(ctx: &Ctx<'_>, bytecode: &[u8]) -> rquickjs::Result<()> {
    use rquickjs::qjs;
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the context is alive for the duration of `with`. The bytes
    // are what `check` wrote for this script in an instance of this same
    // engine build (the host keeps them in memory only, never from a user);
    // JS_EvalFunction takes the function it is given and answers a value
    // freed here.
    let failed = unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            true
        } else {
            let value = qjs::JS_EvalFunction(raw, function);
            let failed = qjs::JS_IsException(value);
            qjs::JS_FreeValue(raw, value);
            failed
        }
    };
    if failed {
        Err(rquickjs::Error::Exception)
    } else {
        Ok(())
    }
}

/// Parses and compiles `text` as a script without running it; answers its
/// bytecode (with its debug information: names, lines and columns).
#[allow(unsafe_code)]
fn compile_only(ctx: &Ctx<'_>, name: &str, text: String) -> Result<Vec<u8>, SyntaxError> {
    use rquickjs::qjs;
    let syntax = |message: String, line: u32, column: u32| SyntaxError {
        message,
        line,
        column,
    };
    let Ok(source) = std::ffi::CString::new(text) else {
        return Err(syntax("the script holds a NUL character".into(), 1, 1));
    };
    let file = std::ffi::CString::new(name).unwrap_or_else(|_| c"script".into());
    let length = source.as_bytes().len();
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the context is alive for the duration of `with`; the source
    // is NUL-terminated as JS_Eval requires; the compiled function it
    // answers is written out, then freed here and never used again, as is
    // the buffer JS_WriteObject allocated once it is copied.
    let compiled = unsafe {
        let value = qjs::JS_Eval(
            raw,
            source.as_ptr(),
            length as _,
            file.as_ptr(),
            (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32,
        );
        if qjs::JS_IsException(value) {
            None
        } else {
            let mut size = 0;
            let buffer =
                qjs::JS_WriteObject(raw, &mut size, value, qjs::JS_WRITE_OBJ_BYTECODE as i32);
            qjs::JS_FreeValue(raw, value);
            if buffer.is_null() {
                None
            } else {
                let bytes = std::slice::from_raw_parts(buffer, size as usize).to_vec();
                qjs::js_free(raw, buffer.cast());
                Some(bytes)
            }
        }
    };
    if let Some(bytecode) = compiled {
        return Ok(bytecode);
    }
    let thrown = ctx.catch();
    let exception = thrown.as_exception();
    let message = exception
        .and_then(|e| e.message())
        .unwrap_or_else(|| "the script does not parse".into());
    let stack = exception.and_then(|e| e.stack()).unwrap_or_default();
    let (line, column) = position(&stack, name).unwrap_or((1, 1));
    Err(syntax(message, line, column))
}

/// The first `name:line:column` in a stack trace.
fn position(stack: &str, name: &str) -> Option<(u32, u32)> {
    let prefix = format!("{name}:");
    stack.lines().find_map(|frame| {
        let at = frame.find(&prefix)? + prefix.len();
        let rest = frame[at..].trim_end_matches(')');
        let mut parts = rest.split(':');
        let line = parts.next()?.parse().ok()?;
        let column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
        Some((line, column))
    })
}

export!(Js);
