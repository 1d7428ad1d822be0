-- How many threads each workspace has, for the `total` of a page of the
-- workspace's threads: counting 100,000 rows on every request cost more than
-- the page itself. Triggers keep it in the transaction that inserts or
-- deletes the thread, whichever path does it (API, retention sweep, import,
-- a workspace's cascade). Each workspace's count is spread over 16 rows
-- (by thread id) so that concurrent inserts of threads do not all wait for
-- one row lock; the total is their sum. Derived data: not exported.
CREATE TABLE workspace_thread_counts (
    workspace_id UUID NOT NULL,
    shard        SMALLINT NOT NULL,
    threads      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, shard)
);

INSERT INTO workspace_thread_counts (workspace_id, shard, threads)
SELECT workspace_id, (hashtext(id::text) & 15)::SMALLINT, count(*)
FROM threads GROUP BY 1, 2;

CREATE FUNCTION threads_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO workspace_thread_counts AS c (workspace_id, shard, threads)
        VALUES (NEW.workspace_id, (hashtext(NEW.id::text) & 15)::SMALLINT, 1)
        ON CONFLICT (workspace_id, shard) DO UPDATE SET threads = c.threads + 1;
        RETURN NEW;
    END IF;
    UPDATE workspace_thread_counts SET threads = threads - 1
    WHERE workspace_id = OLD.workspace_id AND shard = (hashtext(OLD.id::text) & 15)::SMALLINT;
    RETURN OLD;
END
$$;

CREATE TRIGGER threads_counted AFTER INSERT OR DELETE ON threads
FOR EACH ROW EXECUTE FUNCTION threads_counted();

CREATE FUNCTION workspace_thread_counts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workspace_thread_counts WHERE workspace_id = OLD.id;
    RETURN OLD;
END
$$;

CREATE TRIGGER workspace_thread_counts_gone AFTER DELETE ON workspaces
FOR EACH ROW EXECUTE FUNCTION workspace_thread_counts_gone();
