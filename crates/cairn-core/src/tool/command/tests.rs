//! Hostile commands against the splitter and the prefix matcher.
use super::*;
use pretty_assertions::assert_eq;

fn prefixes(rules: &[&str]) -> Vec<CommandPrefix> {
    rules
        .iter()
        .map(|rule| CommandPrefix::parse(rule).unwrap())
        .collect()
}

fn covered(command: &str, rules: &[&str]) -> bool {
    SimpleCommands::parse(command)
        .map(|commands| commands.all_covered_by(&prefixes(rules)))
        .unwrap_or(false)
}

#[test]
fn a_plain_command_is_covered_by_its_leading_words() {
    assert!(covered("git status", &["git status"]));
    assert!(covered("git status --short", &["git status"]));
    assert!(covered("  git   status  ", &["git"]));
    assert!(covered("'git' \"status\"", &["git status"]));
    assert!(covered("ls -la src/*.rs", &["ls"]));
    assert!(!covered("git push", &["git status"]));
    assert!(!covered("gitk", &["git"]));
    assert!(!covered("git", &["git status"]));
    assert!(!covered("", &["git"]));
}

#[test]
fn every_part_of_a_chain_must_be_covered() {
    for hostile in [
        "git status; rm -rf ~",
        "git status && curl x | sh",
        "git status || rm -rf ~",
        "git status | sh",
        "git status & rm -rf ~",
        "git status\nrm -rf ~",
        "git status;rm -rf ~",
        "git status&&rm -rf ~",
    ] {
        assert!(
            !covered(hostile, &["git status"]),
            "{hostile:?} was covered"
        );
    }
    assert!(covered(
        "git status && git log -1",
        &["git status", "git log"]
    ));
    assert!(!covered("cargo test 2>/dev/null", &["cargo test"]));
    assert!(covered("git log | head -5", &["git log", "head"]));
}

#[test]
fn what_cannot_be_read_from_the_text_is_refused() {
    for (hostile, why) in [
        ("git status `id`", "a command substitution (`…`)"),
        ("git status $(id)", "a command substitution ($(…))"),
        ("git status \"$(id)\"", "a command substitution ($(…))"),
        ("git status \"`id`\"", "a command substitution (`…`)"),
        ("git status > ~/.bashrc", "a redirection"),
        ("git status >> ~/.bashrc", "a redirection"),
        ("git status 2>&1", "a redirection"),
        ("cat <<EOF\nrm -rf ~\nEOF", "a redirection"),
        ("diff <(git status) x", "a redirection"),
        ("(rm -rf ~)", "a subshell"),
        ("git status; (rm -rf ~)", "a subshell"),
        ("{ rm -rf ~; }", "a group or brace expansion"),
        ("git status ${X:=evil}", "a parameter expansion (${…})"),
        ("git status $'\\x3b'", "an ANSI-C quoted string ($'…')"),
        ("git status 'unbalanced", "an unbalanced quote"),
        ("git status \"unbalanced", "an unbalanced quote"),
        ("git status #; rm -rf ~", "a comment"),
        ("git status \\", "a trailing backslash"),
    ] {
        assert_eq!(
            SimpleCommands::parse(hostile),
            Err(Refusal(why.to_owned())),
            "{hostile:?}"
        );
        assert!(!covered(
            hostile,
            &["git status", "git", "rm", "cat", "diff"]
        ));
    }
}

#[test]
fn quoted_separators_do_not_split() {
    assert!(covered("git commit -m \"a; b && c | d\"", &["git commit"]));
    assert!(covered(
        "git commit -m 'a; rm -rf ~ `id` $(id) > x'",
        &["git commit"]
    ));
    assert!(covered("echo a\\;b", &["echo"]));
    let commands = SimpleCommands::parse("git commit -m \"a; b\"").unwrap();
    assert_eq!(commands.0.len(), 1);
    assert_eq!(commands.0[0][3].text, "a; b");
}

#[test]
fn words_that_expand_never_match_a_prefix() {
    assert!(!covered("$X status", &["git status"]));
    assert!(!covered("g* status", &["git status"]));
    assert!(!covered("git \"$SUB\"", &["git status"]));
    assert!(covered("git log $REV", &["git log"]));
    assert!(!covered("FOO=1 git status", &["git status"]));
    assert!(!covered(
        "if git status; then rm -rf ~; fi",
        &["git status", "rm"]
    ));
}

#[test]
fn deny_rules_catch_any_part() {
    let deny = prefixes(&["rm", "git push"]);
    let find = |command: &str| {
        SimpleCommands::parse(command)
            .unwrap()
            .first_covered_by(&deny)
            .map(ToString::to_string)
    };
    assert_eq!(find("git status; rm -rf ~"), Some("rm".to_owned()));
    assert_eq!(
        find("git status && git push --force"),
        Some("git push".to_owned())
    );
    assert_eq!(find("git status"), None);
}

#[test]
fn rules_must_be_one_plain_command() {
    assert_eq!(
        CommandPrefix::parse("git  status").unwrap().to_string(),
        "git status"
    );
    for bad in [
        "git status; rm",
        "git $X",
        "ls *",
        "$(id)",
        "if",
        "a | b",
        "",
    ] {
        assert!(CommandPrefix::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_offered_grant_is_the_program_and_its_subcommand() {
    let suggest = |command: &str| {
        SimpleCommands::parse(command)
            .unwrap()
            .suggested_prefix()
            .map(|prefix| prefix.to_string())
    };
    assert_eq!(suggest("git status --short"), Some("git status".to_owned()));
    assert_eq!(
        suggest("cargo test -p cairn-core"),
        Some("cargo test".to_owned())
    );
    assert_eq!(suggest("ls -la src"), Some("ls".to_owned()));
    assert_eq!(suggest("git --no-pager log"), Some("git".to_owned()));
    assert_eq!(suggest("git status; ls"), None);
    assert_eq!(suggest("$EDITOR x"), None);
    assert_eq!(suggest("FOO=1 make"), None);
}
