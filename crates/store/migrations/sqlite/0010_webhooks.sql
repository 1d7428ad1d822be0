-- A workspace's webhooks, and the outbox of deliveries they are owed. A
-- run's end inserts its deliveries in the transaction that ends it; the
-- sender claims due ones under a lease and records each attempt.
-- events: comma-separated event names. secret: 'whsec_' and base64, kept
-- in clear because it signs every delivery.
CREATE TABLE webhooks (
    id           BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    events       TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX webhooks_workspace ON webhooks (workspace_id, created_at);

-- run_id has no foreign key: the log outlives a deleted thread.
-- status: pending | delivered | failed.
CREATE TABLE webhook_deliveries (
    id              BLOB PRIMARY KEY,
    webhook_id      BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    run_id          BLOB,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    response_status INTEGER,
    error           TEXT,
    delivered_at    INTEGER,
    lease_holder    TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
