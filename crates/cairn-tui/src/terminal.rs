//! Taking over the terminal and giving it back.
//!
//! [`TerminalGuard::enter`] switches to raw mode and the alternate screen, turns on bracketed
//! paste and, where the terminal supports it, the keyboard enhancement that tells Shift+Enter
//! from Enter. The mouse is left to the terminal (so text is selected without Shift) and its
//! alternate-scroll mode turned on, which sends the wheel as Up/Down arrows; with
//! `[ui] mouse = true` the mouse is captured instead and the wheel arrives as mouse events. The terminal is restored exactly once,
//! whichever comes first: the guard being dropped (normal exit, error, early return) or a
//! panic anywhere (a hook restores it before the panic message prints, so the message is
//! readable).
//!
//! Nothing here may panic when the terminal is gone (a closed window answers every write
//! with EIO): restoring ignores errors, and the screen writes through [`TerminalOutput`],
//! which goes quiet after the first failed write so ratatui's own clean-up on drop (which
//! reports a failure with `eprintln!`, a panic when stderr is that closed terminal) never
//! sees one.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use tokio::sync::Notify;

/// Whether the terminal is currently taken over (so restoring twice is harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether keyboard enhancement flags were pushed and must be popped.
static ENHANCED: AtomicBool = AtomicBool::new(false);
/// Whether the mouse is captured (`[ui] mouse = true`) rather than left to the terminal; kept
/// for taking the terminal again after Ctrl+Z.
static MOUSE_CAPTURE: AtomicBool = AtomicBool::new(false);

/// xterm's alternate-scroll mode (DECSET 1007): on the alternate screen, the wheel sends
/// Up/Down arrows. crossterm has no command for it.
const ALTERNATE_SCROLL_ON: &[u8] = b"\x1b[?1007h";
const ALTERNATE_SCROLL_OFF: &[u8] = b"\x1b[?1007l";
/// Set by the panic hook. A panic in a background task (the stream, the session task) does
/// not unwind the screen loop, so the loop must be told: the terminal is no longer set up.
static PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_NOTICE: Notify = Notify::const_new();

/// Resolves once any thread has panicked since the terminal was taken over.
pub async fn panicked() {
    if PANICKED.load(Ordering::SeqCst) {
        return;
    }
    PANIC_NOTICE.notified().await;
}

/// Whether a panic happened while the terminal was taken over.
pub fn has_panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Standard output for the screen; after the first failed write every later write is
/// dropped and reported as done. The failure itself still reaches whoever wrote, so the
/// driver learns that the terminal is gone and leaves.
pub struct TerminalOutput {
    stdout: io::Stdout,
    gone: bool,
}

impl TerminalOutput {
    pub fn new() -> Self {
        Self {
            stdout: io::stdout(),
            gone: false,
        }
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if result.is_err() {
            self.gone = true;
        }
        result
    }
}

impl Write for TerminalOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let result = self.stdout.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let result = self.stdout.flush();
        self.note(result)
    }
}

pub struct TerminalGuard(());

impl TerminalGuard {
    /// Takes the terminal over; `capture_mouse` is `[ui] mouse`.
    pub fn enter(capture_mouse: bool) -> io::Result<Self> {
        MOUSE_CAPTURE.store(capture_mouse, Ordering::SeqCst);
        install_panic_hook();
        take_over()?;
        Ok(Self(()))
    }
}

/// Ctrl+Z: the terminal is given back as it was and the process stops itself (`SIGTSTP`,
/// what the terminal would have sent outside raw mode), so the shell's job control takes
/// over; when `fg` continues it, the terminal is taken again. The caller redraws.
pub fn suspend() -> io::Result<()> {
    restore();
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TSTP)
        .map_err(io::Error::from)?;
    take_over()
}

/// Raw mode, the alternate screen, bracketed paste, mouse reports or alternate scroll, a
/// hidden cursor, and unambiguous Esc where the terminal offers it.
fn take_over() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut stdout = io::stdout();
    execute!(
        stdout,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if MOUSE_CAPTURE.load(Ordering::SeqCst) {
        execute!(stdout, EnableMouseCapture)?;
    } else {
        stdout.write_all(ALTERNATE_SCROLL_ON)?;
        stdout.flush()?;
    }
    if matches!(
        crossterm::terminal::supports_keyboard_enhancement(),
        Ok(true)
    ) {
        execute!(
            stdout,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
        ENHANCED.store(true, Ordering::SeqCst);
    }
    Ok(())
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: every step is attempted even if an earlier one fails.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout();
    crate::window_title::restore(&mut stdout);
    if ENHANCED.swap(false, Ordering::SeqCst) {
        let _ = execute!(stdout, PopKeyboardEnhancementFlags);
    }
    if MOUSE_CAPTURE.load(Ordering::SeqCst) {
        let _ = execute!(stdout, DisableMouseCapture);
    } else {
        let _ = stdout.write_all(ALTERNATE_SCROLL_OFF);
    }
    let _ = execute!(
        stdout,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = stdout.flush();
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!(%info, backtrace = %std::backtrace::Backtrace::force_capture(), "panic");
        previous(info);
        PANICKED.store(true, Ordering::SeqCst);
        // Wakes the screen loop, which then quits through the usual path: pending writes are
        // finished and nothing is drawn on the restored terminal.
        PANIC_NOTICE.notify_one();
    }));
}
