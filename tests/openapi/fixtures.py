"""Real resources for schemathesis to aim at, made over plain HTTP before a run.

Without them every operation with an id in its path answers 404 and says
nothing about its 200. Each run gets a fresh set; the ones an operation
deletes (`victim_*`) are separate, so that a DELETE cannot take away what the
other operations of the run still need.
"""

from __future__ import annotations

import httpx

from server import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL


class Api:
    def __init__(self, base: str, credential: str | None = None):
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        self.http = httpx.Client(base_url=base, headers=headers, timeout=30)

    def call(self, method: str, path: str, *, expect: int, json=None, params=None):
        response = self.http.request(method, path, json=json, params=params)
        if response.status_code != expect:
            raise RuntimeError(
                f"fixture {method} {path} answered {response.status_code}, "
                f"wanted {expect}: {response.text[:500]}"
            )
        return response.json() if response.content else None


def sign_in(base: str) -> str:
    body = Api(base).call(
        "POST", "/api/v1/auth/sign-in", expect=200,
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    return body["data"]["token"]


def make(base: str, label: str, member_id: int) -> dict[str, str]:
    """Signs in, makes an API key and one of everything; answers the
    `SPOOL_*` variables that tests/openapi/schemathesis.toml reads.
    `member_id` is MEMBER_EMAIL's user, made a member of the victim workspace."""
    session = sign_in(base)
    s = Api(base, session)
    workspace = s.call("GET", "/api/v1/user", expect=200)["data"]["primary_workspace"]["uuid"]
    key = s.call("POST", "/api/v1/api-keys", expect=201, json={"name": f"{label} key"})["data"]
    victim_key = s.call("POST", "/api/v1/api-keys", expect=201, json={"name": f"{label} victim"})["data"]
    victim_workspace = s.call(
        "POST", "/api/v1/workspaces", expect=201, json={"name": f"{label} victim"}
    )["data"]["uuid"]
    s.call("POST", f"/api/v1/workspaces/{victim_workspace}/members", expect=201,
           json={"email": MEMBER_EMAIL, "role": "member"})

    k = Api(base, key["key"])
    agent = k.call(
        "POST", "/api/v1/agents", expect=201,
        json={"name": f"{label} agent", "instruction": "Answer briefly."},
    )["data"]["uuid"]
    victim_agent = k.call("POST", "/api/v1/agents", expect=201, json={"name": f"{label} victim"})["data"]["uuid"]

    def athena_thread(name: str) -> str:
        return k.call(
            "POST", "/api/v1/threads", expect=201, json={"name": name, "agent_uuid": agent}
        )["data"]["uuid"]

    thread = athena_thread(f"{label} thread")
    victim_thread = athena_thread(f"{label} victim")

    def message(content: str) -> str:
        return k.call(
            "POST", "/api/v1/messages", expect=201, json={"thread_uuid": thread, "content": content}
        )["data"]["uuid"]

    msg = message("Hello **there**")
    victim_message = message("to be deleted")
    run = k.call("POST", f"/api/v1/threads/{thread}/run", expect=200, json={"content": "Run, please."})["run"]["uuid"]
    models = k.call("GET", "/api/v1/large-language-models", expect=200)["data"]
    model = models[0]["uuid"]
    max_output_tokens = max(m["max_output_tokens"] for m in models)

    def thena_thread() -> str:
        return k.call("POST", f"/api/v1/chat/{agent}/threads", expect=200, json={})["id"]

    chat = thena_thread()
    victim_chat = thena_thread()
    reply = k.call(
        "POST", f"/api/v1/chat/{agent}/threads/{chat}/messages", expect=200, json={"content": "Hi"}
    )["id"]

    def freddy_thread() -> str:
        return k.call("POST", "/v1/threads", expect=200, json={"organization_id": workspace})["id"]

    freddy = freddy_thread()
    victim_freddy = freddy_thread()
    k.call("POST", f"/v1/threads/{freddy}/messages", expect=200, json={"content": "Hello"})

    return {
        "SPOOL_SESSION": session,
        "SPOOL_API_KEY": key["key"],
        "SPOOL_OWNER_EMAIL": ADMIN_EMAIL,
        "SPOOL_OWNER_PASSWORD": ADMIN_PASSWORD,
        "SPOOL_MEMBER_EMAIL": MEMBER_EMAIL,
        "SPOOL_MEMBER_ID": str(member_id),
        "SPOOL_WORKSPACE": workspace,
        "SPOOL_VICTIM_WORKSPACE": victim_workspace,
        "SPOOL_VICTIM_KEY": victim_key["uuid"],
        "SPOOL_AGENT": agent,
        "SPOOL_VICTIM_AGENT": victim_agent,
        "SPOOL_THREAD": thread,
        "SPOOL_VICTIM_THREAD": victim_thread,
        "SPOOL_MESSAGE": msg,
        "SPOOL_VICTIM_MESSAGE": victim_message,
        "SPOOL_RUN": run,
        "SPOOL_MODEL": model,
        "SPOOL_MAX_OUTPUT_TOKENS": str(max_output_tokens),
        "SPOOL_MODELS": ",".join(m["name"] for m in models),
        "SPOOL_CHAT_THREAD": chat,
        "SPOOL_VICTIM_CHAT_THREAD": victim_chat,
        "SPOOL_CHAT_REPLY": reply,
        "SPOOL_FREDDY_THREAD": freddy,
        "SPOOL_VICTIM_FREDDY_THREAD": victim_freddy,
    }
