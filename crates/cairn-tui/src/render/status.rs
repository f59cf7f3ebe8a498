//! The two status rows: the activity line above the rule (spinner, retry status, hints) and
//! the status line at the bottom (folder, session, provider, model, tokens), which drops its
//! least important parts first when the terminal is narrow.

use cairn_core::shorten::ellipsize;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

use crate::app::{App, Origin};
use crate::sanitize::sanitize;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub(super) fn render_activity(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let line = if let Some(turn) = &app.turn {
        let elapsed_ms = (app.now_ms - turn.started_ms).max(0);
        let frame = SPINNER[usize::try_from(elapsed_ms / 100).unwrap_or(0) % SPINNER.len()];
        let seconds = elapsed_ms / 1000;
        let what = match (&turn.retrying, turn.has_text()) {
            (Some(retrying), _) => retrying.clone(),
            (None, false) => "thinking".to_owned(),
            (None, true) => "answering".to_owned(),
        };
        let mut spans = vec![
            Span::raw(" "),
            frame.cyan(),
            Span::raw(" "),
            what.into(),
            format!(" · {seconds}s").dim(),
        ];
        match (&app.queued, &app.hint) {
            (Some(message), _) => spans.extend(queued_spans(message)),
            (None, Some(hint)) => spans.extend([" · ".dim(), hint.clone().yellow()]),
            (None, None) => spans.push(" · Esc to cancel".dim()),
        }
        Line::from(spans)
    } else if let Some((holder, _)) = &app.other_turn {
        let frame = SPINNER[usize::try_from(app.now_ms / 100).unwrap_or(0) % SPINNER.len()];
        let mut spans = vec![Span::raw(" "), frame.cyan(), Span::raw(" ")];
        match &app.queued {
            Some(message) => {
                // The queued message needs the room more than the holder's name does.
                spans.push("another terminal is answering".into());
                spans.extend(queued_spans(message));
            }
            None => {
                spans.push(format!("another terminal ({holder}) is answering").into());
                if let Some(hint) = &app.hint {
                    spans.extend([" · ".dim(), hint.clone().yellow()]);
                }
            }
        }
        Line::from(spans)
    } else if app.compacting.is_some() {
        let frame = SPINNER[usize::try_from(app.now_ms / 100).unwrap_or(0) % SPINNER.len()];
        let mut spans = vec![
            Span::raw(" "),
            frame.cyan(),
            Span::raw(" summarising the conversation for the model"),
        ];
        if let Some(message) = &app.queued {
            spans.extend(queued_spans(message));
        }
        Line::from(spans)
    } else if let Some(hint) = &app.hint {
        Line::from(vec![Span::raw(" "), hint.clone().yellow()])
    } else {
        Line::default()
    };
    buf.set_line(area.x, area.y, &line, area.width);
}

/// ` · queued: <its first line> · Esc to take back`.
fn queued_spans(message: &str) -> [Span<'static>; 3] {
    let first_line = sanitize(message).lines().next().unwrap_or("").to_owned();
    [
        " · queued: ".dim(),
        ellipsize(&first_line, 24).yellow(),
        " · Esc to take back".dim(),
    ]
}

pub(super) fn render_status(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let width = usize::from(area.width);
    // Least important first: the title, the word "tokens", new/resumed, the folder's parents,
    // then the shared store (where the conversation is kept matters more than where it is). The provider, model and token counts stay in view as long as they can.
    let mut line = Line::default();
    for level in 0..=5 {
        line = status_line(app, level, width);
        if line.width() <= width {
            break;
        }
    }
    buf.set_line(area.x, area.y, &line, area.width);
}

/// The status line with the first `dropped` of the optional parts left out or shortened.
fn status_line(app: &App, dropped: usize, width: usize) -> Line<'static> {
    let session = &app.session;
    let directory = if dropped >= 4 {
        match session.display_directory.rsplit_once('/') {
            Some((_, last)) => format!("…/{last}"),
            None => session.display_directory.clone(),
        }
    } else {
        session.display_directory.clone()
    };
    let mut head = vec![
        directory.blue(),
        " · ".dim(),
        session.short_id.clone().bold(),
    ];
    if session.branches > 1 {
        head.push(format!(" ⑂{}", session.branches).cyan());
    }
    let mut tail = Vec::new();
    if dropped < 3 {
        tail.push(" · ".dim());
        tail.push(match app.origin {
            Origin::New => "new".green(),
            Origin::Resumed => "resumed".yellow(),
        });
    }
    if dropped < 5
        && let Some(store) = &app.store
    {
        tail.push(" · ".dim());
        tail.push(sanitize(store).into_owned().cyan());
    }
    let unit = if dropped >= 2 { "" } else { " tokens" };
    tail.extend([
        " · ".dim(),
        app.provider_label().magenta(),
        " · ".dim(),
        format!(
            "{} in / {} out{unit}",
            compact(app.usage.last_input),
            compact(app.usage.output)
        )
        .dim(),
    ]);
    let mut spans = head;
    let room =
        width.saturating_sub(crate::wrap::spans_width(&spans) + crate::wrap::spans_width(&tail));
    let title = sanitize(&session.title).replace('\n', " ");
    // The title gets what room is left; too little room and it is left out.
    if dropped < 1 && !title.is_empty() && room >= 5 {
        spans.push(Span::raw(" "));
        spans.push(ellipsize(&title, room - 1).italic());
    }
    spans.extend(tail);
    Line::from(spans)
}

fn compact(count: u64) -> String {
    match count {
        0..1_000 => count.to_string(),
        1_000..1_000_000 => format!("{:.1}k", count as f64 / 1_000.0),
        _ => format!("{:.1}M", count as f64 / 1_000_000.0),
    }
}
