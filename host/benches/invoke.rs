//! In-process cost of one action invocation (fresh instance, call, drop),
//! without HTTP: `cargo bench -p fusio --bench invoke [component.wasm]`.
//! Reports microseconds per invocation with the pooling and the on-demand
//! allocator; bench/run covers the whole server.
#![allow(missing_docs)]

use fusio::runtime::{ActionSpec, Context, EngineSettings, Limits, Request, Runtime};
use std::time::Instant;

fn request() -> Request {
    Request {
        method: "GET".into(),
        path: "/hello".into(),
        uri_params: vec![],
        query: vec![],
        headers: vec![
            ("host".into(), "localhost".into()),
            ("accept".into(), "*/*".into()),
        ],
        body: vec![],
        context: Context {
            request_id: "bench".into(),
            route: "/hello".into(),
            version: 1,
            app: None,
            user: None,
            scopes: vec![],
        },
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .filter(|a| a.ends_with(".wasm"))
        .unwrap_or_else(|| "examples/target/wasm32-wasip2/release/hello.wasm".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bytes = std::fs::read(root.join(&path)).expect("build examples first: the hello component");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("BENCH_ALLOCATOR").ok();
    for pooling in [true, false] {
        if only.as_deref().is_some_and(|o| (o == "pooling") != pooling) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut settings = EngineSettings::new(dir.path().to_owned());
        settings.pooling = pooling;
        let runtime = Runtime::new(settings).unwrap();
        let spec = ActionSpec {
            name: "hello".into(),
            sha256: fusio::digest::sha256_hex(&bytes),
            code: Default::default(),
            builtin: None,
            config: Default::default(),
            limits: Limits::default(),
            connections: Vec::new(),
            forward_headers: Vec::new(),
        };
        let action = std::sync::Arc::new(runtime.load(&spec, &bytes).unwrap());
        let runtime = runtime.clone();
        let none: std::sync::Arc<dyn fusio::runtime::Capabilities> =
            std::sync::Arc::new(fusio::runtime::NoCapabilities);
        rt.block_on(rt.spawn(async move {
            for _ in 0..2_000 {
                runtime
                    .invoke(&action, request(), none.clone(), None)
                    .await
                    .unwrap()
                    .unwrap();
            }
            // BENCH_EVICT=<KiB> writes that much memory between invocations,
            // as a server's networking would, and subtracts its own cost.
            let evict: usize = std::env::var("BENCH_EVICT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
                * 1024;
            let mut scratch = vec![0u8; evict.max(1)];
            let n = 20_000;
            let mut evicting = std::time::Duration::ZERO;
            let start = Instant::now();
            for i in 0..n {
                if evict > 0 {
                    let t = Instant::now();
                    scratch
                        .iter_mut()
                        .step_by(64)
                        .for_each(|b| *b = b.wrapping_add(i as u8));
                    std::hint::black_box(&scratch);
                    evicting += t.elapsed();
                }
                runtime
                    .invoke(&action, request(), none.clone(), None)
                    .await
                    .unwrap()
                    .unwrap();
            }
            let per = (start.elapsed() - evicting).as_secs_f64() * 1e6 / n as f64;
            println!("{:?}: {per:.2} us per invocation", runtime.pooling());
        }))
        .unwrap();
    }
}
