//! `cairn sessions search QUERY`: sessions ranked by what was said in them, one row each,
//! with passages around the matches (highlighted on a terminal only), or JSON for programs.
//!
//! Messages stored before this build could search are indexed first, with progress on
//! standard error; the work is kept, so it happens once.

use std::io::IsTerminal;
use std::ops::Range;
use std::time::{Duration, Instant};

use cairn_core::resume::describe_age;
use cairn_core::search::{SearchHit, SearchQuery, SearchRequest, Snippet};
use cairn_core::service::{WorkspaceFilter, unique_short_id};
use cairn_core::shorten::ellipsize;
use cairn_core::workspace::shorten_home;
use cairn_core::{Clock, SessionService, SystemClock};
use eyre::WrapErr;
use serde_json::json;

use crate::cli::SearchArgs;
use crate::context::Context;
use crate::output::human;

/// Events indexed per transaction while catching up: small enough that a chat writing to
/// the same database never waits long, large enough to go fast.
const INDEX_BATCH: usize = 2_000;
/// How wide a title may be in a result row.
const TITLE_COLUMN: usize = 48;
/// How wide a passage may be.
const SNIPPET_COLUMNS: usize = 100;

pub async fn run(context: &Context, args: &SearchArgs) -> eyre::Result<()> {
    // The shell split the query into words; quotes inside them (`'"exact phrase"'`) stay.
    let typed = args.words.join(" ");
    let query = SearchQuery::parse(&typed)
        .map_err(|error| eyre::eyre!("invalid search query `{}`: {error}", human(&typed)))?;
    let service = context.open_store().await?;
    let service = service.as_ref();
    catch_up_indexing(service).await?;

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
    let request = SearchRequest {
        query,
        workspace,
        include_archived: args.archived,
        limit: args.limit,
    };
    let hits = service
        .search(&request)
        .await
        .wrap_err("could not search the sessions")?;
    if args.json {
        outln!("{}", hits_json(&hits))?;
        return Ok(());
    }
    if hits.is_empty() {
        let scope = if args.all {
            ""
        } else {
            " in this workspace (--all searches every workspace)"
        };
        errln!(
            "no sessions match {}{scope}",
            human(&request.query.to_string())
        );
        return Ok(());
    }
    let highlight = std::io::stdout().is_terminal();
    let now = SystemClock.now_ms();
    let mut out = String::new();
    for hit in &hits {
        let session = &hit.session;
        let mut title = human(if session.title.is_empty() {
            "(untitled)"
        } else {
            &session.title
        });
        if session.archived_at_ms.is_some() {
            title.push_str(" [archived]");
        }
        out.push_str(&format!(
            "{}  {}  ·  {}  ·  {}\n",
            unique_short_id(service, session.id).await,
            ellipsize(&title, TITLE_COLUMN),
            human(&shorten_home(&session.directory)),
            describe_age(now - session.updated_at_ms),
        ));
        for snippet in &hit.snippets {
            out.push_str("    ");
            out.push_str(&render_snippet(snippet, highlight));
            out.push('\n');
        }
    }
    out!("{out}")?;
    Ok(())
}

/// Indexes messages an older Cairn stored, showing progress when it takes a while.
async fn catch_up_indexing(service: &dyn SessionService) -> eyre::Result<()> {
    let started = Instant::now();
    let mut shown = false;
    loop {
        let progress = service
            .index_for_search(INDEX_BATCH)
            .await
            .wrap_err("could not index earlier messages for search")?;
        if progress.is_done() {
            if shown {
                errln!("\rindexing earlier messages for search: done      ");
            }
            return Ok(());
        }
        if started.elapsed() > Duration::from_millis(300) {
            shown = true;
            let percent = progress.indexed * 100 / progress.total.max(1);
            err!("\rindexing earlier messages for search (once): {percent}%");
        }
    }
}

/// One line: the passage with line breaks flattened, neutralised piece by piece, so that
/// the highlights stay on the words that matched.
fn render_snippet(snippet: &Snippet, highlight: bool) -> String {
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut at = 0;
    for range in &snippet.highlights {
        if range.start < at || range.end > snippet.text.len() {
            continue;
        }
        pieces.push((flatten(&snippet.text[at..range.start]), false));
        pieces.push((flatten(&snippet.text[range.clone()]), true));
        at = range.end;
    }
    pieces.push((flatten(&snippet.text[at..]), false));

    let mut line = String::new();
    let mut width = 0;
    for (text, matched) in pieces {
        let room = SNIPPET_COLUMNS.saturating_sub(width);
        if room == 0 {
            break;
        }
        let text = ellipsize(&text, room);
        width += unicode_width::UnicodeWidthStr::width(text.as_str());
        if matched && highlight {
            line.push_str("\x1b[1;4m");
            line.push_str(&text);
            line.push_str("\x1b[22;24m");
        } else {
            line.push_str(&text);
        }
    }
    line
}

/// Untrusted text on one line: controls neutralised, runs of whitespace one space.
fn flatten(text: &str) -> String {
    let single: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Keep the spaces at the ends, which separate a piece from the highlighted word.
    let leading = if text.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trailing = if text.ends_with(char::is_whitespace) && !single.is_empty() {
        " "
    } else {
        ""
    };
    human(&format!("{leading}{single}{trailing}"))
}

fn hits_json(hits: &[SearchHit]) -> serde_json::Value {
    let ranges = |highlights: &[Range<usize>]| -> Vec<[usize; 2]> {
        highlights
            .iter()
            .map(|range| [range.start, range.end])
            .collect()
    };
    serde_json::Value::Array(
        hits.iter()
            .map(|hit| {
                let session = &hit.session;
                json!({
                    "id": session.id.to_string(),
                    "title": session.title,
                    // The git work tree, or the folder when there is none.
                    "workspace": session.git_root.as_deref().unwrap_or(&session.directory).to_string_lossy(),
                    "directory": session.directory.to_string_lossy(),
                    "git_root": session.git_root.as_deref().map(std::path::Path::to_string_lossy),
                    "updated_at_ms": session.updated_at_ms,
                    "archived": session.archived_at_ms.is_some(),
                    "score": hit.score,
                    "snippets": hit.snippets.iter().map(|snippet| json!({
                        "event_id": snippet.event_id.to_string(),
                        "text": snippet.text,
                        "highlights": ranges(&snippet.highlights),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
