-- Idempotency claims that cannot outlive their process, and that know
-- whether their request's effect committed (see the SQLite migration 0005).
ALTER TABLE idempotency_keys
    ADD COLUMN lease_holder TEXT,
    ADD COLUMN lease_until  TIMESTAMPTZ,
    ADD COLUMN effect_at    TIMESTAMPTZ,
    ADD COLUMN reference    TEXT;
