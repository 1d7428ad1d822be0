-- Tools: an agent's tool definitions (the core's JSON, a list), and those
-- a run was started with (the agent's and the request's, merged) with its
-- tool_choice ("auto", "none", "required" or {"name": ...}), so that a
-- queued run started by another node sees the same tools.
ALTER TABLE agents ADD COLUMN tools TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN tools TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN tool_choice TEXT NOT NULL DEFAULT '"auto"';
