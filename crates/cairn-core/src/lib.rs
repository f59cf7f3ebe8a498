//! Cairn's domain layer.
//!
//! Everything the front ends (TUI, CLI) and the back ends (storage, model providers) agree on
//! lives here: sessions and their events, the [`SessionService`] storage trait, the
//! [`SessionManager`] that owns the conversation in memory and persists it, workspace
//! detection, the resume policy, configuration, the [`ModelProvider`] trait and the
//! [`turn`] engine both front ends share.
//!
//! This crate knows nothing of SQL or terminals; dependencies point inward, to here.

pub mod branch;
pub mod clock;
pub mod compact;
pub mod config;
pub mod event;
pub mod ids;
pub mod lease;
pub mod manager;
pub mod paths;
pub mod private_file;
pub mod provider;
pub mod repository;
pub mod resume;
pub mod search;
pub mod service;
pub mod session;
pub mod shorten;
pub mod text;
pub mod title;
pub mod tool;
pub mod transcript;
pub mod transfer;
pub mod tree;
pub mod turn;
pub mod workspace;

pub use clock::{Clock, ManualClock, SystemClock, utc_date};
pub use event::{Continuation, Event, EventKind, TokenUsage, ToolVerdict};
pub use ids::{EventId, InvocationId, SessionId};
pub use manager::{
    OtherTurn, PersistOutcome, ResumeInfo, SessionChanges, SessionManager, StartOutcome,
    continuing_note,
};
pub use provider::{
    ModelProvider, ModelRequest, ModelStream, ProviderError, ProviderInfo, StreamEvent,
};
pub use resume::ResumePolicy;
pub use service::{
    ForkOrigin, LoadedSession, RecentEvents, ServiceError, SessionEvents, SessionFilter,
    SessionService, SessionSummary, SessionVersion,
};
pub use session::{Location, Session};
pub use workspace::Workspace;
