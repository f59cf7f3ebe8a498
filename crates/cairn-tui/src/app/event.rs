//! What flows in and out of the state machine: [`AppEvent`]s that the driver and the session
//! task feed to [`App::handle`](super::App::handle), and the [`Effect`]s (among them
//! [`SessionJob`]s for the session task) that it returns for the driver to perform.
//!
//! These are plain data: no handles, no channels, no clocks. Stream events carry the turn
//! number they belong to, so a reply that arrives after its turn ended can be recognised and
//! ignored.

use std::path::PathBuf;

use cairn_core::compact::SummaryInput;
use cairn_core::private_file::Overwrite;
use cairn_core::search::SearchHit;
use cairn_core::title::{TitleInput, TitleSource};
use cairn_core::tool::{Place, ToolRequest};
use cairn_core::tree::ConversationTree;
use cairn_core::{
    Event, EventId, EventKind, ModelRequest, ProviderError, SessionId, SessionSummary, StreamEvent,
};
use crossterm::event::KeyEvent;

/// What the status line shows about the session; refreshed by the session task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    /// The shortest prefix of the id no other stored session shares (eight digits or more).
    pub short_id: String,
    /// The session's title; empty while it has none.
    pub title: String,
    /// The workspace folder, absolute.
    pub directory: PathBuf,
    /// The workspace folder for display (`~/...`).
    pub display_directory: String,
    /// Whether the session has been written to storage yet.
    pub stored: bool,
    /// The model chosen for the session with `/model`, if any.
    pub model: Option<String>,
    /// How many branches the session has (1 until it is known to have more).
    pub branches: usize,
}

/// Whether the session on screen was started fresh or picked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A fresh session, never shown before.
    New,
    /// An earlier session continued (on start, or picked in `/sessions`).
    Resumed,
}

/// Everything that can happen to the screen.
#[derive(Debug)]
pub enum AppEvent {
    /// A key press (or repeat; releases are ignored).
    Key(KeyEvent),
    /// Bracketed paste: text to insert as typed, without sending it.
    Paste(String),
    /// The mouse wheel (a mouse event, or arrows the terminal sent for it in alternate-scroll
    /// mode): scroll `rows` rows, towards older messages when `up`.
    Wheel { up: bool, rows: usize },
    /// `count` Up (`up`) or Down arrows that arrived at once: the wheel in alternate-scroll
    /// mode, or (rarely) keys pressed faster than they were read. The screen decides which.
    Arrows { up: bool, count: usize },
    /// The terminal has a new size.
    Resize { width: u16, height: u16 },
    /// Wall-clock time in milliseconds since the Unix epoch.
    Tick { now_ms: i64 },
    /// SIGTERM or SIGHUP: leave as if the user quit.
    Terminate,
    /// The session task persisted the user message (or branched for a retry) and built the
    /// request for `turn`.
    RequestReady { turn: u64, request: ModelRequest },
    /// A turn could not be started (for example `/retry` with nothing to retry).
    TurnRejected { turn: u64, reason: String },
    /// Another process is answering in this session, so `turn` did not start and its message
    /// `text` was not written: the screen queues it until the other turn ends.
    TurnWaiting {
        turn: u64,
        text: String,
        holder: String,
    },
    /// The session task ran a persistence job; what the screen needs to know about it.
    Persisted(PersistReport),
    /// Another process changed this session (seen by the session task's watch).
    LiveUpdate(LiveUpdate),
    /// The session's title, folder or stored flag changed.
    SessionChanged(SessionView),
    /// `/new` done: `archived` is the id of the session put away, if it had been written,
    /// shortened only as far as it stays unambiguous (it is shown as `cairn -s <id>`).
    /// `carried`: the new session's first events when it continues the archived one
    /// (`/new --summary`), else empty.
    SessionReset {
        archived: Option<String>,
        view: SessionView,
        carried: Vec<Event>,
    },
    /// The session being resumed at start is loaded whole (its newest events were on screen
    /// already); `notes` are what the load found (recovered answers, warnings).
    SessionOpened {
        view: SessionView,
        events: Vec<Event>,
        notes: Vec<String>,
    },
    /// The session being resumed at start could not be loaded; `view` is the fresh session
    /// the chat continues with.
    OpenFailed { view: SessionView, error: String },
    /// A session picked in `/sessions` is now the current one.
    SessionLoaded {
        view: SessionView,
        events: Vec<Event>,
        notes: Vec<String>,
    },
    /// The models the provider offers, for the `/model` picker, or why it could not say.
    ModelsListed(Result<Vec<String>, String>),
    /// The list the sessions picker asked for (this workspace or all of them), or why it
    /// could not be read.
    SessionsListed {
        all_workspaces: bool,
        result: Result<Vec<SessionSummary>, String>,
    },
    /// Sessions where the picker's filter `query` was said, best first, or why the search
    /// could not run (an invalid query, a store that cannot search).
    SearchResults {
        query: String,
        all_workspaces: bool,
        result: Result<Vec<SearchHit>, String>,
    },
    /// Scroll the transcript so that this event's message is in view (after opening a
    /// session at a search match).
    Focus(EventId),
    /// The active branch, oldest first, for the rewind list; or why it could not be read.
    BranchListed(Result<Vec<Event>, String>),
    /// The session's tree for `/tree`, or why it could not be read.
    TreeLoaded(Result<ConversationTree, String>),
    /// A session-task job other than persisting failed; shown as an error.
    JobFailed { what: String, error: String },
    /// `/rename` was stored.
    Renamed { title: String },
    /// The session received its first complete answer: the model may name it now. With
    /// `refresh_of` (the model's title, a few turns later), the model is asked once whether
    /// that title still fits `input`, the latest exchange.
    TitleWanted {
        session_id: SessionId,
        input: TitleInput,
        refresh_of: Option<String>,
    },
    /// The model named the session, or kept its name (the title is cleaned already).
    TitleGenerated {
        session_id: SessionId,
        title: String,
        source: TitleSource,
    },
    /// The session task's answer to a [`PickerJob`].
    Picker(PickerReply),
    /// `/export` wrote the file (its path), or why it could not.
    ExportWritten { result: Result<PathBuf, String> },
    /// A piece of the model's answer for `turn`.
    Stream { turn: u64, event: StreamEvent },
    /// The model stream for `turn` failed; what arrived so far is kept.
    StreamFailed { turn: u64, error: ProviderError },
    /// The model stream for `turn` closed (possibly without a finish reason).
    StreamEnded { turn: u64 },
    /// Where the path of the tool call `call_id` resolved to (after [`Effect::PlaceTool`]).
    ToolPlaced { call_id: String, place: Place },
    /// The tool call `call_id` ran (after [`Effect::RunTool`]): the result for the model.
    ToolFinished {
        call_id: String,
        output: String,
        is_error: bool,
    },
    /// Compacting the conversation (`/compact`, or automatically before a turn).
    Compaction(CompactionEvent),
}

/// How compacting the conversation goes, step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompactionEvent {
    /// The session task worked out what to summarise and the request that asks for it.
    /// `waiting_turn`: the turn whose request is built once the summary is stored;
    /// `automatic`: the history filled the configured share of the context window.
    Wanted {
        input: SummaryInput,
        request: ModelRequest,
        waiting_turn: Option<u64>,
        automatic: bool,
    },
    /// Nothing new to summarise since the last summary (or at all).
    NothingToSummarise { waiting_turn: Option<u64> },
    /// The model's summary, cleaned (`None`: nothing usable), or why it could not be made.
    Generated {
        input: SummaryInput,
        waiting_turn: Option<u64>,
        result: Result<Option<String>, String>,
    },
    /// The summary is stored; it stands for this many messages.
    Stored { messages: u64 },
}

/// Session-task work for compaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompactJob {
    /// Work out what a summary of the active branch would cover and how to ask `model` for
    /// it, with the user's `instructions`.
    Prepare {
        instructions: Option<String>,
        model: String,
        waiting_turn: Option<u64>,
    },
    /// Store `summary` (when one was made) and then, for a waiting turn, build its request
    /// for `model`.
    Finish {
        summary: Option<(SummaryInput, String)>,
        waiting_turn: Option<u64>,
        model: String,
    },
    /// `/new --summary`: archive this session and start a new one whose first event is
    /// `text`, the summary of `input`, linked to it; replies with
    /// [`AppEvent::SessionReset`] carrying that event.
    Continue { input: SummaryInput, text: String },
}

/// What a persist did, as the screen needs to know it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistReport {
    /// Set when writing failed (reported once per outage); the events stay in memory and
    /// are written again every second until the store answers.
    pub error: Option<String>,
    /// After a failure: how many events waiting in memory were written once the store
    /// answered again.
    pub saved_after_outage: Option<usize>,
    /// Set when another Cairn wrote to this session meanwhile: how many events it wrote and
    /// the whole branch as it is now.
    pub merged: Option<(usize, Vec<Event>)>,
    /// Another process had archived the session; this write made it active again.
    pub unarchived: bool,
    /// Another process had deleted the session; what was not yet saved went into a fresh
    /// session, this one.
    pub moved_to: Option<SessionView>,
}

/// What another process did to the session on screen, as the session task's watch saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveUpdate {
    /// Events another terminal appended, oldest first; they follow what is on screen.
    pub appended: Vec<Event>,
    /// Another terminal answering now: who ("pid 42 on laptop") and its answer so far.
    /// `None` when nobody else is answering.
    pub other_turn: Option<(String, String)>,
    /// Another terminal archived the session.
    pub archived_elsewhere: bool,
    /// Another terminal deleted the session: the fresh session now current, and the events
    /// kept in it (the ones that were not yet saved).
    pub deleted: Option<(SessionView, Vec<Event>)>,
}

/// Work for the session task, which owns the `SessionManager` and runs jobs in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionJob {
    /// Push and persist the user message, then build the request for `turn`.
    SendUserMessage {
        turn: u64,
        text: String,
        model: String,
    },
    /// Branch from the last user message and build the request for `turn` again.
    Retry { turn: u64, model: String },
    /// Push and persist these events (an answer, an error, tool calls), then give the turn's
    /// lease back.
    Record(Vec<EventKind>),
    /// Push and persist these events of a turn that goes on (an answer with calls, a
    /// decision, a result), keeping the turn's lease.
    RecordStep(Vec<EventKind>),
    /// Build the next request of the turn from the stored branch (after tool results).
    NextRequest { turn: u64, model: String },
    /// Keep the turn's lease alive and save the answer so far as its draft, so another
    /// terminal knows this one is answering and a crash loses at most a second of text.
    Heartbeat {
        answer_so_far: String,
        model: String,
    },
    /// `/new`: archive the current session (if it was written) and start a fresh one.
    NewSession,
    /// Make this session the current one and load its conversation.
    Resume(SessionId),
    /// Search what was said in sessions (this workspace's or every workspace's) for the
    /// picker's filter.
    Search { query: String, all_workspaces: bool },
    /// Make this session the current one, load it, and show `event_id` (a search match).
    OpenAt {
        session_id: SessionId,
        event_id: EventId,
    },
    /// The first job of a chat resumed at start: load the session whose newest events are on
    /// screen, whole, and make it the current one.
    Open(SessionId),
    /// Moving around the conversation tree.
    Tree(TreeJob),
    /// `/rename`: give the session this title.
    Rename(String),
    /// Give the session the title the model made, unless the user has named it.
    SetGeneratedTitle {
        session_id: SessionId,
        title: String,
        source: TitleSource,
    },
    /// `/model NAME`: the session uses this model from now on, also when continued later.
    SetModel(String),
    /// List the sessions for the picker: this workspace's, or every workspace's.
    ListSessions { all_workspaces: bool },
    /// Write the conversation as Markdown to `path` (a folder: a file named after the session
    /// inside it), a new private file unless `overwrite` says an existing one may be replaced.
    Export { path: PathBuf, overwrite: Overwrite },
    /// Summarising the conversation.
    Compact(CompactJob),
    /// The sessions picker reads or changes a session other than the open one.
    Picker(PickerJob),
}

/// Session-task work for the sessions picker, on a session that is not the open one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerJob {
    /// Read the session's newest messages for the preview.
    Preview(SessionId),
    /// Give the session the title the user typed.
    Rename {
        session_id: SessionId,
        title: String,
    },
    /// Archive (`true`) or restore the session.
    SetArchived {
        session_id: SessionId,
        archived: bool,
    },
    /// Delete the session and everything in it.
    Delete(SessionId),
}

/// What the session task says back about a [`PickerJob`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerReply {
    /// The session's newest messages, oldest first, or why they could not be read.
    Preview {
        session_id: SessionId,
        result: Result<Vec<Event>, String>,
    },
    /// A change was made (what it was, for the footer), or why it could not be.
    Changed(Result<String, String>),
}

/// Session-task work on the conversation tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeJob {
    /// The active branch for the rewind list.
    ListBranch,
    /// The whole tree for `/tree`.
    LoadTree,
    /// Make the branch through this event the active one and load it.
    SwitchBranch(EventId),
    /// Fork the branch ending at this event (the head when `None`) into a new session, which
    /// becomes the current one.
    Fork { at: Option<EventId> },
    /// The next message follows this event (`None`: starts the conversation again), making
    /// a new branch: an edited message goes after the original's parent.
    BranchAt(Option<EventId>),
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Hand this job to the session task (jobs run in the order they were returned).
    Job(SessionJob),
    /// Send `request` to the model; its stream comes back as events for `turn`.
    StartStream { turn: u64, request: ModelRequest },
    /// Stop the model stream of `turn`.
    CancelStream { turn: u64 },
    /// Find where a read tool's path is (inside the workspace or not); the answer comes
    /// back as [`AppEvent::ToolPlaced`].
    PlaceTool {
        call_id: String,
        request: ToolRequest,
    },
    /// Run an allowed call off the UI thread; its result comes back as
    /// [`AppEvent::ToolFinished`].
    RunTool {
        call_id: String,
        request: ToolRequest,
    },
    /// Stop the running call (a command's whole process group); its result still comes back.
    CancelTool,
    /// Append this sent line to the prompt-history file.
    SaveHistory(String),
    /// Ask the provider which models it offers; the answer comes back as `ModelsListed`.
    ListModels,
    /// Ask the model for the session's title in the background, never in the way of the
    /// conversation; the title comes back as `TitleGenerated`.
    GenerateTitle {
        session_id: SessionId,
        request: ModelRequest,
        /// The title being checked (see [`AppEvent::TitleWanted`]); `None` asks for a
        /// first one.
        refresh_of: Option<String>,
    },
    /// Ask the model for a summary with `request`; it comes back as
    /// [`CompactionEvent::Generated`] with `input` and `waiting_turn`.
    GenerateSummary {
        input: SummaryInput,
        request: ModelRequest,
        waiting_turn: Option<u64>,
    },
    /// Put this text on the clipboard (through the terminal, OSC 52).
    CopyToClipboard(String),
    /// Ctrl+L: clear the terminal and draw everything again.
    ClearScreen,
    /// Ctrl+Z: give the terminal back and stop, as a shell's job control expects; `fg`
    /// resumes and everything is drawn again.
    Suspend,
    /// Leave: finish pending writes and restore the terminal.
    Quit,
}
