//! Fusio's integration tests: one binary, one module per feature. Most tests
//! call the router in-process; a few run the `fusio` binary.

mod support;

mod auth;
mod backend;
mod builtin;
mod cli;
mod confine;
mod connector;
mod consumer;
mod cors;
mod deploy;
mod doc;
mod examples;
mod gateway;
mod guards;
mod javascript;
mod limits;
mod metrics;
mod migration;
mod nodes;
mod project;
mod proxy;
mod python;
mod rates;
mod request_log;
mod resources;
mod runtime;
mod scaffold;
mod social;
mod sql;
mod sql_table;
mod statistics;
mod store;
