//! The openai dialect's ids, as OpenAI's own look: a type prefix and the 32
//! hex digits of the UUID (`thread_0192…`); see [`crate::prefixed_ids`].

pub use crate::prefixed_ids::{parse, render};

pub const ASSISTANT: &str = "asst_";
pub const THREAD: &str = "thread_";
pub const MESSAGE: &str = "msg_";
pub const RUN: &str = "run_";
/// A run step is one assistant message of the run: its id is the message's.
pub const STEP: &str = "step_";
/// A conversation is a thread, a response a run (Conversations + Responses).
pub const CONVERSATION: &str = "conv_";
pub const RESPONSE: &str = "resp_";
/// A function call item: its message's id and the call's place on it.
pub const FUNCTION_CALL: &str = "fc_";
/// A function call output item: the id of the tool message holding it.
pub const FUNCTION_OUTPUT: &str = "fco_";
/// A file, as OpenAI wrote them (`file-…`); freddy's `file_…` names the same file.
pub const FILE: &str = "file-";
