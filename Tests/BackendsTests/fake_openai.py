#!/usr/bin/env python3
"""A deterministic, fault-injecting stand-in for OpenAI- and Anthropic-style HTTP APIs (tests only).

Started by the Swift tests: binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout, and serves
until killed or until its stdin closes (so it never outlives the test process).

API routes (any path ending in these):
  POST .../chat/completions   OpenAI chat. Choice i's text is "reply <i>: <last user message>".
                               Words are tokens: at most max_tokens words are returned
                               (finish_reason "length"); a stop string cuts the text (finish "stop").
  POST .../completions        OpenAI legacy completions; with echo+logprobs returns every token of the
                               prompt. Tokens are runs of optional whitespace plus non-whitespace
                               (regex \\s*\\S+|\\s+); token k has logprob -0.25 * len(token) (the first is
                               null); text_offset counts code points. With max_tokens >= 1 one more token
                               " end" (logprob -0.5) is generated.
  POST .../v1/messages        Anthropic Messages. Needs x-api-key and anthropic-version headers
                               (else 401). The text is "claude: <last user message>|system=<system>".

Control routes:
  POST /_control/schedule  {"path": "/v1/chat/completions", "faults": [...], "default": "ok"}
        The Nth request to that path after this call gets faults[N-1]; later ones get the default.
  POST /_control/reset     forget schedules, configuration and statistics (requests still in flight from
                           before the reset are no longer counted).
  POST /_control/config    {"ignore_n": true}  (chat returns one choice whatever n is)
                           {"hide_special": true}  (echo leaves out "<|name|>" tokens, as llama-cpp-python)
  GET  /_control/stats     {"counts": {path: n}, "max_in_flight": k, "requests": [{path, body, headers}]}

Faults: ok | 429[:retry_after] | 429ms:<ms> | <status> (e.g. 400, 401, 500, 503) | slow:<seconds> |
        malformed (200, invalid JSON) | missing (200, JSON without the expected fields) |
        drop (close the connection without answering) | truncate (promise a body, send half, close).
Every error body quotes the credentials the request carried, as careless real servers do, so tests
can check that clients never repeat them.
"""
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"schedules": {}, "defaults": {}, "counts": {}, "in_flight": 0, "max_in_flight": 0,
         "requests": [], "config": {}, "offsets": {}, "epoch": 0}

TOKEN_RE = re.compile(r"\s*\S+|\s+")
SPECIAL_RE = re.compile(r"<\|[a-z_]+\|>")


def tokens_of(text):
    return TOKEN_RE.findall(text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    # ---- helpers -------------------------------------------------------
    def send_json(self, status, obj, extra_headers=None):
        body = json.dumps(obj).encode()
        self.send_raw(status, body, extra_headers)

    def send_raw(self, status, body, extra_headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def credentials(self):
        return " ".join(v for v in [self.headers.get("Authorization"), self.headers.get("x-api-key")] if v)

    # ---- control -------------------------------------------------------
    def do_GET(self):
        if self.path.startswith("/_control/stats"):
            with LOCK:
                snap = {"counts": dict(STATE["counts"]), "max_in_flight": STATE["max_in_flight"],
                        "requests": list(STATE["requests"])}
            return self.send_json(200, snap)
        self.send_json(404, {"error": "no such route"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.startswith("/_control/"):
            return self.control(raw)
        path = self.path.split("?")[0]
        with LOCK:
            n = STATE["counts"].get(path, 0) + 1
            STATE["counts"][path] = n
            sched = STATE["schedules"].get(path, [])
            k = n - 1 - STATE["offsets"].get(path, 0)
            fault = sched[k] if 0 <= k < len(sched) else STATE["defaults"].get(path, "ok")
            epoch = STATE["epoch"]
            STATE["in_flight"] += 1
            STATE["max_in_flight"] = max(STATE["max_in_flight"], STATE["in_flight"])
            try:
                body = json.loads(raw.decode() or "null")
            except ValueError:
                body = None
            STATE["requests"].append({"path": path, "body": body, "fault": fault, "headers": {
                k.lower(): v for k, v in self.headers.items()
                if k.lower() in ("authorization", "x-api-key", "anthropic-version", "content-type")}})
        try:
            self.serve(path, body, fault)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with LOCK:
                if STATE["epoch"] == epoch:  # requests from before a reset no longer count
                    STATE["in_flight"] -= 1

    def control(self, raw):
        req = json.loads(raw.decode() or "{}")
        with LOCK:
            if self.path.startswith("/_control/schedule"):
                STATE["schedules"][req["path"]] = list(req.get("faults", []))
                STATE["offsets"][req["path"]] = STATE["counts"].get(req["path"], 0)
                STATE["defaults"][req["path"]] = req.get("default", "ok")
            elif self.path.startswith("/_control/config"):
                STATE["config"].update(req)
            elif self.path.startswith("/_control/reset"):
                STATE.update({"schedules": {}, "defaults": {}, "offsets": {}, "counts": {}, "max_in_flight": 0,
                              "in_flight": 0, "epoch": STATE["epoch"] + 1, "requests": [], "config": {}})
            else:
                return self.send_json(404, {"error": "no such control route"})
        self.send_json(200, {"ok": True})

    # ---- faults --------------------------------------------------------
    def serve(self, path, body, fault):
        kind, _, arg = fault.partition(":")
        if kind == "slow":
            time.sleep(float(arg or "5"))
            kind = "ok"
        if kind == "ok":
            return self.answer(path, body)
        if kind == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4000")
            self.end_headers()
            self.wfile.write(b'{"choices": [{"index": 0, "mess')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if kind == "malformed":
            return self.send_raw(200, ("{not json, seen credentials: %s" % self.credentials()).encode())
        if kind == "missing":
            return self.send_json(200, {"id": "x", "object": "oops", "note": "seen " + self.credentials()})
        if kind == "429ms":
            return self.send_json(429, {"error": {"message": "slow down"}}, {"retry-after-ms": arg})
        status = int(kind)
        headers = {"Retry-After": arg or "0"} if status == 429 else {}
        msg = "status %d; Incorrect API key provided: %s" % (status, self.credentials())
        self.send_json(status, {"error": {"message": msg, "type": "fake"}}, headers)

    # ---- normal answers ------------------------------------------------
    def answer(self, path, body):
        if path.endswith("/v1/messages"):
            return self.anthropic(body)
        if path.endswith("/chat/completions"):
            return self.chat(body)
        if path.endswith("/completions"):
            return self.completion(body)
        self.send_json(404, {"error": "unknown route " + path})

    @staticmethod
    def last_user(messages):
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        return users[-1] if users else ""

    @staticmethod
    def cut(text, max_tokens, stops):
        for s in stops or []:
            i = text.find(s)
            if i >= 0:
                return text[:i], "stop"
        words = text.split(" ")
        if max_tokens is not None and len(words) > max_tokens:
            return " ".join(words[:max_tokens]), "length"
        return text, "stop"

    def chat(self, body):
        n = body.get("n") or 1
        with LOCK:
            if STATE["config"].get("ignore_n"):
                n = 1
        stops = body.get("stop")
        if isinstance(stops, str):
            stops = [stops]
        last = self.last_user(body["messages"])
        choices, used = [], 0
        for i in range(n):
            text, reason = self.cut("reply %d: %s" % (i, last), body.get("max_tokens"), stops)
            used += len(text.split(" "))
            choices.append({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": reason})
        choices.reverse()  # clients must order by index
        prompt_tokens = sum(len(m.get("content", "").split()) for m in body["messages"])
        self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": body.get("model"),
                             "choices": choices,
                             "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": used,
                                       "total_tokens": prompt_tokens + used}})

    def completion(self, body):
        prompt = body["prompt"]
        with LOCK:
            hide = STATE["config"].get("hide_special")
        # Like llama-cpp-python, optionally leave special tokens out of the echoed tokens and offsets.
        toks = tokens_of(SPECIAL_RE.sub("", prompt) if hide else prompt) if body.get("echo") else []
        lps = [None if k == 0 else -0.25 * len(t) for k, t in enumerate(toks)]
        offsets, pos = [], 0
        for t in toks:
            offsets.append(pos)
            pos += len(t)
        text = prompt if body.get("echo") else ""
        if (body.get("max_tokens") or 0) >= 1:
            toks.append(" end")
            lps.append(-0.5)
            offsets.append(pos)
            text += " end"
        logprobs = None
        if body.get("logprobs") is not None:
            logprobs = {"tokens": toks, "token_logprobs": lps, "text_offset": offsets,
                        "top_logprobs": [None if lp is None else {t: lp} for t, lp in zip(toks, lps)]}
        self.send_json(200, {"id": "cmpl-fake", "object": "text_completion", "model": body.get("model"),
                             "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": "length"}]})

    def anthropic(self, body):
        if not self.headers.get("x-api-key") or not self.headers.get("anthropic-version"):
            return self.send_json(401, {"type": "error", "error": {
                "type": "authentication_error", "message": "invalid x-api-key: %s" % self.credentials()}})
        last = self.last_user(body["messages"])
        text, reason = self.cut("claude: %s|system=%s" % (last, body.get("system")), body.get("max_tokens"),
                                body.get("stop_sequences"))
        reason = {"stop": "end_turn", "length": "max_tokens"}[reason]
        if body.get("stop_sequences") and any(s in "claude: %s" % last for s in body["stop_sequences"]):
            reason = "stop_sequence"
        self.send_json(200, {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
                             "content": [{"type": "text", "text": text}], "stop_reason": reason,
                             "usage": {"input_tokens": 7, "output_tokens": len(text.split(" "))}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(1024):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
