-- A run's events, stored as they are sent: `Last-Event-ID` replays them
-- after a restart and from any node for as long as they are kept.
--
-- seq counts from 1 within the run (the SSE `id:`); event is the SSE event
-- name; data is the core's event as JSON (each dialect renders it), never a
-- dialect's bytes. created_at (microseconds) is for retention.
CREATE TABLE run_events (
    run_id     BLOB NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    event      TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX run_events_created ON run_events (created_at);

-- A queued run's user message (the core's JSON of it) waits here and is
-- appended to the thread when the run starts, so that the run's prompt ends
-- with its own question and the thread reads question, answer, question…
ALTER TABLE runs ADD COLUMN queued_message TEXT;
