//! The hello action on QuickJS (rquickjs) with the engine created once:
//! `wizer-initialize` creates the runtime and context, the snapshot tool
//! (`host/engines/snapshot`) saves the memory that holds them into the component, and
//! every fresh instance starts with the engine ready. Each request then
//! evaluates the script the action's config holds (`script`) and calls the
//! function it exports with the caller's name.

wit_bindgen::generate!({ path: "wit", world: "fusio:bench-engine/js-engine", generate_all });

use exports::fusio::action::handler::Guest as Handler;
use fusio::action::types::{ActionError, Request, Response};
use rquickjs::{Context, Function, Object, Runtime};
use std::cell::RefCell;

thread_local! {
    static ENGINE: RefCell<Option<(Runtime, Context)>> = const { RefCell::new(None) };
}

fn create() -> (Runtime, Context) {
    let runtime = Runtime::new().expect("a QuickJS runtime");
    let context = Context::full(&runtime).expect("a QuickJS context");
    (runtime, context)
}

struct Engine;

impl Guest for Engine {
    fn wizer_initialize() {
        ENGINE.with(|engine| *engine.borrow_mut() = Some(create()));
    }
}

impl Handler for Engine {
    fn handle(request: Request) -> Result<Response, ActionError> {
        let script = fusio::action::config::get("script").unwrap_or_default();
        let name = request
            .query
            .iter()
            .find(|(key, _)| key == "name")
            .map_or_else(|| "World".to_owned(), |(_, value)| value.clone());
        ENGINE.with(|engine| {
            let mut engine = engine.borrow_mut();
            let (_, context) = engine.get_or_insert_with(create);
            context.with(|ctx| {
                let failed = |e: rquickjs::Error| ActionError::Internal(e.to_string());
                let module = Object::new(ctx.clone()).map_err(failed)?;
                ctx.globals()
                    .set("module", module.clone())
                    .map_err(failed)?;
                ctx.eval::<(), _>(script).map_err(failed)?;
                let function: Function = module.get("exports").map_err(failed)?;
                let answer: String = function.call((name,)).map_err(failed)?;
                Ok(Response {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: answer.into_bytes(),
                })
            })
        })
    }
}

export!(Engine);
