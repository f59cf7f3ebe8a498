//! Slash commands: the table shown in the completion popup and in `/help`, and parsing.
//!
//! A line starting with `/` is a command; `//` escapes it, so `//etc/hosts` sends the
//! message `/etc/hosts`. Parsing is pure; what a command does is the state machine's job.
//! A `!` right after a command's name asks it to go ahead where it would otherwise stop to
//! ask: `/export! notes.md` replaces an existing file.

/// One command as the popup and help list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Argument hint, empty when the command takes none.
    pub args: &'static str,
    pub about: &'static str,
}

/// `/exit` is left out: it is `/quit`'s other name, which `/quit` mentions.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "new",
        args: "[--summary]",
        about: "archive, start anew; --summary carries it on",
    },
    CommandSpec {
        name: "sessions",
        args: "",
        about: "pick a session to switch to",
    },
    CommandSpec {
        name: "search",
        args: "<words>",
        about: "find sessions by what was said",
    },
    CommandSpec {
        name: "retry",
        args: "",
        about: "regenerate the last answer",
    },
    CommandSpec {
        name: "model",
        args: "[name]",
        about: "pick a model, or switch to the one named",
    },
    CommandSpec {
        name: "rename",
        args: "<title>",
        about: "rename this session",
    },
    CommandSpec {
        name: "export",
        args: "[path]",
        about: "save as Markdown; /export! overwrites",
    },
    CommandSpec {
        name: "copy",
        args: "[code [N]]",
        about: "copy the last answer, or its last (Nth) code block",
    },
    CommandSpec {
        name: "help",
        args: "",
        about: "keys and commands",
    },
    CommandSpec {
        name: "quit",
        args: "",
        about: "leave Cairn (also /exit)",
    },
    CommandSpec {
        name: "rewind",
        args: "",
        about: "edit an earlier message (also Esc twice)",
    },
    CommandSpec {
        name: "tree",
        args: "",
        about: "every branch of this session; switch or fork",
    },
    CommandSpec {
        name: "fork",
        args: "",
        about: "copy this branch into a new session",
    },
    CommandSpec {
        name: "compact",
        args: "[focus]",
        about: "summarise for the model; nothing is lost",
    },
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `summary`: `/new --summary`, the new session starts from a summary of this one.
    New {
        summary: bool,
    },
    Help,
    Quit,
    Sessions,
    /// The sessions picker, searching what was said for the words.
    Search(String),
    Rename(String),
    /// Save the conversation to `path` (a file or a folder; `None`: a file named after the
    /// session in the session's folder). `replace`: `/export!`, an existing file may go.
    Export {
        path: Option<String>,
        replace: bool,
    },
    Copy(CopyTarget),
    Model(Option<String>),
    Retry,
    Rewind,
    Tree,
    Fork,
    /// Summarise the conversation so far, with the user's instructions for the summary.
    Compact(Option<String>),
}

/// What `/copy` puts on the clipboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyTarget {
    /// The whole last answer.
    Answer,
    /// A code block of the last answer: the Nth (from 1), or the last one.
    Code(Option<usize>),
}

/// What a submitted line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submission {
    Message(String),
    Command(Command),
    /// A command that cannot run as typed; the text says why.
    Invalid(String),
}

pub fn parse(input: &str) -> Submission {
    let trimmed = input.trim();
    if let Some(literal) = trimmed.strip_prefix("//") {
        return Submission::Message(format!("/{literal}"));
    }
    let Some(rest) = trimmed.strip_prefix('/') else {
        return Submission::Message(input.trim_end().to_owned());
    };
    let (name, argument) = match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    };
    let argument = (!argument.is_empty()).then(|| argument.to_owned());
    let name = name.to_ascii_lowercase();
    let command = match name.as_str() {
        "new" => match argument.as_deref() {
            None => Command::New { summary: false },
            Some("--summary") => Command::New { summary: true },
            Some(_) => return Submission::Invalid("usage: /new [--summary]".to_owned()),
        },
        "help" => Command::Help,
        "quit" | "exit" => Command::Quit,
        "sessions" => Command::Sessions,
        "search" => match argument {
            Some(words) => Command::Search(words),
            None => return Submission::Invalid("usage: /search <words>".to_owned()),
        },
        "rename" => match argument {
            Some(title) => Command::Rename(title),
            None => return Submission::Invalid("usage: /rename <title>".to_owned()),
        },
        "export" => Command::Export {
            path: argument,
            replace: false,
        },
        "export!" => Command::Export {
            path: argument,
            replace: true,
        },
        "copy" => match parse_copy(argument.as_deref()) {
            Some(target) => Command::Copy(target),
            None => return Submission::Invalid("usage: /copy [code [N]]".to_owned()),
        },
        "model" => Command::Model(argument),
        "retry" => Command::Retry,
        "rewind" => Command::Rewind,
        "tree" => Command::Tree,
        "fork" => Command::Fork,
        "compact" => Command::Compact(argument),
        other => {
            return Submission::Invalid(format!(
                "unknown command /{other} - type /help for the list (start with // to send a message beginning with /)"
            ));
        }
    };
    Submission::Command(command)
}

fn parse_copy(argument: Option<&str>) -> Option<CopyTarget> {
    let Some(argument) = argument else {
        return Some(CopyTarget::Answer);
    };
    let mut words = argument.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("code") {
        return None;
    }
    let target = match words.next() {
        None => CopyTarget::Code(None),
        Some(number) => CopyTarget::Code(Some(number.parse().ok().filter(|n| *n > 0)?)),
    };
    words.next().is_none().then_some(target)
}

/// The commands the popup offers for `input`: only while the first word is being typed.
pub fn completions(input: &str) -> Vec<&'static CommandSpec> {
    let Some(prefix) = input.strip_prefix('/') else {
        return Vec::new();
    };
    if prefix.starts_with('/') || prefix.contains(char::is_whitespace) {
        return Vec::new();
    }
    let prefix = prefix.to_ascii_lowercase();
    COMMANDS
        .iter()
        .filter(|spec| spec.name.starts_with(&prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn commands_parse_with_arguments() {
        assert_eq!(
            parse("/new"),
            Submission::Command(Command::New { summary: false })
        );
        assert_eq!(
            parse("/new --summary"),
            Submission::Command(Command::New { summary: true })
        );
        assert_eq!(
            parse("/new later"),
            Submission::Invalid("usage: /new [--summary]".to_owned())
        );
        assert_eq!(parse("/exit"), Submission::Command(Command::Quit));
        assert_eq!(parse("/QUIT"), Submission::Command(Command::Quit));
        assert_eq!(parse("/Exit"), Submission::Command(Command::Quit));
        assert_eq!(
            parse("/rename  my title "),
            Submission::Command(Command::Rename("my title".into()))
        );
        assert_eq!(parse("/model"), Submission::Command(Command::Model(None)));
        assert_eq!(
            parse("/export out.md"),
            Submission::Command(Command::Export {
                path: Some("out.md".into()),
                replace: false
            })
        );
        assert_eq!(
            parse("/export! out.md"),
            Submission::Command(Command::Export {
                path: Some("out.md".into()),
                replace: true
            })
        );
    }

    #[test]
    fn export_bang_replaces_with_or_without_a_path() {
        assert_eq!(
            [parse("/export!"), parse("/EXPORT! ~/chat.md")],
            [
                Submission::Command(Command::Export {
                    path: None,
                    replace: true
                }),
                Submission::Command(Command::Export {
                    path: Some("~/chat.md".into()),
                    replace: true
                }),
            ]
        );
    }

    #[test]
    fn copy_takes_the_answer_or_a_code_block() {
        assert_eq!(
            [
                parse("/copy"),
                parse("/copy code"),
                parse("/copy CODE 2"),
                parse("/copy code 0"),
                parse("/copy lines"),
            ],
            [
                Submission::Command(Command::Copy(CopyTarget::Answer)),
                Submission::Command(Command::Copy(CopyTarget::Code(None))),
                Submission::Command(Command::Copy(CopyTarget::Code(Some(2)))),
                Submission::Invalid("usage: /copy [code [N]]".into()),
                Submission::Invalid("usage: /copy [code [N]]".into()),
            ]
        );
    }

    #[test]
    fn double_slash_sends_a_literal_slash() {
        assert_eq!(
            parse("//etc/hosts"),
            Submission::Message("/etc/hosts".into())
        );
    }

    #[test]
    fn unknown_commands_and_missing_arguments_say_so() {
        assert!(
            matches!(parse("/frobnicate"), Submission::Invalid(text) if text.contains("unknown command /frobnicate"))
        );
        assert_eq!(
            parse("/rename"),
            Submission::Invalid("usage: /rename <title>".into())
        );
    }

    #[test]
    fn completions_follow_the_prefix() {
        let names: Vec<&str> = completions("/re").iter().map(|spec| spec.name).collect();
        assert_eq!(names, vec!["retry", "rename", "rewind"]);
        assert_eq!(completions("/RE").len(), 3);
        assert_eq!(parse("/tree"), Submission::Command(Command::Tree));
        assert_eq!(parse("/fork"), Submission::Command(Command::Fork));
        assert_eq!(parse("/Rewind"), Submission::Command(Command::Rewind));
        assert!(completions("/new ").is_empty());
        assert!(completions("hello").is_empty());
        assert_eq!(completions("/").len(), COMMANDS.len());
    }
}
