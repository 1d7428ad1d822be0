-- A run waiting for the client's tool outputs keeps status 'in_progress'
-- (its thread's one active slot, its lease and the sweep of a dead node's
-- runs stay as they are) with required_action set: the calls it waits for,
-- the core's JSON [{id, name, arguments}]; the API shows it as
-- 'requires_action'. Submitting clears required_action and leaves the
-- outputs in tool_outputs until the run's executor takes them. Both
-- changes are compare-and-sets on these columns.
ALTER TABLE runs ADD COLUMN required_action TEXT;
ALTER TABLE runs ADD COLUMN tool_outputs TEXT;
