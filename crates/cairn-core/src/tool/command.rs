//! Whether a shell command is covered by command prefixes (`allow`/`deny` rules, session
//! grants), without running a shell.
//!
//! Invariant: a command is covered only if **every** simple command in it starts with a
//! prefix. `;`, `&&`, `||`, `|`, `&` and newlines separate simple commands and are split on;
//! anything whose effect cannot be read from the text alone (command substitution,
//! backticks, `${…}`, redirections and here-docs, process substitution, subshells and
//! groups, comments, unbalanced quotes) makes the whole command [`Refusal`]: it is never
//! covered by a grant and always needs the user. Words are compared after quote removal, so
//! `'git' status` is `git status`, as the shell would run it; a word with an unquoted or
//! double-quoted `$` or a glob is never equal to a prefix word, so `$X status` is not
//! `git status` whatever `X` holds.

use std::fmt;

/// One word of a simple command after quote removal.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    text: String,
    /// Expands at run time (`$NAME`, an unquoted glob or `~`): its final text is unknown.
    dynamic: bool,
}

/// Why a command cannot be matched against prefixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shell words that start a compound command: a simple command beginning with one of them
/// is part of a construct, not a program with arguments, so no prefix covers it.
const RESERVED_WORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "select", "function", "time", "coproc", "in", "!", "[[", "]]",
];

/// A command split into its simple commands, each a list of words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommands(Vec<Vec<Word>>);

impl SimpleCommands {
    /// Splits `command` on `;`, `&&`, `||`, `|`, `&` and newlines, or says why it cannot.
    pub fn parse(command: &str) -> Result<Self, Refusal> {
        let mut commands = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let mut word: Option<Word> = None;
        let mut chars = command.chars().peekable();
        let refuse = |what: &str| Err(Refusal(what.to_owned()));
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' => words.extend(word.take()),
                '\n' | '\r' | ';' | '&' | '|' => {
                    words.extend(word.take());
                    if !words.is_empty() {
                        commands.push(std::mem::take(&mut words));
                    }
                }
                '\'' => {
                    let current = word.get_or_insert_with(Word::empty);
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => current.text.push(c),
                            None => return refuse("an unbalanced quote"),
                        }
                    }
                }
                '"' => {
                    let current = word.get_or_insert_with(Word::empty);
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(c @ ('"' | '\\' | '$' | '`')) => current.text.push(c),
                                Some('\n') => {}
                                Some(c) => {
                                    current.text.push('\\');
                                    current.text.push(c);
                                }
                                None => return refuse("an unbalanced quote"),
                            },
                            Some('`') => return refuse("a command substitution (`…`)"),
                            Some('$') => {
                                dollar(&mut chars)?;
                                current.text.push('$');
                                current.dynamic = true;
                            }
                            Some(c) => current.text.push(c),
                            None => return refuse("an unbalanced quote"),
                        }
                    }
                }
                '\\' => match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.get_or_insert_with(Word::empty).text.push(c),
                    None => return refuse("a trailing backslash"),
                },
                '`' => return refuse("a command substitution (`…`)"),
                '$' => {
                    dollar(&mut chars)?;
                    let current = word.get_or_insert_with(Word::empty);
                    current.text.push('$');
                    current.dynamic = true;
                }
                '<' | '>' => return refuse("a redirection"),
                '(' | ')' => return refuse("a subshell"),
                '{' | '}' => return refuse("a group or brace expansion"),
                '#' if word.is_none() => return refuse("a comment"),
                '*' | '?' | '[' | '~' => {
                    let current = word.get_or_insert_with(Word::empty);
                    current.text.push(c);
                    current.dynamic = true;
                }
                c => word.get_or_insert_with(Word::empty).text.push(c),
            }
        }
        words.extend(word.take());
        if !words.is_empty() {
            commands.push(words);
        }
        Ok(Self(commands))
    }

    /// Whether every simple command starts with one of `prefixes` (and there is at least
    /// one command).
    pub fn all_covered_by(&self, prefixes: &[CommandPrefix]) -> bool {
        !self.0.is_empty()
            && self
                .0
                .iter()
                .all(|words| prefixes.iter().any(|prefix| prefix.covers(words)))
    }

    /// The first prefix that covers any one simple command: for deny rules, where one
    /// forbidden part is enough.
    pub fn first_covered_by<'a>(&self, prefixes: &'a [CommandPrefix]) -> Option<&'a CommandPrefix> {
        prefixes
            .iter()
            .find(|prefix| self.0.iter().any(|words| prefix.covers(words)))
    }

    /// The words a grant offered for this command would cover: the program, and its
    /// subcommand for tools that have them (`git status`, `cargo test`), so that allowing
    /// `git status` does not allow `git push`. `None` when the command has several parts or
    /// starts with something that is not a plain program name.
    pub fn suggested_prefix(&self) -> Option<CommandPrefix> {
        let [words] = self.0.as_slice() else {
            return None;
        };
        let program = words.first().filter(|word| is_plain(word))?;
        if RESERVED_WORDS.contains(&program.text.as_str()) || program.text.contains('=') {
            return None;
        }
        let mut prefix = vec![program.text.clone()];
        if let Some(sub) = words.get(1)
            && SUBCOMMAND_TOOLS.contains(&program.text.as_str())
            && is_plain(sub)
            && sub
                .text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !sub.text.starts_with('-')
        {
            prefix.push(sub.text.clone());
        }
        Some(CommandPrefix(prefix))
    }
}

/// Programs whose first argument is a subcommand with its own reach.
const SUBCOMMAND_TOOLS: &[&str] = &[
    "git",
    "cargo",
    "npm",
    "pnpm",
    "yarn",
    "go",
    "docker",
    "podman",
    "kubectl",
    "make",
    "just",
    "uv",
    "pip",
    "poetry",
    "bundle",
    "rustup",
    "brew",
    "apt",
    "dnf",
    "systemctl",
    "gh",
];

fn is_plain(word: &Word) -> bool {
    !word.dynamic && !word.text.is_empty()
}

/// Handles what follows an unquoted or double-quoted `$`: a plain parameter is fine (its
/// value is one word's text, never new commands), anything that runs code or has operators
/// is refused.
fn dollar(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<(), Refusal> {
    match chars.peek() {
        Some('(') => Err(Refusal("a command substitution ($(…))".to_owned())),
        Some('{') => Err(Refusal("a parameter expansion (${…})".to_owned())),
        Some('[') => Err(Refusal("an arithmetic expansion ($[…])".to_owned())),
        Some('\'') => Err(Refusal("an ANSI-C quoted string ($'…')".to_owned())),
        _ => Ok(()),
    }
}

impl Word {
    fn empty() -> Self {
        Self {
            text: String::new(),
            dynamic: false,
        }
    }
}

/// A rule or a grant: the leading words a command must have, as the shell would see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandPrefix(Vec<String>);

impl CommandPrefix {
    /// Parses a rule (`git status`); it must be one plain simple command: no separators,
    /// quotes that change nothing aside, nothing that expands.
    pub fn parse(rule: &str) -> Result<Self, Refusal> {
        let commands = SimpleCommands::parse(rule)?;
        let [words] = commands.0.as_slice() else {
            return Err(Refusal(
                "must be the start of one command, without ;, &&, ||, | or &".to_owned(),
            ));
        };
        if words.iter().any(|word| !is_plain(word)) {
            return Err(Refusal(
                "must be plain words, without $, globs or ~".to_owned(),
            ));
        }
        if words
            .first()
            .is_some_and(|word| RESERVED_WORDS.contains(&word.text.as_str()))
        {
            return Err(Refusal(
                "must start with a program, not a shell keyword".to_owned(),
            ));
        }
        Ok(Self(words.iter().map(|word| word.text.clone()).collect()))
    }

    /// The words, for display: `git status`.
    pub fn words(&self) -> &[String] {
        &self.0
    }

    fn covers(&self, words: &[Word]) -> bool {
        let reserved = words
            .first()
            .is_none_or(|word| RESERVED_WORDS.contains(&word.text.as_str()));
        !reserved
            && words.len() >= self.0.len()
            && self
                .0
                .iter()
                .zip(words)
                .all(|(expected, word)| is_plain(word) && word.text == *expected)
    }
}

impl fmt::Display for CommandPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests;
