"""Drives every dialect through the client that openapi-python-client generated
from the served document (package `spool_client` on PYTHONPATH).

Endpoints are found by method and path, not by module name, so that renaming
an operationId or a tag does not break this script; what it checks is that
the generated functions send the right requests and parse the answers into
models with the documented fields. Each step asserts the status and a field
or two of the parsed model."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
import typing

import spool_client
import spool_client.api
from spool_client import AuthenticatedClient, Client

BASE = os.environ["SPOOL_BASE"]
EMAIL = os.environ["SPOOL_EMAIL"]
PASSWORD = os.environ["SPOOL_PASSWORD"]

URL = re.compile(r'"method":\s*"(\w+)",\s*"url":\s*"([^"]+)"')


def index() -> dict[str, object]:
    """`METHOD /path/{}/…` → the generated endpoint module."""
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(spool_client.api.__path__, "spool_client.api."):
        module = importlib.import_module(info.name)
        if not hasattr(module, "sync_detailed"):
            continue
        match = URL.search(inspect.getsource(module))
        if match:
            found[f"{match.group(1).upper()} {re.sub(r'{[^}]+}', '{}', match.group(2))}"] = module
    return found


ENDPOINTS = index()
passed = 0
failed: list[str] = []


def call(client: Client, method: str, path: str, *ids: str, body: dict | None = None, **query):
    """Calls the generated function for METHOD path (`{}` for each id, in order)."""
    key = f"{method} {path}"
    module = ENDPOINTS.get(key)
    if module is None:
        raise AssertionError(f"the generated client has no function for {key}")
    kwargs = dict(query)
    if body is not None:
        hint = typing.get_type_hints(module._get_kwargs)["body"]
        classes = [c for c in typing.get_args(hint) or (hint,) if hasattr(c, "from_dict")]
        assert classes, f"{key}: no model class for the body ({hint})"
        kwargs["body"] = classes[0].from_dict(body)
    return module.sync_detailed(*ids, client=client, **kwargs)


def check(name: str, response, status: int, *conditions) -> object:
    """Asserts the status and that the answer parsed into a model, then the
    conditions (functions of the parsed model). `response` is a function that
    makes the call, so a missing endpoint fails this step, not the script."""
    global passed
    problems = []
    parsed = None
    try:
        answer = response()
    except Exception as error:
        problems.append(f"the call raised {error!r}")
    else:
        parsed = answer.parsed
        if int(answer.status_code) != status:
            problems.append(f"status {int(answer.status_code)}, wanted {status}: {answer.content[:300]!r}")
        elif parsed is None or not hasattr(parsed, "to_dict"):
            problems.append(f"the {status} answer did not parse into a model (got {type(parsed).__name__})")
        else:
            for condition in conditions:
                try:
                    ok, why = bool(condition(parsed)), ""
                except Exception as error:  # an absent attribute is a failed assertion here
                    ok, why = False, f" raised {error!r}"
                if not ok:
                    problems.append(f"{inspect.getsource(condition).strip()}{why}")
    if problems:
        failed.append(name)
        print(f"  FAIL {name}: {'; '.join(problems)}")
        return None
    passed += 1
    print(f"  ok   {name}")
    return parsed


def steps() -> None:
    """The story; a step whose result later steps need ends it when it fails."""
    anonymous = Client(base_url=BASE, raise_on_unexpected_status=False)
    signed = check("athena sign in",
                   lambda: call(anonymous, "POST", "/api/v1/auth/sign-in", body={"email": EMAIL, "password": PASSWORD}),
                   200, lambda p: p.data.token.startswith("sps_"))
    if signed is None:
        return
    session = AuthenticatedClient(base_url=BASE, token=signed.data.token, raise_on_unexpected_status=False)

    key = check("athena create an API key",
                lambda: call(session, "POST", "/api/v1/api-keys", body={"name": "smoke"}), 201,
                lambda p: p.data.key.startswith("spk_"), lambda p: p.data.name == "smoke")
    # Without a key the other steps still say something, with the session.
    api = session if key is None else AuthenticatedClient(
        base_url=BASE, token=key.data.key, raise_on_unexpected_status=False)

    check("athena current user", lambda: call(api, "GET", "/api/v1/user"), 200, lambda p: p.data.email == EMAIL)
    agent = check("athena create an agent",
                  lambda: call(api, "POST", "/api/v1/agents", body={"name": "Smoke agent", "instruction": "Be brief."}),
                  201, lambda p: p.data.name == "Smoke agent", lambda p: len(str(p.data.uuid)) == 36)
    if agent is None:
        return
    agent_id = str(agent.data.uuid)

    thread = check("athena create a thread",
                   lambda: call(api, "POST", "/api/v1/threads", body={"name": "Smoke", "agent_uuid": agent_id}),
                   201, lambda p: p.data.name == "Smoke", lambda p: str(p.data.agent.uuid) == agent_id)
    if thread is None:
        return
    thread_id = str(thread.data.uuid)

    check("athena append a message",
          lambda: call(api, "POST", "/api/v1/messages", body={"thread_uuid": thread_id, "content": "Hello **there**"}),
          201, lambda p: p.data.role == "user", lambda p: "<strong>there</strong>" in p.data.content_html)
    check("athena list messages, page mode",
          lambda: call(api, "GET", "/api/v1/messages", thread_uuid=thread_id, page=1, per_page=10),
          200, lambda p: p.meta.total == 1, lambda p: p.meta.current_page == 1,
          lambda p: p.data[0].content == "Hello **there**")
    check("athena list messages, cursor mode",
          lambda: call(api, "GET", "/api/v1/messages", thread_uuid=thread_id, cursor="", per_page=10),
          200, lambda p: len(p.data) == 1, lambda p: p.meta.per_page == 10)
    run = check("athena run the thread (echo, not streamed)",
                lambda: call(api, "POST", "/api/v1/threads/{}/run", thread_id, body={"content": "Echo this", "stream": False}),
                200, lambda p: p.run.status == "completed", lambda p: p.data.role == "assistant",
                lambda p: "Echo this" in p.data.content)
    if run is not None:
        check("athena read the run", lambda: call(api, "GET", "/api/v1/runs/{}", run.run.uuid), 200,
              lambda p: p.data.status == "completed", lambda p: str(p.data.thread_uuid) == thread_id)

    chat = check("thena create a thread",
                 lambda: call(api, "POST", "/api/v1/chat/{}/threads", agent_id, body={"title": "Smoke chat"}),
                 200, lambda p: str(p.agent_id) == agent_id, lambda p: p.messages == [])
    if chat is not None:
        check("thena send a message and get the reply",
              lambda: call(api, "POST", "/api/v1/chat/{}/threads/{}/messages", agent_id, chat.id,
                   body={"content": "Hi thena"}),
              200, lambda p: p.role == "assistant", lambda p: "Hi thena" in p.content)
        check("thena read the thread with its messages",
              lambda: call(api, "GET", "/api/v1/chat/{}/threads/{}", agent_id, chat.id),
              200, lambda p: len(p.messages) == 2, lambda p: p.id == chat.id)

    workspace = check("athena current user's workspace", lambda: call(session, "GET", "/api/v1/user"), 200,
                      lambda p: p.data.primary_workspace.uuid)
    if workspace is None:
        return
    organization = str(workspace.data.primary_workspace.uuid)
    freddy = check("freddy create a thread",
                   lambda: call(api, "POST", "/v1/threads", body={"organization_id": organization, "title": "Smoke freddy"}),
                   200, lambda p: p.id.startswith("thrd_"), lambda p: p.title == "Smoke freddy")
    if freddy is not None:
        check("freddy append a message",
              lambda: call(api, "POST", "/v1/threads/{}/messages", freddy.id, body={"content": "Hello freddy"}),
              200, lambda p: p.id.startswith("msg_"), lambda p: p.object_ == "thread.message")
        check("freddy list messages",
              lambda: call(api, "GET", "/v1/threads/{}/messages", freddy.id),
              200, lambda p: len(p.data) == 1, lambda p: p.has_more is False)



def main() -> int:
    steps()
    print(f"smoke: {passed} steps passed, {len(failed)} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
