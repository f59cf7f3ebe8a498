//! The `/model` picker overlay: a centred box of the provider's models, the one in use
//! marked, the highlighted one always in view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::app::ModelPicker;
use crate::layout::centered;
use crate::sanitize::sanitize;

pub(super) fn render_models(picker: &ModelPicker, screen: Rect, buf: &mut Buffer) {
    let area = centered(
        screen,
        60.min(screen.width),
        screen.height.saturating_sub(2).max(5),
    );
    Clear.render(area, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" models · Enter switches · Esc closes ")
        .border_style(Style::new().cyan());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let models = match (&picker.models, &picker.error) {
        (_, Some(error)) => {
            let text = format!("could not list the models: {}", sanitize(error));
            buf.set_line(inner.x, inner.y, &Line::from(text.red()), inner.width);
            return;
        }
        (None, None) => {
            buf.set_line(inner.x, inner.y, &Line::from("loading…".dim()), inner.width);
            return;
        }
        (Some(models), None) if models.is_empty() => {
            let text = "the provider lists no models; /model NAME still switches";
            buf.set_line(inner.x, inner.y, &Line::from(text.dim()), inner.width);
            return;
        }
        (Some(models), None) => models,
    };
    let visible = usize::from(inner.height).max(1);
    let first = picker.selected.saturating_sub(visible - 1);
    for ((index, model), y) in models
        .iter()
        .enumerate()
        .skip(first)
        .zip(inner.y..inner.bottom())
    {
        let mut spans = vec![format!(" {}", sanitize(model)).into()];
        if *model == picker.current {
            spans.push(" (in use)".green());
        }
        let mut line = Line::from(spans);
        if index == picker.selected {
            line = line.reversed();
        }
        buf.set_line(inner.x, y, &line, inner.width);
    }
}
