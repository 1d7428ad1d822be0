-- A message's o200k_base token count (its content and tool calls, as a
-- run's prompt gives them), counted once when the message is stored so a
-- run does not tokenize its whole history again. NULL: not known (rows from
-- before this migration); a run counts those when it uses them.
ALTER TABLE messages ADD COLUMN token_count INTEGER;
