"""The official `openai` Python SDK against spool's Assistants API: a debug
spool on the echo model, `base_url` pointed at /openai/v1, and nothing else
changed. Run through scripts/openai-sdk-test, which makes the virtualenv.

    test_assistants.py SPOOL_BINARY WORKDIR
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "openapi"))

import openai  # noqa: E402
from openai import AssistantEventHandler, OpenAI  # noqa: E402
from typing_extensions import override  # noqa: E402

from server import ADMIN_EMAIL, ADMIN_PASSWORD, Server  # noqa: E402

# The SDK marks the Assistants API deprecated on every call; that is the point here.
warnings.filterwarnings("ignore", category=DeprecationWarning)

CONFIG = """
default_model = "echo"

[[providers]]
kind = "echo"
name = "echo"
piece_delay_ms = 1

[[models]]
name = "echo"
provider = "echo"
context_window = 128000
"""

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def athena(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    """A plain HTTP call to spool's own API (setup and read-back only)."""
    request = urllib.request.Request(base + path, method=method)
    request.add_header("Accept", "application/json")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, data, timeout=30) as response:
        return json.loads(response.read())


def api_key(base: str) -> str:
    token = athena(base, "POST", "/api/v1/auth/sign-in", body={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["data"]["token"]
    return athena(base, "POST", "/api/v1/api-keys", token, {"name": "sdk"})["data"]["key"]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"ok - {what}")


class Recorder(AssistantEventHandler):
    """Keeps what the SDK's stream helper hands an event handler."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []
        self.text = ""
        self.created = 0
        self.done_messages: list[str] = []
        self.tool_calls: list[str] = []

    @override
    def on_event(self, event) -> None:
        self.events.append(event.event)

    @override
    def on_text_created(self, text) -> None:
        self.created += 1

    @override
    def on_text_delta(self, delta, snapshot) -> None:
        self.text += delta.value or ""

    @override
    def on_message_done(self, message) -> None:
        self.done_messages.append(message.content[0].text.value if message.content else "")

    @override
    def on_tool_call_created(self, tool_call) -> None:
        self.tool_calls.append(tool_call.function.name)


def scenario(base: str, key: str) -> None:
    client = OpenAI(base_url=f"{base}/openai/v1", api_key=key, max_retries=0)

    assistant = client.beta.assistants.create(
        model="echo", name="Weather", instructions="Answer briefly.", tools=[WEATHER],
        metadata={"team": "sdk"},
    )
    check(assistant.id.startswith("asst_") and assistant.tools[0].function.name == "get_weather",
          "assistants.create with a function tool")
    check(client.beta.assistants.retrieve(assistant.id).name == "Weather", "assistants.retrieve")
    updated = client.beta.assistants.update(assistant.id, description="Says the weather")
    check(updated.description == "Says the weather" and updated.model == "echo", "assistants.update")
    check(any(a.id == assistant.id for a in client.beta.assistants.list(limit=1)),
          "assistants.list auto-paging")

    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hello from the SDK"}])
    check(thread.id.startswith("thread_"), "threads.create with a message")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, additional_instructions="Be kind.",
        metadata={"source": "sdk"})
    check(run.status == "completed" and run.usage is not None and run.usage.total_tokens > 0,
          f"runs.create_and_poll completes ({run.status})")
    check(run.metadata == {"source": "sdk"}, "a run keeps its metadata")
    messages = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id)
    reply = messages.data[0].content[0].text.value
    check("Hello from the SDK" in reply, "the reply is listed by run_id")

    # A streamed run through the helper and an event handler.
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content="Stream this please")
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler,
    ) as stream:
        stream.until_done()
    final_messages = stream.get_final_messages()
    check(handler.created == 1 and "Stream this please" in handler.text,
          "runs.stream: on_text_created and on_text_delta")
    check(handler.done_messages == [handler.text] and final_messages[0].content[0].text.value == handler.text,
          "runs.stream: on_message_done and get_final_messages")
    expected = ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress"]
    check(handler.events[:7] == expected and handler.events[-1] == "thread.run.completed",
          "runs.stream: the documented event sequence")
    check(stream.get_final_run().status == "completed", "runs.stream: get_final_run")

    # A function call: requires_action, then submit_tool_outputs_and_poll.
    client.beta.threads.messages.create(
        thread_id=thread.id, role="user", content='/tool get_weather {"city": "Oslo"}')
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    check(run.status == "requires_action", "a function call waits in requires_action")
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    check(call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"},
          "required_action.submit_tool_outputs.tool_calls")

    # Busy: another run on the thread meanwhile is a BadRequestError.
    try:
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        raise AssertionError("a second run was admitted")
    except openai.BadRequestError as err:
        check(f"already has an active run {run.id}" in err.message, "a busy thread: BadRequestError")

    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "sunny, 21 C"}],
    )
    check(run.status == "completed", f"submit_tool_outputs_and_poll completes ({run.status})")
    steps = list(client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id, order="asc"))
    check([s.type for s in steps] == ["tool_calls", "message_creation"], "runs.steps.list")
    check(steps[0].step_details.tool_calls[0].function.output == "sunny, 21 C",
          "the tool_calls step has the output")
    one = client.beta.threads.runs.steps.retrieve(thread_id=thread.id, run_id=run.id, step_id=steps[1].id)
    check(one.step_details.message_creation.message_id.startswith("msg_"), "runs.steps.retrieve")

    # A streamed function call: the stream ends at requires_action, and the
    # submit stream goes on from there.
    client.beta.threads.messages.create(
        thread_id=thread.id, role="user", content='/tool get_weather {"city": "Bergen"}')
    first = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=first,
    ) as stream:
        stream.until_done()
    waiting = stream.current_run
    check(waiting.status == "requires_action" and first.tool_calls == ["get_weather"],
          "runs.stream: on_tool_call_created, then requires_action")
    rest = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id, run_id=waiting.id, event_handler=rest,
        tool_outputs=[{"tool_call_id": waiting.required_action.submit_tool_outputs.tool_calls[0].id,
                       "output": "rain"}],
    ) as stream:
        stream.until_done()
    check("rain" in rest.text and rest.events[-1] == "thread.run.completed",
          "submit_tool_outputs_stream streams the rest")

    # Messages, page by page.
    all_messages = list(client.beta.threads.messages.list(thread_id=thread.id, limit=2, order="asc"))
    # Four questions, four replies: the steps that only called tools and the
    # tool results are not listed, as with OpenAI.
    check(len(all_messages) == 8 and all(m.content for m in all_messages)
          and all_messages[0].content[0].text.value == "Hello from the SDK",
          f"messages.list auto-paging ({len(all_messages)} messages)")
    message = client.beta.threads.messages.update(
        thread_id=thread.id, message_id=all_messages[0].id, metadata={"seen": "yes"})
    check(message.metadata == {"seen": "yes"}, "messages.update")
    check(client.beta.threads.messages.retrieve(thread_id=thread.id, message_id=message.id).id == message.id,
          "messages.retrieve")
    check(client.beta.threads.update(thread.id, metadata={"k": "v"}).metadata == {"k": "v"}, "threads.update")
    check(client.beta.threads.retrieve(thread.id).id == thread.id, "threads.retrieve")
    newest_first = [r.id for r in client.beta.threads.runs.list(thread_id=thread.id, limit=3)]
    check(len(newest_first) == 4, "runs.list auto-paging")
    oldest_first = [r.id for r in client.beta.threads.runs.list(thread_id=thread.id, limit=3, order="asc")]
    check(oldest_first == newest_first[::-1], "runs.list order=asc")
    tagged = client.beta.threads.runs.update(run_id=run.id, thread_id=thread.id, metadata={"ticket": "T-9"})
    check(tagged.metadata == {"ticket": "T-9"} and tagged.status == "completed", "runs.update")
    check(client.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id).metadata == {"ticket": "T-9"},
          "runs.retrieve shows the metadata")

    # The same thread through athena.
    uuid = thread.id.removeprefix("thread_")
    uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    athena_messages = athena(base, "GET", f"/api/v1/messages?thread_uuid={uuid}&per_page=100", key)["data"]
    check([m["content"] for m in athena_messages if m["role"] in ("user", "assistant") and m["content"]][:2]
          == ["Hello from the SDK", reply], "athena reads the thread back")

    # Cancel: a run waiting for tool outputs ends cancelled.
    created = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": '/tool get_weather {"city": "Rome"}'}]},
    )
    check(created.status == "requires_action", "threads.create_and_run_poll")

    # create_and_run's thread is the assistant's: the same messages read back
    # through athena, thena (under the assistant's agent) and freddy.
    def dashed(hex_id: str) -> str:
        return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"

    thread_hex = created.thread_id.removeprefix("thread_")
    sdk_texts = [m.content[0].text.value for m in
                 client.beta.threads.messages.list(thread_id=created.thread_id, order="asc") if m.content]
    athena_texts = [m["content"] for m in athena(
        base, "GET", f"/api/v1/messages?thread_uuid={dashed(thread_hex)}&per_page=100", key)["data"]
        if m["role"] in ("user", "assistant") and m["content"]]
    thena_thread = athena(
        base, "GET", f"/api/v1/chat/{dashed(assistant.id.removeprefix('asst_'))}/threads/{dashed(thread_hex)}", key)
    thena_texts = [m["content"] for m in thena_thread["messages"]
                   if m["role"] in ("user", "assistant") and m["content"]]
    freddy_texts = [m["content"] for m in athena(base, "GET", f"/v1/threads/thrd_{thread_hex}/messages", key)["data"]
                    if m["role"] in ("user", "assistant") and m["content"]]
    check(sdk_texts == athena_texts == thena_texts == freddy_texts
          and sdk_texts[0] == '/tool get_weather {"city": "Rome"}',
          "the assistant's thread reads back the same in athena, thena and freddy")
    cancelled = client.beta.threads.runs.cancel(thread_id=created.thread_id, run_id=created.id)
    check(cancelled.status in ("cancelling", "cancelled"), "runs.cancel")
    check(client.beta.threads.runs.retrieve(thread_id=created.thread_id, run_id=created.id).status == "cancelled",
          "runs.retrieve after cancel")

    # Files: uploaded through the SDK, attached to a message, read by the model.
    uploaded = client.files.create(file=("notes.txt", b"The launch is on Friday."), purpose="assistants")
    check(uploaded.id.startswith("file-") and uploaded.bytes == 24 and uploaded.filename == "notes.txt",
          "files.create")
    check(client.files.retrieve(uploaded.id).id == uploaded.id, "files.retrieve")
    check(uploaded.id in [f.id for f in client.files.list()], "files.list")
    check(client.files.content(uploaded.id).read() == b"The launch is on Friday.", "files.content")
    with_file = client.beta.threads.create(messages=[{
        "role": "user", "content": "When is the launch?",
        "attachments": [{"file_id": uploaded.id, "tools": [{"type": "file_search"}]}],
    }])
    attached = client.beta.threads.messages.list(thread_id=with_file.id).data[0]
    check([a.file_id for a in attached.attachments] == [uploaded.id], "a message's attachments")
    read = client.beta.threads.runs.create_and_poll(thread_id=with_file.id, assistant_id=assistant.id)
    check(read.status == "completed", "a run over an attached file completes")
    check(client.files.delete(uploaded.id).deleted, "files.delete")

    # Errors map onto the SDK's classes.
    try:
        OpenAI(base_url=f"{base}/openai/v1", api_key="spk_wrong", max_retries=0).beta.assistants.list()
        raise AssertionError("a wrong key was accepted")
    except openai.AuthenticationError as err:
        check(err.status_code == 401, "a wrong key: AuthenticationError")
    try:
        client.beta.threads.retrieve("thread_" + "0" * 32)
        raise AssertionError("an unknown thread was found")
    except openai.NotFoundError:
        check(True, "an unknown thread: NotFoundError")
    try:
        client.beta.assistants.create(model="echo", tools=[{"type": "code_interpreter"}])
        raise AssertionError("code_interpreter was accepted")
    except openai.BadRequestError as err:
        check("code_interpreter" in err.message, "code_interpreter: BadRequestError naming it")

    deleted = client.beta.threads.delete(created.thread_id)
    check(deleted.deleted and deleted.object == "thread.deleted", "threads.delete")
    check(client.beta.assistants.delete(assistant.id).deleted, "assistants.delete")


def main() -> int:
    binary, out = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    server = Server(binary, out / "server", out / "spool.log", extra_config=CONFIG)
    try:
        scenario(server.base, api_key(server.base))
    finally:
        code = server.stop()
    print(f"openai-sdk-test: passed; spool exited with {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
