//! Logs go to `<state dir>/cairn.log`, never to the screen (the TUI owns it) and never with
//! secrets: API keys are held in types that do not print them.

use std::fs::OpenOptions;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

/// Starts file logging; `CAIRN_LOG` sets the filter (default `info`). Logging is best
/// effort: if the file cannot be opened Cairn runs without it.
pub fn init(state_dir: &Path, mode: &str) {
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)
        .is_err()
    {
        return;
    }
    let Ok(file) = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(state_dir.join("cairn.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    if installed.is_ok() {
        tracing::info!(version = env!("CARGO_PKG_VERSION"), mode, "cairn started");
    }
}
