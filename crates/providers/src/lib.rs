//! Model providers: OpenAI-compatible, Anthropic and the offline `echo` provider arrive with runs.
