"""A scriptable fake Ollama server for tests.

`FakeOllama` is a real HTTP/1.1 server on 127.0.0.1 (random free port) that speaks the part of
Ollama's REST API this project touches, so the real `ollama` client and llama-index's Ollama
classes can be exercised over real sockets, unmodified:

    GET  /                 "Ollama is running" (text/plain), like the real server
    GET  /api/version      {"version": "0.12.0"}
    GET  /api/tags         registered models
    POST /api/show         details, model_info, capabilities, template, parameters, modelfile
    POST /api/embed        deterministic hashed-trigram embeddings, L2-normalised
    POST /api/embeddings   legacy single-prompt form, same vectors
    POST /api/chat         scripted replies, streamed as chunked NDJSON (or one JSON object)
    POST /api/generate     same, with "response" instead of "message"

Replies are scripted with `reply()`, faults injected with `fail()`, and every request is
recorded in `requests`. The server itself uses only the standard library; `pytest` is imported
for the two fixtures at the bottom (`fake_ollama`, `ollama_down`).

Model names follow Ollama's rule that `name` means `name:latest`: `/api/tags` lists
"bge-m3:latest" and a request for "bge-m3" or "bge-m3:latest" finds the same model.

Where a real server (ollama/ollama: server/routes.go, api/types.go, the runner) behaves in a
way a client can get wrong, the fake does the same:

- unknown model: 404 `model 'X' not found`; an embedding model asked to chat: 400
  `"X" does not support chat` (`generate` on /api/generate);
- an error before the first token is an HTTP status (500), not 200 plus an error line;
- reasoning models (`add_model(..., reasoning="field")`, capability "thinking"): thinking
  is ON unless the request says `"think": false`, streamed in `message.thinking` first;
  `reasoning="inline"` is a model whose template lacks thinking support: its reasoning
  arrives inside the text as `<think>…</think>` whatever the request says, and
  `"think": true` is refused (400 `"X" does not support thinking`);
- `keep_alive` is parsed as api.Duration: a JSON number of seconds, or a Go duration
  string; a string without a unit ("-1", "3600") is 400 `time: missing unit in duration`;
- `options.num_ctx` (default 4096, clamped to the model's context length) bounds the
  prompt: a longer prompt keeps its first 4 tokens and its tail, silently, and the final
  chunk's `prompt_eval_count` is the number kept. Tokens are `split_tokens` pieces.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import select
import socket
import socketserver
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, TypeAlias

import pytest

__all__ = [
    "FakeOllama",
    "FaultKind",
    "LoggedRequest",
    "ModelKind",
    "ModelSpec",
    "Reply",
    "Responder",
    "dead_ollama_url",
    "fake_embedding",
    "fake_ollama",
    "ollama_down",
    "split_tokens",
]

ModelKind: TypeAlias = Literal["chat", "embed"]
Reasoning: TypeAlias = Literal["field", "inline"] | None
FaultKind: TypeAlias = Literal["500", "slow", "cut", "error_line", "dim", "html"]
Responder: TypeAlias = Callable[[dict[str, Any]], str | list[str]]
Reply: TypeAlias = str | list[str] | Responder

OLLAMA_VERSION = "0.12.0"
DEFAULT_CHAT_MODEL = "llama3.1:8b"
DEFAULT_EMBED_MODEL = "bge-m3"
DEFAULT_REPLY = "I do not know."
DEFAULT_STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
DEFAULT_NUM_CTX = 4096
NUM_KEEP = 4
THINKING_TEXT = "Let me look at what the passages say before I answer."
_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)")
_GO_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")

_FAULT_KINDS: frozenset[str] = frozenset({"500", "slow", "cut", "error_line", "dim", "html"})
PROXY_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_GENERATION_PATHS = frozenset({"/api/chat", "/api/generate"})
_EMBED_PATHS = frozenset({"/api/embed", "/api/embeddings"})
_MODIFIED_AT = "2025-09-01T12:00:00Z"
_TOKEN_RE = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")
_WORD_RE = re.compile(r"\w+")

_LLAMA31_TEMPLATE = (
    "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)


# --------------------------------------------------------------------------------------------
# pure helpers


def split_tokens(text: str) -> list[str]:
    """Split `text` into word-ish tokens; whitespace is kept so `"".join(tokens) == text`.

    >>> split_tokens("I do not know.")
    ['I', ' do', ' not', ' know', '.']
    """
    return _TOKEN_RE.findall(text)


def fake_embedding(text: str, dim: int) -> list[float]:
    """The vector the fake returns for `text`: hashed character trigrams plus whole words,
    case-folded, L2-normalised. Deterministic, and similar texts get similar vectors.
    The empty text (no features) maps to the unit vector e0."""
    if dim <= 0:
        raise ValueError(f"dim must be positive, got {dim}")
    vec = [0.0] * dim
    folded = text.casefold()
    padded = f" {folded} "
    features = [padded[i : i + 3] for i in range(len(padded) - 2)]
    features += [f"w:{w}" for w in _WORD_RE.findall(folded)]
    for feature in features:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        index = value % dim
        sign = 1.0 if (value >> 63) & 1 else -1.0
        vec[index] += sign
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0.0:
        vec[0] = 1.0
        return vec
    return [x / norm for x in vec]


def canonical_model_name(name: str) -> str:
    """Ollama's rule: a name without a tag means `:latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def dead_ollama_url() -> str:
    """A URL on 127.0.0.1 at a port where (as of this call) nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake received it. `headers` keys are lower-case; `json` is the
    parsed body when it was a JSON object, else None (see `body` for the raw bytes)."""

    method: str
    path: str
    json: dict[str, Any] | None
    headers: dict[str, str]
    timestamp: float
    query: str = ""
    body: bytes = b""


@dataclass(frozen=True)
class ModelSpec:
    """A model the fake pretends to have pulled."""

    name: str
    kind: ModelKind
    dim: int
    family: str
    context_length: int
    capabilities: tuple[str, ...]
    parameter_size: str
    quantization_level: str
    reasoning: Reasoning = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.name.encode("utf-8")).hexdigest()

    @property
    def size(self) -> int:
        return 4_920_753_328 if self.kind == "chat" else 1_157_672_605

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }


@dataclass
class _Fault:
    endpoint: str
    kind: FaultKind
    remaining: int | None
    params: dict[str, Any]

    def applies_to(self, path: str, raw: bytes = b"") -> bool:
        if self.endpoint not in ("*", path):
            return False
        when = self.params.get("when")
        if when is not None and when.encode("utf-8") not in raw:
            return False
        if self.kind == "error_line":
            return path in _GENERATION_PATHS
        if self.kind == "dim":
            return path in _EMBED_PATHS
        return True


@dataclass
class _Faults:
    """The faults that apply to one request, merged."""

    delay: float = 0.0
    between_tokens: float = 0.0
    status_500: str | None = None
    html_status: int | None = None
    cut_after: int | None = None
    error_after: int | None = None
    error_message: str = DEFAULT_STREAM_ERROR
    dim: int | None = None
    kinds: list[str] = field(default_factory=list)


@dataclass
class _ScriptedReply:
    tokens: list[str]
    source: Reply | None  # the queue entry it came from, None for the default responder


# --------------------------------------------------------------------------------------------
# the fake


class FakeOllama:
    """A scriptable fake Ollama server. Use as a context manager or call start()/stop()."""

    def __init__(self, *, default_models: bool = True) -> None:
        self._lock = threading.RLock()
        self._models: dict[str, ModelSpec] = {}
        self._replies: deque[Reply] = deque()
        self._faults: list[_Fault] = []
        self._requests: list[LoggedRequest] = []
        self._errors: list[str] = []
        self._truncations: list[tuple[int, int]] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self.default_reply: Reply = DEFAULT_REPLY
        """Used when the reply queue is empty: a str, a token list, or a callable(body)."""
        if default_models:
            self.add_model(DEFAULT_CHAT_MODEL, kind="chat", dim=4096, family="llama")
            self.add_model(
                DEFAULT_EMBED_MODEL,
                kind="embed",
                dim=1024,
                family="bert",
                context_length=8192,
                parameter_size="566.70M",
                quantization_level="F16",
            )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOllama is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeOllama:
        """Start serving. The first start picks a free port; a restart after stop() reuses
        it, so `url` stays valid across an outage (stop() ... start())."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("FakeOllama is already started")
            self._stop_event.clear()
            server = _Server((self._host, self._port or 0), _Handler, fake=self)
            self._port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"fake-ollama:{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, wake sleeping "slow" handlers. Idempotent.
        Afterwards `url` refuses connections (until start() again); state is kept."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = None
            self._thread = None
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        deadline = time.monotonic() + 5
        for handler_thread in connections.values():
            handler_thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FakeOllama:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- models ------------------------------------------------------------------------------

    def add_model(
        self,
        name: str,
        *,
        kind: ModelKind = "chat",
        dim: int = 1024,
        family: str = "llama",
        context_length: int | None = None,
        capabilities: Sequence[str] | None = None,
        parameter_size: str | None = None,
        quantization_level: str | None = None,
        reasoning: Reasoning = None,
    ) -> None:
        """Register (or replace) a model. `dim` is the embedding length reported by /api/show
        and, for embed models, the length of the vectors /api/embed returns. `reasoning`:
        "field" (thinks by default, in `message.thinking`), "inline" (`<think>` in the text)."""
        if kind not in ("chat", "embed"):
            raise ValueError(f"kind must be 'chat' or 'embed', got {kind!r}")
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        spec = ModelSpec(
            name=canonical_model_name(name),
            kind=kind,
            dim=dim,
            family=family,
            context_length=context_length or (131072 if kind == "chat" else 8192),
            capabilities=tuple(
                capabilities
                if capabilities is not None
                else (
                    (["completion", "thinking"] if reasoning == "field" else ["completion"])
                    if kind == "chat"
                    else ["embedding"]
                )
            ),
            reasoning=reasoning,
            parameter_size=parameter_size or ("8.0B" if kind == "chat" else "566.70M"),
            quantization_level=quantization_level or ("Q4_K_M" if kind == "chat" else "F16"),
        )
        with self._lock:
            self._models[spec.name] = spec

    def remove_model(self, name: str) -> None:
        """Forget a model (KeyError if it is not registered)."""
        with self._lock:
            del self._models[canonical_model_name(name)]

    def get_model(self, name: str) -> ModelSpec | None:
        with self._lock:
            return self._models.get(canonical_model_name(name))

    @property
    def models(self) -> list[ModelSpec]:
        with self._lock:
            return list(self._models.values())

    # -- scripting ---------------------------------------------------------------------------

    def reply(self, *replies: Reply) -> None:
        """Queue replies for the next /api/chat and /api/generate calls (one shared FIFO).

        A str is split into word-ish tokens (`split_tokens`); a list is the exact token
        sequence; a callable gets the request body and returns either. A reply is consumed
        only by a response that completes: if a "cut"/"error_line" fault or a client
        disconnect stops it, the reply goes back to the front of the queue (so a retry gets
        it). When the queue is empty, `default_reply` answers.
        """
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    def fail(
        self, endpoint: str, kind: FaultKind, *, times: int | None = None, **params: Any
    ) -> None:
        """Inject a fault on `endpoint` (a path like "/api/chat", or "*" for every path).

        kind="500":        HTTP 500 {"error": params.get("message", "internal error")}
        kind="html":       what a reverse proxy in front of Ollama sends when Ollama is down:
                           HTTP params.get("status", 502) with nginx's HTML error page
        kind="slow":       sleep params["seconds"] before responding; with
                           between_tokens=True, sleep that long before each streamed line
                           after the first instead
        kind="cut":        streaming: send params.get("after", 1) token lines, then close the
                           socket without the terminating chunk or done line; anything else:
                           close the connection without any response
        kind="error_line": chat/generate only; streaming: after params.get("after", 1) token
                           lines send {"error": params.get("message", ...)} and end the
                           stream; non-streaming: HTTP 500 {"error": message}
        kind="dim":        /api/embed(dings) only: vectors of params["dim"] floats

        times=None: every matching request until clear_faults(); times=N: the next N matching
        requests only. Several faults can apply to one request (e.g. slow + 500).
        when="text": only requests whose raw body holds that text (e.g. one document's words).
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(_FAULT_KINDS)}")
        if endpoint != "*" and not endpoint.startswith("/"):
            raise ValueError(f"endpoint must be a path like '/api/chat' or '*', got {endpoint!r}")
        if times is not None and times <= 0:
            raise ValueError(f"times must be positive or None, got {times}")
        if kind == "error_line" and endpoint not in ("*", *_GENERATION_PATHS):
            raise ValueError(
                f'"error_line" only applies to /api/chat and /api/generate, not {endpoint}'
            )
        if kind == "dim" and endpoint not in ("*", *_EMBED_PATHS):
            raise ValueError(
                f'"dim" only applies to /api/embed and /api/embeddings, not {endpoint}'
            )
        if kind == "slow" and "seconds" not in params:
            raise ValueError('fail(..., "slow") needs seconds=...')
        if kind == "dim" and "dim" not in params:
            raise ValueError('fail(..., "dim") needs dim=...')
        with self._lock:
            self._faults.append(_Fault(endpoint, kind, times, dict(params)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected exceptions inside the fake (should stay empty)."""
        with self._lock:
            return list(self._errors)

    def calls(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self._requests if r.path == path]

    def embed_inputs(self) -> list[str]:
        """Every text sent to /api/embed and /api/embeddings, in order."""
        texts: list[str] = []
        for req in self.requests:
            body = req.json or {}
            if req.path == "/api/embed":
                value = body.get("input")
                if isinstance(value, str):
                    texts.append(value)
                elif isinstance(value, list):
                    texts.extend(v for v in value if isinstance(v, str))
            elif req.path == "/api/embeddings" and isinstance(body.get("prompt"), str):
                texts.append(body["prompt"])
        return texts

    def reset_log(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- used by the handler -----------------------------------------------------------------

    def _log(self, request: LoggedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_truncation(self, prompt: int, kept: int) -> None:
        with self._lock:
            self._truncations.append((prompt, kept))

    @property
    def truncations(self) -> list[tuple[int, int]]:
        """(prompt tokens, tokens kept) of every prompt cut to fit num_ctx, in order."""
        with self._lock:
            return list(self._truncations)

    def _record_error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = threading.current_thread()

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True if the full time passed."""
        return not self._stop_event.wait(max(0.0, seconds))

    def _take_faults(self, path: str, raw: bytes = b"") -> _Faults:
        merged = _Faults()
        with self._lock:
            matched = [f for f in self._faults if f.applies_to(path, raw)]
            for fault in matched:
                if fault.remaining is not None:
                    fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        for fault in matched:
            p = fault.params
            merged.kinds.append(fault.kind)
            if fault.kind == "html":
                merged.html_status = int(p.get("status", 502))
            elif fault.kind == "500":
                merged.status_500 = str(p.get("message", "internal error"))
            elif fault.kind == "slow":
                if p.get("between_tokens"):
                    merged.between_tokens += float(p["seconds"])
                else:
                    merged.delay += float(p["seconds"])
            elif fault.kind == "cut":
                merged.cut_after = int(p.get("after", 1))
            elif fault.kind == "error_line":
                merged.error_after = int(p.get("after", 1))
                merged.error_message = str(p.get("message", DEFAULT_STREAM_ERROR))
            elif fault.kind == "dim":
                merged.dim = int(p["dim"])
        return merged

    def _next_reply(self, body: dict[str, Any]) -> _ScriptedReply:
        with self._lock:
            source: Reply | None = self._replies.popleft() if self._replies else None
            reply = self.default_reply if source is None else source
        try:
            value = reply(body) if callable(reply) else reply
        except BaseException:
            self._restore_reply(_ScriptedReply([], source))
            raise
        tokens = split_tokens(value) if isinstance(value, str) else [str(t) for t in value]
        return _ScriptedReply(tokens, source)

    def _restore_reply(self, scripted: _ScriptedReply) -> None:
        if scripted.source is not None:
            with self._lock:
                self._replies.appendleft(scripted.source)


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog; the default 5 makes bursts of clients stall

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        fake: FakeOllama,
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.fake._record_error(traceback.format_exc())


class _Abort(Exception):
    """Raised inside a handler to drop the connection without (further) response."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"FakeOllama/{OLLAMA_VERSION}"
    sys_version = ""

    server: _Server

    # -- connection lifecycle ----------------------------------------------------------------

    @property
    def fake(self) -> FakeOllama:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        # Small writes (headers, then body; one NDJSON line per token) must leave at once:
        # with Nagle on, delayed ACKs add ~40 ms per response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.fake._track(self.connection)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self.fake._untrack(self.connection)

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # client went away, or stop() cut the socket
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body: dict[str, Any] | None = None
        bad_json = False
        if raw:
            try:
                loaded = json.loads(raw)
            except ValueError:
                bad_json = True
            else:
                if isinstance(loaded, dict):
                    body = loaded
                else:
                    bad_json = True
        self.fake._log(
            LoggedRequest(
                method=self.command,
                path=path,
                json=body,
                headers={k.lower(): v for k, v in self.headers.items()},
                timestamp=time.time(),
                query=query,
                body=raw,
            )
        )
        faults = self.fake._take_faults(path, raw or b"")
        self._faults = faults
        self._headers_sent = False
        try:
            if faults.delay > 0 and (not self.fake._sleep(faults.delay) or self._client_gone()):
                raise _Abort
            if faults.html_status is not None:
                self._send_bytes(
                    faults.html_status, PROXY_502_PAGE.encode(), "text/html; charset=utf-8"
                )
                return
            if faults.status_500 is not None:
                self._send_json(500, {"error": faults.status_500})
                return
            if bad_json:
                self._send_json(400, {"error": "invalid JSON request body"})
                return
            self._route(path, body or {})
        except _Abort:
            self._abort()
        except OSError:
            self.close_connection = True
        except Exception as exc:
            self.fake._record_error(traceback.format_exc())
            if self._headers_sent:
                self._abort()
            else:
                with contextlib.suppress(OSError):
                    self._send_json(500, {"error": f"fake ollama: {exc!r}"}, allow_cut=False)

    def _route(self, path: str, body: dict[str, Any]) -> None:
        method = self.command
        if method in ("GET", "HEAD") and path == "/":
            self._send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")
        elif method == "GET" and path == "/api/version":
            self._send_json(200, {"version": OLLAMA_VERSION})
        elif method == "GET" and path == "/api/tags":
            self._handle_tags()
        elif method == "POST" and path == "/api/show":
            self._handle_show(body)
        elif method == "POST" and path == "/api/embed":
            self._handle_embed(body, legacy=False)
        elif method == "POST" and path == "/api/embeddings":
            self._handle_embed(body, legacy=True)
        elif method == "POST" and path == "/api/chat":
            self._handle_generation(body, "chat")
        elif method == "POST" and path == "/api/generate":
            self._handle_generation(body, "generate")
        else:
            self._send_json(404, {"error": "not found"})

    # -- endpoints ---------------------------------------------------------------------------

    def _handle_tags(self) -> None:
        models = [
            {
                "name": m.name,
                "model": m.name,
                "modified_at": _MODIFIED_AT,
                "size": m.size,
                "digest": m.digest,
                "details": m.details(),
                "capabilities": list(m.capabilities),
            }
            for m in self.fake.models
        ]
        self._send_json(200, {"models": models})

    def _handle_show(self, body: dict[str, Any]) -> None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.get_model(name) if name else None
        if model is None:
            self._send_json(404, {"error": f"model '{name}' not found"})
            return
        arch = model.family
        model_info: dict[str, Any] = {
            "general.architecture": arch,
            "general.basename": model.name.split(":", 1)[0],
            "general.file_type": 15 if model.kind == "chat" else 1,
            "general.parameter_count": 8_030_261_248 if model.kind == "chat" else 566_703_104,
            "general.quantization_version": 2,
            f"{arch}.context_length": model.context_length,
            f"{arch}.embedding_length": model.dim,
        }
        if model.kind == "chat":
            template = _LLAMA31_TEMPLATE
            parameters = 'stop                           "<|eot_id|>"'
        else:
            template = "{{ .Prompt }}"
            parameters = ""
        modelfile = (
            "# Modelfile generated by fake-ollama\n"
            f"FROM {model.name}\n"
            f'TEMPLATE """{template}"""\n' + (f"PARAMETER {parameters}\n" if parameters else "")
        )
        self._send_json(
            200,
            {
                "license": "fake license",
                "modelfile": modelfile,
                "parameters": parameters,
                "template": template,
                "details": model.details(),
                "model_info": model_info,
                "capabilities": list(model.capabilities),
                "modified_at": _MODIFIED_AT,
            },
        )

    def _model_or_error(
        self, body: dict[str, Any], capability: str, *, chat: bool = False
    ) -> ModelSpec | None:
        name = body.get("model")
        if not isinstance(name, str) or not name:
            self._send_json(400, {"error": "model is required"})
            return None
        model = self.fake.get_model(name)
        if model is None:
            # ChatHandler/GenerateHandler look the model up first (GetModel); EmbedHandler
            # finds out when it schedules the runner (handleScheduleError)
            error = (
                f"model '{name}' not found"
                if capability == "completion"
                else f'model "{name}" not found, try pulling it first'
            )
            self._send_json(404, {"error": error})
            return None
        if capability not in model.capabilities:
            verb = {"completion": "generate", "embedding": "embeddings", "chat": "chat"}[
                capability if capability != "completion" or not chat else "chat"
            ]
            self._send_json(400, {"error": f'"{name}" does not support {verb}'})
            return None
        if "keep_alive" in body and not self._keep_alive_ok(body["keep_alive"]):
            return None
        return model

    def _keep_alive_ok(self, value: Any) -> bool:
        """api.Duration.UnmarshalJSON: a number, or a string time.ParseDuration accepts."""
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return True
        if not isinstance(value, str):
            self._send_json(400, {"error": f"Unsupported type: '{type(value).__name__}'"})
            return False
        if _GO_DURATION.fullmatch(value):
            return True
        if _GO_NUMBER.fullmatch(value):
            error = f'time: missing unit in duration "{value}"'
        else:
            error = f'time: invalid duration "{value}"'
        self._send_json(400, {"error": error})
        return False

    def _handle_embed(self, body: dict[str, Any], *, legacy: bool) -> None:
        model = self._model_or_error(body, "embedding")
        if model is None:
            return
        dim = model.dim
        requested = body.get("dimensions")
        if not legacy and isinstance(requested, int) and requested > 0:
            if requested > model.dim:
                self._send_json(
                    400, {"error": f"dimensions must be at most {model.dim}, got {requested}"}
                )
                return
            dim = requested
        if self._faults.dim is not None:
            dim = self._faults.dim
        if legacy:
            prompt = body.get("prompt")
            if not isinstance(prompt, str) or not prompt:
                self._send_json(200, {"embedding": []})
                return
            self._send_json(200, {"embedding": fake_embedding(prompt, dim)})
            return
        value = body.get("input")
        texts: list[str]
        if value is None or value == "":
            texts = []
        elif isinstance(value, str):
            texts = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            texts = list(value)
        else:
            self._send_json(400, {"error": "invalid input type"})
            return
        prompt_tokens = sum(max(1, _count_words(t)) for t in texts)
        self._send_json(
            200,
            {
                "model": body["model"],
                "embeddings": [fake_embedding(t, dim) for t in texts],
                "total_duration": 20_000_000 + 1_000_000 * len(texts),
                "load_duration": 1_000_000,
                "prompt_eval_count": prompt_tokens,
            },
        )

    def _handle_generation(
        self, body: dict[str, Any], endpoint: Literal["chat", "generate"]
    ) -> None:
        model = self._model_or_error(body, "completion", chat=endpoint == "chat")
        if model is None:
            return
        name = str(body["model"])
        think = body.get("think")
        if think is not None and think is not False and "thinking" not in model.capabilities:
            self._send_json(400, {"error": f'"{name}" does not support thinking'})
            return
        thinking_on = model.reasoning == "field" and think is not False
        stream = body.get("stream") is not False
        key = "message" if endpoint == "chat" else "response"

        def payload(text: str) -> Any:
            return {"role": "assistant", "content": text} if endpoint == "chat" else text

        if endpoint == "chat":
            messages = body.get("messages") or []
            prompt_text = " ".join(
                str(m.get("content") or "") for m in messages if isinstance(m, Mapping)
            )
            empty = not messages
        else:
            prompt_text = f"{body.get('system') or ''} {body.get('prompt') or ''}"
            empty = not body.get("prompt")
        if empty:
            # What Ollama does for an empty request: load (or, keep_alive=0, unload) the model.
            done_reason = "unload" if body.get("keep_alive") in (0, "0", "0s") else "load"
            self._send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_rfc3339(),
                    key: payload(""),
                    "done": True,
                    "done_reason": done_reason,
                },
            )
            return

        scripted = self.fake._next_reply(body)
        tokens = list(scripted.tokens)
        if model.reasoning == "inline":  # the template cannot switch it off: in the text
            tokens = split_tokens(f"<think>{THINKING_TEXT}</think>\n\n") + tokens
        thinking = split_tokens(THINKING_TEXT) if thinking_on and endpoint == "chat" else []
        prompt_eval_count = self._prompt_eval_count(prompt_text, body, model)
        final: dict[str, Any] = {
            "model": name,
            "created_at": "",
            key: payload(""),
            "done": True,
            "done_reason": "stop",
            "total_duration": 0,
            "load_duration": 1_000_000,
            "prompt_eval_count": prompt_eval_count,
            "prompt_eval_duration": 500_000 * prompt_eval_count,
            "eval_count": len(tokens),
            "eval_duration": 2_000_000 * len(tokens),
        }
        final["total_duration"] = (
            final["load_duration"] + final["prompt_eval_duration"] + final["eval_duration"]
        )
        if endpoint == "generate":
            final["context"] = []

        faults = self._faults
        delivered = False
        try:
            if not stream:
                if faults.cut_after is not None:
                    raise _Abort
                if faults.error_after is not None:
                    self._send_json(500, {"error": faults.error_message})
                    return
                if faults.between_tokens > 0 and not self.fake._sleep(faults.between_tokens):
                    raise _Abort
                final["created_at"] = _now_rfc3339()
                final[key] = payload("".join(tokens))
                if thinking:
                    final[key]["thinking"] = "".join(thinking)
                self._send_json(200, final)
                delivered = True
                return

            if faults.error_after is not None and faults.error_after <= 0:
                # nothing written yet: Ollama sends the error as the response's status
                self._send_json(500, {"error": faults.error_message})
                return
            self._start_chunked()
            for t in thinking:
                self._write_line(
                    {
                        "model": name,
                        "created_at": _now_rfc3339(),
                        key: {"role": "assistant", "content": "", "thinking": t},
                        "done": False,
                    }
                )
            for i in range(len(tokens) + 1):
                if faults.cut_after is not None and i >= faults.cut_after:
                    raise _Abort
                if faults.error_after is not None and i >= faults.error_after:
                    self._write_line({"error": faults.error_message})
                    self._end_chunked()
                    return
                if (
                    i > 0
                    and faults.between_tokens > 0
                    and not self.fake._sleep(faults.between_tokens)
                ):
                    raise _Abort
                if i == len(tokens):
                    break
                self._write_line(
                    {
                        "model": name,
                        "created_at": _now_rfc3339(),
                        key: payload(tokens[i]),
                        "done": False,
                    }
                )
            final["created_at"] = _now_rfc3339()
            self._write_line(final)
            self._end_chunked()
            delivered = True
        finally:
            if not delivered:
                self.fake._restore_reply(scripted)

    def _prompt_eval_count(self, prompt_text: str, body: dict[str, Any], model: ModelSpec) -> int:
        """The prompt's tokens as the runner evaluates them: past num_ctx (clamped to the
        model's context length) it keeps NUM_KEEP tokens from the front and the tail."""
        count = max(1, sum(1 for t in split_tokens(prompt_text) if t.strip()))
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        num_ctx = options.get("num_ctx") if isinstance(options, dict) else None
        if not isinstance(num_ctx, int) or num_ctx <= 0:
            num_ctx = DEFAULT_NUM_CTX
        num_ctx = min(num_ctx, model.context_length)
        if count > num_ctx:
            self.fake._record_truncation(count, num_ctx)
            return num_ctx  # NUM_KEEP from the front + the last num_ctx - NUM_KEEP
        return count

    # -- low-level writing -------------------------------------------------------------------

    def _client_gone(self) -> bool:
        """True if the client has closed its end (EOF readable without blocking)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peeked == b""
        except OSError:
            return True

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        self._headers_sent = True
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, obj: Any, *, allow_cut: bool = True) -> None:
        if allow_cut and self._faults.cut_after is not None:
            raise _Abort  # "cut" on a non-streamed response: close without answering
        self._send_bytes(status, json.dumps(obj).encode("utf-8"), "application/json; charset=utf-8")

    def _start_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._headers_sent = True

    def _write_line(self, obj: Any) -> None:
        data = json.dumps(obj).encode("utf-8") + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    # attributes set per request in _dispatch (declared for type checkers)
    _faults: _Faults
    _headers_sent: bool


# --------------------------------------------------------------------------------------------
# pytest fixtures (import them into conftest.py by name)


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A started FakeOllama with the default models; stopped after the test."""
    fake = FakeOllama().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def ollama_down() -> str:
    """A URL where no Ollama (nothing at all) listens."""
    return dead_ollama_url()
