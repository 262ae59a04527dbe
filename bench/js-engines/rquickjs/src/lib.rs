//! The hello action on QuickJS, linked statically (rquickjs): a fresh
//! engine per request evaluates the script the action's config holds
//! (`script`) and calls the function it exports with the caller's name.
//! With `mode: context` it stops after creating the engine, which shows
//! what that part costs.

use fusio_sdk::{Error, Request, Response, action, config};
use rquickjs::{Context, Function, Object, Runtime};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let failed = |e: rquickjs::Error| Error::internal(e.to_string());
    let runtime = Runtime::new().map_err(failed)?;
    let context = Context::full(&runtime).map_err(failed)?;
    if config::get("mode").as_deref() == Some("context") {
        return Ok(Response::text(200, "engine ready"));
    }
    let script = config::get("script").unwrap_or_default();
    let name = req.query("name").unwrap_or("World").to_owned();
    context.with(|ctx| {
        let module = Object::new(ctx.clone()).map_err(failed)?;
        ctx.globals()
            .set("module", module.clone())
            .map_err(failed)?;
        ctx.eval::<(), _>(script).map_err(failed)?;
        let function: Function = module.get("exports").map_err(failed)?;
        let answer: String = function.call((name,)).map_err(failed)?;
        Ok(Response::text(200, answer))
    })
}
