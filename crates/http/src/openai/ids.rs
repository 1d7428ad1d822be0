//! The openai dialect's ids, as OpenAI's own look: a type prefix and the 32
//! hex digits of the UUID (`thread_0192…`); see [`crate::prefixed_ids`].

pub use crate::prefixed_ids::{parse, render};

pub const ASSISTANT: &str = "asst_";
pub const THREAD: &str = "thread_";
pub const MESSAGE: &str = "msg_";
pub const RUN: &str = "run_";
/// A run step is one assistant message of the run: its id is the message's.
pub const STEP: &str = "step_";
