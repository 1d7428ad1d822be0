"""schemathesis hooks for the OpenAPI checks (loaded through SCHEMATHESIS_HOOKS by
tests/openapi/checks.py).

Idempotency-Key: schemathesis draws header values from a small space ("0",
"!", "A"…), so two different requests often carry the same key, and spool
then rightly answers 422 "This Idempotency-Key was used with a different
request" (docs/idempotency.md): a finding about the test, not the server. A
valid key is therefore made unique per request by a random suffix that keeps
it valid; a key that breaks the documented rules (1–255 printable ASCII
characters, no space at either end) is left as drawn, so invalid keys are
still tested.
"""

from __future__ import annotations

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~](?:[ -~]*[!-~])?")
MAX_KEY = 255


def unique_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY and VALID_KEY.fullmatch(key)):
        return key
    suffix = "." + uuid.uuid4().hex[:16]
    return key[: MAX_KEY - len(suffix)] + suffix


@schemathesis.hook
def before_call(context, case, kwargs):
    # The request is built from `case` after this hook; an edit here is what is sent.
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            case.headers[name] = unique_key(value)
