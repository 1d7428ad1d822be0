-- Tools on agents and runs (see migrations/sqlite/0008_tools.sql).
ALTER TABLE agents ADD COLUMN tools JSONB NOT NULL DEFAULT '[]';
ALTER TABLE runs
    ADD COLUMN tools       JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN tool_choice JSONB NOT NULL DEFAULT '"auto"';
