"""What a user with a real Ollama meets, against the fake that now behaves like one: a
reasoning model, a long context setting, a numeric keep_alive, an embedding model picked
for chat, a proxy's error page, an error inside a stream. Each test fails on the product as
it was before (no `think`, num_ctx fixed at 8192, keep_alive sent as a string, ...)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ConfigError
from core.ollama_config import ollama_host_url, parse_keep_alive
from core.settings import Settings, load_settings
from index.tokens import count_tokens
from rag.answer import Answerer
from rag.budget import plan, template_tokens
from rag.llm import clean_condensed, format_passages
from rag.schema import Answer, DoneEvent, TokenEvent, Turn
from tests.fake_ollama import FakeOllama
from tests.ollama_router import request_kind, router

H100 = "how many H100s does Meta plan to have?"
CITED = "Meta plans to have more than 340,000 Nvidia H100 GPUs [1]."


def _bodies(fake: FakeOllama, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        r.json
        for r in fake.calls("/api/chat")
        if r.json and (kind is None or request_kind(r.json) == kind)
    ]


def _ask(settings: Settings, question: str = H100, **kwargs: Any) -> tuple[str, Answer]:
    events = list(Answerer(settings).stream(question, **kwargs))
    streamed = "".join(e.text for e in events if isinstance(e, TokenEvent))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return streamed, done.answer


@pytest.fixture
def llm_settings(corpus_index: Settings, with_ollama: FakeOllama) -> Settings:
    return load_settings()


# --- reasoning models ----------------------------------------------------------------------


def test_every_chat_request_says_think_false(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_ollama.add_model("qwen3:8b", reasoning="field")
    monkeypatch.setenv("RAG_LLM_MODEL", "qwen3:8b")
    with_ollama.default_reply = router(CITED, condensed="How many H100s will Meta have?")
    history = [Turn(question="What is Meta buying?", answer="GPUs [1].")]
    _, answer = _ask(load_settings(), "and how many?", history=history)
    assert answer.mode == "llm"
    bodies = _bodies(with_ollama)
    assert {request_kind(b) for b in bodies} >= {"condense", "rewrite", "answer"}
    assert all(b.get("think") is False for b in bodies)


def test_think_tags_in_the_text_are_removed_streamed_and_whole(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a template without thinking support: the reasoning arrives inside the text, with the
    # tags split over several stream chunks ("<", "think", ">")
    with_ollama.add_model("deepseek-r1:7b", reasoning="inline")
    monkeypatch.setenv("RAG_LLM_MODEL", "deepseek-r1:7b")
    with_ollama.default_reply = router(CITED, condensed="How many H100s will Meta have?")
    history = [Turn(question="What is Meta buying?", answer="GPUs [1].")]
    streamed, answer = _ask(load_settings(), "and how many?", history=history)
    assert answer.mode == "llm"
    assert "think" not in streamed and "passages say" not in streamed
    assert streamed.strip() == CITED
    assert answer.standalone_question == "How many H100s will Meta have?"
    assert answer.cited == {1}


def test_clean_condensed_never_returns_the_think_tag() -> None:
    assert clean_condensed("<think>") == ""
    assert clean_condensed("<think>\nhmm\n</think>\n\nQuestion: Who?") == "Who?"


# --- the context window --------------------------------------------------------------------


def test_num_ctx_holds_a_long_context_setting(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CONTEXT_TOKENS", "20000")
    monkeypatch.setenv("RAG_TOP_K", "80")
    settings = load_settings()
    with_ollama.default_reply = router(CITED)
    _, answer = _ask(settings)
    assert answer.mode == "llm" and answer.notice is None
    bodies = _bodies(with_ollama)
    windows = {b["options"]["num_ctx"] for b in bodies}
    assert windows == {plan(settings).window}  # one value for every call: no reload
    assert plan(settings).window > 20000
    assert with_ollama.truncations == []  # (at num_ctx=8192 this prompt was cut)


def test_a_cut_prompt_is_reported_in_one_line(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a model trained on 1024 tokens: Ollama clamps num_ctx and keeps 4 + the tail
    with_ollama.add_model("small:1b", context_length=1024)
    monkeypatch.setenv("RAG_LLM_MODEL", "small:1b")
    with_ollama.default_reply = router(CITED)
    _, answer = _ask(load_settings())
    assert with_ollama.truncations, "the fake should have cut this prompt"
    assert answer.mode == "llm"
    assert answer.notice is not None and "\n" not in answer.notice
    assert "the prompt was cut" in answer.notice and "1024 of" in answer.notice
    assert "RAG_CONTEXT_TOKENS" in answer.notice


def test_the_passage_budget_counts_tags(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CONTEXT_TOKENS", "700")
    with_ollama.default_reply = router(CITED)
    _, answer = _ask(load_settings())
    assert answer.mode == "llm"
    assert count_tokens(format_passages(answer.passages)) <= 700
    [body] = _bodies(with_ollama, "answer")
    prompt = "".join(m["content"] for m in body["messages"])
    assert count_tokens(prompt) <= 700 + template_tokens() + count_tokens(H100)


def test_a_fixed_window_shrinks_the_passages_and_says_so(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_CONTEXT_WINDOW", "2048")
    with_ollama.default_reply = router(CITED)
    settings = load_settings()
    _, answer = _ask(settings)
    assert answer.mode == "llm"
    [body] = _bodies(with_ollama, "answer")
    assert body["options"]["num_ctx"] == 2048
    assert with_ollama.truncations == []
    assert answer.notice is not None and "2048 tokens" in answer.notice
    assert "RAG_CONTEXT_TOKENS=3000" in answer.notice
    shown = count_tokens("".join(m["content"] for m in body["messages"]))
    assert shown + body["options"]["num_predict"] <= 2048


# --- keep_alive ----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "sent"), [("-1", -1), ("3600", 3600), ("1h30m", "1h30m")])
def test_keep_alive_is_sent_as_ollama_parses_it(
    llm_settings: Settings,
    with_ollama: FakeOllama,
    monkeypatch: pytest.MonkeyPatch,
    raw: str,
    sent: object,
) -> None:
    monkeypatch.setenv("RAG_OLLAMA_KEEP_ALIVE", raw)
    with_ollama.default_reply = router(CITED)
    _, answer = _ask(load_settings())
    assert answer.mode == "llm", answer.notice
    assert all(b["keep_alive"] == sent for b in _bodies(with_ollama))


# Ollama's own cases: envconfig/config_test.go TestKeepAlive (valid ones) and api.Duration
@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1s", "1s"),
        ("1m", "1m"),
        ("1h", "1h"),
        ("5m0s", "5m0s"),
        ("1h2m3s", "1h2m3s"),
        ("0", 0),
        ("60", 60),
        ("120", 120),
        ("3600", 3600),
        ("-0", 0),
        ("-1", -1),
        ("-1m", "-1m"),
        ("1.5", 1.5),
    ],
)
def test_keep_alive_accepts_what_ollama_accepts(raw: str, value: object) -> None:
    assert parse_keep_alive(raw) == value


@pytest.mark.parametrize("raw", [" ", "???", "1d", "1y", "1w", "5 m", "m"])
def test_keep_alive_rejects_what_ollama_rejects(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    # TestKeepAlive's "invalid values" (Ollama falls back to 5m; a request with them is 400)
    monkeypatch.setenv("RAG_OLLAMA_KEEP_ALIVE", raw)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("invalid RAG_OLLAMA_KEEP_ALIVE=")
    assert "\n" not in str(info.value)


# --- OLLAMA_HOST ---------------------------------------------------------------------------

# ollama/ollama envconfig/config_test.go, TestHost: every case, verbatim
OLLAMA_TEST_HOST = {
    "empty": ("", "http://127.0.0.1:11434"),
    "only address": ("1.2.3.4", "http://1.2.3.4:11434"),
    "only port": (":1234", "http://:1234"),
    "address and port": ("1.2.3.4:1234", "http://1.2.3.4:1234"),
    "hostname": ("example.com", "http://example.com:11434"),
    "hostname and port": ("example.com:1234", "http://example.com:1234"),
    "zero port": (":0", "http://:0"),
    "too large port": (":66000", "http://:11434"),
    "too small port": (":-1", "http://:11434"),
    "ipv6 localhost": ("[::1]", "http://[::1]:11434"),
    "ipv6 world open": ("[::]", "http://[::]:11434"),
    "ipv6 no brackets": ("::1", "http://[::1]:11434"),
    "ipv6 + port": ("[::1]:1337", "http://[::1]:1337"),
    "extra space": (" 1.2.3.4 ", "http://1.2.3.4:11434"),
    "extra quotes": ('"1.2.3.4"', "http://1.2.3.4:11434"),
    "extra space+quotes": (' " 1.2.3.4 " ', "http://1.2.3.4:11434"),
    "extra single quotes": ("'1.2.3.4'", "http://1.2.3.4:11434"),
    "http": ("http://1.2.3.4", "http://1.2.3.4:80"),
    "http port": ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
    "https": ("https://1.2.3.4", "https://1.2.3.4:443"),
    "https port": ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
    "proxy path": ("https://example.com/ollama", "https://example.com:443/ollama"),
}


@pytest.mark.parametrize("case", sorted(OLLAMA_TEST_HOST))
def test_ollama_host_is_parsed_as_ollama_does(case: str) -> None:
    raw, expected = OLLAMA_TEST_HOST[case]
    assert str(ollama_host_url(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "dialled"),
    [
        (":1234", "http://127.0.0.1:1234"),  # Go dials the local machine for an empty host
        ("[::]", "http://[::1]:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("http://gpu-box", "http://gpu-box:80"),  # not 11434: Ollama's rule for a URL
        ("https://example.com/ollama/", "https://example.com:443/ollama"),
    ],
)
def test_settings_dial_what_ollama_means(
    monkeypatch: pytest.MonkeyPatch, raw: str, dialled: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", raw)
    assert load_settings().ollama_host == dialled


# --- messages --------------------------------------------------------------------------------


def test_an_error_inside_a_stream_is_not_http_minus_one(
    llm_settings: Settings, with_ollama: FakeOllama
) -> None:
    with_ollama.default_reply = router(CITED)
    with_ollama.fail("/api/chat", "error_line", after=2, message="CUDA out of memory")
    _, answer = _ask(llm_settings)
    assert answer.mode == "extractive"
    assert answer.notice is not None
    assert "HTTP -1" not in answer.notice and "CUDA out of memory" in answer.notice


def test_a_proxy_error_page_is_one_line(llm_settings: Settings, with_ollama: FakeOllama) -> None:
    with_ollama.fail("/api/chat", "html", status=502)
    _, answer = _ask(llm_settings)
    assert answer.mode == "extractive"
    assert answer.notice == (f"Ollama at {with_ollama.url} answered HTTP 502: 502 Bad Gateway")


def test_an_embedding_model_picked_for_chat_names_the_setting(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_MODEL", "bge-m3")
    _, answer = _ask(load_settings())
    assert answer.mode == "extractive"
    assert answer.notice is not None and "\n" not in answer.notice
    assert "RAG_LLM_MODEL" in answer.notice and "does not support chat" in answer.notice


def test_an_unknown_model_gets_the_pull_hint(
    llm_settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_MODEL", "mistral:7b")
    _, answer = _ask(load_settings())
    assert answer.mode == "extractive"
    assert answer.notice == (
        f"model mistral:7b is not available in Ollama at {with_ollama.url}: "
        'run "ollama pull mistral:7b"'
    )


# --- the UI's model picker -----------------------------------------------------------------


def test_model_picker_leaves_out_embedding_only_models(
    settings: Settings, with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.ollama_api import OllamaAPI
    from ui.app import App

    with_ollama.add_model("nomic-text:v1.5", kind="embed")  # no "embed" in its name
    with_ollama.add_model("qwen3:8b", reasoning="field")
    status = OllamaAPI(with_ollama.url, timeout=5).probe()
    assert status.chat_models == ["llama3.1:8b", "qwen3:8b"]
    app = App(load_settings())
    choices, selected, interactive = app.model_choices({"ollama": status.as_dict()})
    assert choices == ["llama3.1:8b", "qwen3:8b"] and selected == "llama3.1:8b" and interactive


# --- <think> removal, at every split point of a stream ----------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<think>a [9] b</think>\n\nMeta has 340,000 H100s [1].", "Meta has 340,000 H100s [1]."),
        ("Answer [1].", "Answer [1]."),
        ("x < y, and <b>bold</b> [2].", "x < y, and <b>bold</b> [2]."),
        ("<think>never closed, all reasoning", ""),
        ("<thin", "<thin"),
    ],
)
def test_think_filter_at_every_split_point(text: str, shown: str) -> None:
    from rag.think import ThinkFilter, strip_think

    assert strip_think(text) == shown
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            f = ThinkFilter()
            out = f.feed(text[:i]) + f.feed(text[i:j]) + f.feed(text[j:]) + f.flush()
            assert out == shown, (i, j)
