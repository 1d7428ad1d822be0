-- What a run's client keeps on it (`metadata`, a JSON object, changed by
-- OpenAI's runs.update), the nucleus sampling it asked for (`top_p`), and
-- why it ended (`finish_reason`: the model's `stop`, `length`, `tool_calls`
-- or `content_filter`, or spool's `max_steps`, `cancelled`, `error`,
-- `expired`), written with its end; and `history_limit`, how many of the
-- thread's latest messages its prompt may hold at most (OpenAI's
-- `truncation_strategy: last_messages`).
ALTER TABLE runs ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN top_p REAL;
ALTER TABLE runs ADD COLUMN finish_reason TEXT;
ALTER TABLE runs ADD COLUMN history_limit INTEGER;
