//! The hello action on boa: a fresh engine per request evaluates the
//! script the action's config holds (`script`) and calls the function it
//! exports with the caller's name. With `mode: context` it stops after
//! creating the engine, which shows what that part costs.

use boa_engine::property::Attribute;
use boa_engine::{Context, JsObject, JsValue, Source, js_string};
use fusio_sdk::{Error, Request, Response, action, config};

#[action]
fn handle(req: Request) -> Result<Response, Error> {
    let failed = |e: boa_engine::JsError| Error::internal(e.to_string());
    let mut context = Context::default();
    if config::get("mode").as_deref() == Some("context") {
        return Ok(Response::text(200, "engine ready"));
    }
    let module = JsObject::with_null_proto();
    context
        .register_global_property(js_string!("module"), module.clone(), Attribute::all())
        .map_err(failed)?;
    let script = config::get("script").unwrap_or_default();
    context
        .eval(Source::from_bytes(script.as_bytes()))
        .map_err(failed)?;
    let exported = module
        .get(js_string!("exports"), &mut context)
        .map_err(failed)?;
    let function = exported
        .as_callable()
        .ok_or_else(|| Error::internal("the script exports no function"))?;
    let name = JsValue::from(js_string!(req.query("name").unwrap_or("World")));
    let answer = function
        .call(&JsValue::undefined(), &[name], &mut context)
        .map_err(failed)?;
    let text = answer.to_string(&mut context).map_err(failed)?;
    Ok(Response::text(200, text.to_std_string_escaped()))
}
