//! The driver: one loop that `select!`s over terminal input, replies from the session task
//! and the model stream, a clock tick, signals and the frame deadline; feeds each event to
//! [`App::handle`] and performs the effects it returns.
//!
//! Frames go through [`FrameScheduler`]: an event only asks for a frame, and a frame is drawn
//! at most once per [`FRAME_INTERVAL`], so a burst of a thousand tokens costs one frame and
//! keystrokes are never queued behind drawing. Queued events are drained before a frame.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use cairn_core::{Clock, ModelProvider, ModelRequest, StartOutcome, SystemClock, continuing_note};
use eyre::WrapErr;
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::{App, AppEvent, AppInit, Effect, Origin, SessionJob};
use crate::driver::background::{spawn_history_writer, spawn_input_reader};
use crate::driver::tool_runner::ToolRunner;
use crate::session_task::{SessionTask, session_view};
use crate::terminal::{self, TerminalGuard, TerminalOutput};
use crate::window_title::WindowTitle;
use crate::{Opening, TuiExit, TuiOptions, history};
use cairn_core::service::unique_short_id;

/// The shortest time between two frames (about 60 frames a second).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// How often the spinner moves while an answer is on its way.
const TICK_INTERVAL: Duration = Duration::from_millis(100);

/// Coalesces redraw requests into frames at most every `min_interval`.
#[derive(Debug)]
pub struct FrameScheduler {
    min_interval: Duration,
    last_frame: Option<Instant>,
    pending: bool,
}

impl FrameScheduler {
    pub fn new(min_interval: Duration) -> Self {
        Self {
            min_interval,
            last_frame: None,
            pending: false,
        }
    }

    /// Something changed; a frame is wanted.
    pub fn request(&mut self) {
        self.pending = true;
    }

    /// When the wanted frame may be drawn; `None` when no frame is wanted.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        Some(match self.last_frame {
            Some(last) => last + self.min_interval,
            None => Instant::now(),
        })
    }

    pub fn drawn(&mut self, at: Instant) {
        self.pending = false;
        self.last_frame = Some(at);
    }
}

type Screen = Terminal<CrosstermBackend<TerminalOutput>>;

struct Driver {
    app: App,
    provider: Arc<dyn ModelProvider>,
    jobs: UnboundedSender<SessionJob>,
    events: UnboundedSender<AppEvent>,
    stream: Option<(u64, JoinHandle<()>)>,
    tools: ToolRunner,
    /// Prompts to append to the history file, written one at a time and in order.
    history: UnboundedSender<String>,
    /// Loading the whole of a resumed session: sent after the first frame, so drawing the
    /// newest messages does not share the two cores with it, and before any other job.
    open_after_first_frame: Option<SessionJob>,
    /// `None` when `[ui] window_title` is off.
    window_title: Option<WindowTitle>,
}

enum Flow {
    Continue,
    Quit,
}

pub async fn run(options: TuiOptions) -> eyre::Result<TuiExit> {
    let TuiOptions {
        manager,
        start,
        startup_notes,
        provider,
        model,
        max_output_tokens,
        state_dir,
        store,
        title_model,
        tools,
        compact_at,
        window_title,
        capture_mouse,
    } = options;
    let (toolbox, tool_settings) = tools.map(|tools| (tools.toolbox, tools.settings)).unzip();
    let history_scope = history::HistoryScope::for_workspace(manager.workspace());
    let mut notes = startup_notes;
    let now_ms = SystemClock.now_ms();
    let mut session = session_view(&manager, /*branches*/ 1).await;
    let (origin, events, opening) = match start {
        Opening::Started(StartOutcome::New) => {
            (Origin::New, manager.events().cloned().collect(), None)
        }
        Opening::Started(StartOutcome::Resumed(info)) => {
            notes.extend(info.warnings.iter().cloned());
            notes.push(info.note());
            (Origin::Resumed, manager.events().cloned().collect(), None)
        }
        Opening::Resume(recent) => {
            let last_active = recent
                .events
                .last()
                .map_or(recent.session.updated_at_ms, |event| event.created_at_ms);
            notes.push(continuing_note(now_ms - last_active));
            session.id = recent.session.id;
            session.short_id = unique_short_id(manager.service().as_ref(), recent.session.id).await;
            session.title = recent.session.title.clone();
            session.model = recent.session.model.clone();
            session.stored = true;
            (Origin::Resumed, recent.events, Some(recent.session.id))
        }
    };
    if origin == Origin::Resumed
        && let Some(model) = &session.model
    {
        notes.push(format!("Using {model}, the model chosen for this session."));
    }
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let app = App::new(AppInit {
        session,
        origin,
        provider: provider.info(),
        model,
        events,
        notes,
        history: history::load(&state_dir, &history_scope),
        now_ms,
        size,
        loading_rest: opening.is_some(),
        store,
        title_model,
        tools: tool_settings,
    });

    let (event_sender, mut event_receiver) = mpsc::unbounded_channel();
    let (job_sender, job_receiver) = mpsc::unbounded_channel();
    let session_task = SessionTask::new(
        manager,
        provider.context_window(),
        max_output_tokens,
        event_sender.clone(),
    )
    .keep_unsaved_in(state_dir.clone())
    .compact_at(compact_at)
    .spawn(job_receiver);

    let (history_sender, history_writer) = spawn_history_writer(state_dir, history_scope);
    let guard = TerminalGuard::enter(capture_mouse).wrap_err("could not set up the terminal")?;
    let mut driver = Driver {
        app,
        provider,
        jobs: job_sender,
        tools: ToolRunner::new(toolbox, event_sender.clone()),
        events: event_sender,
        stream: None,
        history: history_sender,
        open_after_first_frame: opening.map(SessionJob::Open),
        window_title: window_title.then(WindowTitle::default),
    };
    let outcome = match Terminal::new(CrosstermBackend::new(TerminalOutput::new())) {
        Ok(mut screen) => {
            let outcome = driver
                .event_loop(&mut screen, &mut event_receiver, capture_mouse)
                .await;
            // Shown here so ratatui's drop has nothing left to do: when it fails there, it
            // says so with `eprintln!`, which panics when stderr is a closed terminal. A
            // failure here leaves the output quiet (see `TerminalOutput`); the guard
            // restores the cursor anyway.
            let _ = screen.show_cursor();
            outcome
        }
        Err(error) => Err(eyre::Report::new(error).wrap_err("could not open the terminal")),
    };
    // Whichever way the loop ended (a quit, a hung-up terminal, an error), an answer still
    // streaming is recorded as interrupted before the session task is told to finish.
    driver.leave();
    if let Some((_, handle)) = driver.stream.take() {
        handle.abort();
    }
    // Closing the job channel lets the session task finish what is queued and stop.
    drop(driver);
    drop(guard);
    let exit = session_task
        .await
        .wrap_err("the session task stopped unexpectedly")?;
    // The history is a convenience: a failed writer is logged, not reported.
    if let Err(error) = history_writer.await {
        tracing::warn!(%error, "the prompt history writer stopped");
    }
    outcome?;
    if terminal::has_panicked() {
        eyre::bail!(
            "Cairn hit an internal error and stopped; what was written so far is saved (details \
             in the log)"
        );
    }
    Ok(TuiExit {
        session_id: exit.session_id,
        session_stored: exit.session_stored,
        unsaved: exit.unsaved,
    })
}

impl Driver {
    async fn event_loop(
        &mut self,
        screen: &mut Screen,
        receiver: &mut mpsc::UnboundedReceiver<AppEvent>,
        capture_mouse: bool,
    ) -> eyre::Result<()> {
        let mut input = spawn_input_reader(/*wheel_arrows*/ !capture_mouse);
        let mut ticker = tokio::time::interval(TICK_INTERVAL);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut terminate = signal(SignalKind::terminate()).wrap_err("SIGTERM handler")?;
        let mut hangup = signal(SignalKind::hangup()).wrap_err("SIGHUP handler")?;
        let mut interrupt = signal(SignalKind::interrupt()).wrap_err("SIGINT handler")?;
        let mut frames = FrameScheduler::new(FRAME_INTERVAL);
        frames.request();
        loop {
            let deadline = frames.deadline();
            let event = tokio::select! {
                maybe = input.recv() => match maybe {
                    Some(Ok(event)) => event,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "reading terminal input failed");
                        AppEvent::Terminate
                    }
                    None => AppEvent::Terminate,
                },
                Some(event) = receiver.recv() => event,
                _ = ticker.tick(), if self.app.is_busy() => AppEvent::Tick { now_ms: SystemClock.now_ms() },
                _ = terminate.recv() => AppEvent::Terminate,
                _ = hangup.recv() => AppEvent::Terminate,
                _ = interrupt.recv() => AppEvent::Terminate,
                () = terminal::panicked() => AppEvent::Terminate,
                () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() && !terminal::has_panicked() => {
                    if let Err(error) = screen.draw(|frame| frame.render_widget(&self.app, frame.area())) {
                        // Typically EIO: the terminal was closed. Nobody is left to read an
                        // error, so this ends like a hang-up and `run` saves what streamed.
                        tracing::warn!(%error, "drawing the screen failed; leaving");
                        return Ok(());
                    }
                    frames.drawn(Instant::now());
                    if let Some(title) = &mut self.window_title
                        && let Err(error) = title.show(screen.backend_mut(), &self.app.session.title)
                    {
                        tracing::debug!(%error, "could not set the window title");
                    }
                    self.send_open_job();
                    continue;
                }
            };
            if let Flow::Quit = self.dispatch(event, screen)? {
                return Ok(());
            }
            // Everything already queued (a burst of stream deltas) goes into the same frame.
            while let Ok(event) = receiver.try_recv() {
                if let Flow::Quit = self.dispatch(event, screen)? {
                    return Ok(());
                }
            }
            frames.request();
        }
    }

    fn dispatch(&mut self, event: AppEvent, screen: &mut Screen) -> eyre::Result<Flow> {
        // The clock moves before every event; what it makes due (a heartbeat) is done too.
        let mut effects = self.app.handle(AppEvent::Tick {
            now_ms: SystemClock.now_ms(),
        });
        effects.extend(self.app.handle(event));
        for effect in effects {
            match effect {
                Effect::Job(job) => {
                    self.send_open_job();
                    if self.jobs.send(job).is_err() {
                        eyre::bail!("the session task stopped; the conversation cannot be saved");
                    }
                }
                Effect::StartStream { turn, request } => self.start_stream(turn, request),
                Effect::CancelStream { turn } => {
                    if let Some((running, handle)) = self.stream.take() {
                        if running == turn {
                            // Dropping the stream cancels the request.
                            handle.abort();
                        } else {
                            self.stream = Some((running, handle));
                        }
                    }
                }
                Effect::PlaceTool { call_id, request } => self.tools.place(call_id, request),
                Effect::RunTool { call_id, request } => self.tools.run(call_id, request),
                Effect::CancelTool => self.tools.cancel(),
                Effect::SaveHistory(text) => {
                    // The writer only stops after the driver is gone.
                    let _ = self.history.send(text);
                }
                Effect::CopyToClipboard(text) => {
                    // OSC 52 goes through the terminal, so it works over SSH too.
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                    let backend = screen.backend_mut();
                    let written =
                        write!(backend, "\x1b]52;c;{encoded}\x07").and_then(|()| backend.flush());
                    if let Err(error) = written {
                        tracing::warn!(%error, "writing to the clipboard failed; leaving");
                        return Ok(Flow::Quit);
                    }
                }
                Effect::ClearScreen => {
                    if let Err(error) = redraw_all(screen) {
                        tracing::warn!(%error, "clearing the screen failed; leaving");
                        return Ok(Flow::Quit);
                    }
                }
                Effect::Suspend => {
                    // Stops here until `fg`; the answer streaming meanwhile is read on resume.
                    let resumed = crate::terminal::suspend().and_then(|()| redraw_all(screen));
                    self.window_title.as_mut().map(WindowTitle::forget);
                    if let Err(error) = resumed {
                        tracing::warn!(%error, "taking the terminal back after Ctrl+Z failed; leaving");
                        return Ok(Flow::Quit);
                    }
                }
                Effect::ListModels => {
                    let provider = self.provider.clone();
                    let events = self.events.clone();
                    tokio::spawn(async move {
                        let result = provider.list_models().await.map_err(|e| e.to_string());
                        // The screen may be gone by the time the provider answers.
                        let _ = events.send(AppEvent::ModelsListed(result));
                    });
                }
                Effect::GenerateTitle {
                    session_id,
                    request,
                    refresh_of,
                } => titles::spawn_title(
                    self.provider.clone(),
                    self.events.clone(),
                    session_id,
                    request,
                    refresh_of,
                ),
                Effect::GenerateSummary {
                    input,
                    request,
                    waiting_turn,
                } => summary::spawn_summary(
                    self.provider.clone(),
                    self.events.clone(),
                    input,
                    request,
                    waiting_turn,
                ),
                Effect::Quit => return Ok(Flow::Quit),
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends the job loading a resumed session whole, if it has not gone yet: it must be the
    /// session task's first.
    fn send_open_job(&mut self) {
        if let Some(open) = self.open_after_first_frame.take() {
            let _ = self.jobs.send(open);
        }
    }

    /// Quits the state machine if it has not quit yet, so a streaming answer is recorded
    /// as interrupted; only its persistence jobs matter now, the screen may be gone.
    fn leave(&mut self) {
        self.send_open_job();
        for effect in self.app.handle(AppEvent::Terminate) {
            match effect {
                Effect::Job(job) => {
                    // A closed channel means the session task already stopped; it logged why.
                    let _ = self.jobs.send(job);
                }
                // A command still running is stopped when the driver (its runner) goes.
                Effect::CancelTool => self.tools.cancel(),
                Effect::StartStream { .. }
                | Effect::CancelStream { .. }
                | Effect::PlaceTool { .. }
                | Effect::RunTool { .. }
                | Effect::SaveHistory(_)
                | Effect::CopyToClipboard(_)
                | Effect::ListModels
                | Effect::GenerateTitle { .. }
                | Effect::GenerateSummary { .. }
                | Effect::ClearScreen
                | Effect::Suspend
                | Effect::Quit => {}
            }
        }
    }

    fn start_stream(&mut self, turn: u64, request: ModelRequest) {
        if let Some((_, previous)) = self.stream.take() {
            previous.abort();
        }
        let provider = self.provider.clone();
        let events = self.events.clone();
        let handle = tokio::spawn(async move {
            let mut stream = match provider.stream(request).await {
                Ok(stream) => stream,
                Err(error) => {
                    let _ = events.send(AppEvent::StreamFailed { turn, error });
                    return;
                }
            };
            while let Some(item) = stream.next().await {
                // Debug builds only: lets the end-to-end tests check that a panic in a
                // background task still restores the terminal and keeps what was saved.
                #[cfg(debug_assertions)]
                if std::env::var_os("CAIRN_TEST_PANIC_IN_STREAM").is_some() {
                    panic!("panic requested by CAIRN_TEST_PANIC_IN_STREAM");
                }
                let event = match item {
                    Ok(event) => AppEvent::Stream { turn, event },
                    Err(error) => {
                        let _ = events.send(AppEvent::StreamFailed { turn, error });
                        return;
                    }
                };
                if events.send(event).is_err() {
                    return;
                }
            }
            let _ = events.send(AppEvent::StreamEnded { turn });
        });
        self.stream = Some((turn, handle));
    }
}

mod background;
mod tool_runner;

mod summary;
mod titles;

/// Clears the terminal and makes the next frame draw every cell. Not `Terminal::clear`: it
/// asks the terminal where the cursor is, and that answer cannot arrive while the input
/// reader holds the terminal's input, so it failed after two seconds and the chat quit.
fn redraw_all(screen: &mut Screen) -> std::io::Result<()> {
    crossterm::execute!(
        screen.backend_mut(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    // Both buffers blank: the next frame is compared with an empty screen, as it now is.
    screen.swap_buffers();
    screen.swap_buffers();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn frames_are_coalesced_to_the_interval() {
        let mut frames = FrameScheduler::new(FRAME_INTERVAL);
        assert_eq!(frames.deadline(), None);
        frames.request();
        let first = frames.deadline().unwrap();
        frames.drawn(first);
        for _ in 0..1000 {
            frames.request();
        }
        assert_eq!(frames.deadline(), Some(first + FRAME_INTERVAL));
    }
}
