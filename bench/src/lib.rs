//! spool's load harness. `spool-bench` (the load generator and the suite
//! behind `scripts/bench`) and `spool-baseline` (bare axum replaying spool's
//! own responses) share these modules; docs/benchmarks.md explains the method.

pub mod captures;
pub mod client;
pub mod load;
pub mod memory;
pub mod pgbench;
pub mod pgcost;
pub mod process;
pub mod profile;
pub mod report;
pub mod scenarios;
pub mod seed;
pub mod streams;
pub mod suite;
pub mod upload;
pub mod words;
