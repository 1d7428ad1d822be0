-- Leases on runs in progress (see migrations/sqlite/0007_run_leases.sql).
ALTER TABLE runs
    ADD COLUMN lease_holder        TEXT,
    ADD COLUMN lease_until         TIMESTAMPTZ,
    ADD COLUMN cancel_requested_at TIMESTAMPTZ;
