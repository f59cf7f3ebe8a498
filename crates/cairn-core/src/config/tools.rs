//! The `[tools]` table: whether the model may call tools, which commands run without asking
//! (`allow`) or never run (`deny`, which wins), how long a command may run and how many
//! rounds of calls one turn may make.
//!
//! Invariant: every `allow`/`deny` entry is one plain command prefix (`git status`), checked
//! when the file is read, so a rule that could never match safely (`git; rm`, `$X`) is an
//! error at its line rather than a rule silently ignored.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, MAX_TIMEOUT_SECS};
use crate::tool::CommandPrefix;

/// What `command_timeout_secs` is when unset.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 120;
/// What `max_steps` is when unset: rounds of tool calls in one turn.
pub const DEFAULT_MAX_STEPS: u32 = 25;
/// Beyond this a turn is a runaway loop, not work.
const MAX_STEPS_LIMIT: u32 = 1_000;

/// The `[tools]` table as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ToolsConfig {
    /// Declare the tools to the model (default true).
    pub enabled: Option<bool>,
    /// Command prefixes that run without asking.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Command prefixes that never run; they win over `allow` and session grants.
    #[serde(default)]
    pub deny: Vec<String>,
    pub command_timeout_secs: Option<u64>,
    pub max_steps: Option<u32>,
}

impl ToolsConfig {
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs(
            self.command_timeout_secs
                .unwrap_or(DEFAULT_COMMAND_TIMEOUT_SECS),
        )
    }

    pub fn max_steps(&self) -> u32 {
        self.max_steps.unwrap_or(DEFAULT_MAX_STEPS)
    }

    /// The `allow` rules, parsed (they were checked when the file was read).
    pub fn allow_prefixes(&self) -> Vec<CommandPrefix> {
        parse_all(&self.allow)
    }

    /// The `deny` rules, parsed.
    pub fn deny_prefixes(&self) -> Vec<CommandPrefix> {
        parse_all(&self.deny)
    }
}

fn parse_all(rules: &[String]) -> Vec<CommandPrefix> {
    rules
        .iter()
        .filter_map(|rule| CommandPrefix::parse(rule).ok())
        .collect()
}

/// Checks the file's `[tools]` table; `invalid(key, message)` makes the error at the key.
pub(super) fn validate(
    tools: &ToolsConfig,
    invalid: &dyn Fn(&str, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    for (key, rules) in [("tools.allow", &tools.allow), ("tools.deny", &tools.deny)] {
        for rule in rules {
            if let Err(refusal) = CommandPrefix::parse(rule) {
                return Err(invalid(key, &format!("{rule:?} {refusal}")));
            }
        }
    }
    if tools
        .command_timeout_secs
        .is_some_and(|secs| !(1..=MAX_TIMEOUT_SECS).contains(&secs))
    {
        return Err(invalid(
            "tools.command_timeout_secs",
            &format!("must be from 1 to {MAX_TIMEOUT_SECS} seconds (a day)"),
        ));
    }
    if tools
        .max_steps
        .is_some_and(|steps| !(1..=MAX_STEPS_LIMIT).contains(&steps))
    {
        return Err(invalid(
            "tools.max_steps",
            &format!("must be from 1 to {MAX_STEPS_LIMIT}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn parse(text: &str) -> Result<super::super::ConfigFile, ConfigError> {
        super::super::parse_file(text, std::path::Path::new("config.toml")).map(|(file, _)| file)
    }

    #[test]
    fn the_table_parses_with_defaults() {
        let file = parse(
            "[tools]\nallow = [\"git status\", \"cargo test\"]\ndeny = [\"git push\"]\n\
             command_timeout_secs = 30\n",
        )
        .unwrap();
        let tools = file.tools.unwrap();
        assert!(tools.enabled());
        assert_eq!(tools.command_timeout(), Duration::from_secs(30));
        assert_eq!(tools.max_steps(), DEFAULT_MAX_STEPS);
        let shown: Vec<String> = tools
            .allow_prefixes()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["git status", "cargo test"]);
        assert_eq!(tools.deny_prefixes().len(), 1);
        let defaults = ToolsConfig::default();
        assert_eq!(defaults.command_timeout(), Duration::from_secs(120));
        assert!(defaults.enabled());
    }

    #[test]
    fn mistakes_name_the_key_and_line() {
        let err =
            parse("[tools]\nenabled = true\nallow = [\"git status; rm -rf ~\"]\n").unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(3), Some("tools.allow"))
        );
        assert!(err.message.contains("without ;"), "{err}");
        let err = parse("[tools]\ndeny = [\"$(id)\"]\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("tools.deny"));
        let err = parse("[tools]\nenabled = \"yes\"\n").unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(2), Some("tools.enabled"))
        );
        let (_, warnings) =
            super::super::parse_file("[tools]\nalow = []\n", std::path::Path::new("c.toml"))
                .unwrap();
        assert_eq!(
            (warnings[0].line, warnings[0].key.as_str()),
            (Some(2), "tools.alow")
        );
        let err = parse("[tools]\nmax_steps = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("tools.max_steps"));
        let err = parse("[tools]\ncommand_timeout_secs = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("tools.command_timeout_secs"));
    }
}
