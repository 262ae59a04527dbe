//! `fusio-engine-snapshot IN OUT`: instantiates the component IN with WASI and with
//! every `fusio:` import stubbed (they trap if called: the initialisation
//! needs none), runs its `wizer-initialize` export and writes the
//! component with that memory saved into it to OUT.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceTable, ResourceType};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Links WASI and a trapping stand-in for every function and resource of
/// the component's `fusio:` imports.
fn link(store: &Store<State>, component: &Component) -> wasmtime::Result<Linker<State>> {
    let engine = store.engine();
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    for (name, import) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        if !name.starts_with("fusio:") {
            continue;
        }
        let mut stand_in = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let called = format!("{name}#{export}");
                    stand_in.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::format_err!(
                            "{called} was called while the engine started"
                        ))
                    })?;
                }
                ComponentItem::Resource(_) => {
                    stand_in.resource(export, ResourceType::host::<u32>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(linker)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err(wasmtime::format_err!("usage: fusio-engine-snapshot IN OUT"));
    };
    let wasm = std::fs::read(input)?;
    let config = Config::new();
    let engine = Engine::new(&config)?;
    let wasi = WasiCtx::builder().inherit_stderr().build();
    let mut store = Store::new(
        &engine,
        State {
            wasi,
            table: ResourceTable::new(),
        },
    );
    let mut wizer = wasmtime_wizer::Wizer::new();
    // The component's own export of the function stays (the action world
    // ignores it); removing it would leave that export dangling.
    wizer.keep_init_func(true);
    let (snapshot, _) = wizer
        .run_component(
            &mut store,
            &wasm,
            async |store: &mut Store<State>, component: &Component| {
                link(store, component)?
                    .instantiate_async(store, component)
                    .await
            },
        )
        .await?;
    std::fs::write(output, snapshot)?;
    Ok(())
}
