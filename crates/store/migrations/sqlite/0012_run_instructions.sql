-- A run's own instructions: `instructions` stands instead of its agent's
-- instruction in the system prompt, `additional_instructions` is added at
-- its end (OpenAI's Assistants API sets both per run). Written once, when
-- the run is admitted.
ALTER TABLE runs ADD COLUMN instructions TEXT;
ALTER TABLE runs ADD COLUMN additional_instructions TEXT;
