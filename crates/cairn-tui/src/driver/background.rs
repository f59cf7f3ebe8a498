//! The driver's helpers on threads and tasks of their own: the prompt-history writer and
//! the terminal input reader, and turning terminal input into [`AppEvent`]s (telling the
//! wheel, sent as arrow keys, from arrow keys pressed).

use std::time::Duration;

use crossterm::event::{
    Event as TerminalEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;

use crate::app::{AppEvent, WHEEL_ROWS};
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

/// Reads terminal input on a thread of its own and hands it over through a channel, as app
/// events. Everything the terminal has sent by the time one event is read is read with it,
/// so a wheel notch sent as arrow keys (`wheel_arrows`: the mouse is not captured) is seen
/// whole; see [`app_events`].
///
/// Not on the event loop: once the terminal is gone, crossterm's reader can loop forever
/// inside one read call (end of file and EIO are retried, not returned), which would starve
/// the loop of the SIGHUP that ends it. On its own thread such a loop only lasts until the
/// process exits, which the hang-up then makes it do.
pub(super) fn spawn_input_reader(
    wheel_arrows: bool,
) -> mpsc::UnboundedReceiver<std::io::Result<AppEvent>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("terminal-input".to_owned())
        .spawn(move || {
            loop {
                let mut batch = Vec::new();
                let mut failure = None;
                match crossterm::event::read() {
                    Ok(event) => batch.push(event),
                    Err(error) => failure = Some(error),
                }
                while failure.is_none()
                    && batch.len() < MAX_BATCH
                    && matches!(crossterm::event::poll(Duration::ZERO), Ok(true))
                {
                    match crossterm::event::read() {
                        Ok(event) => batch.push(event),
                        Err(error) => failure = Some(error),
                    }
                }
                for event in app_events(batch, wheel_arrows) {
                    if sender.send(Ok(event)).is_err() {
                        return;
                    }
                }
                if let Some(error) = failure {
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start reading the terminal");
    }
    receiver
}

/// The most events read in one go, so a flood of input still reaches the screen in steps.
const MAX_BATCH: usize = 256;

/// The events of one batch (what the terminal had sent by the time it was read) for the
/// screen. With `wheel_arrows`, a run of two or more of the same plain Up or Down becomes one
/// [`AppEvent::Arrows`]: a terminal in alternate-scroll mode sends several for each wheel
/// notch at once, while arrows a person presses (held down too) arrive one by one. The screen
/// scrolls for them only where arrows choose nothing. A single arrow stays a key, so Up on the
/// input still recalls earlier prompts.
pub(super) fn app_events(batch: Vec<TerminalEvent>, wheel_arrows: bool) -> Vec<AppEvent> {
    let mut events: Vec<AppEvent> = Vec::new();
    let mut run: Option<(bool, usize, KeyEvent)> = None;
    let flush =
        |run: &mut Option<(bool, usize, KeyEvent)>, events: &mut Vec<AppEvent>| match run.take() {
            Some((_, 1, key)) => events.push(AppEvent::Key(key)),
            Some((up, count, _)) => events.push(AppEvent::Arrows { up, count }),
            None => {}
        };
    for event in batch {
        if let Some((up, key)) = wheel_arrows.then(|| plain_arrow(&event)).flatten() {
            match &mut run {
                Some((run_up, rows, _)) if *run_up == up => *rows += 1,
                _ => {
                    flush(&mut run, &mut events);
                    run = Some((up, 1, key));
                }
            }
            continue;
        }
        flush(&mut run, &mut events);
        events.extend(terminal_event(event));
    }
    flush(&mut run, &mut events);
    events
}

/// `Some(up)` for a press of Up or Down with no modifier, as alternate scroll sends them.
fn plain_arrow(event: &TerminalEvent) -> Option<(bool, KeyEvent)> {
    let TerminalEvent::Key(key) = event else {
        return None;
    };
    if key.modifiers != KeyModifiers::NONE || key.kind == KeyEventKind::Release {
        return None;
    }
    match key.code {
        KeyCode::Up => Some((true, *key)),
        KeyCode::Down => Some((false, *key)),
        _ => None,
    }
}

fn terminal_event(event: TerminalEvent) -> Option<AppEvent> {
    match event {
        TerminalEvent::Key(key) => Some(AppEvent::Key(key)),
        TerminalEvent::Paste(text) => Some(AppEvent::Paste(text)),
        TerminalEvent::Resize(width, height) => Some(AppEvent::Resize { width, height }),
        TerminalEvent::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(AppEvent::Wheel {
                up: true,
                rows: WHEEL_ROWS,
            }),
            MouseEventKind::ScrollDown => Some(AppEvent::Wheel {
                up: false,
                rows: WHEEL_ROWS,
            }),
            _ => None,
        },
        TerminalEvent::FocusGained | TerminalEvent::FocusLost => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn press(code: KeyCode) -> TerminalEvent {
        TerminalEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn arrows_arriving_together_are_the_wheel_and_a_single_one_is_a_key() {
        let batch = vec![
            press(KeyCode::Up),
            press(KeyCode::Up),
            press(KeyCode::Up),
            press(KeyCode::Down),
            press(KeyCode::Char('a')),
            press(KeyCode::Down),
            press(KeyCode::Down),
        ];
        // `AppEvent` is not comparable (it carries errors): compare what it prints.
        let shown = |events: Vec<AppEvent>| -> Vec<String> {
            events.iter().map(|event| format!("{event:?}")).collect()
        };
        let key = |code| {
            format!(
                "{:?}",
                AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
            )
        };
        assert_eq!(
            shown(app_events(batch.clone(), /*wheel_arrows*/ true)),
            vec![
                "Arrows { up: true, count: 3 }".to_owned(),
                key(KeyCode::Down),
                key(KeyCode::Char('a')),
                "Arrows { up: false, count: 2 }".to_owned(),
            ]
        );
        // One Up on its own (a key press) stays a key, for the prompt history.
        assert_eq!(
            shown(app_events(vec![press(KeyCode::Up)], true)),
            vec![key(KeyCode::Up)]
        );
        // With the mouse captured the wheel comes as mouse events: arrows are keys.
        assert_eq!(app_events(batch, false).len(), 7);
    }
}
