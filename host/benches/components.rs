//! What an action costs by the language it is written in: the component's
//! size, its cold compile time (an empty precompile cache), the linear
//! memory one instance holds, and in-process microseconds per invocation
//! (fresh instance, call, drop), for the hello action in Rust, JavaScript
//! and Python, measured in the same run:
//! `cargo bench -p fusio --bench components`. bench/run measures the same
//! actions through the whole server.
#![allow(missing_docs)]

use fusio::runtime::{
    ActionSpec, Capabilities, Code, Context, EngineSettings, Limits, NoCapabilities, Request,
    Runtime,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn request() -> Request {
    Request {
        method: "GET".into(),
        path: "/hello".into(),
        uri_params: vec![],
        query: vec![("name".into(), "Ada".into())],
        headers: vec![("accept".into(), "*/*".into())],
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

struct Measured {
    name: &'static str,
    size: usize,
    compile_ms: f64,
    memory: u64,
    micros: f64,
}

fn measure(
    rt: &tokio::runtime::Runtime,
    name: &'static str,
    code: Code,
    bytes: &[u8],
    size: usize,
) -> Measured {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(EngineSettings::new(cache.path().to_owned())).unwrap();
    let spec = ActionSpec {
        name: "hello".into(),
        sha256: fusio::digest::sha256_hex(bytes),
        code,
        builtin: None,
        config: [("greeting".to_owned(), "Hello".to_owned())].into(),
        limits: Limits::default(),
        connections: Vec::new(),
        forward_headers: Vec::new(),
    };
    let started = Instant::now();
    let action = Arc::new(runtime.load(&spec, bytes).unwrap());
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;
    // As a deploy does: a script is checked and compiled to bytecode.
    rt.block_on(runtime.check_script(&action)).unwrap();
    let none: Arc<dyn Capabilities> = Arc::new(NoCapabilities);
    let micros = rt.block_on({
        let action = action.clone();
        async move {
            let once = || runtime.invoke(&action, request(), none.clone(), None);
            let answer = once().await.unwrap().unwrap();
            assert_eq!(
                answer.status,
                200,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            for _ in 0..200 {
                once().await.unwrap().unwrap();
            }
            let n = 2_000;
            let start = Instant::now();
            for _ in 0..n {
                once().await.unwrap().unwrap();
            }
            start.elapsed().as_secs_f64() * 1e6 / n as f64
        }
    });
    Measured {
        name,
        size,
        compile_ms,
        memory: action.peak_memory(),
        micros,
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let options = fusio::project::BuildOptions {
        target_dir: Some(target.join("examples")),
    };
    let rust = rt
        .block_on(fusio::project::build_package(
            &root.join("examples/hello"),
            &options,
        ))
        .expect("the Rust hello builds");
    let rust = std::fs::read(rust).unwrap();
    let script = std::fs::read(root.join("bench/hello.js")).unwrap();
    let python = rt
        .block_on(fusio::project::build_python(
            &root.join("bench/hello.py"),
            &options,
        ))
        .expect("the Python hello builds");
    let python = std::fs::read(python).unwrap();

    let rows = [
        measure(&rt, "rust", Code::Component, &rust, rust.len()),
        measure(
            &rt,
            "javascript",
            Code::Javascript,
            &script,
            fusio::runtime::JS_ENGINE_SIZE + script.len(),
        ),
        measure(&rt, "python", Code::Python, &python, python.len()),
    ];
    println!(
        "| hello | component | cold compile | memory per instance | per invocation | vs Rust |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let base = rows[0].micros;
    for row in &rows {
        println!(
            "| {} | {:.1} MB | {:.0} ms | {:.1} MiB | {:.1} µs | {:.3}x |",
            row.name,
            row.size as f64 / 1e6,
            row.compile_ms,
            row.memory as f64 / (1024.0 * 1024.0),
            row.micros,
            base / row.micros
        );
    }
}
