//! Running tool calls for the chat, off the UI thread: finding where a read tool's path is,
//! and running an allowed call, each in a task of its own that reports back with an
//! [`AppEvent`]. At most one call runs at a time (the state machine works through calls in
//! order).
//!
//! Invariant: a running command is stopped (its whole process group) when it is cancelled,
//! and when the runner is dropped, so none outlives the chat.

use cairn_core::tool::ToolRequest;
use cairn_tools::Toolbox;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::AppEvent;

pub(super) struct ToolRunner {
    toolbox: Option<Toolbox>,
    events: UnboundedSender<AppEvent>,
    /// The call running now: how to stop it, and its task.
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl ToolRunner {
    pub(super) fn new(toolbox: Option<Toolbox>, events: UnboundedSender<AppEvent>) -> Self {
        Self {
            toolbox,
            events,
            running: None,
        }
    }

    /// Finds where `request`'s path is; the answer comes back as `ToolPlaced`.
    pub(super) fn place(&self, call_id: String, request: ToolRequest) {
        let Some(toolbox) = self.toolbox.clone() else {
            return self.without_tools(call_id);
        };
        let events = self.events.clone();
        tokio::spawn(async move {
            // Resolving a path touches the filesystem (symlinks, a slow network mount).
            let placed = tokio::task::spawn_blocking(move || toolbox.place(&request)).await;
            let place = placed.unwrap_or(cairn_core::tool::Place::Missing);
            let _ = events.send(AppEvent::ToolPlaced { call_id, place });
        });
    }

    /// Runs an allowed call; its result comes back as `ToolFinished`.
    pub(super) fn run(&mut self, call_id: String, request: ToolRequest) {
        let Some(toolbox) = self.toolbox.clone() else {
            return self.without_tools(call_id);
        };
        let events = self.events.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            // A dropped sender (the chat is leaving) stops the command as well.
            let output = toolbox
                .execute(&request, async {
                    let _ = stopped.await;
                })
                .await;
            let _ = events.send(AppEvent::ToolFinished {
                call_id,
                output: output.text,
                is_error: output.is_error,
            });
        });
        self.running = Some((stop, handle));
    }

    /// Stops the running call; its result (saying it was stopped) still comes back.
    pub(super) fn cancel(&mut self) {
        if let Some((stop, handle)) = self.running.take() {
            let _ = stop.send(());
            // Kept to the end of the task: dropping the handle does not abort it.
            drop(handle);
        }
    }

    fn without_tools(&self, call_id: String) {
        let _ = self.events.send(AppEvent::ToolFinished {
            call_id,
            output: "Tools are turned off in this run of Cairn.".to_owned(),
            is_error: true,
        });
    }
}

impl Drop for ToolRunner {
    fn drop(&mut self) {
        if let Some((_, handle)) = self.running.take() {
            // Dropping the command's future kills its process group.
            handle.abort();
        }
    }
}
