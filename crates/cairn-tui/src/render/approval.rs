//! The approval prompt, drawn where the input is while a call waits for the user: the
//! question, the command (sanitised when the prompt was made), the folder, the choices with
//! the selected one highlighted, the reason being typed after Deny, and the keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

use crate::app::ApprovalPrompt;

pub(super) fn render_approval(prompt: &ApprovalPrompt, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let mut lines: Vec<Line<'static>> = vec![Line::from(prompt.question.yellow().bold())];
    for row in prompt.subject_rows(usize::from(area.width.saturating_sub(4))) {
        lines.push(Line::from(vec![Span::raw("  $ "), row.bold()]));
    }
    lines.push(Line::from(format!("  in {}", prompt.folder).dim()));
    for (index, label) in prompt.choices().into_iter().enumerate() {
        let line = if index == prompt.selected {
            Line::from(vec!["› ".cyan().bold(), label.reversed()])
        } else {
            Line::from(vec![Span::raw("  "), Span::raw(label)])
        };
        lines.push(line);
    }
    if let Some(because) = &prompt.no_grant_because {
        lines.push(Line::from(format!("  {because}").dim().italic()));
    }
    let keys = match &prompt.reason {
        Some(reason) => {
            lines.push(Line::from(vec![
                "  reason: ".dim(),
                Span::raw(reason.clone()),
                "▏".cyan(),
            ]));
            "Enter sends the denial (the reason is optional) · Esc denies without one"
        }
        None => "↑/↓ choose · Enter confirms · Esc denies",
    };
    lines.push(Line::from(keys.dim()));
    for (offset, line) in lines.iter().enumerate() {
        let Ok(offset) = u16::try_from(offset) else {
            break;
        };
        if offset >= area.height {
            break;
        }
        buf.set_line(area.x, area.y + offset, line, area.width);
    }
}
