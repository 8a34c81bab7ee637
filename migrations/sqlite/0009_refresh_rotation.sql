-- Refresh-token rotation in one statement: spending a token names its successor, and this
-- trigger inserts the successor inside the same statement (atomic without BEGIN/COMMIT).
ALTER TABLE refresh_tokens ADD COLUMN successor TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_expires_at INTEGER;
CREATE TRIGGER refresh_tokens_rotate AFTER UPDATE OF used_at ON refresh_tokens
WHEN NEW.successor IS NOT NULL AND OLD.used_at IS NULL
BEGIN
    INSERT INTO refresh_tokens (hash, grant_id, issued_at, expires_at)
    VALUES (NEW.successor, NEW.grant_id, NEW.used_at, NEW.successor_expires_at);
END;
