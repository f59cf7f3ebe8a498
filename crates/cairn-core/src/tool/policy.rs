//! Deciding about a call before it runs: reads inside the workspace run, commands run only
//! when a rule or a grant covers every part of them, and everything else asks the user (in
//! the chat) or is denied (where no one can be asked, `cairn run`).
//!
//! Invariant: `deny` rules win over `allow` rules and grants, and a command that cannot be
//! read safely ([`SimpleCommands::parse`] refuses it) is never allowed by a rule or grant.

use crate::event::ToolVerdict;
use crate::tool::{CommandPrefix, SimpleCommands, ToolRequest};

/// Where a path a read tool names is, once resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    InsideWorkspace,
    OutsideWorkspace,
    /// It does not exist (or cannot be resolved): running the tool only says so.
    Missing,
}

/// The rules and grants in force for one run of Cairn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolPolicy {
    pub allow: Vec<CommandPrefix>,
    pub deny: Vec<CommandPrefix>,
    /// Prefixes the user allowed for this run of Cairn; never stored, so a resumed session
    /// asks again.
    pub grants: Vec<CommandPrefix>,
    /// Someone can be asked (the chat); when false (`cairn run`) what would ask is denied.
    pub can_ask: bool,
}

/// What to do with a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Decided {
        verdict: ToolVerdict,
        rule: Option<String>,
        reason: Option<String>,
    },
    /// Ask the user, offering to allow commands starting with `grant` for the session.
    Ask { grant: Option<CommandPrefix> },
}

impl ToolPolicy {
    /// Decides about `request`; `place` is where a read tool's path resolved to.
    pub fn decide(&self, request: &ToolRequest, place: Place) -> Decision {
        match request {
            ToolRequest::ListDir { .. } | ToolRequest::ReadFile { .. } => match place {
                Place::InsideWorkspace | Place::Missing => decided(ToolVerdict::Automatic, None),
                Place::OutsideWorkspace if self.can_ask => Decision::Ask { grant: None },
                Place::OutsideWorkspace => denied(
                    None,
                    "the path is outside the workspace, and reading outside it needs the \
                     user's approval, which cairn run cannot ask for",
                ),
            },
            ToolRequest::RunCommand { command } => self.decide_command(command),
        }
    }

    fn decide_command(&self, command: &str) -> Decision {
        let commands = match SimpleCommands::parse(command) {
            Ok(commands) => commands,
            Err(_) if self.can_ask => return Decision::Ask { grant: None },
            Err(refusal) => {
                return denied(
                    None,
                    &format!(
                        "the command has {refusal}, which no rule can allow; cairn run only \
                         runs commands an allow rule covers"
                    ),
                );
            }
        };
        if let Some(rule) = commands.first_covered_by(&self.deny) {
            return denied(Some(rule.to_string()), "a deny rule forbids it");
        }
        if commands.all_covered_by(&self.allow) {
            return decided(ToolVerdict::AllowedByRule, covering(&commands, &self.allow));
        }
        if commands.all_covered_by(&self.grants) {
            return decided(
                ToolVerdict::AllowedByGrant,
                covering(&commands, &self.grants),
            );
        }
        if self.can_ask {
            Decision::Ask {
                grant: commands.suggested_prefix(),
            }
        } else {
            denied(
                None,
                "commands need approval, and cairn run allows only what --allow or the \
                 config's [tools] allow covers",
            )
        }
    }
}

/// The prefixes that cover parts of `commands`, joined: what the decision event names.
fn covering(commands: &SimpleCommands, prefixes: &[CommandPrefix]) -> Option<String> {
    let used: Vec<String> = prefixes
        .iter()
        .filter(|prefix| {
            commands
                .first_covered_by(std::slice::from_ref(prefix))
                .is_some()
        })
        .map(ToString::to_string)
        .collect();
    (!used.is_empty()).then(|| used.join(", "))
}

fn decided(verdict: ToolVerdict, rule: Option<String>) -> Decision {
    Decision::Decided {
        verdict,
        rule,
        reason: None,
    }
}

fn denied(rule: Option<String>, reason: &str) -> Decision {
    Decision::Decided {
        verdict: ToolVerdict::Denied,
        rule,
        reason: Some(reason.to_owned()),
    }
}

/// The result the model receives for a call that did not run.
pub fn not_run_result(verdict: ToolVerdict, rule: Option<&str>, reason: Option<&str>) -> String {
    let reason = reason
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    match (verdict, rule) {
        (ToolVerdict::Interrupted, _) => {
            "Not run: the session was interrupted before this call ran. It will not be run \
             again; ask the user if it is still needed."
                .to_owned()
        }
        (_, Some(rule)) => format!("Not run: denied by the rule `{rule}`{reason}"),
        (_, None) => format!("Not run: denied{reason}"),
    }
}

/// One line for people: `allowed by rule git status`, `denied: not now`.
pub fn describe_decision(verdict: ToolVerdict, rule: Option<&str>, reason: Option<&str>) -> String {
    let mut text = verdict.describe().to_owned();
    if let Some(rule) = rule {
        text.push_str(&format!(" `{rule}`"));
    }
    if let Some(reason) = reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn policy(allow: &[&str], deny: &[&str], grants: &[&str], can_ask: bool) -> ToolPolicy {
        let parse = |rules: &[&str]| {
            rules
                .iter()
                .map(|rule| CommandPrefix::parse(rule).unwrap())
                .collect()
        };
        ToolPolicy {
            allow: parse(allow),
            deny: parse(deny),
            grants: parse(grants),
            can_ask,
        }
    }

    fn command(text: &str) -> ToolRequest {
        ToolRequest::RunCommand {
            command: text.to_owned(),
        }
    }

    fn verdict(decision: &Decision) -> Option<ToolVerdict> {
        match decision {
            Decision::Decided { verdict, .. } => Some(*verdict),
            Decision::Ask { .. } => None,
        }
    }

    #[test]
    fn reads_inside_run_and_outside_ask_or_are_denied() {
        let read = ToolRequest::ListDir { path: ".".into() };
        let chat = policy(&[], &[], &[], true);
        let run = policy(&[], &[], &[], false);
        assert_eq!(
            verdict(&chat.decide(&read, Place::InsideWorkspace)),
            Some(ToolVerdict::Automatic)
        );
        assert_eq!(
            chat.decide(&read, Place::OutsideWorkspace),
            Decision::Ask { grant: None }
        );
        assert_eq!(
            verdict(&run.decide(&read, Place::OutsideWorkspace)),
            Some(ToolVerdict::Denied)
        );
    }

    #[test]
    fn deny_wins_then_allow_then_grants_then_asking() {
        let chat = policy(&["git status", "cargo"], &["git push", "rm"], &["ls"], true);
        let decide = |text: &str| chat.decide(&command(text), Place::Missing);
        assert_eq!(
            decide("git status && rm -rf ~"),
            Decision::Decided {
                verdict: ToolVerdict::Denied,
                rule: Some("rm".into()),
                reason: Some("a deny rule forbids it".into()),
            }
        );
        assert_eq!(
            decide("git status | cargo fmt"),
            Decision::Decided {
                verdict: ToolVerdict::AllowedByRule,
                rule: Some("git status, cargo".into()),
                reason: None,
            }
        );
        assert_eq!(
            verdict(&decide("ls -la")),
            Some(ToolVerdict::AllowedByGrant)
        );
        assert_eq!(
            decide("git log -1"),
            Decision::Ask {
                grant: Some(CommandPrefix::parse("git log").unwrap())
            }
        );
        assert_eq!(
            decide("git status; ls; whoami"),
            Decision::Ask { grant: None }
        );
        assert_eq!(decide("git status $(id)"), Decision::Ask { grant: None });
        assert_eq!(decide("ls > ~/.bashrc"), Decision::Ask { grant: None });
    }

    #[test]
    fn without_anyone_to_ask_everything_uncovered_is_denied() {
        let run = policy(&["git status"], &[], &[], false);
        let decide = |text: &str| run.decide(&command(text), Place::Missing);
        assert_eq!(
            verdict(&decide("git status")),
            Some(ToolVerdict::AllowedByRule)
        );
        for hostile in [
            "git status; rm -rf ~",
            "git status `id`",
            "git status > x",
            "env",
        ] {
            assert_eq!(
                verdict(&decide(hostile)),
                Some(ToolVerdict::Denied),
                "{hostile}"
            );
        }
    }

    #[test]
    fn results_and_descriptions_say_why() {
        assert_eq!(
            not_run_result(
                ToolVerdict::Denied,
                Some("rm"),
                Some("a deny rule forbids it")
            ),
            "Not run: denied by the rule `rm`: a deny rule forbids it"
        );
        assert_eq!(
            not_run_result(ToolVerdict::Denied, None, Some("use cargo check")),
            "Not run: denied: use cargo check"
        );
        assert!(not_run_result(ToolVerdict::Interrupted, None, None).contains("will not be run"));
        assert_eq!(
            describe_decision(ToolVerdict::AllowedByGrant, Some("git log"), None),
            "allowed for this session `git log`"
        );
    }
}
