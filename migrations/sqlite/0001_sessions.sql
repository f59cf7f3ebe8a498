-- Sessions and their events. Timestamps are milliseconds since the Unix epoch; ids are
-- canonical hyphenated lowercase uuid text; paths are UTF-8 text (lossily converted).
--
-- A session row carries counters maintained on every append (message_count,
-- model_event_count, preview), so listing and the resume lookup never scan events.

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    directory TEXT NOT NULL,
    git_root TEXT,
    head_id TEXT,
    title TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    archived_at INTEGER,
    -- User and assistant messages, on every branch.
    message_count INTEGER NOT NULL DEFAULT 0,
    -- Events that go to the model, on every branch: zero means nothing to continue.
    model_event_count INTEGER NOT NULL DEFAULT 0,
    -- First line of the latest user message, shortened.
    preview TEXT NOT NULL DEFAULT ''
);

-- The resume lookup: newest resumable session of one directory, or of one git root. The
-- partial indexes hold only resumable sessions, so the lookup is a seek plus one step
-- whatever the size of the workspace.
CREATE INDEX sessions_resumable_by_directory
    ON sessions (directory, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_git_root
    ON sessions (git_root, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

-- Listings, newest first: walked in `updated_at` order, filtered, stopped at the limit. No
-- per-workspace index on purpose: a listing filters on directory OR git root, which one
-- index cannot order, and each extra index on `updated_at` is one more write per append
-- (and tempts the planner away from the partial indexes above).
CREATE INDEX sessions_by_updated_at ON sessions (updated_at);

CREATE TABLE session_events (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_id TEXT,
    invocation_id TEXT NOT NULL,
    -- Unknown types (written by a newer build) are kept and skipped on load.
    event_type TEXT NOT NULL,
    event_data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX session_events_by_session ON session_events (session_id);
