-- A run's metadata, top_p, finish_reason and history_limit (see migrations/sqlite/0013_run_metadata.sql).
ALTER TABLE runs
    ADD COLUMN metadata      JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN top_p         DOUBLE PRECISION,
    ADD COLUMN finish_reason TEXT,
    ADD COLUMN history_limit INTEGER;
