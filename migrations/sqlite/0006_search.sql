-- Full-text search over what was said (user and assistant text; see cairn-core's search
-- module). Each searchable event has a row in search_entries, whose INTEGER PRIMARY KEY is
-- stable (VACUUM renumbers the implicit rowids of session_events, never this one), and its
-- text in the FTS5 table search_text under the same rowid.
--
-- Tokenizer: unicode61 with diacritics removed, so `cafe` finds `café` and case does not
-- matter. It does not segment scripts written without spaces, so Cairn puts a zero-width
-- space between their characters before indexing (and cuts queries the same way): any run of
-- Chinese, Japanese or Korean characters is then found as a phrase of single characters. A
-- trigram index would find those too, but not words of one or two characters (common in
-- those scripts), and it costs about three times the space.
--
-- Rows are written in the transaction that writes the event, so a search never misses a
-- stored message; deleting a session deletes its rows in the same transaction.

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

-- Events stored before this migration are indexed by Cairn in batches, in the background
-- (SQL cannot cut text as the index needs): those with a session_events rowid after
-- `after_rowid` up to `upto_rowid`, the last one stored before the migration. Later events are
-- indexed as they are written.
CREATE TABLE search_backfill (
    after_rowid INTEGER NOT NULL,
    upto_rowid INTEGER NOT NULL
);

INSERT INTO search_backfill (after_rowid, upto_rowid)
    SELECT 0, ifnull(max(rowid), 0) FROM session_events;
