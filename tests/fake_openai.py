"""A fake OpenAI-compatible server for tests: real HTTP on 127.0.0.1, the endpoints the
OpenAI-compatible backend (rag/llm_openai.py) uses, shaped as llama.cpp's `llama-server`
and vLLM answer them:

    GET  /v1/models             {"object": "list", "data": [{"id": ...}]}
    GET  /props                 llama.cpp: {"default_generation_settings": {"n_ctx": N}}
    POST /tokenize              llama.cpp: {"content"} -> {"tokens": [...]}, the fake's count
                                (both 404 with props=False, as LM Studio answers)
    POST /v1/chat/completions   scripted replies; "stream": true -> Server-Sent Events in
                                chunked encoding, `data: {chunk}` ... `data: [DONE]`, with a
                                usage chunk when stream_options.include_usage is set

Like llama.cpp, a prompt longer than the context (`n_ctx`, counted in `split_tokens`
pieces plus 8 per message) is refused with 400 `exceed_context_size_error`; an unknown
model is 404 (vLLM's wording); a server started with `api_key` answers 401 without it.
Faults: "500", "html" (a proxy's 502 page), "slow" (seconds before answering), "cut"
(close the socket after N content chunks). Replies: `reply()` queue, else `default_reply`
(a str or a callable(body) -> str, e.g. tests.ollama_router.router: the request bodies
have the same `messages` shape).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fake_ollama import PROXY_502_PAGE, split_tokens

Reply = str | Callable[[dict[str, Any]], str | list[str]]

DEFAULT_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: dict[str, Any] | None
    headers: dict[str, str]


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.url` is the base URL (…/v1)."""

    def __init__(
        self,
        *,
        models: tuple[str, ...] = (DEFAULT_MODEL,),
        n_ctx: int = 4096,
        props: bool = True,
        api_key: str | None = None,
    ) -> None:
        self.models = list(models)
        self.n_ctx = n_ctx
        self.props = props
        self.api_key = api_key
        self.default_reply: Reply = "I do not know."
        self._replies: deque[Reply] = deque()
        self._faults: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self.errors: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    # scripting -------------------------------------------------------------------------------
    def reply(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def fail(self, kind: str, **params: Any) -> None:
        """kind: "500" | "html" | "slow" (seconds=) | "cut" (after= content chunks)."""
        with self._lock:
            self._faults[kind] = params

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [r.json for r in self.requests if r.path == "/v1/chat/completions" and r.json]

    # used by the handler ---------------------------------------------------------------------
    def _log(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, body: dict[str, Any]) -> list[str]:
        with self._lock:
            reply = self._replies.popleft() if self._replies else self.default_reply
        value = reply(body) if callable(reply) else reply
        return split_tokens(value) if isinstance(value, str) else list(value)

    def _faults_now(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._faults)


def prompt_tokens(body: dict[str, Any]) -> int:
    """The fake's count of a chat request's prompt (its "tokenizer")."""
    return sum(
        8 + sum(1 for t in split_tokens(str(m.get("content") or "")) if t.strip())
        for m in body.get("messages") or []
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            super().handle()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: dict[str, Any] | None = None
        with contextlib.suppress(ValueError):
            loaded = json.loads(raw) if raw else None
            body = loaded if isinstance(loaded, dict) else None
        fake._log(
            Request(self.command, self.path, body, {k.lower(): v for k, v in self.headers.items()})
        )
        try:
            self._route(body or {})
        except OSError:
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: visible to the test
            fake.errors.append(repr(exc))
            raise

    def _route(self, body: dict[str, Any]) -> None:
        fake = self.server_fake
        if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            self._json(
                401,
                {
                    "error": {
                        "message": "Invalid API Key",
                        "type": "authentication_error",
                        "code": 401,
                    }
                },
            )
            return
        faults = fake._faults_now()
        if "slow" in faults:
            fake._stop.wait(float(faults["slow"].get("seconds", 1.0)))
        if "html" in faults:
            self._send(int(faults["html"].get("status", 502)), PROXY_502_PAGE.encode(), "text/html")
            return
        if "500" in faults:
            message = faults["500"].get("message", "internal server error")
            self._json(500, {"error": {"message": message, "type": "server_error", "code": 500}})
            return
        if self.command == "GET" and self.path == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models
            ]
            self._json(200, {"object": "list", "data": data})
        elif self.command == "GET" and self.path == "/props" and fake.props:
            self._json(
                200, {"default_generation_settings": {"n_ctx": fake.n_ctx}, "total_slots": 1}
            )
        elif self.command == "POST" and self.path == "/tokenize" and fake.props:
            pieces = [t for t in split_tokens(str(body.get("content") or "")) if t.strip()]
            self._json(200, {"tokens": list(range(len(pieces)))})
        elif self.command == "POST" and self.path == "/v1/chat/completions":
            self._chat(body, faults)
        else:
            self._json(
                404,
                {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}},
            )

    def _chat(self, body: dict[str, Any], faults: dict[str, dict[str, Any]]) -> None:
        fake = self.server_fake
        model = body.get("model")
        if model not in fake.models:
            self._json(
                404,
                {
                    "object": "error",
                    "message": f"The model `{model}` does not exist.",
                    "type": "NotFoundError",
                    "param": None,
                    "code": 404,
                },
            )
            return
        n_prompt = prompt_tokens(body)
        if n_prompt > fake.n_ctx:
            self._json(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "the request exceeds the available context size, "
                        "try increasing it",
                        "type": "exceed_context_size_error",
                        "n_prompt_tokens": n_prompt,
                        "n_ctx": fake.n_ctx,
                    }
                },
            )
            return
        tokens = fake._next_reply(body)
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens > 0:
            tokens = tokens[:max_tokens]
        created = int(time.time())
        usage = {
            "prompt_tokens": n_prompt,
            "completion_tokens": len(tokens),
            "total_tokens": n_prompt + len(tokens),
        }
        base = {"id": "chatcmpl-fake", "created": created, "model": model}
        if not body.get("stream"):
            if "cut" in faults:
                self._abort()
                return
            message = {"role": "assistant", "content": "".join(tokens)}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._json(
                200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
            obj = {**base, "object": "chat.completion.chunk", "choices": choices, **(extra or {})}
            self._chunk(f"data: {json.dumps(obj)}\n\n".encode())

        event(
            [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]
        )
        cut_after = faults.get("cut", {}).get("after") if "cut" in faults else None
        for i, token in enumerate(tokens):
            if cut_after is not None and i >= int(cut_after):
                self._abort()
                return
            event([{"index": 0, "delta": {"content": token}, "finish_reason": None}])
        event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            event([], {"usage": usage})
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    # writing -----------------------------------------------------------------------------------
    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
        assert server.errors == []
