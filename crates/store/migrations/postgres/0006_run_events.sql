-- A run's events: the same intent as migrations/sqlite/0006_run_events.sql.
CREATE TABLE run_events (
    run_id     UUID NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    event      TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

CREATE INDEX run_events_created ON run_events (created_at);

ALTER TABLE runs ADD COLUMN queued_message TEXT;
