//! The tools at work: the filesystem and processes behind the calls the domain
//! (`cairn_core::tool`) names and decides about.
//!
//! This is a crate of its own so that the domain never spawns processes: `cairn-core` says
//! whether a call may run, this crate runs it. Every outcome is a [`ToolOutput`], the text
//! the model receives; failures the model can act on (a missing file, a binary file, a
//! command that failed) are outputs marked as errors, not Rust errors.
//!
//! Invariant: what a tool returns is untrusted text, stored as is and neutralised by
//! whoever shows it.

mod boundary;
mod command;
mod read;
mod toolbox;

pub use boundary::{ResolvedPath, WorkspaceBoundary};
pub use command::{
    ALWAYS_HIDDEN_VARIABLES, CommandOutcome, CommandSpec, Exit, OUTPUT_HEAD_BYTES,
    OUTPUT_TAIL_BYTES, run_command,
};
pub use read::{LIST_DIR_MAX_ENTRIES, list_dir, read_file};
pub use toolbox::Toolbox;

/// What a tool call returns to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolOutput {
    pub text: String,
    /// The call failed (bad path, binary file, non-zero exit, timeout): dialects that can
    /// mark a result as an error do so.
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            is_error: false,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            is_error: true,
        }
    }
}
