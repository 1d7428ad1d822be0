"""The official `openai` Python SDK against spool's Conversations and
Responses APIs: a debug spool on the echo model, `base_url` pointed at
/openai/v1, and nothing else changed. Run through scripts/openai-sdk-test.

    test_responses.py SPOOL_BINARY WORKDIR
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "openapi"))

import openai  # noqa: E402
from openai import OpenAI  # noqa: E402

from server import Server  # noqa: E402
from test_assistants import CONFIG, api_key, athena, check  # noqa: E402

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def uuid_of(prefixed: str) -> str:
    hex_ = prefixed.split("_", 1)[1]
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


def expect(error: type[openai.APIStatusError], call, what: str) -> openai.APIStatusError:
    try:
        call()
    except error as err:
        check(True, what)
        return err
    raise AssertionError(f"{what}: no {error.__name__}")


def conversations(client: OpenAI) -> str:
    check(any(m.id == "echo" for m in client.models.list()), "models.list has echo")
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "Hello from the SDK"}],
        metadata={"topic": "demo"},
    )
    check(conversation.id.startswith("conv_") and conversation.metadata == {"topic": "demo"},
          "conversations.create with an item and metadata")
    check(client.conversations.retrieve(conversation.id).id == conversation.id, "conversations.retrieve")
    updated = client.conversations.update(conversation.id, metadata={"topic": "weather"})
    check(updated.metadata == {"topic": "weather"}, "conversations.update")
    added = client.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Second question"}]},
    ])
    check(len(added.data) == 1 and added.data[0].content[0].text == "Second question",
          "conversations.items.create")
    return conversation.id


def responses(client: OpenAI, conversation: str) -> str:
    response = client.responses.create(model="echo", conversation=conversation, input="Third, answer please")
    check(response.id.startswith("resp_") and response.status == "completed"
          and "Third, answer please" in response.output_text
          and response.usage is not None and response.usage.total_tokens > 0,
          "responses.create in a conversation")
    check(response.conversation is not None and response.conversation.id == conversation,
          "the response names its conversation")

    # The stream helper: the documented event sequence, numbered.
    with client.responses.stream(model="echo", conversation=conversation, input="Stream this please") as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [e.type for e in events]
    check(types[:5] == ["response.created", "response.in_progress", "response.output_item.added",
                        "response.content_part.added", "response.output_text.delta"]
          and types[-4:] == ["response.output_text.done", "response.content_part.done",
                             "response.output_item.done", "response.completed"],
          "responses.stream: the documented event sequence")
    check([e.sequence_number for e in events] == list(range(len(events))), "every event has its sequence_number")
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    check("Stream this please" in final.output_text and deltas == final.output_text,
          "responses.stream: get_final_response")
    check(final.usage is not None and final.usage.output_tokens > 0, "response.completed carries usage")

    raw = list(client.responses.create(model="echo", conversation=conversation, input="Raw stream", stream=True))
    check(raw[0].type == "response.created" and raw[-1].type == "response.completed"
          and "Raw stream" in raw[-1].response.output_text, "responses.create(stream=True)")

    # Without a conversation: a new one, followed by previous_response_id.
    first = client.responses.create(model="echo", input="Standalone question", instructions="Be brief.")
    second = client.responses.create(model="echo", previous_response_id=first.id, input="Follow-up")
    check(first.instructions == "Be brief." and second.previous_response_id == first.id
          and second.conversation.id == first.conversation.id and "Follow-up" in second.output_text,
          "previous_response_id continues the same conversation")
    inputs = list(client.responses.input_items.list(second.id, order="asc"))
    check([i.content[0].text for i in inputs if i.role == "user"] == ["Standalone question", "Follow-up"],
          "responses.input_items.list")
    return response.id


def background(client: OpenAI, conversation: str) -> None:
    started = client.responses.create(model="echo", conversation=conversation, input="Background job",
                                      background=True)
    check(started.background and started.status in ("queued", "in_progress", "completed"),
          "a background response answers at once")
    events = list(client.responses.retrieve(started.id, stream=True))
    numbers = [e.sequence_number for e in events]
    check(numbers == list(range(len(numbers))) and events[-1].type == "response.completed",
          "responses.retrieve(stream=True) replays and follows a background response")
    rest = list(client.responses.retrieve(started.id, stream=True, starting_after=3))
    check([e.sequence_number for e in rest] == numbers[4:] and [e.type for e in rest] == [e.type for e in events[4:]],
          "starting_after resumes after that event")
    check(client.responses.retrieve(started.id).status == "completed", "responses.retrieve")


def function_calls(client: OpenAI, conversation: str) -> None:
    waiting = client.responses.create(model="echo", conversation=conversation, tools=[WEATHER],
                                      input='/tool get_weather {"city": "Oslo"}')
    calls = [item for item in waiting.output if item.type == "function_call"]
    check(waiting.status == "completed" and len(calls) == 1 and calls[0].name == "get_weather"
          and json.loads(calls[0].arguments) == {"city": "Oslo"}, "a function_call output item")

    err = expect(openai.BadRequestError,
                 lambda: client.responses.create(model="echo", conversation=conversation, input="Meanwhile"),
                 "a busy conversation: BadRequestError")
    check(err.code == "conversation_locked", "its code is conversation_locked")
    expect(openai.UnprocessableEntityError, lambda: client.responses.create(
        model="echo", previous_response_id=waiting.id,
        input=[{"type": "function_call_output", "call_id": "call_unknown", "output": "x"}]),
        "an output for an unknown call_id: UnprocessableEntityError")

    answered = client.responses.create(model="echo", previous_response_id=waiting.id, input=[
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"}])
    check(answered.status == "completed" and "sunny, 21 C" in answered.output_text,
          "function_call_output answers the call; the reply follows")

    # Streamed: the stream ends at the call, the answer's stream goes on.
    with client.responses.stream(model="echo", conversation=conversation, tools=[WEATHER],
                                 input='/tool get_weather {"city": "Bergen"}') as stream:
        called = stream.get_final_response()
    call = next(item for item in called.output if item.type == "function_call")
    with client.responses.stream(model="echo", conversation=conversation, input=[
            {"type": "function_call_output", "call_id": call.call_id, "output": "rain"}]) as stream:
        rest = stream.get_final_response()
    check("rain" in rest.output_text, "a streamed function-call round trip")

    # Cancel: a background response waiting for its call ends cancelled.
    started = client.responses.create(model="echo", tools=[WEATHER], background=True,
                                      input='/tool get_weather {"city": "Rome"}')
    list(client.responses.retrieve(started.id, stream=True))
    cancelled = client.responses.cancel(started.id)
    check(cancelled.status == "cancelled", "responses.cancel")


def items_and_athena(client: OpenAI, base: str, key: str, conversation: str) -> None:
    items = list(client.conversations.items.list(conversation, limit=2, order="asc"))
    kinds = {item.type for item in items}
    check(items[0].content[0].text == "Hello from the SDK" and len(items) > 10
          and {"message", "function_call", "function_call_output"} <= kinds,
          f"conversations.items.list auto-paging ({len(items)} items)")
    newest = client.conversations.items.list(conversation, limit=1)
    check(newest.data[0].id == items[-1].id and newest.has_more, "items list newest first by default")
    one = client.conversations.items.retrieve(items[1].id, conversation_id=conversation)
    check(one.id == items[1].id, "conversations.items.retrieve")

    texts = [item.content[0].text for item in items if item.type == "message"]
    messages = athena(base, "GET", f"/api/v1/messages?thread_uuid={uuid_of(conversation)}&per_page=100", key)["data"]
    check([m["content"] for m in messages if m["role"] in ("user", "assistant") and m["content"]] == texts,
          "athena reads the conversation back with the same messages")

    client.conversations.items.delete(items[1].id, conversation_id=conversation)
    expect(openai.NotFoundError,
           lambda: client.conversations.items.retrieve(items[1].id, conversation_id=conversation),
           "a deleted item: NotFoundError")


def errors(client: OpenAI, base: str, conversation: str) -> None:
    wrong = OpenAI(base_url=f"{base}/openai/v1", api_key="spk_wrong", max_retries=0)
    err = expect(openai.AuthenticationError, lambda: wrong.conversations.retrieve(conversation),
                 "a wrong key: AuthenticationError")
    check(err.status_code == 401, "401")
    expect(openai.NotFoundError, lambda: client.conversations.retrieve("conv_" + "0" * 32),
           "an unknown conversation: NotFoundError")
    expect(openai.NotFoundError, lambda: client.responses.retrieve("resp_" + "0" * 32),
           "an unknown response: NotFoundError")
    err = expect(openai.BadRequestError, lambda: client.responses.create(
        model="echo", input="x", tools=[{"type": "web_search"}]), "a hosted tool: BadRequestError")
    check("web_search" in err.message, "the error names the tool")
    deleted = client.conversations.delete(conversation)
    check(deleted.deleted and deleted.object == "conversation.deleted", "conversations.delete")


def scenario(base: str, key: str) -> None:
    client = OpenAI(base_url=f"{base}/openai/v1", api_key=key, max_retries=0)
    conversation = conversations(client)
    responses(client, conversation)
    background(client, conversation)
    function_calls(client, conversation)
    items_and_athena(client, base, key, conversation)
    errors(client, base, conversation)


def main() -> int:
    binary, out = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    server = Server(binary, out / "server", out / "spool.log", extra_config=CONFIG)
    try:
        scenario(server.base, api_key(server.base))
    finally:
        code = server.stop()
    print(f"openai-sdk-test (responses): passed; spool exited with {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
