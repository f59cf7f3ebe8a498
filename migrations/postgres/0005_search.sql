-- Full-text search over what was said (user and assistant text; see cairn-core's search
-- module), with PostgreSQL's own index: one row per searchable event, its words in a
-- `tsvector` under a GIN index.
--
-- Cairn makes the words itself (cairn_core::search::words: letters and digits, each
-- character of Chinese, Japanese or Korean alone, folded to lower case without accents) and
-- writes them as a tsvector literal, instead of leaving them to a text search
-- configuration: configurations split and fold text their own way (and `unaccent` is an
-- extension a shared server may not have), and both backends must find the same messages.
-- The same rules cut queries. SQLite keeps the text in an FTS5 table (`search_text`); here
-- the words live beside the event id, in `search_entries.document`.
--
-- A `tsvector` holds at most 1 MiB and positions up to 16,383, so a longer message is indexed
-- as several chunks of words (`chunk` 0, 1, ...), each a row: every word of every message is
-- found. Rows are written in the transaction that writes the event; deleting a session
-- deletes them by cascade.

CREATE TABLE search_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT COLLATE "C" NOT NULL REFERENCES session_events (id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL,
    UNIQUE (event_id, chunk)
);

CREATE INDEX search_entries_by_session ON search_entries (session_id, id);
CREATE INDEX search_entries_document ON search_entries USING GIN (document);

-- Events stored before this migration are indexed by Cairn in batches, in the background, in
-- id order after `after_id`; `total` is how many there were, `indexed` how many are done.
CREATE TABLE search_backfill (
    after_id TEXT COLLATE "C" NOT NULL,
    indexed BIGINT NOT NULL,
    total BIGINT NOT NULL
);

INSERT INTO search_backfill (after_id, indexed, total)
    SELECT '', 0, count(*) FROM session_events;
