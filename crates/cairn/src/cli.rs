//! The command line, declared with clap. Parsing only: what each command does lives in its
//! own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    about = "A terminal AI chat that picks up where you left off in each workspace.",
    long_about = "A terminal AI chat that picks up where you left off in each workspace.\n\n\
                  Run `cairn` in a project folder: if you talked there within the last hour \
                  (session_continue_minutes), that conversation is back on screen. /new starts \
                  a fresh one."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub provider: ProviderArgs,

    #[command(flatten)]
    pub start: StartArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options that apply to every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// The provider and model asked for: filled from [`ProviderArgs`] by the commands that talk
    /// to a model (the chat and `run`), so the others do not offer the options.
    #[arg(skip)]
    pub provider: Option<String>,
    #[arg(skip)]
    pub model: Option<String>,

    /// Configuration file (default: $CAIRN_CONFIG, else ~/.config/cairn/config.toml)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Which model to talk to: offered by the chat and `run` only.
#[derive(Debug, Args, Clone, Default)]
pub struct ProviderArgs {
    /// Model provider: openai, anthropic, ollama or echo (overrides the config and CAIRN_PROVIDER)
    #[arg(long, env = "CAIRN_PROVIDER", value_name = "KIND")]
    pub provider: Option<String>,

    /// Model name (overrides the config and CAIRN_MODEL; a model picked with /model for a
    /// session wins when that session is continued)
    #[arg(long, env = "CAIRN_MODEL", value_name = "NAME")]
    pub model: Option<String>,
}

/// Which session to open. At most one of these.
#[derive(Debug, Args, Clone, Default)]
#[group(multiple = false)]
pub struct StartArgs {
    /// Start a fresh session instead of resuming
    #[arg(long)]
    pub new: bool,

    /// Continue this workspace's most recent session, however old
    #[arg(short = 'C', long = "continue")]
    pub continue_latest: bool,

    /// Open a session by id or unique id prefix (at least 4 characters), from any folder
    #[arg(short = 's', long = "session", value_name = "ID")]
    pub session: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one prompt and stream the answer to standard output, without the TUI
    Run(RunArgs),
    /// List, show, export and manage sessions
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Where Cairn's files are, and checking the configuration file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy sessions between the local database and a shared store
    #[command(subcommand)]
    Store(StoreCommand),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The prompt. Standard input, when it is not a terminal, is appended after it.
    #[arg(value_name = "PROMPT")]
    pub prompt: Vec<String>,

    /// Continue this workspace's most recent session instead of starting a new one
    #[arg(short = 'C', long = "continue", conflicts_with = "session")]
    pub continue_latest: bool,

    /// Continue the given session (id or unique prefix)
    #[arg(short = 's', long = "session", value_name = "ID")]
    pub session: Option<String>,

    /// Ask from an earlier point of the session: the prompt follows this event (id or unique
    /// prefix, see `cairn sessions show ID --tree`) on a new branch, which becomes the active one
    #[arg(long, value_name = "EVENT", requires = "session")]
    pub at: Option<String>,

    /// Print one JSON object per line (session, deltas, final message) instead of text
    #[arg(long)]
    pub json: bool,

    /// When another Cairn is answering in the session, wait this many seconds for its turn
    /// to end before giving up
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub wait: u64,

    /// Let the model run commands starting with PREFIX (e.g. "git status"), as the config's
    /// [tools] allow does; repeatable. A command runs only if every part of it is allowed;
    /// any other command is denied
    #[arg(long = "allow", value_name = "PREFIX")]
    pub allow: Vec<String>,

    #[command(flatten)]
    pub provider: ProviderArgs,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// This workspace's sessions, newest first
    List(ListArgs),
    /// Find sessions by what was said in them, best match first
    Search(SearchArgs),
    /// Print a conversation
    Show {
        /// Session id or unique id prefix
        id: String,
        /// Print the session and its events as JSON
        #[arg(long)]
        json: bool,
        /// Print every branch as a tree (`*` marks the active branch); with --json, every
        /// event of every branch
        #[arg(long)]
        tree: bool,
    },
    /// Make the branch through EVENT the active one (its newest message becomes the head)
    Switch {
        id: String,
        /// An event id or unique prefix, as `cairn sessions show ID --tree` prints them
        event: String,
    },
    /// Start a new session from a copy of a branch; prints the new session's id
    Fork {
        id: String,
        /// Copy the branch up to this event (default: the active branch, up to its head)
        #[arg(long, value_name = "EVENT")]
        at: Option<String>,
        /// The new session's title (default: the original's)
        #[arg(long, value_name = "TITLE")]
        title: Option<String>,
    },
    /// Export a conversation as Markdown or JSON
    Export {
        /// Session id or unique id prefix
        id: String,
        /// Markdown for people, JSON (the session and its events) for programs
        #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
        format: ExportFormat,
        /// Write to this new file (private to you) instead of standard output; given a
        /// folder, write cairn-<short id>.md (or .json) inside it
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the file if it already exists
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Set a session's title
    Rename {
        /// Session id or unique id prefix
        id: String,
        /// The new title
        title: String,
    },
    /// Archive a session (it is no longer resumed automatically)
    Archive {
        /// Session id or unique id prefix
        id: String,
    },
    /// Bring an archived session back
    Unarchive {
        /// Session id or unique id prefix
        id: String,
    },
    /// Session ids (twelve digits or more) and titles, one `ID<TAB>TITLE` line each, newest
    /// first, for shell completion
    #[command(hide = true)]
    Ids {
        /// Include archived sessions
        #[arg(long)]
        archived: bool,
    },
    /// Delete a session and all its messages
    Delete {
        /// Session id or unique id prefix
        id: String,
        /// Do not ask for confirmation
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Sessions of every workspace
    #[arg(long)]
    pub all: bool,
    /// Include archived sessions
    #[arg(long)]
    pub archived: bool,
    /// At most this many sessions
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Print a JSON array with one object per session: id, title, directory, git_root,
    /// created_at_ms, updated_at_ms, archived, message_count, preview
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words that must all have been said (any order), "an exact phrase", or a prefix*
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub words: Vec<String>,
    /// Search every workspace, not only this one
    #[arg(long)]
    pub all: bool,
    /// Include archived sessions
    #[arg(long)]
    pub archived: bool,
    /// At most this many sessions
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// A JSON array, best first: id, title, workspace, directory, score and each passage's
    /// event id, text and highlighted byte ranges
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every session of the local database to another store (--to), or of another
    /// store into the local database (--from). Ids are kept; sessions the target has are
    /// skipped, so running it again copies nothing twice and completes an interrupted copy
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct CopyArgs {
    /// The store to copy to: postgres://user@host:5432/db or the path of a SQLite file
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// The store to copy from into the local database
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show where the configuration, database and logs are
    Path,
    /// Validate the configuration file (exit code 1 with the key and line of the error)
    Check,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn start_flags_are_mutually_exclusive() {
        let err = Cli::try_parse_from(["cairn", "--new", "--continue"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = Cli::try_parse_from(["cairn", "-s", "abcd", "--new"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
