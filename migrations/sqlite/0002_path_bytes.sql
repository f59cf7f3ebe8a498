-- Paths stored exactly. Release 0.1 kept `directory` and `git_root` as UTF-8 text, converted
-- lossily, so two folders whose names differ only in bytes that are not UTF-8 (`p\xff`,
-- `p\xfe`) were one workspace and resumed each other's sessions. From here on the path's
-- own bytes (the OS string, unchanged) identify the workspace; the text columns stay as a
-- readable copy for people looking at the file with other tools, and are never matched on.
--
-- Existing rows: text that came from a UTF-8 path is those very bytes, so casting it keeps
-- every such workspace resuming as before. A row whose path had already lost bytes keeps
-- its lossy bytes; that session no longer matches the folder it came from (it cannot be
-- told apart from its namesakes), but stays listed and loadable.

ALTER TABLE sessions ADD COLUMN directory_bytes BLOB NOT NULL DEFAULT x'';
ALTER TABLE sessions ADD COLUMN git_root_bytes BLOB;

UPDATE sessions SET
    directory_bytes = CAST(directory AS BLOB),
    git_root_bytes = CAST(git_root AS BLOB);

-- The resume lookup moves to the exact columns, with the same partial indexes as before.
DROP INDEX sessions_resumable_by_directory;
DROP INDEX sessions_resumable_by_git_root;

CREATE INDEX sessions_resumable_by_directory
    ON sessions (directory_bytes, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_git_root
    ON sessions (git_root_bytes, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;
