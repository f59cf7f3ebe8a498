-- The conversation tree. A session holds every branch it ever had (an answer regenerated, a
-- message edited); the head picks the active one. Listings count the active branch, so each
-- event records how many messages lead up to it, itself included (`message_depth`): the
-- active branch's count is then its head's, and switching branches costs one lookup. The
-- number of branches (leaf events) is kept beside it, updated on every append.
--
-- A fork is a new session holding copies of another's branch; it records where it came from.

ALTER TABLE session_events ADD COLUMN message_depth INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN branch_message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN branch_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN forked_from_session_id TEXT;
ALTER TABLE sessions ADD COLUMN forked_from_event_id TEXT;

-- Appends ask whether an event already has a child (a new branch starts) and the tree's
-- backfill below walks parent links: both by parent.
CREATE INDEX session_events_by_parent ON session_events (parent_id);

-- Existing events: depths down every branch from each first event. Events cut off from
-- their first event (a missing parent in a damaged store) keep 0.
WITH RECURSIVE depth (id, messages) AS (
    SELECT id, event_type IN ('user_message', 'assistant_message')
    FROM session_events WHERE parent_id IS NULL
    UNION ALL
    SELECT child.id, depth.messages + (child.event_type IN ('user_message', 'assistant_message'))
    FROM session_events AS child JOIN depth ON child.parent_id = depth.id
)
UPDATE session_events SET message_depth = depth.messages
FROM depth WHERE depth.id = session_events.id;

UPDATE sessions SET
    branch_message_count = COALESCE(
        (SELECT message_depth FROM session_events WHERE id = sessions.head_id), 0),
    branch_count = MAX(1, (
        SELECT count(*) FROM session_events AS leaf
        WHERE leaf.session_id = sessions.id
          AND NOT EXISTS (SELECT 1 FROM session_events AS child WHERE child.parent_id = leaf.id)));
