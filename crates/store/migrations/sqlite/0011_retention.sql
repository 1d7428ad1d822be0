-- Retention: a thread's own expiry (expires_at), and a workspace's rule that
-- threads without one are deleted this many days after their last activity
-- (activity_at; threads_by_activity serves it). The sweep deletes idle expired threads in bounded batches.
ALTER TABLE threads ADD COLUMN expires_at INTEGER;
ALTER TABLE workspaces ADD COLUMN thread_retention_days INTEGER;

CREATE INDEX threads_expiry ON threads (expires_at) WHERE expires_at IS NOT NULL;
