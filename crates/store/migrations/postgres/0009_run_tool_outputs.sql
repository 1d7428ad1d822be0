-- Runs waiting for tool outputs (see migrations/sqlite/0009_run_tool_outputs.sql).
ALTER TABLE runs
    ADD COLUMN required_action JSONB,
    ADD COLUMN tool_outputs    JSONB;
