-- A search row's id now names its session: the session's number (search_sessions) times
-- 2^31, plus the message's ordinal in that session. Finding the sessions where each word of
-- a query is said in some message (not all in one) then needs the full-text index alone,
-- where it used to read search_entries once per match: a random read in a table of a
-- million rows for every message saying a common word.
--
-- The index is rebuilt: its rows are dropped here and search_backfill covers every stored
-- event again, which Cairn indexes in batches in the background, with progress shown, as
-- it did after 0006. Until then a search finds what is indexed so far.

CREATE TABLE search_sessions (
    number INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE
);

INSERT INTO search_sessions (session_id) SELECT id FROM sessions ORDER BY created_at, id;

-- Every way a session is made (a new chat, a fork, a copy from another store) gets its
-- number in the same statement.
CREATE TRIGGER search_sessions_number_new AFTER INSERT ON sessions
BEGIN
    INSERT INTO search_sessions (session_id) VALUES (NEW.id);
END;

DROP TABLE search_text;
DROP TABLE search_entries;

CREATE TABLE search_entries (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE INDEX search_entries_by_session ON search_entries (session_id);

CREATE VIRTUAL TABLE search_text USING fts5 (
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);

UPDATE search_backfill SET after_rowid = 0,
    upto_rowid = (SELECT ifnull(max(rowid), 0) FROM session_events);
