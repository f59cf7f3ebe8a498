//! Plain `cairn`: decide which session to open (auto-resume, `--new`, `--continue`,
//! `--session`), pick the provider, run the TUI, and print how to come back.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_core::resume::describe_age;
use cairn_core::{SessionManager, StartOutcome, SystemClock};
use cairn_tui::Opening;
use eyre::{WrapErr, bail};

use crate::cli::StartArgs;
use crate::context::Context;
use crate::output::human;
use crate::resolve::resolve_session;
use cairn_core::service::lasting_short_id;

/// How many of a resumed session's newest events are read before the first frame: more than
/// fill the tallest screen, few enough to read in about a millisecond.
const FIRST_SCREEN_EVENTS: usize = 200;

/// When a fresh session starts because the latest one here is older than the resume window:
/// how long ago it was and the ways back to it, so it is not silently forgotten.
async fn last_conversation_note(manager: &SessionManager) -> Option<String> {
    // A failed look-up only costs the note; the chat starts either way.
    let latest = manager.find_latest_here().await.ok()??;
    let session = manager.service().get_session(latest).await.ok()??;
    let age = describe_age(manager.now_ms() - session.updated_at_ms);
    Some(format!(
        "Last conversation here {age}: `cairn -C` or /sessions brings it back."
    ))
}

pub async fn run(context: &Context, start: &StartArgs) -> eyre::Result<ExitCode> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!("the chat needs a terminal; for scripts use `cairn run \"your prompt\"`");
    }
    let service = context.open_store().await?;
    let workspace = context.workspace()?;
    let tools =
        crate::tool_setup::workspace_tools(context, &workspace, /*can_ask*/ true)?.map(|tools| {
            cairn_tui::ChatTools {
                settings: cairn_tui::ToolSettings {
                    folder: cairn_core::workspace::shorten_home(tools.toolbox.root()),
                    policy: tools.policy,
                    max_steps: tools.max_steps,
                },
                toolbox: tools.toolbox,
            }
        });
    let manager = SessionManager::new(
        service.clone(),
        Arc::new(SystemClock),
        workspace,
        context.policy(),
    );
    // Unknown config keys: a note in the chat, where standard error would be hidden.
    let mut startup_notes: Vec<String> = context
        .config
        .warnings
        .iter()
        .map(|warning| cairn_core::text::neutralize_controls(&format!("Config: {warning}.")))
        .collect();

    // Which session to open; it is loaded below, newest events first.
    let to_resume = if start.new {
        None
    } else if start.continue_latest {
        let latest = manager.find_latest_here().await?;
        if latest.is_none() {
            startup_notes
                .push("No earlier session in this workspace; starting a fresh one.".to_owned());
        }
        latest
    } else if let Some(typed) = &start.session {
        Some(
            resolve_session(service.as_ref(), typed, manager.now_ms())
                .await?
                .id,
        )
    } else {
        let resumable = manager
            .find_resumable_here()
            .await
            .wrap_err("could not look for a session to resume")?;
        if resumable.is_none()
            && let Some(note) = last_conversation_note(&manager).await
        {
            startup_notes.push(note);
        }
        resumable
    };
    let opening = match to_resume {
        // A screenful of the newest events is drawn at once; the chat loads the rest.
        Some(session_id) => Opening::Resume(
            service
                .load_recent(session_id, FIRST_SCREEN_EVENTS)
                .await
                .wrap_err_with(|| format!("could not open session {session_id}"))?,
        ),
        None => Opening::Started(StartOutcome::New),
    };

    let selection = context.provider().await?;
    startup_notes.push(selection.reason.clone());
    let model = selection.provider.info().model;
    let exit = cairn_tui::run(cairn_tui::TuiOptions {
        manager,
        start: opening,
        startup_notes,
        provider: selection.provider,
        model,
        max_output_tokens: context.config.provider.max_output_tokens,
        state_dir: context.paths.state_dir.clone(),
        store: context
            .config
            .store
            .url
            .is_some()
            .then(|| cairn_store::describe_store(&context.config)),
        title_model: context.config.conversation.title_model.clone(),
        tools,
        compact_at: context.config.conversation.compact_at(),
        window_title: context.config.ui.window_title(),
        capture_mouse: context.config.ui.captures_mouse(),
    })
    .await?;

    if let Some(unsaved) = &exit.unsaved {
        let count = cairn_core::text::plural(unsaved.count as u64, "event");
        let reason = human(&unsaved.error);
        match &unsaved.file {
            Ok(path) => errln!(
                "{count} of this session could not be saved ({reason}); they are in {}",
                human(&path.display().to_string())
            ),
            Err(why) => errln!(
                "{count} of this session could not be saved ({reason}), nor kept in a file ({})",
                human(why)
            ),
        };
        return Ok(ExitCode::FAILURE);
    }
    if exit.session_stored {
        let short = lasting_short_id(service.as_ref(), exit.session_id).await;
        // The terminal may be gone (a closed window); the session is saved either way.
        let _ = outln!("Continue this session with: cairn -s {short}");
    }
    Ok(ExitCode::SUCCESS)
}
