-- Leases on runs in progress: the node executing a run holds it until
-- lease_until (microseconds) and renews it while the run streams; any node
-- may end a run whose lease ran out (its node stopped). A run not leased yet
-- counts from its started_at. cancel_requested_at: a cancel sent to any
-- node, for the node that executes the run.
ALTER TABLE runs ADD COLUMN lease_holder TEXT;
ALTER TABLE runs ADD COLUMN lease_until INTEGER;
ALTER TABLE runs ADD COLUMN cancel_requested_at INTEGER;
