-- Sessions stored before the machine's name was recorded (host IS NULL) are every machine's
-- own, so the resume lookup has an arm for them beside each path step. The path indexes of
-- 0002 lead with (path, host, updated_at), but PostgreSQL does not treat `host IS NULL` as an
-- equality: it could not read those rows in `updated_at` order from that index and walked
-- the whole window backwards instead (every resumable session of the last N minutes, about
-- a millisecond per thousand, on every launch). Indexes of the host-less rows alone make
-- each of those arms one seek again; they hold only rows not written since the upgrade.
CREATE INDEX sessions_resumable_by_directory_without_host
    ON sessions (directory_bytes, updated_at)
    WHERE host IS NULL AND archived_at IS NULL AND model_event_count > 0;

CREATE INDEX sessions_resumable_by_git_root_without_host
    ON sessions (git_root_bytes, updated_at)
    WHERE host IS NULL AND archived_at IS NULL AND model_event_count > 0;
