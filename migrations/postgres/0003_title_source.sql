-- Where a session's title came from, so a title the user set is never replaced by one the
-- model made: 'first_message' (the first line of the first user message), 'model'
-- (generated after the first answer) or 'user' (`/rename`, `cairn sessions rename`).
-- The same column as SQLite's migration 0008.

ALTER TABLE sessions ADD COLUMN title_source TEXT NOT NULL DEFAULT 'first_message';
