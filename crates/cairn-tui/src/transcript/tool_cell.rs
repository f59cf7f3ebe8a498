//! Tool cells: one per call, showing the tool, its argument on one line, a status (waiting
//! for approval, running with the seconds so far, how it ended, denied and why) and the
//! output folded to [`FOLDED_OUTPUT_LINES`] lines unless expanded (Ctrl+O).
//!
//! The same view is built from the live loop and from stored events on resume, so a
//! resumed session shows the cells it showed. Everything goes through [`Cell`]'s
//! sanitising like any other text.

use cairn_core::ToolVerdict;
use cairn_core::shorten::ellipsize;
use cairn_core::tool::{ToolRequest, describe_decision};

use super::{Cell, CellKind};

/// Output lines a folded cell shows.
pub const FOLDED_OUTPUT_LINES: usize = 4;
/// Widest the argument is shown on the cell's first line.
const MAX_ARGUMENT_WIDTH: usize = 60;

/// Where a call stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolStatus {
    /// Made by the model, not decided yet.
    Proposed,
    WaitingForApproval,
    Running {
        seconds: u64,
    },
    /// It ran: how it ended (`exit code 0 after 0.1 s`, `done`).
    Finished {
        status: String,
        is_error: bool,
    },
    /// It did not run: the decision as people say it (`denied: not now`).
    NotRun(String),
}

/// What a tool cell shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCellView {
    pub call_id: String,
    pub name: String,
    /// The argument on one line, shortened.
    pub argument: String,
    pub status: ToolStatus,
    /// The output below the status (a command's without its status line).
    pub output: String,
}

impl ToolCellView {
    pub fn new(call_id: &str, name: &str, arguments: &str) -> Self {
        let argument = match ToolRequest::parse(name, arguments) {
            Ok(ToolRequest::RunCommand { command }) => command,
            Ok(ToolRequest::ListDir { path } | ToolRequest::ReadFile { path, .. }) => path,
            Err(_) => arguments.to_owned(),
        };
        let flat = argument.split_whitespace().collect::<Vec<_>>().join(" ");
        Self {
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            argument: ellipsize(&flat, MAX_ARGUMENT_WIDTH),
            status: ToolStatus::Proposed,
            output: String::new(),
        }
    }

    /// Records the decision: a call that does not run says why.
    pub fn decided(&mut self, verdict: ToolVerdict, rule: Option<&str>, reason: Option<&str>) {
        if !verdict.runs() {
            self.status = ToolStatus::NotRun(describe_decision(verdict, rule, reason));
        }
    }

    /// Records the result. A command's result starts with how it ended; that line is the
    /// status. A call that did not run keeps the status its decision gave.
    pub fn finished(&mut self, output: &str, is_error: bool) {
        if matches!(self.status, ToolStatus::NotRun(_)) {
            return;
        }
        let (status, rest) = if self.name == cairn_core::tool::RUN_COMMAND {
            let (first, rest) = output.split_once('\n').unwrap_or((output, ""));
            // "timed out after 120 s; the command and …": the part before `;` says it.
            let first = first.split(';').next().unwrap_or(first);
            (first.to_owned(), rest)
        } else if is_error {
            ("failed".to_owned(), output)
        } else {
            ("done".to_owned(), output)
        };
        self.status = ToolStatus::Finished { status, is_error };
        self.output = rest.trim_end().to_owned();
    }

    /// The cell's text, output folded unless `expanded`.
    pub fn text(&self, expanded: bool) -> String {
        let status = match &self.status {
            ToolStatus::Proposed => "…".to_owned(),
            ToolStatus::WaitingForApproval => "waiting for approval".to_owned(),
            ToolStatus::Running { seconds } => format!("running · {seconds}s"),
            ToolStatus::Finished { status, .. } => status.clone(),
            ToolStatus::NotRun(text) => text.clone(),
        };
        let mut text = format!("{}  {}\n{status}", self.name, self.argument);
        let lines: Vec<&str> = if self.output.is_empty() {
            Vec::new()
        } else {
            self.output.split('\n').collect()
        };
        let shown = if expanded {
            lines.len()
        } else {
            lines.len().min(FOLDED_OUTPUT_LINES)
        };
        for line in &lines[..shown] {
            text.push('\n');
            text.push_str(line);
        }
        if shown < lines.len() {
            text.push_str(&format!(
                "\n… {} more lines · Ctrl+O shows all",
                lines.len() - shown
            ));
        }
        text
    }
}

impl Cell {
    /// A cell for a tool call.
    pub fn tool(view: ToolCellView, expanded: bool) -> Self {
        let mut cell = Cell::new(CellKind::ToolCall, &view.text(expanded));
        cell.tool = Some(Box::new(view));
        cell
    }

    /// The call this cell shows, if it is a tool cell.
    pub fn tool_view(&self) -> Option<&ToolCellView> {
        self.tool.as_deref()
    }

    /// Changes the call's view and shows it again.
    pub fn update_tool(&mut self, expanded: bool, change: impl FnOnce(&mut ToolCellView)) {
        if let Some(view) = self.tool.as_deref_mut() {
            change(view);
            let text = view.text(expanded);
            self.set_text(&text);
        }
    }
}
