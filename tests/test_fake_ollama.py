"""The fake Ollama server is faithful: the real `ollama` client and llama-index's Ollama classes
work against it unmodified over real HTTP, and its faults surface the way real failures do.

Observed behaviour recorded here (ollama 0.6.3, httpx 0.28, llama-index-llms-ollama 0.11.0,
llama-index-embeddings-ollama 0.10.0):

* HTTP error status        -> ollama.ResponseError, .status_code = the HTTP status.
* {"error"} line mid-stream -> ollama.ResponseError, .status_code = -1 (no HTTP status).
* "cut", streaming          -> httpx.RemoteProtocolError ("... incomplete chunked read") after the
                               tokens already sent; the ollama client does not wrap it.
* "cut", non-streaming      -> httpx.RemoteProtocolError ("Server disconnected without sending a
                               response.").
* "slow" > client timeout   -> httpx.ReadTimeout (not wrapped).
* nothing listening         -> builtin ConnectionError for non-streaming calls, but a raw
                               httpx.ConnectError for streaming calls: the client's streaming
                               path does not catch ConnectError.
* llama-index Ollama LLM: POST /api/show once per instance (to read "<arch>.context_length",
  skipped when context_window= is given), then only POST /api/chat — complete() and
  stream_complete() go through chat; /api/generate is never used. It sends
  options={"temperature": None, "num_ctx": <context_length>} (None survives: the ollama client's
  exclude_none does not reach into the options dict), "tools": [] and no keep_alive by default.
* OllamaEmbedding: POST /api/embed only (never the legacy /api/embeddings), one request per
  batch of embed_batch_size (default 10) with "input" a list; a single text/query is sent as
  a plain string. It sends "options": {} and no keep_alive by default.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import ollama
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.ollama import OllamaEmbedding
from llama_index.llms.ollama import Ollama

from tests.fake_ollama import (
    FakeOllama,
    dead_ollama_url,
    fake_embedding,
    fake_ollama,
    ollama_down,
    split_tokens,
)

# The shared fixtures, imported so pytest registers them here too (the project's conftest
# imports them as well); listing them in __all__ marks the import as used.
__all__ = ["fake_ollama", "ollama_down"]

CHAT = "llama3.1:8b"
EMBED = "bge-m3"
USER_HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def client(fake: FakeOllama) -> Iterator[ollama.Client]:
    with ollama.Client(host=fake.url, timeout=5) as c:
        yield c


class Clients:
    """Builds the clients a test needs and closes them at teardown (no unclosed sockets)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def client(self, host: str, *, timeout: float = 5) -> ollama.Client:
        c = ollama.Client(host=host, timeout=timeout)
        self._stack.enter_context(c)
        return c

    def llm(self, base_url: str, **kwargs: Any) -> Ollama:
        llm = Ollama(model=kwargs.pop("model", CHAT), base_url=base_url, **kwargs)
        self._stack.enter_context(llm.client)
        return llm

    def embedding(self, base_url: str, **kwargs: Any) -> OllamaEmbedding:
        emb = OllamaEmbedding(
            model_name=kwargs.pop("model_name", EMBED), base_url=base_url, **kwargs
        )
        self._stack.enter_context(emb._client)
        return emb

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    made.close()


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _norm(a: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in a))


def _chat_stream(c: ollama.Client, out: list[str], **kwargs: Any) -> list[ollama.ChatResponse]:
    parts: list[ollama.ChatResponse] = []
    for part in c.chat(model=CHAT, messages=USER_HI, stream=True, **kwargs):
        parts.append(part)
        out.append(part.message.content or "")
    return parts


# ---------------------------------------------------------------------------------------------
# metadata endpoints


def test_version_root_tags_and_show(fake: FakeOllama, client: ollama.Client) -> None:
    assert fake.host == "127.0.0.1"
    assert fake.url == f"http://127.0.0.1:{fake.port}"
    assert httpx.get(f"{fake.url}/api/version").json() == {"version": "0.12.0"}
    root = httpx.get(f"{fake.url}/")
    assert (root.status_code, root.text) == (200, "Ollama is running")

    models = {m.model: m for m in client.list().models}
    assert set(models) == {"llama3.1:8b", "bge-m3:latest"}  # Ollama lists untagged as :latest
    details = models["bge-m3:latest"].details
    assert details is not None
    assert details.family == "bert"
    assert models["llama3.1:8b"].digest and models["llama3.1:8b"].size

    chat = client.show(CHAT)
    assert chat.capabilities == ["completion"]
    assert chat.modelinfo is not None
    assert chat.modelinfo["general.architecture"] == "llama"
    assert chat.modelinfo["llama.context_length"] == 131072
    assert chat.template and chat.modelfile and chat.details is not None

    emb = client.show("bge-m3:latest")  # tagged and untagged names are the same model
    assert emb.capabilities == ["embedding"]
    assert emb.modelinfo is not None
    assert emb.modelinfo["bert.embedding_length"] == 1024
    assert emb.modelinfo["bert.context_length"] == 8192

    shows = fake.calls("/api/show")
    assert [r.json for r in shows] == [{"model": CHAT}, {"model": "bge-m3:latest"}]
    assert shows[0].method == "POST"
    assert shows[0].headers["user-agent"].startswith("ollama-python/")
    assert [r.path for r in fake.requests] == [
        "/api/version",
        "/",
        "/api/tags",
        "/api/show",
        "/api/show",
    ]


def test_show_unknown_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.show("nope")
    assert info.value.status_code == 404
    assert info.value.error == "model 'nope' not found"


def test_unknown_path_is_404(fake: FakeOllama) -> None:
    r = httpx.post(f"{fake.url}/api/nope", json={"model": CHAT})
    assert (r.status_code, r.json()) == (404, {"error": "not found"})
    r = httpx.get(f"{fake.url}/api/chat")  # wrong method
    assert r.status_code == 404


def test_add_and_remove_model(fake: FakeOllama, client: ollama.Client) -> None:
    fake.add_model("qwen3-embedding:0.6b", kind="embed", dim=8, family="qwen3")
    assert "qwen3-embedding:0.6b" in {m.model for m in client.list().models}
    info = client.show("qwen3-embedding:0.6b").modelinfo
    assert info is not None and info["qwen3.embedding_length"] == 8
    resp = client.embed(model="qwen3-embedding:0.6b", input="x")
    assert [len(v) for v in resp.embeddings] == [8]

    fake.remove_model(EMBED)
    with pytest.raises(ollama.ResponseError) as info_404:
        client.embed(model=EMBED, input="x")
    assert info_404.value.status_code == 404
    with pytest.raises(KeyError):
        fake.remove_model(EMBED)


# ---------------------------------------------------------------------------------------------
# embeddings


def test_embed_is_deterministic_normalised_and_similarity_aware(
    fake: FakeOllama, client: ollama.Client
) -> None:
    texts = [
        "the cat sat on the mat",
        "the cat sat on the mat",
        "the cat sat on a mat",
        "量子色动力学",
    ]
    resp = client.embed(model=EMBED, input=texts, truncate=True, keep_alive="1m")
    vecs = resp.embeddings
    assert len(vecs) == 4
    assert all(len(v) == 1024 for v in vecs)
    assert list(vecs[0]) == list(vecs[1])
    assert all(abs(_norm(v) - 1.0) < 1e-9 for v in vecs)
    assert _cos(vecs[0], vecs[2]) > 0.5 > _cos(vecs[0], vecs[3])
    assert list(vecs[3]) == fake_embedding(texts[3], 1024)
    assert resp.model == EMBED
    assert resp.prompt_eval_count

    (req,) = fake.calls("/api/embed")
    assert req.json == {"model": EMBED, "input": texts, "truncate": True, "keep_alive": "1m"}
    assert fake.embed_inputs() == texts


def test_embed_single_string_and_legacy_endpoint_agree(
    fake: FakeOllama, client: ollama.Client
) -> None:
    single = client.embed(model=EMBED, input="hello").embeddings
    legacy = client.embeddings(model=EMBED, prompt="hello").embedding
    assert len(single) == 1
    assert list(single[0]) == list(legacy)
    assert fake.calls("/api/embeddings")[0].json == {"model": EMBED, "prompt": "hello"}
    assert fake.embed_inputs() == ["hello", "hello"]


def test_embed_dimensions_truncates(client: ollama.Client) -> None:
    (vec,) = client.embed(model=EMBED, input="x", dimensions=256).embeddings
    assert len(vec) == 256


def test_embed_unknown_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model="nope", input=["x"])
    assert info.value.status_code == 404
    assert info.value.error == 'model "nope" not found, try pulling it first'


def test_embed_with_chat_model_and_chat_with_embed_model_are_400(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model=CHAT, input="x")
    assert info.value.status_code == 400
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model=EMBED, messages=USER_HI)
    assert info.value.status_code == 400


def test_concurrent_embeds_from_8_threads(fake: FakeOllama, client: ollama.Client) -> None:
    def work(i: int) -> list[list[float]]:
        if i % 2:  # half share the client, half bring their own connection pool
            return [list(v) for v in client.embed(model=EMBED, input=[f"text {i}", "x"]).embeddings]
        with ollama.Client(host=fake.url, timeout=5) as own:
            return [list(v) for v in own.embed(model=EMBED, input=[f"text {i}", "x"]).embeddings]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert all(len(r) == 2 and len(r[0]) == 1024 for r in results)
    assert all(r[1] == results[0][1] for r in results)  # "x" embeds the same everywhere
    assert len({tuple(r[0]) for r in results}) == 8
    assert len(fake.calls("/api/embed")) == 8


# ---------------------------------------------------------------------------------------------
# chat and generate


def test_chat_stream_yields_scripted_tokens_and_logs_the_request(
    fake: FakeOllama, client: ollama.Client
) -> None:
    fake.reply(["Hel", "lo", ", ", "world"])
    out: list[str] = []
    parts = _chat_stream(client, out, keep_alive="1m", options={"temperature": 0.0, "seed": 1})
    assert out == ["Hel", "lo", ", ", "world", ""]
    assert "".join(out) == "Hello, world"
    assert [p.done for p in parts] == [False] * 4 + [True]
    final = parts[-1]
    assert final.done_reason == "stop"
    assert final.eval_count == 4
    assert final.message.role == "assistant"
    assert final.prompt_eval_count and final.total_duration and final.eval_duration

    (req,) = fake.calls("/api/chat")
    assert req.json is not None
    assert req.json["model"] == CHAT
    assert req.json["messages"] == USER_HI
    assert req.json["stream"] is True
    assert req.json["keep_alive"] == "1m"
    assert req.json["options"] == {"temperature": 0.0, "seed": 1}


def test_string_reply_is_split_into_word_tokens(fake: FakeOllama, client: ollama.Client) -> None:
    reply = "The answer is 42, probably.\n"
    fake.reply(reply)
    out: list[str] = []
    _chat_stream(client, out)
    assert out[:-1] == ["The", " answer", " is", " 42", ",", " probably", ".", "\n"]
    assert "".join(out) == reply
    assert split_tokens(reply) == out[:-1]


@pytest.mark.parametrize("text", ["", "  lead and trail  ", "多语言 文本。", "a\n\nb\tc!?"])
def test_split_tokens_round_trips(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_generate_stream(fake: FakeOllama, client: ollama.Client) -> None:
    fake.reply("Paris is the capital.")
    parts = list(client.generate(model=CHAT, prompt="Capital?", system="Be brief.", stream=True))
    tokens = [p.response for p in parts]
    assert tokens == ["Paris", " is", " the", " capital", ".", ""]
    assert parts[-1].done and parts[-1].context == [] and parts[-1].done_reason == "stop"
    (req,) = fake.calls("/api/generate")
    assert req.json is not None
    assert (req.json["prompt"], req.json["system"], req.json["stream"]) == (
        "Capital?",
        "Be brief.",
        True,
    )


def test_non_streaming_chat_and_generate(fake: FakeOllama, client: ollama.Client) -> None:
    fake.reply("One two.", "Three.")
    chat = client.chat(model=CHAT, messages=USER_HI, stream=False)
    assert chat.message.content == "One two."
    assert chat.done and chat.done_reason == "stop" and chat.eval_count == 3
    gen = client.generate(model=CHAT, prompt="p")
    assert gen.response == "Three." and gen.done
    assert [r.json["stream"] for r in fake.requests if r.json] == [False, False]


def test_empty_generate_loads_the_model(client: ollama.Client) -> None:
    resp = client.generate(model=CHAT)
    assert (resp.done, resp.done_reason, resp.response) == (True, "load", "")


def test_reply_queue_is_fifo_then_default(fake: FakeOllama, client: ollama.Client) -> None:
    def echo(body: dict[str, Any]) -> str:
        return f"echo: {body['messages'][-1]['content']}"

    fake.reply("first", echo, ["a", "b"])
    assert fake.pending_replies == 3
    answers = [client.chat(model=CHAT, messages=USER_HI).message.content for _ in range(4)]
    assert answers == ["first", "echo: hi", "ab", "I do not know."]
    fake.default_reply = lambda body: "custom default"
    assert client.chat(model=CHAT, messages=USER_HI).message.content == "custom default"


def test_chat_unknown_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as plain:
        client.chat(model="nope", messages=USER_HI)
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.generate(model="nope", prompt="p", stream=True))
    for info in (plain, streamed):
        assert info.value.status_code == 404
        # ChatHandler's own wording (GetModel fails before any runner is scheduled)
        assert info.value.error == "model 'nope' not found"


# ---------------------------------------------------------------------------------------------
# faults


def test_fault_500(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("/api/chat", "500", message="CUDA out of memory")
    for stream in (False, True):
        with pytest.raises(ollama.ResponseError) as info:
            if stream:
                list(client.chat(model=CHAT, messages=USER_HI, stream=True))
            else:
                client.chat(model=CHAT, messages=USER_HI)
        assert (info.value.status_code, info.value.error) == (500, "CUDA out of memory")
    fake.fail("/api/embed", "500")
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model=EMBED, input="x")
    assert (info.value.status_code, info.value.error) == (500, "internal error")


def test_fault_cut_mid_stream(fake: FakeOllama, client: ollama.Client) -> None:
    fake.reply(["one", " two", " three"])
    fake.fail("/api/chat", "cut", times=1, after=2)
    out: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        _chat_stream(client, out)
    assert out == ["one", " two"]  # no done line
    # the interrupted reply is still queued, so a retry gets it in full
    assert fake.pending_replies == 1
    assert client.chat(model=CHAT, messages=USER_HI).message.content == "one two three"


def test_fault_cut_non_streaming(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("/api/chat", "cut", times=1)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.chat(model=CHAT, messages=USER_HI)
    fake.fail("/api/embed", "cut", times=1)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.embed(model=EMBED, input="x")
    assert len(client.embed(model=EMBED, input="x").embeddings) == 1  # recovered


def test_fault_error_line(fake: FakeOllama, client: ollama.Client) -> None:
    fake.reply(["a", "b", "c"])
    fake.fail("/api/chat", "error_line", times=1, after=1, message="model runner crashed")
    out: list[str] = []
    with pytest.raises(ollama.ResponseError) as info:
        _chat_stream(client, out)
    assert out == ["a"]
    assert (info.value.status_code, info.value.error) == (-1, "model runner crashed")
    fake.fail("/api/generate", "error_line", times=1)  # non-streaming: an HTTP 500
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model=CHAT, prompt="p")
    assert info.value.status_code == 500
    assert info.value.error.startswith("an error was encountered while running the model")


def test_fault_slow_exceeding_client_timeout_is_read_timeout(
    fake: FakeOllama, clients: Clients
) -> None:
    impatient = clients.client(fake.url, timeout=0.15)
    fake.fail("/api/embed", "slow", times=1, seconds=3)
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        impatient.embed(model=EMBED, input="x")
    assert time.monotonic() - t0 < 1.5

    fake.fail("/api/chat", "slow", times=1, seconds=3, between_tokens=True)
    out: list[str] = []
    with pytest.raises(httpx.ReadTimeout):
        _chat_stream(impatient, out)
    assert out == ["I"]  # the first token arrives, then the stream stalls


def test_fault_slow_within_timeout_just_delays(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("*", "slow", times=1, seconds=0.2)
    t0 = time.monotonic()
    client.list()
    assert time.monotonic() - t0 >= 0.2
    t0 = time.monotonic()
    client.list()
    assert time.monotonic() - t0 < 0.2


def test_fault_dim(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("/api/embed", "dim", times=1, dim=384)
    assert [len(v) for v in client.embed(model=EMBED, input=["a", "b"]).embeddings] == [384, 384]
    assert [len(v) for v in client.embed(model=EMBED, input=["a"]).embeddings] == [1024]


def test_times_wildcard_and_clear_faults(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("/api/tags", "500", times=2)
    for _ in range(2):
        with pytest.raises(ollama.ResponseError):
            client.list()
    assert client.list().models  # recovered after 2

    fake.fail("*", "500")  # every path, until cleared
    with pytest.raises(ollama.ResponseError):
        client.embed(model=EMBED, input="x")
    with pytest.raises(ollama.ResponseError):
        client.show(CHAT)
    fake.clear_faults()
    assert client.show(CHAT).capabilities == ["completion"]


def test_fail_rejects_nonsense(fake: FakeOllama) -> None:
    with pytest.raises(ValueError):
        fake.fail("/api/chat", "explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fake.fail("/api/embed", "error_line")
    with pytest.raises(ValueError):
        fake.fail("/api/chat", "dim", dim=3)
    with pytest.raises(ValueError):
        fake.fail("/api/chat", "slow")  # seconds missing
    with pytest.raises(ValueError):
        fake.fail("api/chat", "500")


def test_nothing_listening(ollama_down: str, clients: Clients) -> None:
    c = clients.client(ollama_down, timeout=2)
    with pytest.raises(ConnectionError):  # builtin: the client converts httpx.ConnectError
        c.list()
    with pytest.raises(ConnectionError):
        c.embed(model=EMBED, input="x")
    with pytest.raises(ConnectionError):
        c.chat(model=CHAT, messages=USER_HI)
    # ...but its streaming path does not convert it
    with pytest.raises(httpx.ConnectError):
        list(c.chat(model=CHAT, messages=USER_HI, stream=True))


def test_fixture_and_dead_url(fake_ollama: FakeOllama) -> None:
    assert fake_ollama.running
    assert httpx.get(f"{fake_ollama.url}/api/version").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{dead_ollama_url()}/api/version")


def test_stop_then_restart_on_the_same_url(fake: FakeOllama, clients: Clients) -> None:
    c = clients.client(fake.url)
    assert c.list().models
    url = fake.url
    fake.stop()
    with pytest.raises(ConnectionError):
        c.list()
    fake.start()
    assert fake.url == url
    assert c.list().models
    assert [r.path for r in fake.requests] == ["/api/tags", "/api/tags"]  # state survives


def test_stop_does_not_wait_for_slow_requests() -> None:
    fake = FakeOllama().start()
    fake.fail("*", "slow", seconds=60)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with ollama.Client(host=fake.url, timeout=30) as c:
                c.list()
        except BaseException as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 2
    while not fake.calls("/api/tags") and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    fake.stop()
    caller.join(timeout=5)
    assert time.monotonic() - t0 < 2
    assert not caller.is_alive()
    assert [type(e) for e in errors] == [httpx.RemoteProtocolError]
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-ollama")]
    fake.stop()  # idempotent


# ---------------------------------------------------------------------------------------------
# llama-index


def test_llamaindex_llm_uses_show_then_chat(fake: FakeOllama, clients: Clients) -> None:
    llm = clients.llm(fake.url, request_timeout=5)
    fake.reply("Paris is the capital.", "Streamed answer.", "Chat answer.", "Streamed chat.")

    assert llm.complete("Capital of France?").text == "Paris is the capital."
    deltas = [r.delta or "" for r in llm.stream_complete("again")]
    assert "".join(deltas) == "Streamed answer."
    assert deltas[:2] == ["Streamed", " answer"]
    msgs = [ChatMessage(role="user", content="hi")]
    assert llm.chat(msgs).message.content == "Chat answer."
    streamed = list(llm.stream_chat(msgs))
    assert streamed[-1].message.content == "Streamed chat."
    assert [r.delta for r in streamed] == ["Streamed", " chat", ".", ""]

    # one /api/show (context window; cached on the instance), then only /api/chat
    assert [r.path for r in fake.requests] == ["/api/show"] + ["/api/chat"] * 4
    assert fake.calls("/api/generate") == []
    bodies = [r.json for r in fake.calls("/api/chat")]
    assert [b["stream"] for b in bodies if b] == [False, True, False, True]
    first = bodies[0]
    assert first is not None
    assert first["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert first["options"] == {"temperature": None, "num_ctx": 131072}
    assert "keep_alive" not in first

    # with an explicit context window it never calls /api/show
    fake.reset_log()
    clients.llm(fake.url, context_window=4096).complete("x")
    assert [r.path for r in fake.requests] == ["/api/chat"]


def test_llamaindex_embedding_batches_on_api_embed(fake: FakeOllama, clients: Clients) -> None:
    emb = clients.embedding(fake.url)
    vecs = emb.get_text_embedding_batch(["a", "b", "c"])
    assert [len(v) for v in vecs] == [1024, 1024, 1024]
    assert vecs[0] == fake_embedding("a", 1024)
    # Answer: one POST /api/embed per batch, "input" a list; never /api/embeddings.
    assert [(r.path, r.json) for r in fake.requests] == [
        ("/api/embed", {"model": EMBED, "input": ["a", "b", "c"], "options": {}})
    ]
    fake.reset_log()
    emb.get_text_embedding_batch([f"t{i}" for i in range(25)])  # embed_batch_size defaults to 10
    assert [len(r.json["input"]) for r in fake.requests if r.json] == [10, 10, 5]
    fake.reset_log()
    emb.get_query_embedding("  q  ")  # stripped, sent as a plain string
    assert [r.json for r in fake.requests] == [{"model": EMBED, "input": "q", "options": {}}]


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("500", {}, ollama.ResponseError),
        ("cut", {}, httpx.RemoteProtocolError),
        ("slow", {"seconds": 3}, httpx.ReadTimeout),
        ("error_line", {}, ollama.ResponseError),
    ],
)
def test_llamaindex_sees_the_raw_client_exceptions(
    fake: FakeOllama,
    clients: Clients,
    kind: Any,
    params: dict[str, Any],
    expected: type[BaseException],
) -> None:
    llm = clients.llm(fake.url, request_timeout=0.15, context_window=8192)
    fake.fail("/api/chat", kind, times=2, **params)
    with pytest.raises(expected):
        llm.complete("x")
    with pytest.raises(expected):
        list(llm.stream_complete("x"))
    if kind != "error_line":
        emb = clients.embedding(fake.url, client_kwargs={"timeout": 0.15})
        fake.fail("/api/embed", kind, times=1, **params)
        with pytest.raises(expected):
            emb.get_text_embedding_batch(["a"])


def test_llamaindex_against_nothing_listening(ollama_down: str, clients: Clients) -> None:
    with pytest.raises(ConnectionError):
        clients.llm(ollama_down, request_timeout=2).complete("x")
    with pytest.raises(httpx.ConnectError):  # streaming: not converted by the ollama client
        list(clients.llm(ollama_down, context_window=4096).stream_complete("x"))
    with pytest.raises(ConnectionError):
        clients.embedding(ollama_down).get_text_embedding("x")


# --- what a real Ollama does that a client can get wrong (server/routes.go, api/types.go) ---


def test_reasoning_model_thinks_unless_told_not_to(fake: FakeOllama, client: ollama.Client) -> None:
    fake.add_model("qwen3:8b", reasoning="field")
    fake.reply("Answer.", "Answer.", "Answer.")
    default = client.chat(model="qwen3:8b", messages=USER_HI)  # no "think": Ollama thinks
    assert default.message.thinking and default.message.content == "Answer."
    off = client.chat(model="qwen3:8b", messages=USER_HI, think=False)
    assert not off.message.thinking and off.message.content == "Answer."
    parts = list(client.chat(model="qwen3:8b", messages=USER_HI, stream=True))
    thought = "".join(p.message.thinking or "" for p in parts)
    assert thought and "".join(p.message.content or "" for p in parts) == "Answer."
    assert parts[0].message.thinking and not parts[0].message.content  # thinking comes first


def test_inline_reasoning_comes_inside_the_text(fake: FakeOllama, client: ollama.Client) -> None:
    fake.add_model("deepseek-r1:7b", reasoning="inline")
    fake.reply("Answer.")
    reply = client.chat(model="deepseek-r1:7b", messages=USER_HI, think=False)
    text = reply.message.content or ""
    assert text.startswith("<think>") and text.endswith("</think>\n\nAnswer.")
    with pytest.raises(ollama.ResponseError) as info:  # no thinking capability
        client.chat(model="deepseek-r1:7b", messages=USER_HI, think=True)
    assert info.value.status_code == 400
    assert info.value.error == '"deepseek-r1:7b" does not support thinking'
    # think=false to a model without thinking is harmless (routes.go checks only true)
    assert client.chat(model=CHAT, messages=USER_HI, think=False).message.content


def test_embedding_model_cannot_chat(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as chat:
        client.chat(model=EMBED, messages=USER_HI)
    assert (chat.value.status_code, chat.value.error) == (400, '"bge-m3" does not support chat')
    with pytest.raises(ollama.ResponseError) as gen:
        client.generate(model=EMBED, prompt="p")
    assert gen.value.error == '"bge-m3" does not support generate'


@pytest.mark.parametrize(
    ("keep_alive", "error"),
    [
        ("-1", 'time: missing unit in duration "-1"'),
        ("3600", 'time: missing unit in duration "3600"'),
        ("1d", 'time: invalid duration "1d"'),
    ],
)
def test_keep_alive_string_without_unit_is_400(
    fake: FakeOllama, keep_alive: str, error: str
) -> None:
    body = {"model": CHAT, "messages": USER_HI, "stream": False, "keep_alive": keep_alive}
    resp = httpx.post(f"{fake.url}/api/chat", json=body, timeout=5)
    assert (resp.status_code, resp.json()) == (400, {"error": error})


@pytest.mark.parametrize("keep_alive", [-1, 3600, 0, "5m", "-1m", "1h30m", "0", "1.5h"])
def test_keep_alive_numbers_and_durations_are_accepted(
    fake: FakeOllama, keep_alive: object
) -> None:
    body = {"model": CHAT, "messages": USER_HI, "stream": False, "keep_alive": keep_alive}
    assert httpx.post(f"{fake.url}/api/chat", json=body, timeout=5).status_code == 200


def test_prompt_past_num_ctx_is_cut_silently(fake: FakeOllama, client: ollama.Client) -> None:
    long = [{"role": "user", "content": "word " * 300}]
    cut = client.chat(model=CHAT, messages=long, options={"num_ctx": 100})
    assert cut.prompt_eval_count == 100 and cut.done_reason == "stop"  # no error, no word
    whole = client.chat(model=CHAT, messages=long, options={"num_ctx": 1000})
    assert whole.prompt_eval_count == 300
    assert fake.truncations == [(300, 100)]
    # the model's own context length caps num_ctx, as Ollama clamps to n_ctx_train
    fake.add_model("tiny:1b", context_length=128)
    clamped = client.chat(model="tiny:1b", messages=long, options={"num_ctx": 1000})
    assert clamped.prompt_eval_count == 128


def test_error_before_the_first_token_is_an_http_status(
    fake: FakeOllama, client: ollama.Client
) -> None:
    fake.fail("/api/chat", "error_line", after=0, message="model runner crashed", times=1)
    with pytest.raises(ollama.ResponseError) as info:
        list(client.chat(model=CHAT, messages=USER_HI, stream=True))
    assert (info.value.status_code, info.value.error) == (500, "model runner crashed")
    fake.fail("/api/chat", "error_line", after=1, message="later", times=1)
    with pytest.raises(ollama.ResponseError) as mid:
        list(client.chat(model=CHAT, messages=USER_HI, stream=True))
    assert (mid.value.status_code, mid.value.error) == (-1, "later")  # 200, then a line


def test_proxy_error_page_is_html(fake: FakeOllama, client: ollama.Client) -> None:
    fake.fail("*", "html", times=1)
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model=CHAT, messages=USER_HI)
    assert info.value.status_code == 502 and "<title>502 Bad Gateway</title>" in info.value.error


def test_tags_list_capabilities(fake: FakeOllama) -> None:
    fake.add_model("nomic-text:v1.5", kind="embed")
    tags = httpx.get(f"{fake.url}/api/tags", timeout=5).json()["models"]
    caps = {m["model"]: m["capabilities"] for m in tags}
    assert caps["llama3.1:8b"] == ["completion"]
    assert caps["nomic-text:v1.5"] == ["embedding"]
