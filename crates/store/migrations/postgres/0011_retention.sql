-- Retention (see migrations/sqlite/0011_retention.sql).
ALTER TABLE threads ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE workspaces ADD COLUMN thread_retention_days INTEGER;

CREATE INDEX threads_expiry ON threads (expires_at) WHERE expires_at IS NOT NULL;
