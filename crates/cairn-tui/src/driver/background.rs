//! The driver's helpers on threads and tasks of their own: the prompt-history writer and
//! the terminal input reader, and turning terminal input into [`AppEvent`]s.

use crossterm::event::{Event as TerminalEvent, MouseEventKind};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;

use crate::app::AppEvent;
use crate::history;

/// One task appends prompts to the history file, in the order they were sent; file IO runs
/// on the blocking pool so the screen never waits for the disk.
pub(super) fn spawn_history_writer(
    state_dir: std::path::PathBuf,
    scope: history::HistoryScope,
) -> (UnboundedSender<String>, JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    let handle = tokio::spawn(async move {
        while let Some(text) = receiver.recv().await {
            let state_dir = state_dir.clone();
            let scope = scope.clone();
            let written =
                tokio::task::spawn_blocking(move || history::append(&state_dir, &scope, &text))
                    .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "could not save the prompt history"),
                Err(error) => tracing::warn!(%error, "the prompt history write failed"),
            }
        }
    });
    (sender, handle)
}

/// Reads terminal input on a thread of its own and hands it over through a channel.
///
/// Not on the event loop: once the terminal is gone, crossterm's reader can loop forever
/// inside one read call (end of file and EIO are retried, not returned), which would starve
/// the loop of the SIGHUP that ends it. On its own thread such a loop only lasts until the
/// process exits, which the hang-up then makes it do.
pub(super) fn spawn_input_reader() -> mpsc::UnboundedReceiver<std::io::Result<TerminalEvent>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("terminal-input".to_owned())
        .spawn(move || {
            loop {
                let event = crossterm::event::read();
                let failed = event.is_err();
                if sender.send(event).is_err() || failed {
                    break;
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start reading the terminal");
    }
    receiver
}

pub(super) fn terminal_event(event: TerminalEvent) -> Option<AppEvent> {
    match event {
        TerminalEvent::Key(key) => Some(AppEvent::Key(key)),
        TerminalEvent::Paste(text) => Some(AppEvent::Paste(text)),
        TerminalEvent::Resize(width, height) => Some(AppEvent::Resize { width, height }),
        TerminalEvent::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(AppEvent::Wheel { up: true }),
            MouseEventKind::ScrollDown => Some(AppEvent::Wheel { up: false }),
            _ => None,
        },
        TerminalEvent::FocusGained | TerminalEvent::FocusLost => None,
    }
}
