-- The whole schema of SQLite migrations 0001 to 0005 (search aside) in one step, with the same table and
-- column names, so that people and tools that know one store know the other. Timestamps are
-- milliseconds since the Unix epoch; ids are canonical hyphenated lowercase uuid text.
--
-- Ids collate as "C" (bytewise): the id-prefix lookup is a range on the primary key,
-- `id >= prefix AND id < prefix || 'g'`, which only holds under a bytewise order.

CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    -- A readable, lossy UTF-8 copy of the path; never matched on.
    directory TEXT NOT NULL,
    git_root TEXT,
    head_id TEXT COLLATE "C",
    title TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    -- User and assistant messages, on every branch.
    message_count BIGINT NOT NULL DEFAULT 0,
    -- Events that go to the model, on every branch: zero means nothing to continue.
    model_event_count BIGINT NOT NULL DEFAULT 0,
    -- First line of the latest user message, shortened.
    preview TEXT NOT NULL DEFAULT '',
    -- The path's own bytes: what workspaces are matched by.
    directory_bytes BYTEA NOT NULL,
    git_root_bytes BYTEA,
    -- The model the session was switched to (`/model NAME`); NULL for the default.
    model TEXT,
    -- The head's branch: its messages (the head's `message_depth`), and how many branches
    -- (leaf events) the session has.
    branch_message_count BIGINT NOT NULL DEFAULT 0,
    branch_count BIGINT NOT NULL DEFAULT 1,
    -- A fork records the session and event its copy came from.
    forked_from_session_id TEXT,
    forked_from_event_id TEXT
);

-- The resume lookup: newest resumable session of one directory, or of one git root, a seek
-- plus one step in these partial indexes whatever the size of the workspace.
CREATE INDEX sessions_resumable_by_directory
    ON sessions (directory_bytes, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_git_root
    ON sessions (git_root_bytes, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_by_updated_at ON sessions (updated_at);

CREATE TABLE session_events (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_id TEXT COLLATE "C",
    invocation_id TEXT COLLATE "C" NOT NULL,
    -- Unknown types (written by a newer build) are kept and skipped on load.
    event_type TEXT NOT NULL,
    event_data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Messages leading up to this event on its branch, itself included.
    message_depth BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX session_events_by_session ON session_events (session_id);
-- Appends ask whether an event already has a child (a new branch starts).
CREATE INDEX session_events_by_parent ON session_events (parent_id);

-- The turn in progress of each session: who is answering (the lease) and the answer so far
-- (drafts). Neither references `sessions`: a new session's first turn is leased before its
-- row exists; deleting a session deletes both.

CREATE TABLE turn_leases (
    session_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    holder_invocation_id TEXT COLLATE "C" NOT NULL,
    holder_host TEXT NOT NULL,
    holder_pid BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE answer_drafts (
    session_id TEXT COLLATE "C" NOT NULL,
    invocation_id TEXT COLLATE "C" NOT NULL,
    question_id TEXT COLLATE "C",
    model TEXT,
    text TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, invocation_id)
);
