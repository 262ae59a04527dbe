//! The cost of generating the OpenAPI document of a project, against
//! serializing the same project as JSON in the same run (the baseline), for
//! 50, 500 and 5 000 routes: `cargo bench -p fusio --bench export`. Each
//! route has GET (public, a query parameter, a response schema) and POST
//! (protected, a request schema); the schemas refer to each other.
#![allow(missing_docs)]

use fusio::doc::openapi::{Selection, Versions, document};
use fusio::store::model::{
    MethodRecord, Project, RouteRecord, SchemaRecord, VersionRecord, VersionStatus,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn project(routes: usize) -> Project {
    let parameter: fusio::query::Parameter =
        serde_json::from_value(serde_json::json!({ "type": "integer", "minimum": 0 })).unwrap();
    let mut project = Project::default();
    for i in 0..routes {
        let get = MethodRecord {
            method: "GET".into(),
            action: "a".into(),
            public: true,
            scopes: vec![],
            request: None,
            responses: BTreeMap::from([(200, format!("Collection{i}"))]),
            parameters: BTreeMap::from([("startIndex".to_owned(), parameter.clone())]),
            content_types: vec![],
        };
        let post = MethodRecord {
            method: "POST".into(),
            action: "a".into(),
            public: false,
            scopes: vec![format!("scope{}", i % 20)],
            request: Some(format!("Entry{i}")),
            responses: BTreeMap::new(),
            parameters: BTreeMap::new(),
            content_types: vec![],
        };
        project.routes.push(RouteRecord {
            path: format!("/resource{i}/:id"),
            versions: vec![VersionRecord {
                version: 1,
                status: VersionStatus::Production,
                sunset: None,
                methods: vec![get, post],
            }],
            cors: None,
        });
        project.schemas.push(SchemaRecord {
            name: format!("Entry{i}"),
            document: serde_json::json!({
                "type": "object",
                "properties": { "title": { "type": "string" }, "done": { "type": "boolean" } }
            }),
        });
        project.schemas.push(SchemaRecord {
            name: format!("Collection{i}"),
            document: serde_json::json!({
                "type": "object",
                "properties": { "entry": { "type": "array", "items": { "$ref": format!("#/components/schemas/Entry{i}") } } }
            }),
        });
    }
    project
}

/// The median of `rounds` timings of `work`.
fn median(rounds: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

fn main() {
    let scopes: BTreeMap<String, String> = (0..20)
        .map(|i| (format!("scope{i}"), format!("scope number {i}")))
        .collect();
    let all = Selection {
        versions: Versions::Default,
        path: None,
    };
    println!("routes  export ms  project-as-JSON ms  ratio");
    for routes in [50, 500, 5000] {
        let project = project(routes);
        let rounds = if routes > 1000 { 5 } else { 21 };
        let export = median(rounds, || {
            let doc = document(&project, all, "https://api.example.com", &scopes).unwrap();
            std::hint::black_box(serde_json::to_vec(&doc).unwrap());
        });
        let baseline = median(rounds, || {
            std::hint::black_box(serde_json::to_vec(&project).unwrap());
        });
        println!(
            "{routes:>6}  {:>9.2}  {:>18.2}  {:>5.1}",
            export.as_secs_f64() * 1e3,
            baseline.as_secs_f64() * 1e3,
            export.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
