//! Plain `cairn`: decide which session to open (auto-resume, `--new`, `--continue`,
//! `--session`), pick the provider, run the TUI, and print how to come back.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_core::{SessionManager, StartOutcome, SystemClock};
use eyre::{WrapErr, bail};

use crate::cli::StartArgs;
use crate::context::Context;
use crate::resolve::resolve_session;
use cairn_core::service::unique_short_id;

pub async fn run(context: &Context, start: &StartArgs) -> eyre::Result<ExitCode> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!("the chat needs a terminal; for scripts use `cairn run \"your prompt\"`");
    }
    let service = context.open_store().await?;
    let workspace = context.workspace()?;
    let mut manager = SessionManager::new(
        service.clone(),
        Arc::new(SystemClock),
        workspace,
        context.policy(),
    );
    let mut startup_notes = Vec::new();

    let outcome = if start.new {
        StartOutcome::New
    } else if start.continue_latest {
        match manager.continue_latest().await? {
            Some(info) => StartOutcome::Resumed(info),
            None => {
                startup_notes
                    .push("No earlier session in this workspace; starting a fresh one.".to_owned());
                StartOutcome::New
            }
        }
    } else if let Some(typed) = &start.session {
        let session = resolve_session(service.as_ref(), typed, manager.now_ms()).await?;
        StartOutcome::Resumed(manager.resume(session.id).await?)
    } else {
        manager
            .start()
            .await
            .wrap_err("could not look for a session to resume")?
    };

    let selection = context.provider().await?;
    startup_notes.push(selection.reason.clone());
    let model = selection.provider.info().model;
    let exit = cairn_tui::run(cairn_tui::TuiOptions {
        manager,
        start: outcome,
        startup_notes,
        provider: selection.provider,
        model,
        max_output_tokens: context.config.provider.max_output_tokens,
        state_dir: context.paths.state_dir.clone(),
    })
    .await?;

    if exit.session_stored {
        let short = unique_short_id(service.as_ref(), exit.session_id).await;
        // The terminal may be gone (a closed window); the session is saved either way.
        let _ = outln!("Continue this session with: cairn -s {short}");
    }
    Ok(ExitCode::SUCCESS)
}
