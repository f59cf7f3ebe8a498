//! The tools the model may call, as the domain sees them: their names, declarations and
//! arguments, and whether a command is covered by `allow`/`deny` rules and session grants.
//!
//! Running them (the filesystem, processes) is `cairn-tools`' job; what is decided here is
//! pure, so both front ends share it and it is tested without a shell.

mod call;
mod command;
mod policy;

pub use call::{
    LIST_DIR, READ_FILE, READ_FILE_MAX_BYTES, READ_FILE_MAX_LINES, RUN_COMMAND, ToolDeclaration,
    ToolRequest, declarations,
};
pub use command::{CommandPrefix, Refusal, SimpleCommands};
pub use policy::{Decision, Place, ToolPolicy, describe_decision, not_run_result};
