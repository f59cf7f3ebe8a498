//! Writing to standard output and standard error without panicking.
//!
//! `println!` panics when the reader has gone (`cairn sessions list | head -1`) or the terminal
//! was closed; these write and return the error instead, and `main` ends quietly on a broken
//! pipe, as command-line tools do. Diagnostics on standard error are best effort.
//!
//! Text that came from a model or a user (titles, folder names, conversations) is shown
//! through [`human`], so no stored escape sequence can act on the terminal.

use std::fmt;
use std::io::{self, Write};

/// Writes formatted text to standard output, with a newline, and flushes.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), true)
    };
}

/// Writes formatted text to standard output without a newline, and flushes.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), false)
    };
}

/// Writes a diagnostic line to standard error; a failure to write is ignored (there is
/// nowhere left to report it).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!($($arg)*), true)
    };
}

/// Like [`errln!`] without the newline (a prompt).
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!($($arg)*), false)
    };
}

pub fn write_stdout(args: fmt::Arguments<'_>, newline: bool) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_fmt(args)?;
    if newline {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

pub fn write_stderr(args: fmt::Arguments<'_>, newline: bool) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_fmt(args);
    if newline {
        let _ = stderr.write_all(b"\n");
    }
    let _ = stderr.flush();
}

/// Text from the database or a model, made safe to print to a terminal.
pub fn human(text: &str) -> String {
    cairn_core::text::neutralize_controls(text)
}

/// Whether `error` (or anything it wraps) is a write to a closed pipe.
pub fn is_broken_pipe(error: &eyre::Report) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
