-- How many threads each workspace has, for the `total` of a page of the
-- workspace's threads: counting 100,000 rows on every request cost more than
-- the page itself. Triggers keep it in the transaction that inserts or
-- deletes the thread, whichever path does it (API, retention sweep, import,
-- a workspace's cascade). Derived data: not exported, rebuilt here.
CREATE TABLE workspace_thread_counts (
    workspace_id BLOB PRIMARY KEY,
    threads      INTEGER NOT NULL
) STRICT;

INSERT INTO workspace_thread_counts (workspace_id, threads)
SELECT workspace_id, count(*) FROM threads GROUP BY workspace_id;

CREATE TRIGGER threads_counted_insert AFTER INSERT ON threads
BEGIN
    INSERT OR IGNORE INTO workspace_thread_counts (workspace_id, threads)
    VALUES (NEW.workspace_id, 0);
    UPDATE workspace_thread_counts SET threads = threads + 1
    WHERE workspace_id = NEW.workspace_id;
END;

CREATE TRIGGER threads_counted_delete AFTER DELETE ON threads
BEGIN
    UPDATE workspace_thread_counts SET threads = threads - 1
    WHERE workspace_id = OLD.workspace_id;
END;

CREATE TRIGGER workspace_thread_counts_gone AFTER DELETE ON workspaces
BEGIN
    DELETE FROM workspace_thread_counts WHERE workspace_id = OLD.id;
END;
