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
