-- A run's metadata, top_p and finish_reason (see migrations/sqlite/0013_run_metadata.sql).
ALTER TABLE runs
    ADD COLUMN metadata      JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN top_p         DOUBLE PRECISION,
    ADD COLUMN finish_reason TEXT;
