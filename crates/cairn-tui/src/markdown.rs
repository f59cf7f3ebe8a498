//! Markdown to styled logical lines, for assistant messages.
//!
//! Headings, emphasis, strong, strikethrough, inline code, links, block quotes, ordered and
//! bullet lists (nested), task lists, tables (see [`table`]), rules and fenced or indented
//! code blocks. Code blocks are set apart
//! with a gutter and keep their spacing (they wrap hard, never at words). The output is
//! width-independent; [`crate::wrap`] fits it to a width. Input must already be sanitised.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Style, Stylize};
use ratatui::text::Span;

use crate::logical_line::LogicalLine;
use table::{Alignment, Table};

pub mod code_blocks;
pub mod table;

enum Container {
    Quote,
    Item { marker: String, marker_used: bool },
}

struct ListState {
    next_number: Option<u64>,
}

#[derive(Default)]
struct Renderer {
    lines: Vec<LogicalLine>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    lists: Vec<ListState>,
    code: Option<String>,
    needs_blank: bool,
    link_urls: Vec<String>,
    /// The table being read, and the cells of its current row.
    table: Option<Table>,
    table_row: Vec<table::TableCell>,
}

/// Renders `text` as Markdown.
pub fn render_markdown(text: &str) -> Vec<LogicalLine> {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES;
    let mut renderer = Renderer::default();
    for event in Parser::new_ext(text, options) {
        renderer.event(event);
    }
    if let Some(code) = renderer.code.take() {
        renderer.code_lines(&code);
    }
    renderer.flush();
    renderer.lines
}

impl Renderer {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, change: impl FnOnce(Style) -> Style) {
        let next = change(self.style());
        self.styles.push(next);
    }

    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => {
                    first.push("▌ ".green());
                    rest.push("▌ ".green());
                }
                Container::Item {
                    marker,
                    marker_used,
                } => {
                    let indent = " ".repeat(marker.chars().count());
                    if *marker_used {
                        first.push(Span::raw(indent.clone()));
                    } else {
                        first.push(marker.clone().dim());
                        *marker_used = true;
                    }
                    rest.push(Span::raw(indent));
                }
            }
        }
        (first, rest)
    }

    /// Starts a block: a blank line separates it from the block before.
    fn block_start(&mut self) {
        self.flush();
        if self.needs_blank && !self.lines.is_empty() {
            let rest: Vec<Span<'static>> = self
                .containers
                .iter()
                .filter_map(|container| match container {
                    Container::Quote => Some("▌".green()),
                    Container::Item { .. } => None,
                })
                .collect();
            self.lines.push(LogicalLine::plain(rest));
        }
        self.needs_blank = false;
    }

    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let content = std::mem::take(&mut self.spans);
        let (first_prefix, rest_prefix) = self.prefixes();
        self.lines.push(LogicalLine {
            first_prefix,
            rest_prefix,
            content,
            hard_wrap: false,
            table: None,
        });
    }

    fn text(&mut self, text: &str) {
        let style = self.style();
        for (index, piece) in text.split('\n').enumerate() {
            if index > 0 {
                self.flush();
            }
            if !piece.is_empty() {
                self.spans.push(Span::styled(piece.to_owned(), style));
            }
        }
    }

    fn code_lines(&mut self, code: &str) {
        let code = code.strip_suffix('\n').unwrap_or(code);
        for line in code.split('\n') {
            let (mut first_prefix, mut rest_prefix) = self.prefixes();
            first_prefix.push("│ ".dim());
            rest_prefix.push("│ ".dim());
            self.lines.push(LogicalLine {
                first_prefix,
                rest_prefix,
                content: vec![line.to_owned().yellow()],
                hard_wrap: true,
                table: None,
            });
        }
    }

    fn event(&mut self, event: Event<'_>) {
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(text) => {
                    code.push_str(&text);
                    return;
                }
                Event::End(TagEnd::CodeBlock) => {
                    let code = std::mem::take(code);
                    self.code = None;
                    self.code_lines(&code);
                    self.needs_blank = true;
                    return;
                }
                _ => return,
            }
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                let style = self.style().cyan();
                self.spans.push(Span::styled(code.into_string(), style));
            }
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                let style = self.style().cyan();
                self.spans.push(Span::styled(math.into_string(), style));
            }
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::FootnoteReference(name) => self.text(&format!("[^{name}]")),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.block_start();
                self.spans.push("────────────────".dim());
                self.flush();
                self.needs_blank = true;
            }
            Event::TaskListMarker(done) => {
                self.spans
                    .push(Span::raw(if done { "[x] " } else { "[ ] " }));
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.block_start(),
            Tag::Heading { level, .. } => {
                self.block_start();
                let hashes = match level {
                    HeadingLevel::H1 => "# ",
                    HeadingLevel::H2 => "## ",
                    HeadingLevel::H3 => "### ",
                    HeadingLevel::H4 => "#### ",
                    HeadingLevel::H5 => "##### ",
                    HeadingLevel::H6 => "###### ",
                };
                self.spans.push(hashes.magenta().bold());
                let underline = level == HeadingLevel::H1;
                self.push_style(|style| {
                    let style = style.magenta().bold();
                    if underline { style.underlined() } else { style }
                });
            }
            Tag::BlockQuote(_) => {
                self.block_start();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                if let CodeBlockKind::Fenced(lang) = kind {
                    let lang = lang.split([',', ' ']).next().unwrap_or("").to_owned();
                    if !lang.is_empty() {
                        let (first_prefix, rest_prefix) = self.prefixes();
                        self.lines.push(LogicalLine {
                            first_prefix,
                            rest_prefix,
                            content: vec!["╭ ".dim(), lang.dim().italic()],
                            hard_wrap: false,
                            table: None,
                        });
                    }
                }
                self.code = Some(String::new());
            }
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.block_start();
                } else {
                    self.flush();
                }
                self.lists.push(ListState { next_number: start });
            }
            Tag::Item => {
                self.flush();
                self.needs_blank = false;
                let marker = match self.lists.last_mut() {
                    Some(ListState {
                        next_number: Some(number),
                    }) => {
                        let marker = format!("{number}. ");
                        *number += 1;
                        marker
                    }
                    Some(ListState { next_number: None }) | None => "• ".to_owned(),
                };
                self.containers.push(Container::Item {
                    marker,
                    marker_used: false,
                });
            }
            Tag::Table(alignments) => {
                self.block_start();
                self.table = Some(Table {
                    alignments: alignments
                        .into_iter()
                        .map(|alignment| match alignment {
                            pulldown_cmark::Alignment::Center => Alignment::Center,
                            pulldown_cmark::Alignment::Right => Alignment::Right,
                            pulldown_cmark::Alignment::None | pulldown_cmark::Alignment::Left => {
                                Alignment::Left
                            }
                        })
                        .collect(),
                    ..Table::default()
                });
            }
            Tag::TableHead | Tag::TableRow => self.table_row.clear(),
            Tag::TableCell => self.spans.clear(),
            Tag::Emphasis => self.push_style(|style| style.italic()),
            Tag::Strong => self.push_style(|style| style.bold()),
            Tag::Strikethrough => self.push_style(|style| style.crossed_out()),
            Tag::Link { dest_url, .. } => {
                self.link_urls.push(dest_url.into_string());
                self.push_style(|style| style.underlined());
            }
            Tag::Image { dest_url, .. } => {
                self.link_urls.push(dest_url.into_string());
                self.push_style(|style| style.italic());
                self.text("[image: ");
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                self.needs_blank = true;
            }
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.flush();
                self.needs_blank = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.needs_blank = true;
            }
            TagEnd::CodeBlock => {}
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.needs_blank = true;
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.spans);
                self.table_row.push(cell);
            }
            TagEnd::TableHead => {
                let row = std::mem::take(&mut self.table_row);
                if let Some(table) = &mut self.table {
                    table.header = row;
                }
            }
            TagEnd::TableRow => {
                let row = std::mem::take(&mut self.table_row);
                if let Some(table) = &mut self.table {
                    table.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    let (first_prefix, rest_prefix) = self.prefixes();
                    self.lines.push(LogicalLine {
                        first_prefix,
                        rest_prefix,
                        content: Vec::new(),
                        hard_wrap: false,
                        table: Some(std::sync::Arc::new(table)),
                    });
                }
                self.needs_blank = true;
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(url) = self.link_urls.pop() {
                    let shown: String = self
                        .spans
                        .iter()
                        .rev()
                        .take(1)
                        .map(|span| span.content.to_string())
                        .collect();
                    if !url.is_empty() && shown != url {
                        self.spans.push(format!(" ({url})").dim());
                    }
                }
            }
            TagEnd::Image => {
                self.text("]");
                self.styles.pop();
                self.link_urls.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
