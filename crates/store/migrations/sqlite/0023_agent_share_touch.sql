-- A change to an agent's shares touches the agent's row (an UPDATE that
-- writes the same value): the writer's update hook, which keeps spool's
-- cache of nested agents in step, does not see agent_shares itself, a
-- WITHOUT ROWID table. Nothing visible changes.
CREATE TRIGGER agent_shares_touch_insert AFTER INSERT ON agent_shares BEGIN
    UPDATE agents SET updated_at = updated_at WHERE id = new.agent_id;
END;
CREATE TRIGGER agent_shares_touch_update AFTER UPDATE ON agent_shares BEGIN
    UPDATE agents SET updated_at = updated_at WHERE id = new.agent_id;
END;
CREATE TRIGGER agent_shares_touch_delete AFTER DELETE ON agent_shares BEGIN
    UPDATE agents SET updated_at = updated_at WHERE id = old.agent_id;
END;
