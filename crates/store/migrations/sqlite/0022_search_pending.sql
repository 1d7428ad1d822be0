-- Search indexing once per group commit instead of once per write. FTS5
-- writes its pending terms to a new segment whenever a savepoint opens, and
-- every write runs in a savepoint of its own: each new message or thread
-- wrote a segment (and the merges that follow). New and edited rows are now
-- queued here, in the write's transaction, and the writer indexes the queue
-- in one statement per table just before the batch commits (see
-- `sqlite::search_index::PENDING`); a reader never sees the queue non-empty.
-- Derived data: not exported.
CREATE TABLE search_pending (
    kind INTEGER NOT NULL, -- 0 a message (messages.rid), 1 a thread (threads.rid)
    rid  INTEGER NOT NULL,
    PRIMARY KEY (kind, rid)
) STRICT, WITHOUT ROWID;

DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_delete;
DROP TRIGGER messages_search_update;
DROP TRIGGER threads_search_insert;
DROP TRIGGER threads_search_delete;
DROP TRIGGER threads_search_update;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO search_pending (kind, rid) VALUES (0, new.rid);
END;
-- A row still queued was never indexed: it leaves the queue, and the index
-- is left alone (FTS5 must be told a deleted row's text exactly as indexed).
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', old.rid, old.content
    WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE kind = 0 AND rid = old.rid);
    DELETE FROM search_pending WHERE kind = 0 AND rid = old.rid;
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages
WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE kind = 0 AND rid = old.rid)
BEGIN
    INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.rid, old.content);
    INSERT INTO search_pending (kind, rid) VALUES (0, new.rid);
END;

CREATE TRIGGER threads_search_insert AFTER INSERT ON threads BEGIN
    INSERT OR IGNORE INTO search_pending (kind, rid) VALUES (1, new.rid);
END;
CREATE TRIGGER threads_search_delete AFTER DELETE ON threads BEGIN
    INSERT INTO thread_search (thread_search, rowid, title)
    SELECT 'delete', old.rid, coalesce(old.title, '')
    WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE kind = 1 AND rid = old.rid);
    DELETE FROM search_pending WHERE kind = 1 AND rid = old.rid;
END;
CREATE TRIGGER threads_search_update AFTER UPDATE OF title ON threads
WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE kind = 1 AND rid = old.rid)
BEGIN
    INSERT INTO thread_search (thread_search, rowid, title) VALUES ('delete', old.rid, coalesce(old.title, ''));
    INSERT INTO search_pending (kind, rid) VALUES (1, new.rid);
END;
