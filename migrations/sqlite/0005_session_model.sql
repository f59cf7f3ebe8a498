-- The model a session was switched to with `/model`, so it is used again when the session is
-- continued. NULL: the configured model.

ALTER TABLE sessions ADD COLUMN model TEXT;
