"""Drives a running `hyperlab serve` with the official `openai` Python package and prints what it got
as one JSON object (ServerTests checks it against the engine).

usage: python3 clients.py BASE_URL MODEL
"""
import json
import sys

import openai

base, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=120)
messages = [{"role": "user", "content": "Name a colour."}]
out = {}

listed = [m.id for m in client.models.list()]
assert model in listed, listed

chat = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=8,
                                      logprobs=True, top_logprobs=2)
out["chat"] = chat.choices[0].message.content
out["chat_finish"] = chat.choices[0].finish_reason
out["chat_logprobs"] = [t.logprob for t in chat.choices[0].logprobs.content]
out["chat_tokens"] = chat.usage.completion_tokens - (1 if chat.choices[0].finish_reason == "stop" else 0)
assert all(len(t.top_logprobs) == 2 for t in chat.choices[0].logprobs.content)

chunks = 0
pieces = []
usage = None
for chunk in client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=8, stream=True,
                                            stream_options={"include_usage": True}):
    chunks += 1
    if chunk.usage is not None:
        usage = chunk.usage
    for c in chunk.choices:
        if c.delta.content:
            pieces.append(c.delta.content)
out["stream"] = "".join(pieces)
out["stream_chunks"] = chunks
assert usage is not None and usage.completion_tokens == chat.usage.completion_tokens

text = "The quick brown fox jumps over the lazy dog."
comp = client.completions.create(model=model, prompt=text, echo=True, logprobs=1, max_tokens=0)
out["echo_text"] = comp.choices[0].text
out["echo_logprobs"] = comp.choices[0].logprobs.token_logprobs

gen = client.completions.create(model=model, prompt="Once upon a time", max_tokens=4, temperature=0.7, seed=5, n=2)
assert len(gen.choices) == 2 and gen.usage.completion_tokens >= 2

try:
    client.chat.completions.create(model="no-such-model", messages=messages)
    out["error_status"] = 0
except openai.NotFoundError as e:
    out["error_status"] = e.status_code
    assert "no-such-model" in e.message

print(json.dumps(out))
