//! freddy's ids: a type prefix and the 32 hex digits of the UUID
//! (`thrd_0192…`); see [`crate::prefixed_ids`].

pub use crate::prefixed_ids::{parse, render};

pub const THREAD: &str = "thrd_";
pub const ORGANIZATION: &str = "org_";
pub const USER: &str = "usr_";
pub const ASSISTANT: &str = "asst_";
pub const MESSAGE: &str = "msg_";
pub const RUN: &str = "run_";
pub const FILE: &str = "file_";
