//! `cairn store copy`: every session of the local SQLite file into another store (`--to`, a
//! PostgreSQL url or another SQLite file), or of another store into the local file
//! (`--from`). The copying itself is [`copy_sessions`]: whole sessions with their ids, a page
//! per transaction, skipping what the target has, so running it again after an interruption
//! completes it and running it twice copies nothing twice. Progress goes to standard error: a
//! bar redrawn in place on a terminal, a plain line every tenth otherwise; the summary to
//! standard output.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_core::SessionService;
use cairn_core::transfer::{CopyProgress, copy_sessions};
use cairn_store::{PostgresSessionService, SqliteSessionService};
use eyre::WrapErr;

use crate::cli::CopyArgs;
use crate::context::Context;

const BAR_WIDTH: u64 = 30;

/// A store named on the command line, opened, and how to name it in messages.
struct Named {
    service: Arc<dyn SessionService>,
    name: String,
}

pub async fn copy(context: &Context, args: &CopyArgs) -> eyre::Result<ExitCode> {
    // The other store first: when it cannot be reached, nothing local is created either.
    let other = open_other(
        context,
        args.to
            .as_deref()
            .or(args.from.as_deref())
            .unwrap_or_default(),
    )
    .await?;
    let local_path = &context.config.db_path;
    let local =
        Named {
            service: Arc::new(SqliteSessionService::open(local_path).await.wrap_err_with(
                || {
                    format!(
                        "could not open the session database {}",
                        local_path.display()
                    )
                },
            )?),
            name: local_path.display().to_string(),
        };
    // clap lets exactly one of `--to` and `--from` through.
    let (from, to) = if args.to.is_some() {
        (local, other)
    } else {
        (other, local)
    };

    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = None;
    let written = copy_sessions(from.service.as_ref(), to.service.as_ref(), |progress| {
        if terminal {
            err!("\r{}", progress_bar(progress));
        } else {
            let tenth = progress.done * 10 / progress.total.max(1);
            if last_tenth != Some(tenth) {
                last_tenth = Some(tenth);
                errln!("{}", progress_line(progress));
            }
        }
    })
    .await
    .wrap_err_with(|| {
        format!(
            "could not copy the sessions of {} to {}",
            from.name, to.name
        )
    })?;
    if terminal {
        errln!("");
    }
    outln!(
        "copied {} sessions ({} events) from {} to {}; {} were there already",
        written.sessions,
        written.events,
        from.name,
        to.name,
        written.skipped_sessions
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A PostgreSQL url, or the path of a SQLite file (created if missing).
async fn open_other(context: &Context, target: &str) -> eyre::Result<Named> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        // The error names `host:port/database` and the reason, never the password.
        let service =
            PostgresSessionService::open(target, context.config.store.connect_timeout()).await?;
        let name = format!("postgres {}", service.location());
        return Ok(Named {
            service: Arc::new(service),
            name,
        });
    }
    let path = Path::new(target);
    let service = SqliteSessionService::open(path)
        .await
        .wrap_err_with(|| format!("could not open the session database {}", path.display()))?;
    Ok(Named {
        service: Arc::new(service),
        name: path.display().to_string(),
    })
}

/// `[#########.....................]  30%  300/1000 sessions`
fn progress_bar(progress: CopyProgress) -> String {
    let filled = progress.done * BAR_WIDTH / progress.total.max(1);
    let bar: String = (0..BAR_WIDTH)
        .map(|cell| if cell < filled { '#' } else { '.' })
        .collect();
    format!("[{bar}] {}", progress_line(progress))
}

/// ` 30%  300/1000 sessions`
fn progress_line(progress: CopyProgress) -> String {
    let percent = (progress.done * 100)
        .checked_div(progress.total)
        .unwrap_or(100);
    format!(
        "{percent:>3}%  {}/{} sessions",
        progress.done, progress.total
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_sessions_read() {
        let at = |done, total| CopyProgress {
            done,
            total,
            ..CopyProgress::default()
        };
        assert_eq!(
            progress_bar(at(300, 1_000)),
            "[#########.....................]  30%  300/1000 sessions"
        );
        assert_eq!(progress_line(at(0, 0)), "100%  0/0 sessions");
        assert_eq!(
            progress_bar(at(7, 7)),
            format!("[{}] 100%  7/7 sessions", "#".repeat(30))
        );
    }
}
