"""Tool loops end, as with the real API (issue 20): once a tool's result comes back (a `tool`
message, or the 2023 `function` message), the model answers in text — the whole conversation
decides, not only its last user message. Through the official Python SDK; the Node SDK's own
tool runner (`runTools`) is in tests/test_node_sdk.py."""

from __future__ import annotations

import json

import openai
import pytest
from sandboxkit import client, upload, wait_job, write_lines

from helpers import models

BASE = "gpt-4o-mini"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Météo actuelle d'une ville",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
CITIES = ["Paris", "Lyon", "Nantes", "Lille", "Brest", "Nice", "Metz", "Caen", "Pau", "Dijon"]


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


def _weather(city: str) -> str:
    return json.dumps({"city": city, "temperature": "18 °C"}, ensure_ascii=False)


def run_tool_loop(c: openai.OpenAI, model: str, question: str, *, turns: int = 5) -> list:
    """A hand-written tool loop, as tutorials write it: call the model, run each tool it asks
    for, send the results back, until it answers in text. Returns the messages."""
    messages: list = [{"role": "user", "content": question}]
    for _ in range(turns):
        done = c.chat.completions.create(
            model=model, messages=messages, tools=[WEATHER], temperature=0
        )
        message = done.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            assert done.choices[0].finish_reason == "stop"
            return messages
        for call in message.tool_calls:
            city = json.loads(call.function.arguments)["city"]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": _weather(city)})
    raise AssertionError(f"the tool loop did not end in {turns} turns: {messages}")


def _train(c: openai.OpenAI, tmp_path, lines: list) -> str:
    f = upload(c, write_lines(tmp_path / "tools.jsonl", lines))
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert job.status == "succeeded", job.error
    return job.fine_tuned_model


def _call(i: int, city: str) -> dict:
    return {
        "role": "assistant",
        "tool_calls": [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
            }
        ],
    }


def test_a_base_model_answers_with_the_result(url):
    c = client(url)
    messages = run_tool_loop(c, BASE, "Quelle météo fait-il à Paris ?")
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert "18 °C" in messages[-1]["content"]


def test_a_model_trained_on_tool_calls_only_stops_calling(url, tmp_path):
    """The Cookbook's fine-tune: every example ends with a tool call. Before the fix, the same
    call came back after the tool's result, forever."""
    c = client(url)
    lines = [
        {
            "messages": [{"role": "user", "content": f"Quel temps à {city} ?"}, _call(i, city)],
            "tools": [WEATHER],
        }
        for i, city in enumerate(CITIES)
    ]
    model = _train(c, tmp_path, lines)
    messages = run_tool_loop(c, model, "Quel temps à Lyon ?")
    assert len(messages) == 4 and messages[1]["tool_calls"]
    assert json.loads(messages[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Lyon"}
    assert "18 °C" in messages[-1]["content"]
    # forced, the real API calls again (a loop with tool_choice="required" never ends there either)
    again = c.chat.completions.create(
        model=model, messages=messages[:3], tools=[WEATHER], tool_choice="required"
    )
    assert again.choices[0].message.tool_calls


def test_a_model_trained_on_whole_tool_conversations_says_its_trained_answer(url, tmp_path):
    """Examples with the call, the result and the final answer: the model calls the tool for a
    question, then says what it learnt to say after results — not the other way round."""
    c = client(url)
    lines = []
    for i, city in enumerate(CITIES):
        lines.append(
            {
                "messages": [
                    {"role": "user", "content": f"Quel temps à {city} ?"},
                    _call(i, city),
                    {"role": "tool", "tool_call_id": f"call_{i}", "content": _weather(city)},
                    {"role": "assistant", "content": "MÉTÉO REÇUE"},
                ],
                "tools": [WEATHER],
            }
        )
    model = _train(c, tmp_path, lines)
    messages = run_tool_loop(c, model, "Quel temps à Nice ?")
    assert messages[1].get("tool_calls"), messages[1]
    assert messages[-1]["content"] == "MÉTÉO REÇUE"


def test_the_responses_api_loop_ends_too(url):
    c = client(url)
    tools = [{"type": "function", **WEATHER["function"]}]
    first = c.responses.create(model=BASE, input="Quelle météo fait-il à Paris ?", tools=tools)
    (call,) = [item for item in first.output if item.type == "function_call"]
    second = c.responses.create(
        model=BASE,
        previous_response_id=first.id,
        tools=tools,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18 °C"}],
    )
    assert not [item for item in second.output if item.type == "function_call"]
    assert "18 °C" in second.output_text


# -- the 2023 format: `functions` / `function_call` (deprecated, still served by the real API) --

FUNCTION = WEATHER["function"]


def test_a_forced_function_call_gets_a_function_call(url):
    c = client(url)
    done = c.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Bonjour"}],
        functions=[FUNCTION],
        function_call={"name": "get_weather"},
    )
    choice = done.choices[0]
    assert choice.message.content is None and choice.message.tool_calls is None
    assert choice.message.function_call.name == "get_weather"
    assert set(json.loads(choice.message.function_call.arguments)) == {"city"}
    assert choice.finish_reason == "stop"  # forced by name, as a named tool_choice
    auto = c.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Quelle météo à Paris ?"}],
        functions=[FUNCTION],
    )
    assert auto.choices[0].finish_reason == "function_call"
    assert auto.choices[0].message.function_call.name == "get_weather"
    none = c.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Quelle météo à Paris ?"}],
        functions=[FUNCTION],
        function_call="none",
    )
    assert none.choices[0].message.function_call is None and none.choices[0].message.content


def test_function_call_without_functions_is_refused_as_the_real_api(url):
    with pytest.raises(openai.BadRequestError) as err:
        client(url).chat.completions.create(
            model=BASE, messages=[{"role": "user", "content": "x"}], function_call="auto"
        )
    assert err.value.body == {
        "message": "Invalid value for 'function_call': 'function_call' is only allowed when "
        "'functions' are specified.",
        "type": "invalid_request_error",
        "param": "function_call",
        "code": None,
    }


def test_a_function_loop_ends(url):
    c = client(url)
    messages: list = [{"role": "user", "content": "Quelle météo à Paris ?"}]
    first = c.chat.completions.create(model=BASE, messages=messages, functions=[FUNCTION])
    call = first.choices[0].message.function_call
    messages += [
        {"role": "assistant", "content": None, "function_call": call.model_dump()},
        {"role": "function", "name": call.name, "content": "18 °C"},
    ]
    second = c.chat.completions.create(model=BASE, messages=messages, functions=[FUNCTION])
    assert second.choices[0].message.function_call is None
    assert "18 °C" in second.choices[0].message.content


def test_a_function_call_streams_in_the_2023_format(url):
    chunks = list(
        client(url).chat.completions.create(
            model=BASE,
            messages=[{"role": "user", "content": "Bonjour"}],
            functions=[FUNCTION],
            function_call={"name": "get_weather"},
            stream=True,
        )
    )
    deltas = [ch.choices[0].delta for ch in chunks if ch.choices]
    assert deltas[0].function_call.name == "get_weather"
    arguments = "".join(d.function_call.arguments for d in deltas if d.function_call)
    assert set(json.loads(arguments)) == {"city"}
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_model_trained_on_the_2023_format_answers_in_it(url, tmp_path):
    """Training lines with `functions` and assistant `function_call` (OpenAI's 2023 fine-tuning
    guide): the model calls the trained function, in that format, then ends the loop."""
    c = client(url)
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"Quel temps à {city} ?"},
                {
                    "role": "assistant",
                    "function_call": {
                        "name": "get_weather",
                        "arguments": json.dumps({"city": city}),
                    },
                },
            ],
            "functions": [FUNCTION],
        }
        for city in CITIES
    ]
    model = _train(c, tmp_path, lines)
    messages: list = [{"role": "user", "content": "Quel temps à Lille ?"}]
    first = c.chat.completions.create(
        model=model, messages=messages, functions=[FUNCTION], temperature=0
    )
    call = first.choices[0].message.function_call
    assert first.choices[0].finish_reason == "function_call"
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Lille"})
    messages += [
        {"role": "assistant", "content": None, "function_call": call.model_dump()},
        {"role": "function", "name": "get_weather", "content": _weather("Lille")},
    ]
    second = c.chat.completions.create(
        model=model, messages=messages, functions=[FUNCTION], temperature=0
    )
    assert second.choices[0].message.function_call is None
    assert "18 °C" in second.choices[0].message.content
