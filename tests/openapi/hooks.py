"""schemathesis hooks for the OpenAPI checks (loaded through SCHEMATHESIS_HOOKS by
tests/openapi/checks.py).

Each one adjusts a drawn request that the server would rightly refuse for a
reason no JSON Schema can state, so that positive_data_acceptance does not
report a rule as a bug. Each keeps the request valid, and leaves alone what
breaks the schema, so negative cases are still sent as drawn.

- Idempotency-Key: schemathesis draws header values from a small space ("0",
  "!", "A"…), so two different requests often carry the same key, and spool
  then answers 422 "This Idempotency-Key was used with a different request"
  (docs/idempotency.md). A valid key (1–255 printable ASCII characters, no
  space at either end) gets a random suffix that keeps it valid.
- max_tokens: at most the model's `max_output_tokens`, a bound that depends on
  the model a run resolves to, so the document gives only the minimum. A
  larger value is brought down to the test catalog's bound
  (SPOOL_MAX_OUTPUT_TOKENS, from GET /api/v1/large-language-models).
- metadata: a value that is not a string may have a JSON text of at most 512
  characters, which no schema can state (a string's 512 is in the document).
  A value whose JSON text may be longer is replaced by null.
- model: a run's model must be one of the server's catalog, which depends on
  its configuration; the document cannot list it. A string that names no
  model of the catalog (SPOOL_MODELS) becomes the first one, `echo`.
- thena agent_id: a body `agent_id` must repeat the agent of the path. A
  valid UUID there becomes the path's (the coverage phase draws its own).
- anon_user_id: only API keys may act for an anonymous end user; a session
  naming one answers 422 (docs/api.md, thena). In the session run the
  parameter is dropped; the API-key run still sends it. Given in both the
  query and the body, the two must name the same end user (422 otherwise):
  a valid query value becomes the body's.
- tools: the names in one list must differ; a repeated valid name gets the
  item's index appended.
- max_tokens: a whole number may come as `5.0` (JSON has one number type);
  the bound above applies to it too.
- tool URLs: an http or mcp tool's URL must reach a public address (spool
  resolves it when the tool is saved, docs/tools.md) and its host must be a
  valid domain name (IDNA), which depend on DNS and no schema states. A URL
  the document accepts becomes https://tools.example.com/ with its path.
- tool_choice: `required` needs a tool, and `{"name": …}` must name one of
  the run's tools (the request's or its agent's). When the request's own
  tools do not satisfy it, it becomes `auto`.
- webhook url: a webhook's URL must reach a public address (spool resolves it
  when the webhook is saved, docs/webhooks.md), which depends on DNS and no
  schema states. A URL the document accepts becomes
  https://hooks.example.com/ with its path.
- expires_at: a thread's expiry must lie in the future, a bound that moves
  with the clock. A date-time in the past moves to the year 2096 (a leap
  year, so that a 29 February stays valid).
- from/to (metrics, the leaderboard): a range must not be empty, and a
  metrics series holds at most 400 periods, rules between two parameters
  that no schema states. When a drawn `from` is not before `to` (or now,
  without `to`), or lies more than 400 days before it, `from` is dropped
  (it then defaults to 30 days before `to`).
- providers (POST and PUT /api/v1/providers): a provider's `base_url` must
  reach a public address (resolved when saved, docs/api.md), a URL the
  document accepts becomes https://models.example.com/ with its path; the
  credentials must be sendable as HTTP headers (valid header names, printable
  values), which no schema can say of a map's keys, so header names become
  `x-spool-N` and unprintable characters leave the values; fields that do not
  go with the `type` are dropped, and `api_key`/`headers` are filled in when
  their type needs them; model names repeated in one list, or naming a
  server model (SPOOL_MODELS), get a suffix; a `max_output_tokens` not below
  its `context_window` is dropped; a PUT that moves `base_url` or `type`
  gives `authentication_config` `none` (the stored credentials may not follow
  it to another address).
- files / attachments: a message's files must be uploads of the caller's
  workspace (docs/files.md), which no schema can list. A drawn list of them
  becomes empty.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~](?:[ -~]*[!-~])?")
MAX_KEY = 255
METADATA_VALUE_TEXT = 512
# The document's pattern for a tool URL (tool_schema.rs), with its length.
TOOL_URL = re.compile(r"https?://[^/\s][^\s]*", re.DOTALL)
# The document's pattern for a webhook URL (athena/webhooks.rs).
WEBHOOK_URL = re.compile(r"https?://[^/\s][^\s]*")


# The document's pattern for a provider's base URL (athena/providers.rs).
PROVIDER_URL = re.compile(r"https?://[^/\s][^\s]*")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
AUTH_FIELDS = {"api_key": {"api_key", "header"}, "headers": {"headers"}, "none": set()}


def printable(text: str, fallback: str) -> str:
    """`text` with what an HTTP header value may not hold left out."""
    kept = "".join(c for c in text if " " <= c <= "~").strip()
    return kept or fallback


def whole(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def adjust_provider(case, body) -> None:
    url = body.get("base_url")
    if isinstance(url, str) and PROVIDER_URL.fullmatch(url):
        path = url.split("://", 1)[1].partition("/")[2]
        body["base_url"] = "https://models.example.com/" + path[:1000]
    auth = body.get("authentication_config")
    if isinstance(auth, dict) and isinstance(auth.get("type"), str) and auth["type"] in AUTH_FIELDS:
        kind = auth["type"]
        for field in ("api_key", "header", "headers"):
            if field not in AUTH_FIELDS[kind]:
                auth.pop(field, None)
        if kind == "api_key":
            key = auth.get("api_key")
            auth["api_key"] = printable(key, "sk-test") if isinstance(key, str) else "sk-test"
            header = auth.get("header")
            if isinstance(header, str) and not HEADER_NAME.fullmatch(header):
                auth["header"] = "api-key"
        if kind == "headers":
            headers = auth.get("headers")
            values = [v for v in headers.values() if isinstance(v, str)] if isinstance(headers, dict) else []
            auth["headers"] = {
                f"x-spool-{i}": printable(v, "value") for i, v in enumerate(values[:20] or ["value"])
            }
    if case.method.upper() == "PUT" and ("base_url" in body or "type" in body):
        if body.get("authentication_config") is None:
            body["authentication_config"] = {"type": "none"}
    models = body.get("models")
    server_models = set(m for m in os.environ.get("SPOOL_MODELS", "echo").split(",") if m)
    if isinstance(models, list):
        seen = set()
        for i, model in enumerate(models):
            if not isinstance(model, dict):
                continue
            name = model.get("name")
            if isinstance(name, str) and name.strip() == name and name and (name in seen or name in server_models):
                model["name"] = f"{name[:180]}-{i}-{uuid.uuid4().hex[:6]}"
            if isinstance(model.get("name"), str):
                seen.add(model["name"])
            window, limit = model.get("context_window"), model.get("max_output_tokens")
            if whole(window) and whole(limit) and limit >= window:
                model["max_output_tokens"] = None


def day_of(value):
    """The date a `from`/`to` value (a date or an RFC 3339 time) starts with."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None


def unique_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY and VALID_KEY.fullmatch(key)):
        return key
    suffix = "." + uuid.uuid4().hex[:16]
    return key[: MAX_KEY - len(suffix)] + suffix


def may_be_too_long(value) -> bool:
    """Whether a non-string metadata value's JSON text may pass the limit.
    ASCII-escaped text is never shorter than what spool counts."""
    if isinstance(value, str):
        return False
    try:
        return len(json.dumps(value, ensure_ascii=True, separators=(",", ":"))) > METADATA_VALUE_TEXT
    except (TypeError, ValueError):
        return False


def is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def valid_end_user(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 200 and value.strip() != ""


def is_session() -> bool:
    return os.environ.get("SPOOL_CREDENTIAL", "").startswith("sps_")


@schemathesis.hook
def before_call(context, case, kwargs):
    # The request is built from `case` after this hook; an edit here is what is sent.
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            case.headers[name] = unique_key(value)

    if is_session() and isinstance(case.query, dict):
        case.query.pop("anon_user_id", None)

    query = case.query if isinstance(case.query, dict) else {}
    start, end = day_of(query.get("from")), day_of(query.get("to"))
    end = end if end is not None or start is None else datetime.now()
    if start is not None and (start >= end or (end - start).days > 400):
        query.pop("from", None)

    body = case.body
    if not isinstance(body, dict):
        return
    if is_session():
        body.pop("anon_user_id", None)
    anon = body.get("anon_user_id")
    if isinstance(case.query, dict) and valid_end_user(anon) and valid_end_user(case.query.get("anon_user_id")):
        case.query["anon_user_id"] = anon
    models = [m for m in os.environ.get("SPOOL_MODELS", "").split(",") if m]
    if models and isinstance(body.get("model"), str) and body["model"] not in models:
        body["model"] = models[0]
    path_agent = (case.path_parameters or {}).get("agent_id")
    if path_agent is not None and is_uuid(body.get("agent_id")):
        body["agent_id"] = path_agent
    bound = int(os.environ.get("SPOOL_MAX_OUTPUT_TOKENS", "0"))
    tokens = body.get("max_tokens")
    whole = isinstance(tokens, int) or (isinstance(tokens, float) and tokens.is_integer())
    if bound and whole and not isinstance(tokens, bool) and tokens > bound:
        body["max_tokens"] = bound
    # Tool names must differ within a list (a rule no schema states): a
    # repeated one gets the item's index appended, which keeps it valid.
    tools = body.get("tools")
    if isinstance(tools, list):
        seen = set()
        for i, tool in enumerate(tools):
            name = tool.get("name") if isinstance(tool, dict) else None
            if isinstance(name, str) and name in seen and re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name):
                tool["name"] = f"{name}{i}"[:64]
            if isinstance(name, str):
                seen.add(tool.get("name"))
    if isinstance(tools, list):
        for tool in tools:
            url = tool.get("url") if isinstance(tool, dict) else None
            if isinstance(url, str) and TOOL_URL.fullmatch(url):
                path = url.split("://", 1)[1].partition("/")[2]
                tool["url"] = "https://tools.example.com/" + path[:1000]
    choice = body.get("tool_choice")
    names = set()
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and isinstance(tool.get("name"), str):
            names.add(tool["name"])
    if choice == "required" and not names:
        body["tool_choice"] = "auto"
    if isinstance(choice, dict):
        function = choice.get("function")
        named = function.get("name") if isinstance(function, dict) else choice.get("name")
        if isinstance(named, str) and named not in names:
            body["tool_choice"] = "auto"
    operation = getattr(getattr(case, "operation", None), "path", "")
    if operation.startswith("/api/v1/providers"):
        adjust_provider(case, body)
    url = body.get("url")
    if operation == "/api/v1/webhooks" and isinstance(url, str) and WEBHOOK_URL.fullmatch(url):
        path = url.split("://", 1)[1].partition("/")[2]
        body["url"] = "https://hooks.example.com/" + path[:1000]
    expires = body.get("expires_at")
    if isinstance(expires, str):
        try:
            when = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None and when <= datetime.now(timezone.utc):
            body["expires_at"] = "2096" + expires[4:] if re.match(r"\d{4}-", expires) else expires
    for field in ("files", "attachments"):
        if isinstance(body.get(field), list):
            body[field] = []
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if may_be_too_long(value):
                metadata[key] = None
