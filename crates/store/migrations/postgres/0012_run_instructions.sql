-- A run's own instructions (see migrations/sqlite/0010_run_instructions.sql).
ALTER TABLE runs
    ADD COLUMN instructions            TEXT,
    ADD COLUMN additional_instructions TEXT;
