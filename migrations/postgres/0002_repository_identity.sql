-- Where a session was last active, so that one repository checked out at different paths on
-- different machines is recognised as one workspace (see docs/architecture.md, "The resume
-- policy"):
--   host                     the machine's name. NULL for sessions stored before this
--                            migration: the database cannot know which machine wrote them, and
--                            every machine takes them as its own, as all did before.
--   repository               the `origin` remote normalised (`host/owner/name`, no
--                            credentials); NULL without one or outside a repository.
--   repository_folder_bytes  the folder inside the work tree, its exact OS bytes (empty at
--                            the root); NULL outside a repository.
-- Existing rows keep NULL for all three: their repository's remote is not known here, so they
-- are matched by their paths on this machine, as before; a session moves to the new columns
-- the next time it is written to.

ALTER TABLE sessions ADD COLUMN host TEXT;
ALTER TABLE sessions ADD COLUMN repository TEXT;
ALTER TABLE sessions ADD COLUMN repository_folder_bytes BYTEA;

-- The resume lookup tries each step of the policy as a seek in its own partial index plus
-- one step backwards in `updated_at`, whatever the number of sessions. The path indexes gain
-- the host, so "this machine" is part of the seek (a NULL host is sought on its own).
DROP INDEX sessions_resumable_by_directory;
DROP INDEX sessions_resumable_by_git_root;

CREATE INDEX sessions_resumable_by_directory
    ON sessions (directory_bytes, host, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_git_root
    ON sessions (git_root_bytes, host, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_repository_folder
    ON sessions (repository, repository_folder_bytes, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0 AND repository IS NOT NULL;

CREATE INDEX sessions_resumable_by_repository
    ON sessions (repository, updated_at)
    WHERE archived_at IS NULL AND model_event_count > 0 AND repository IS NOT NULL;
