//! spool-providers' one integration-test binary: every provider against
//! `ScriptedUpstream` on 127.0.0.1, never a real upstream.

mod clock;
mod config;
mod echo;
mod faults;
mod streaming;
mod support;
mod tokenizer;
