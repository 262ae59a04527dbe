//! Nothing to build: this crate holds `tests/todo.rs`, which tests the
//! example project (`fusio.yml` at the repository's root) with `fusio-test`
//! the way an action author tests theirs: `cargo test -p fusio-example-testing`.
