//! The three tools by name, their JSON-schema declarations, and a call's arguments parsed
//! into a [`ToolRequest`].
//!
//! Names and argument names are fixed (`list_dir {path}`, `read_file {path, offset?,
//! limit?}`, `run_command {command}`): prompts, tests and stored sessions rely on them.

use serde::{Deserialize, Serialize};

/// A tool as declared to the model: its name, what it does and its arguments' JSON schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDeclaration {
    pub name: String,
    pub description: String,
    /// A JSON schema of type `object`.
    pub parameters: serde_json::Value,
}

pub const LIST_DIR: &str = "list_dir";
pub const READ_FILE: &str = "read_file";
pub const RUN_COMMAND: &str = "run_command";

/// The most lines `read_file` returns in one call, and its default `limit`.
pub const READ_FILE_MAX_LINES: u64 = 2_000;
/// The most bytes of text `read_file` returns in one call.
pub const READ_FILE_MAX_BYTES: usize = 256 * 1024;

/// The declarations of the three tools, in a stable order.
pub fn declarations() -> Vec<ToolDeclaration> {
    vec![
        ToolDeclaration {
            name: LIST_DIR.to_owned(),
            description: "List the entries of a directory (folders end with /). Paths are \
                          relative to the workspace folder."
                .to_owned(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The directory, e.g. \".\" or \"src\"."}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
        },
        ToolDeclaration {
            name: READ_FILE.to_owned(),
            description: format!(
                "Read a text file, with line numbers. Returns at most {READ_FILE_MAX_LINES} \
                 lines and {} KB per call; use offset to read further.",
                READ_FILE_MAX_BYTES / 1024
            ),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The file, relative to the workspace folder."},
                    "offset": {"type": "integer", "minimum": 1, "description": "The first line to return (1-based, default 1)."},
                    "limit": {"type": "integer", "minimum": 1, "description": "How many lines to return at most (default and maximum 2000)."}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
        },
        ToolDeclaration {
            name: RUN_COMMAND.to_owned(),
            description: "Run a shell command in the workspace folder, after the user \
                          approves it. Returns the combined standard output and error, the \
                          exit code and the duration."
                .to_owned(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The command line, run with the user's shell."}
                },
                "required": ["command"],
                "additionalProperties": false
            }),
        },
    ]
}

/// A call the model made, with its arguments checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolRequest {
    ListDir {
        path: String,
    },
    ReadFile {
        path: String,
        /// 1-based first line.
        offset: u64,
        limit: u64,
    },
    RunCommand {
        command: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathArguments {
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadFileArguments {
    path: String,
    offset: Option<u64>,
    limit: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCommandArguments {
    command: String,
}

impl ToolRequest {
    /// Parses a call's name and JSON arguments. The error is the text the model receives
    /// as the call's result, so it can correct itself.
    pub fn parse(name: &str, arguments: &str) -> Result<Self, String> {
        // Some models send "" for a call without arguments.
        let arguments = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let invalid = |err: serde_json::Error| format!("invalid arguments for {name}: {err}");
        match name {
            LIST_DIR => {
                let args: PathArguments = serde_json::from_str(arguments).map_err(invalid)?;
                Ok(Self::ListDir { path: args.path })
            }
            READ_FILE => {
                let args: ReadFileArguments = serde_json::from_str(arguments).map_err(invalid)?;
                Ok(Self::ReadFile {
                    path: args.path,
                    offset: args.offset.unwrap_or(1).max(1),
                    limit: args
                        .limit
                        .unwrap_or(READ_FILE_MAX_LINES)
                        .clamp(1, READ_FILE_MAX_LINES),
                })
            }
            RUN_COMMAND => {
                let args: RunCommandArguments = serde_json::from_str(arguments).map_err(invalid)?;
                if args.command.trim().is_empty() {
                    return Err("invalid arguments for run_command: the command is empty".into());
                }
                Ok(Self::RunCommand {
                    command: args.command,
                })
            }
            other => Err(format!(
                "there is no tool named {other:?}; the tools are {LIST_DIR}, {READ_FILE} and {RUN_COMMAND}"
            )),
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ListDir { .. } => LIST_DIR,
            Self::ReadFile { .. } => READ_FILE,
            Self::RunCommand { .. } => RUN_COMMAND,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn calls_parse_with_defaults_and_bounds() {
        assert_eq!(
            ToolRequest::parse(READ_FILE, r#"{"path":"src/a.rs"}"#),
            Ok(ToolRequest::ReadFile {
                path: "src/a.rs".into(),
                offset: 1,
                limit: READ_FILE_MAX_LINES
            })
        );
        assert_eq!(
            ToolRequest::parse(READ_FILE, r#"{"path":"a","offset":0,"limit":99999}"#),
            Ok(ToolRequest::ReadFile {
                path: "a".into(),
                offset: 1,
                limit: READ_FILE_MAX_LINES
            })
        );
        assert_eq!(
            ToolRequest::parse(RUN_COMMAND, r#"{"command":"git status"}"#),
            Ok(ToolRequest::RunCommand {
                command: "git status".into()
            })
        );
        assert_eq!(
            ToolRequest::parse(LIST_DIR, r#"{"path":"."}"#).map(|r| r.name()),
            Ok(LIST_DIR)
        );
    }

    #[test]
    fn bad_calls_explain_themselves_to_the_model() {
        let err = ToolRequest::parse(LIST_DIR, "").unwrap_err();
        assert!(err.contains("missing field `path`"), "{err}");
        let err = ToolRequest::parse(RUN_COMMAND, r#"{"command":"  "}"#).unwrap_err();
        assert!(err.contains("empty"), "{err}");
        let err = ToolRequest::parse("shell", "{}").unwrap_err();
        assert!(err.contains("list_dir, read_file and run_command"), "{err}");
        let err = ToolRequest::parse(RUN_COMMAND, r#"{"command":"ls","cwd":"/"}"#).unwrap_err();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn the_declarations_name_the_three_tools() {
        let names: Vec<String> = declarations().into_iter().map(|d| d.name).collect();
        assert_eq!(names, [LIST_DIR, READ_FILE, RUN_COMMAND]);
    }
}
