//! The real `spool` binary, spawned as an operator would run it: config
//! layering, the operator commands, serving, first start, durability across
//! SIGKILL and secrets kept out of logs. Each test has its own temp dir and
//! database: SQLite there by default, a fresh PostgreSQL database when
//! `SPOOL_TEST_BACKEND=postgres` (scripts/test runs both).

mod commands;
mod config;
mod connections;
mod durability;
mod idempotency;
mod keys;
mod logs;
mod nodes;
mod one_server;
mod runs;
mod secrets;
mod serve;
mod support;
mod transfer;
