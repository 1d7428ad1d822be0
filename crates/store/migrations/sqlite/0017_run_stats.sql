-- Runs counted per workspace (metrics) and per agent (the leaderboard) over
-- a range of created_at.
CREATE INDEX runs_workspace_created ON runs (workspace_id, created_at);
CREATE INDEX runs_agent_created ON runs (agent_id, created_at) WHERE agent_id IS NOT NULL;
