-- The turn in progress of each session (see cairn-core's lease module): who is answering
-- (the lease) and the answer so far (drafts). Neither references `sessions`: a new
-- session's first turn is leased before its row exists; deleting a session deletes both.

CREATE TABLE turn_leases (
    session_id TEXT PRIMARY KEY NOT NULL,
    holder_invocation_id TEXT NOT NULL,
    holder_host TEXT NOT NULL,
    holder_pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE answer_drafts (
    session_id TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    question_id TEXT,
    model TEXT,
    text TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, invocation_id)
);
