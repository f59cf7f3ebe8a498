//! Shell completion: `cairn completions SHELL` prints clap's script for the shell with a hook
//! that completes session ids, and the hidden `cairn sessions ids` lists them for that hook.
//!
//! Where an argument is a session (`-s/--session`, `cairn sessions show|export|archive|
//! unarchive|rename|delete|switch|fork ID`) the hook asks the binary for the ids and their
//! titles as the user presses Tab, so they are always current. Archived sessions are offered
//! only to `unarchive` (and by `cairn sessions ids --archived`).
//!
//! Titles are untrusted (a model wrote them): they are printed with every control character
//! made harmless and line breaks and tabs turned into spaces, so a title can neither act on
//! the terminal nor break the one-line `ID<TAB>TITLE` format the scripts read.

use std::io::Write;

use cairn_core::service::{SessionFilter, SessionService, lasting_short_id};
use cairn_core::shorten::ellipsize;
use cairn_core::text::neutralize_controls;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The most sessions offered; the newest come first.
const MAX_IDS: u32 = 500;
/// Titles are cut to this many columns (shells show them beside the id).
const TITLE_WIDTH: usize = 60;

/// Prints the completion script for `shell`, session ids included where the shell can have
/// them.
pub fn print_script(shell: Shell) -> eyre::Result<()> {
    // Generated into memory first: clap_complete panics on a failed write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cairn", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        Shell::Bash => script.push_str(BASH_HOOK),
        Shell::Zsh => {
            // Every argument that is a session: clap writes `_default` (files) for it.
            for spec in [
                ":ID:_default",
                ":id -- Session id or unique id prefix:_default",
                ":id:_default",
            ] {
                let hooked = spec.replace("_default", "_cairn_session_ids");
                script = script.replace(spec, &hooked);
            }
            script.push_str(ZSH_HOOK);
        }
        Shell::Fish => script.push_str(FISH_HOOK),
        // Other shells get clap's script as it is (no session ids).
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(script.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// `cairn sessions ids`: one `ID<TAB>TITLE` line a session of every workspace, newest first;
/// ids are twelve digits or more, so they stay unambiguous.
pub async fn print_ids(service: &dyn SessionService, archived: bool) -> eyre::Result<()> {
    let filter = SessionFilter {
        workspace: None,
        include_archived: archived,
        limit: Some(MAX_IDS),
    };
    for summary in service.list_sessions(&filter).await? {
        let id = lasting_short_id(service, summary.session.id).await;
        outln!("{id}\t{}", completion_title(&summary.session.title))?;
    }
    Ok(())
}

/// A title made safe for a completion line: no control characters, one line, no tab.
fn completion_title(title: &str) -> String {
    let flat: String = neutralize_controls(title)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    ellipsize(flat.trim(), TITLE_WIDTH)
}

/// Wraps clap's `_cairn`: session arguments get ids from `cairn sessions ids`, everything
/// else goes to clap's function.
const BASH_HOOK: &str = r#"
# Session ids where an argument is a session (from `cairn sessions ids`).
_cairn_with_session_ids() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" archived=""
    if [[ "$prev" == "-s" || "$prev" == "--session" ]]; then
        :
    elif [[ ${COMP_CWORD} -ge 3 && "${COMP_WORDS[COMP_CWORD-2]}" == "sessions" ]]; then
        case "$prev" in
            show|export|archive|rename|delete|switch|fork) ;;
            unarchive) archived="--archived" ;;
            *) _cairn "$@"; return ;;
        esac
    else
        _cairn "$@"
        return
    fi
    local ids
    ids=$("${COMP_WORDS[0]}" sessions ids $archived 2>/dev/null | cut -f1)
    COMPREPLY=( $(compgen -W "$ids" -- "$cur") )
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _cairn_with_session_ids -o nosort -o bashdefault -o default cairn
else
    complete -F _cairn_with_session_ids -o bashdefault -o default cairn
fi
"#;

/// The completer clap's `_cairn` now names for session arguments: ids with their titles.
const ZSH_HOOK: &str = r#"
# Session ids with their titles (from `cairn sessions ids`).
(( $+functions[_cairn_session_ids] )) ||
_cairn_session_ids() {
    local -a ids
    local archived=()
    [[ $curcontext == *unarchive* ]] && archived=(--archived)
    ids=(${(f)"$(${words[1]} sessions ids $archived 2>/dev/null)"})
    ids=(${ids/$'\t'/:})
    _describe -t sessions 'session' ids
}
"#;

/// Fish reads `ID<TAB>TITLE` as a candidate with its description.
const FISH_HOOK: &str = r#"
# Session ids with their titles (from `cairn sessions ids`).
complete -c cairn -n "__fish_cairn_needs_command" -s s -l session -x -a "(cairn sessions ids 2>/dev/null)"
complete -c cairn -n "__fish_cairn_using_subcommand run" -s s -l session -x -a "(cairn sessions ids 2>/dev/null)"
complete -c cairn -n "__fish_cairn_using_subcommand sessions; and __fish_seen_subcommand_from show export archive rename delete switch fork" -f -a "(cairn sessions ids 2>/dev/null)"
complete -c cairn -n "__fish_cairn_using_subcommand sessions; and __fish_seen_subcommand_from unarchive" -f -a "(cairn sessions ids --archived 2>/dev/null)"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_harmless_line() {
        assert_eq!(
            completion_title("fix\tthe\nbuild\x1b]0;owned\x07 "),
            "fix the build␛]0;owned␇"
        );
    }
}
