//! `cairn sessions ...`: list, show, export, switch, fork, rename, archive, unarchive, delete.
//!
//! Human output is plain, aligned text; `--json` output is for programs and stays stable.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use cairn_core::resume::describe_age;
use cairn_core::service::{SessionCounts, SessionFilter, WorkspaceFilter};
use cairn_core::text::plural;
use cairn_core::workspace::{host_name, session_place, shorten_home};
use cairn_core::{Clock, SessionService, SystemClock, transcript};
use eyre::{WrapErr, bail};
use serde_json::json;
use unicode_width::UnicodeWidthStr;

use crate::cli::{ExportFormat, ListArgs, SessionsCommand};
use crate::context::Context;
use crate::output::human;
use crate::resolve::resolve_session;
use crate::tree_commands;
use cairn_core::private_file::{Overwrite, write_private};
use cairn_core::service::unique_short_id;
use cairn_core::session::clean_title;
use cairn_core::shorten::ellipsize;
use cairn_core::title::TitleSource;

const TITLE_COLUMN: usize = 40;

pub async fn run(context: &Context, command: SessionsCommand) -> eyre::Result<ExitCode> {
    let service = match &command {
        SessionsCommand::Search(args) => {
            crate::search::run(context, args).await?;
            return Ok(ExitCode::SUCCESS);
        }
        SessionsCommand::List(_)
        | SessionsCommand::Ids { .. }
        | SessionsCommand::Show { .. }
        | SessionsCommand::Export { .. } => context.open_store_for_reading().await?,
        SessionsCommand::Switch { .. }
        | SessionsCommand::Fork { .. }
        | SessionsCommand::Rename { .. }
        | SessionsCommand::Archive { .. }
        | SessionsCommand::Unarchive { .. }
        | SessionsCommand::Delete { .. } => context.open_store().await?,
    };
    let service = service.as_ref();
    let now = SystemClock.now_ms();
    match command {
        SessionsCommand::List(args) => list(context, service, &args, now).await?,
        SessionsCommand::Ids { archived } => {
            crate::completion::print_ids(service, archived).await?
        }
        // Handled before the store is opened.
        SessionsCommand::Search(_) => {}
        SessionsCommand::Show {
            id,
            json,
            tree: true,
        } => {
            let session = resolve_session(service, &id, now).await?;
            let all = service.load_all_events(session.id).await?;
            for warning in &all.warnings {
                errln!("warning: {}", human(warning));
            }
            if json {
                outln!("{}", tree_commands::tree_json(&all)?)?;
            } else {
                outln!("{}", human(display_title(&all.session.title)))?;
                if let Some(origin) = all.forked_from {
                    outln!(
                        "forked from {} at {}",
                        unique_short_id(service, origin.session_id).await,
                        origin.event_id
                    )?;
                }
                out!("{}", tree_commands::tree_text(&all))?;
            }
        }
        SessionsCommand::Switch { id, event } => {
            let session = resolve_session(service, &id, now).await?;
            let all = service.load_all_events(session.id).await?;
            let head = tree_commands::switch(service, &all, &event).await?;
            outln!(
                "switched {} to the branch ending at {head}",
                unique_short_id(service, session.id).await
            )?;
        }
        SessionsCommand::Fork { id, at, title } => {
            let session = resolve_session(service, &id, now).await?;
            let all = service.load_all_events(session.id).await?;
            let fork =
                tree_commands::fork(service, &all, at.as_deref(), title.as_deref(), now).await?;
            errln!(
                "forked {} into a new session (open it with: cairn -s {})",
                unique_short_id(service, session.id).await,
                unique_short_id(service, fork).await
            );
            outln!("{fork}")?;
        }
        SessionsCommand::Show {
            id,
            json,
            tree: false,
        } => {
            let session = resolve_session(service, &id, now).await?;
            let loaded = service.load_session(session.id).await?;
            for warning in &loaded.warnings {
                errln!("warning: {}", human(warning));
            }
            if json {
                outln!("{}", session_json(&loaded)?)?;
            } else {
                outln!("{}", human(display_title(&loaded.session.title)))?;
                outln!(
                    "session {}  ·  {}  ·  last active {}{}\n",
                    loaded.session.id,
                    human(&shorten_home(&loaded.session.directory)),
                    describe_age(now - loaded.session.updated_at_ms),
                    if loaded.session.archived_at_ms.is_some() {
                        "  ·  archived"
                    } else {
                        ""
                    }
                )?;
                let text = transcript::to_text(&loaded.events);
                print_untrusted(&text)?;
            }
        }
        SessionsCommand::Export {
            id,
            format,
            output,
            force,
        } => {
            let session = resolve_session(service, &id, now).await?;
            let loaded = service.load_session(session.id).await?;
            let (document, extension) = match format {
                ExportFormat::Markdown => (
                    transcript::to_markdown(&loaded.session, &loaded.events),
                    "md",
                ),
                ExportFormat::Json => (format!("{}\n", session_json(&loaded)?), "json"),
            };
            match output {
                Some(requested) => {
                    let path = transcript::export_target(&requested, session.id, extension);
                    let overwrite = if force {
                        Overwrite::Replace
                    } else {
                        Overwrite::Refuse
                    };
                    match write_private(&path, document.as_bytes(), overwrite) {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                            "{} already exists; add --force to replace it",
                            path.display()
                        ),
                        Err(err) => {
                            return Err(err)
                                .wrap_err_with(|| format!("could not write {}", path.display()));
                        }
                    }
                    errln!("exported session {} to {}", session.id, path.display());
                }
                None => print_untrusted(&document)?,
            }
        }
        SessionsCommand::Rename { id, title } => {
            let session = resolve_session(service, &id, now).await?;
            let title = clean_title(&title);
            if title.is_empty() {
                bail!("a title needs at least one visible character");
            }
            // The user's title: automatic titles never replace it.
            service
                .set_title(session.id, &title, TitleSource::User, now)
                .await?;
            outln!(
                "renamed {} to \"{title}\"",
                unique_short_id(service, session.id).await
            )?;
        }
        SessionsCommand::Archive { id } => {
            let session = resolve_session(service, &id, now).await?;
            let short = unique_short_id(service, session.id).await;
            if session.archived_at_ms.is_some() {
                outln!("{short} is already archived")?;
            } else {
                service.set_archived(session.id, Some(now)).await?;
                outln!("archived {short}")?;
            }
        }
        SessionsCommand::Unarchive { id } => {
            let session = resolve_session(service, &id, now).await?;
            let short = unique_short_id(service, session.id).await;
            if session.archived_at_ms.is_none() {
                outln!("{short} is not archived")?;
            } else {
                service.set_archived(session.id, None).await?;
                outln!("unarchived {short}")?;
            }
        }
        SessionsCommand::Delete { id, yes } => {
            let session = resolve_session(service, &id, now).await?;
            let short = unique_short_id(service, session.id).await;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("not deleting {short} without confirmation: pass --yes");
                }
                err!(
                    "Delete session {short} \"{}\" and all its messages? [y/N] ",
                    human(display_title(&session.title))
                );
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                    errln!("not deleted");
                    return Ok(ExitCode::FAILURE);
                }
            }
            service.delete_session(session.id).await?;
            outln!("deleted {short}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(
    context: &Context,
    service: &dyn SessionService,
    args: &ListArgs,
    now: i64,
) -> eyre::Result<()> {
    let workspace = if args.all {
        None
    } else {
        let workspace = context.workspace()?;
        Some(WorkspaceFilter {
            directory: workspace.directory,
            git_root: workspace.git_root,
            repository: workspace.repository,
        })
    };
    let filter = SessionFilter {
        workspace,
        include_archived: args.archived,
        limit: Some(args.limit),
    };
    let sessions = service.list_sessions(&filter).await?;
    let counts = service.count_sessions(filter.workspace.as_ref()).await?;
    if args.json {
        let rows: Vec<_> = sessions
            .iter()
            .map(|summary| {
                let session = &summary.session;
                json!({
                    "id": session.id.to_string(),
                    "title": session.title,
                    "title_source": summary.title_source.as_str(),
                    "directory": session.directory.to_string_lossy(),
                    "git_root": session.git_root.as_deref().map(std::path::Path::to_string_lossy),
                    "host": session.location.host,
                    "repository": session.location.repository,
                    "created_at_ms": session.created_at_ms,
                    "updated_at_ms": session.updated_at_ms,
                    "archived": session.archived_at_ms.is_some(),
                    "message_count": summary.message_count,
                    "branch_count": summary.branch_count,
                    "preview": summary.preview,
                })
            })
            .collect();
        outln!("{}", serde_json::Value::Array(rows))?;
        return Ok(());
    }
    if sessions.is_empty() {
        let scope = if args.all { "" } else { " in this workspace" };
        errln!("no sessions{scope} yet (run `cairn` to start one; --all lists every workspace)");
        if let Some(note) = left_out_note(counts, 0, args) {
            errln!("{note}");
        }
        return Ok(());
    }
    let this_host = host_name();
    let mut rows = Vec::with_capacity(sessions.len());
    for summary in &sessions {
        let session = &summary.session;
        let mut title = cairn_core::text::neutralize_controls(display_title(&session.title));
        if session.archived_at_ms.is_some() {
            title.push_str(" [archived]");
        }
        rows.push([
            unique_short_id(service, session.id).await,
            ellipsize(&title, TITLE_COLUMN),
            human(&session_place(session, &this_host)),
            describe_age(now - session.updated_at_ms),
            if summary.branch_count > 1 {
                format!(
                    "{} ({} branches)",
                    summary.message_count, summary.branch_count
                )
            } else {
                summary.message_count.to_string()
            },
        ]);
    }
    let headers = ["ID", "TITLE", "WORKSPACE", "LAST ACTIVE", "MESSAGES"];
    let mut widths = headers.map(UnicodeWidthStr::width);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: [&str; 5]| {
        let mut line = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index == 4 {
                let _ = write!(line, "{}{cell}", " ".repeat(width - cell.width()));
            } else {
                let _ = write!(line, "{cell}{}  ", " ".repeat(width - cell.width()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(headers);
    for row in &rows {
        push_row([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    out!("{out}")?;
    if let Some(note) = left_out_note(counts, rows.len(), args) {
        errln!("{note}");
    }
    Ok(())
}

/// What the listing did not show and how to show it: sessions past `--limit`, archived
/// sessions left out without `--archived`.
fn left_out_note(counts: SessionCounts, shown: usize, args: &ListArgs) -> Option<String> {
    let mut parts = Vec::new();
    let listable = counts.active + if args.archived { counts.archived } else { 0 };
    let more = listable.saturating_sub(shown as u64);
    if more > 0 {
        parts.push(format!("{more} more (--limit {listable} shows them all)"));
    }
    if !args.archived && counts.archived > 0 {
        parts.push(format!(
            "{} hidden (--archived shows them)",
            plural(counts.archived, "archived session")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn display_title(title: &str) -> &str {
    if title.is_empty() {
        "(untitled)"
    } else {
        title
    }
}

fn session_json(loaded: &cairn_core::LoadedSession) -> eyre::Result<String> {
    let value = json!({
        "session": loaded.session,
        "events": loaded.events,
        "off_branch_events": loaded.off_branch_events,
        "warnings": loaded.warnings,
    });
    serde_json::to_string_pretty(&value).wrap_err("could not encode the session as JSON")
}

/// Prints stored model text; neutralised when standard output is a terminal.
fn print_untrusted(text: &str) -> eyre::Result<()> {
    let mut stdout = std::io::stdout();
    let shown = if stdout.is_terminal() {
        cairn_core::text::neutralize_controls(text)
    } else {
        text.to_owned()
    };
    stdout.write_all(shown.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
