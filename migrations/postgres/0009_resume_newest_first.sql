-- The resume lookup's indexes again, ordered by `-updated_at`, so that only they can give a
-- workspace's sessions newest first. With the indexes of 0002 and 0006 (ordered by
-- `updated_at`), the planner could also walk `sessions_by_updated_at` backwards and filter
-- by workspace; it did whenever the workspace held many sessions, betting that one of them
-- would come soon. When they are all older than the rest of the window (a big project not
-- touched today), that walk reads every session of the window: 2 ms for 5,000, growing with
-- the window, where a seek takes a tenth of that. An order no other index gives takes the bet
-- away. Each index is built before the one it replaces is dropped.
CREATE INDEX sessions_resume_by_directory
    ON sessions (directory_bytes, host, (-updated_at))
    WHERE archived_at IS NULL AND model_event_count > 0;
CREATE INDEX sessions_resume_by_directory_without_host
    ON sessions (directory_bytes, (-updated_at))
    WHERE host IS NULL AND archived_at IS NULL AND model_event_count > 0;
CREATE INDEX sessions_resume_by_git_root
    ON sessions (git_root_bytes, host, (-updated_at))
    WHERE archived_at IS NULL AND model_event_count > 0;
CREATE INDEX sessions_resume_by_git_root_without_host
    ON sessions (git_root_bytes, (-updated_at))
    WHERE host IS NULL AND archived_at IS NULL AND model_event_count > 0;
CREATE INDEX sessions_resume_by_repository_folder
    ON sessions (repository, repository_folder_bytes, (-updated_at))
    WHERE archived_at IS NULL AND model_event_count > 0 AND repository IS NOT NULL;
CREATE INDEX sessions_resume_by_repository
    ON sessions (repository, (-updated_at))
    WHERE archived_at IS NULL AND model_event_count > 0 AND repository IS NOT NULL;

DROP INDEX sessions_resumable_by_directory;
DROP INDEX sessions_resumable_by_directory_without_host;
DROP INDEX sessions_resumable_by_git_root;
DROP INDEX sessions_resumable_by_git_root_without_host;
DROP INDEX sessions_resumable_by_repository_folder;
DROP INDEX sessions_resumable_by_repository;
