//! The host side of `wit/`: the one place that compiles the WIT contract.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "action",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "fusio:action/connector.sql": super::host::connector::SqlHandle,
        "fusio:action/connector.transaction": super::host::connector::TransactionHandle,
    },
});

/// The script engines' world (`engines/js/wit`): the action world, whose
/// bindings above it reuses, plus the script import and the syntax check.
pub mod engine {
    wasmtime::component::bindgen!({
        path: "engines/js/wit",
        world: "fusio:engine/js",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "fusio:action": super::fusio::action,
        },
    });
}
