-- Idempotency claims that cannot outlive their process, and that know
-- whether their request's effect committed.
--
-- lease_holder/lease_until: the process carrying the request out, and until
-- when it is presumed alive (it renews the lease while it works; a claim
-- whose lease ran out may be taken over). NULL once a response is kept.
-- effect_at: set by the request's own writes, in their transaction; a claim
-- without it committed nothing and may be carried out afresh.
-- reference: what the request made (`run:<uuid>`), for a retry to resume.
ALTER TABLE idempotency_keys ADD COLUMN lease_holder TEXT;
ALTER TABLE idempotency_keys ADD COLUMN lease_until INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN effect_at INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN reference TEXT;
