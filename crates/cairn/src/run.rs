//! `cairn run`: one prompt, one streamed answer, no TUI.
//!
//! The answer goes to standard output as it streams (plain text, or JSON lines with
//! `--json`); everything else (the provider choice, retries, the session id) goes to standard
//! error so a script can capture the answer alone. The user message is written before the
//! request is sent, and the answer (partial and marked interrupted on Ctrl+C or a dropped
//! stream) after, so nothing typed is lost.
//!
//! The answer is saved whatever happens around it: a reader that goes away (`| head`) or a
//! failing output stops the printing, not the answer; Ctrl+C, SIGTERM and SIGHUP are
//! honoured from the moment the request is sent; a store that another process holds is
//! waited for (with a note on standard error) instead of dropping the answer.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::ServiceError;
use cairn_core::lease::{LEASE_RENEW_MS, LeaseOutcome};
use cairn_core::manager::TurnHeartbeat;
use cairn_core::provider::StreamEvent;
use cairn_core::text::neutralize_controls;
use cairn_core::turn::{
    AnswerAccumulator, TOOLS_REFUSED_NOTE, TurnEnd, answer_events, answer_events_with_tools,
};
use cairn_core::{EventKind, SessionManager, SystemClock};
use eyre::{WrapErr, bail};
use futures::StreamExt;
use tokio::signal::unix::{Signal, SignalKind, signal};

mod compact;
mod output;
mod tools;

use output::Output;

use crate::cli::RunArgs;
use crate::context::Context;
use crate::resolve::resolve_session;
use cairn_core::service::lasting_short_id;

mod title;

/// Exit code after Ctrl+C, as shells expect (128 + SIGINT).
const INTERRUPTED_EXIT: u8 = 130;

pub async fn run(context: &Context, args: RunArgs) -> eyre::Result<ExitCode> {
    let prompt = read_prompt(&args.prompt)?;
    let service = context.open_store().await?;
    let workspace = context.workspace()?;
    // Before anything is written: a mistyped --allow must cost nothing.
    let mut tools = tools::RunTools::new(context, &workspace, &args.allow)?;
    let clock = Arc::new(SystemClock);
    let mut manager = SessionManager::new(service.clone(), clock, workspace, context.policy());

    let mut resumed = None;
    let mut ask_at = None;
    if args.continue_latest {
        match manager.continue_latest().await? {
            Some(info) => resumed = Some(info),
            None => bail!("no sessions found to continue"),
        }
    } else if let Some(typed) = &args.session {
        let session = resolve_session(service.as_ref(), typed, manager.now_ms()).await?;
        if let Some(typed_event) = &args.at {
            // Before anything is sent: a mistyped event must cost nothing.
            let all = service.load_all_events(session.id).await?;
            ask_at = Some(crate::tree_commands::resolve_event(&all, typed_event)?);
        }
        resumed = Some(manager.resume(session.id).await?);
    }
    if let Some(line) = resumed.as_ref().and_then(|info| info.recovered_note()) {
        errln!("{line}");
    }
    let resumed = resumed.is_some();

    let selection = context.provider().await?;
    let info = selection.provider.info();
    // A model chosen for the session with `/model` wins over the configured one.
    let model = manager
        .session()
        .model
        .clone()
        .unwrap_or_else(|| info.model.clone());
    let mut out = Output::new(args.json);
    if !args.json {
        errln!("{}", selection.reason);
    }
    out.session(&manager, resumed, &info.label());

    let mut signals = StopSignals::new()?;
    if !wait_for_turn(&manager, Duration::from_secs(args.wait), &mut signals).await? {
        errln!("interrupted while waiting; nothing was written");
        return Ok(ExitCode::from(INTERRUPTED_EXIT));
    }
    if manager.is_stored() {
        // A writer whose lease we waited out may have left its answer behind.
        let recovered = manager.recover_drafts().await?;
        if !recovered.is_empty() {
            errln!(
                "Recovered an answer that was interrupted when Cairn stopped ({} characters, marked interrupted)",
                recovered.iter().map(|answer| answer.chars).sum::<usize>()
            );
        }
    }
    if let Some(event) = ask_at {
        manager
            .branch_at(Some(event))
            .await
            .wrap_err("could not go back to the event given with --at")?;
    }
    manager.push(EventKind::UserMessage { text: prompt });
    manager
        .persist_pending()
        .await
        .wrap_err("could not save your message")?;

    let mut failure = None;
    let mut interrupted = false;
    let draft_text = Arc::new(std::sync::Mutex::new(String::new()));
    let heartbeat = tokio::spawn(beat_while_answering(
        manager.turn_heartbeat(),
        Arc::clone(&draft_text),
        model.clone(),
    ));
    // `None` until the model says the history is too long; then it is compacted once.
    let mut too_long: Option<bool> = None;
    // One answer per pass; an answer with tool calls that ran is followed by another.
    loop {
        let (provider, compact_at) = (
            &*selection.provider,
            context.config.conversation.compact_at(),
        );
        compact::compact_if_needed(
            &mut manager,
            provider,
            &model,
            compact_at,
            too_long == Some(true),
            &mut out,
        )
        .await;
        too_long = too_long.map(|_| false);
        let mut request = manager.next_request(
            &model,
            context.config.provider.max_output_tokens,
            selection.provider.context_window(),
        );
        if let Some(tools) = &tools {
            request.tools = tools.declarations();
        }
        let declared_tools = !request.tools.is_empty();
        let mut refused_tools = false;
        let mut answer = AnswerAccumulator::new();
        if let Ok(mut draft) = draft_text.lock() {
            draft.clear();
        }
        // Signals are honoured from the moment the request goes out: waiting for the first
        // byte can take as long as the provider's timeout.
        let started = tokio::select! {
            result = selection.provider.stream(request) => Some(result),
            () = signals.recv() => None,
        };
        match started {
            None => interrupted = true,
            Some(Err(cairn_core::ProviderError::ContextTooLong { .. })) if too_long.is_none() => {
                too_long = Some(true);
                continue;
            }
            Some(Err(err)) => {
                refused_tools = declared_tools && err.rejects_tools();
                failure = Some(err.to_string());
            }
            Some(Ok(mut stream)) => loop {
                // Ctrl+C, SIGTERM and SIGHUP all stop the answer but still save what arrived.
                tokio::select! {
                    item = stream.next() => match item {
                        None => break,
                        Some(Ok(event)) => {
                            out.stream_event(&event);
                            answer.push(&event);
                            if let StreamEvent::TextDelta(text) = &event
                                && let Ok(mut draft) = draft_text.lock()
                            {
                                draft.push_str(text);
                            }
                        }
                        Some(Err(err)) => {
                            refused_tools = declared_tools
                                && err.rejects_tools()
                                && answer.text.is_empty()
                                && answer.tool_calls.is_empty();
                            failure = Some(err.to_string());
                            break;
                        }
                    },
                    () = signals.recv() => {
                        interrupted = true;
                        break;
                    }
                }
            },
        }
        out.end_of_text();
        if refused_tools && let Some(tools) = &mut tools {
            // Once, then the turn goes on without tools.
            tools.refused = true;
            failure = None;
            out.note(TOOLS_REFUSED_NOTE);
            manager.push(EventKind::Note {
                text: TOOLS_REFUSED_NOTE.to_owned(),
            });
            continue;
        }

        let end = match (&failure, interrupted) {
            (Some(message), _) => TurnEnd::Failed(message.clone()),
            (None, true) => TurnEnd::Cancelled,
            (None, false) => TurnEnd::Completed,
        };
        let (kinds, calls) = match &tools {
            Some(_) => answer_events_with_tools(&answer, &end, &model),
            None => (answer_events(&answer, &end, &model), Vec::new()),
        };
        for kind in kinds {
            let is_answer = matches!(kind, EventKind::AssistantMessage { .. });
            let event_id = manager.push(kind).id;
            if is_answer {
                out.message(&manager, event_id, &answer, end.is_interrupted(), &model);
            }
        }
        let Some(tools) = tools.as_mut().filter(|_| !calls.is_empty()) else {
            break;
        };
        // The answer is recorded: its draft must not come back as a second copy if Cairn is
        // killed while the calls run.
        if let Ok(mut draft) = draft_text.lock() {
            draft.clear();
        }
        // The calls are stored before any of them runs.
        save_patiently(&mut manager, &mut signals)
            .await
            .wrap_err("could not save the answer")?;
        if !tools.budget.take_step() {
            let note = tools.budget.limit_note();
            tools.close_over_limit(&calls, &mut manager);
            out.note(&note);
            manager.push(EventKind::Note { text: note });
            break;
        }
        if !tools
            .run_calls(&calls, &mut manager, &mut out, &mut signals)
            .await?
        {
            interrupted = true;
            break;
        }
    }
    heartbeat.abort();

    let saved = save_patiently(&mut manager, &mut signals).await;
    if saved.is_ok()
        && let Err(error) = manager.release_turn().await
    {
        // It expires on its own within seconds.
        tracing::warn!(%error, "could not release the turn lease");
    }

    let short = lasting_short_id(service.as_ref(), manager.session().id).await;
    if let Some(message) = &failure {
        out.error(message);
    }
    if !args.json {
        errln!(
            "session: {}  (continue with: cairn run -s {short} \"...\")",
            manager.session().id
        );
    }
    saved.wrap_err("could not save the answer")?;
    if failure.is_none() && !interrupted {
        let title_model = context.config.conversation.title_model(&model);
        title::name_if_first_answer(
            &mut manager,
            selection.provider.as_ref(),
            title_model,
            &mut signals,
        )
        .await;
    }
    if let Some(error) = out.write_error.take() {
        // The answer is saved; a reader that went away (`| head`) is no failure.
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(error).wrap_err("could not write to standard output; the answer was saved");
        }
    }
    if interrupted {
        errln!("interrupted; the partial answer was saved");
        return Ok(ExitCode::from(INTERRUPTED_EXIT));
    }
    if let Some(message) = failure {
        bail!(message);
    }
    Ok(ExitCode::SUCCESS)
}

/// Takes the session's turn lease, waiting up to `patience` while another Cairn answers in
/// it, so the question and its answer stay together in the chain. `false` when a signal
/// arrived while waiting.
async fn wait_for_turn(
    manager: &SessionManager,
    patience: Duration,
    signals: &mut StopSignals,
) -> eyre::Result<bool> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let holder = match manager.acquire_turn().await {
            Ok(LeaseOutcome::Acquired) => return Ok(true),
            Ok(LeaseOutcome::HeldBy(lease)) => lease.holder,
            Err(error) => {
                // Without the lease the turn can still go ahead: a rare interleaving is
                // better than refusing to answer.
                tracing::warn!(%error, "could not take the turn lease");
                return Ok(true);
            }
        };
        if started.elapsed() >= patience {
            bail!(
                "another Cairn ({}) is still answering in this session after {}s; try again, or wait longer with --wait SECONDS",
                neutralize_controls(&holder.describe()),
                patience.as_secs()
            );
        }
        if !told {
            errln!(
                "another Cairn ({}) is answering in this session; waiting for its turn to end (up to {}s)",
                neutralize_controls(&holder.describe()),
                patience.as_secs()
            );
            told = true;
        }
        tokio::select! {
            () = tokio::time::sleep(LEASE_POLL) => {}
            () = signals.recv() => return Ok(false),
        }
    }
}

/// Renews the turn's lease and saves the answer so far about once a second, in a task of
/// its own so a store that is slow to answer never holds the stream up.
async fn beat_while_answering(
    heartbeat: TurnHeartbeat,
    text: Arc<std::sync::Mutex<String>>,
    model: String,
) {
    let mut ticks = tokio::time::interval(Duration::from_millis(LEASE_RENEW_MS.unsigned_abs()));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let so_far = text.lock().map(|text| text.clone()).unwrap_or_default();
        match heartbeat.beat(&so_far, &model).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the turn lease lapsed while answering"),
            Err(error) => tracing::warn!(%error, "could not save the answer's draft"),
        }
    }
}

/// How often a turn waiting for another Cairn's asks for the lease again.
const LEASE_POLL: Duration = Duration::from_millis(250);

/// Ctrl+C, SIGTERM and SIGHUP: each stops the answer, and each still saves what arrived.
struct StopSignals {
    terminate: Signal,
    hangup: Signal,
}

impl StopSignals {
    fn new() -> eyre::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate()).wrap_err("could not watch for SIGTERM")?,
            hangup: signal(SignalKind::hangup()).wrap_err("could not watch for SIGHUP")?,
        })
    }

    /// Resolves when any of the three arrives.
    async fn recv(&mut self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
    }
}

/// How long an answer waits for a store that another process holds before giving up.
const SAVE_PATIENCE: Duration = Duration::from_secs(300);
/// Pause between attempts while the store is busy.
const SAVE_RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Saves what is pending, waiting out a store that another process holds for longer than
/// the backend's own busy timeout (a long write, a backup, a `sqlite3` shell left open), so
/// an answer that was printed is not lost. A signal while waiting gives up.
async fn save_patiently(
    manager: &mut SessionManager,
    signals: &mut StopSignals,
) -> Result<(), ServiceError> {
    let started = Instant::now();
    let mut told = false;
    loop {
        match manager.persist_pending().await {
            Err(ServiceError::Unavailable { message, .. }) if started.elapsed() < SAVE_PATIENCE => {
                if !told {
                    errln!(
                        "{}; waiting to save the answer (up to {} minutes, Ctrl+C gives up)",
                        neutralize_controls(&message),
                        SAVE_PATIENCE.as_secs() / 60
                    );
                    told = true;
                }
                tokio::select! {
                    () = tokio::time::sleep(SAVE_RETRY_PAUSE) => {}
                    () = signals.recv() => return manager.persist_pending().await.map(|_| ()),
                }
            }
            result => {
                if told && result.is_ok() {
                    errln!("saved");
                }
                return result.map(|_| ());
            }
        }
    }
}

/// The prompt: the arguments, then standard input when it is not a terminal.
fn read_prompt(words: &[String]) -> eyre::Result<String> {
    let mut prompt = words.join(" ");
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut piped = String::new();
        stdin
            .lock()
            .read_to_string(&mut piped)
            .wrap_err("could not read standard input")?;
        let piped = piped.trim_end();
        if !piped.is_empty() {
            if !prompt.is_empty() {
                prompt.push_str("\n\n");
            }
            prompt.push_str(piped);
        }
    }
    if prompt.trim().is_empty() {
        bail!("no prompt: give it as arguments (cairn run \"...\") or on standard input");
    }
    Ok(prompt)
}
