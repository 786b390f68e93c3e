"""The OpenAI-compatible backend (RAG_LLM_BACKEND=openai) against a fake llama.cpp-style
server over real HTTP: the same prompts, streaming, citation check and model-free fallback
as with Ollama, the server's context window respected, and one clear line for each fault."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import Settings, load_settings
from rag.answer import Answerer
from rag.schema import Answer, DoneEvent, SourcesEvent, TokenEvent
from tests.fake_ollama import dead_ollama_url
from tests.fake_openai import DEFAULT_MODEL, FakeOpenAI, fake_openai, prompt_tokens
from tests.ollama_router import request_kind, router

__all__ = ["fake_openai"]

H100 = "how many H100s does Meta plan to have?"
CITED = "Meta plans to have more than 340,000 Nvidia H100 GPUs [1]. It also owns cars [2]."


def _ask(settings: Settings, question: str = H100) -> tuple[list[str], Answer]:
    events = list(Answerer(settings).stream(question))
    assert isinstance(events[0], SourcesEvent)
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return [e.text for e in events if isinstance(e, TokenEvent)], done.answer


def _use(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the OpenAI-compatible backend at `server`, which answers with cited text."""
    server.default_reply = router(CITED)
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", server.url)
    monkeypatch.setenv("RAG_LLM_MODEL", DEFAULT_MODEL)


@pytest.fixture
def openai_env(
    corpus_index: Settings, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOpenAI]:
    _use(fake_openai, monkeypatch)
    yield fake_openai


def test_openai_backend_needs_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "RAG_LLM_BASE_URL" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("RAG_LLM_BASE_URL", "ftp://x")
    with pytest.raises(ConfigError, match="RAG_LLM_BASE_URL='ftp://x'"):
        load_settings()


def test_answer_streams_with_checked_citations(openai_env: FakeOpenAI) -> None:
    tokens, answer = _ask(load_settings())
    assert answer.mode == "llm" and answer.model == DEFAULT_MODEL
    assert len(tokens) > 5  # streamed piece by piece, not in one block
    assert answer.cited <= {p.n for p in answer.passages} and 1 in answer.cited
    assert "first_token" in answer.timings_ms
    [body] = [b for b in openai_env.chat_bodies() if request_kind(b) == "answer"]
    assert body["stream"] is True and body["model"] == DEFAULT_MODEL
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] >= 256
    system = body["messages"][0]
    assert system["role"] == "system" and "[1]" in system["content"]
    for p in answer.passages:
        assert f'<passage n="{p.n}"' in body["messages"][1]["content"]
    # the same rewrite step as with Ollama (the corpus is Indonesian and Chinese)
    assert any(request_kind(b) == "rewrite" for b in openai_env.chat_bodies())


def test_the_servers_window_shrinks_the_context_and_says_so(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI(n_ctx=2048) as server:
        _use(server, monkeypatch)
        _, answer = _ask(load_settings())
        assert answer.mode == "llm", answer.notice
        assert answer.notice is not None and "2048 tokens" in answer.notice
        [body] = [b for b in server.chat_bodies() if request_kind(b) == "answer"]
        # counted with the server's own tokenizer (/tokenize): fits, and fills the window
        assert 1024 < prompt_tokens(body) + body["max_tokens"] <= 2048


def test_without_tokenize_the_window_is_filled_with_a_margin(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.tokens import count_tokens

    with FakeOpenAI(n_ctx=2048, props=False) as server:
        _use(server, monkeypatch)
        monkeypatch.setenv("RAG_LLM_CONTEXT_WINDOW", "2048")
        _, answer = _ask(load_settings())
        assert answer.mode == "llm", answer.notice
        [body] = [b for b in server.chat_bodies() if request_kind(b) == "answer"]
        text = "".join(m["content"] for m in body["messages"])
        assert (count_tokens(text) + 24) * 1.25 + body["max_tokens"] <= 2048


def test_without_props_the_models_entry_or_a_setting_gives_the_window(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI(n_ctx=1536, props=False) as server:
        _use(server, monkeypatch)
        monkeypatch.setenv("RAG_LLM_CONTEXT_WINDOW", "1536")
        _, answer = _ask(load_settings())
        assert answer.mode == "llm", answer.notice
        assert answer.notice is not None and "1536 tokens" in answer.notice


def test_api_key_is_sent(corpus_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(api_key="s3cret") as server:
        _use(server, monkeypatch)
        _, refused = _ask(load_settings())
        assert refused.mode == "extractive"
        assert refused.notice is not None and "RAG_LLM_API_KEY" in refused.notice
        monkeypatch.setenv("RAG_LLM_API_KEY", "s3cret")
        _, answer = _ask(load_settings())
        assert answer.mode == "llm", answer.notice


def test_think_tags_are_removed(openai_env: FakeOpenAI) -> None:
    openai_env.default_reply = router("<think>The passages say 340,000.</think>\n\n" + CITED)
    tokens, answer = _ask(load_settings())
    assert "think" not in "".join(tokens) and answer.answer.startswith("Meta plans")


def _fault_notice(settings: Settings) -> str:
    _, answer = _ask(settings)
    assert answer.mode == "extractive"
    assert answer.passages and answer.answer
    assert answer.notice is not None and "\n" not in answer.notice
    return answer.notice


@pytest.mark.parametrize(
    ("fault", "params", "expected"),
    [
        ("500", {"message": "slot unavailable"}, "answered HTTP 500: slot unavailable"),
        ("html", {"status": 502}, "answered HTTP 502: 502 Bad Gateway"),
        ("cut", {"after": 2}, "was cut"),
    ],
)
def test_faults_fall_back_to_the_model_free_answer(
    openai_env: FakeOpenAI, fault: str, params: dict[str, Any], expected: str
) -> None:
    openai_env.fail(fault, **params)
    assert expected in _fault_notice(load_settings())


def test_a_slow_server_times_out(openai_env: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_OLLAMA_TIMEOUT", "0.5")
    openai_env.fail("slow", seconds=3)
    notice = _fault_notice(load_settings())
    assert "did not answer in time" in notice and "RAG_OLLAMA_TIMEOUT" in notice


def test_an_unknown_model_names_the_setting_and_the_served_models(
    openai_env: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_MODEL", "llama3.1:8b")
    notice = _fault_notice(load_settings())
    assert notice == (
        f"model llama3.1:8b is not served at {openai_env.url} (it serves: {DEFAULT_MODEL}): "
        "set RAG_LLM_MODEL to a served model"
    )


def test_a_server_that_is_down(corpus_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", dead_ollama_url() + "/v1")
    notice = _fault_notice(load_settings())
    assert notice.startswith("Failed to connect to the OpenAI-compatible server at")
    assert "RAG_LLM_BASE_URL" in notice


def test_a_prompt_the_server_refuses_as_too_long(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the window told (RAG_LLM_CONTEXT_WINDOW) is larger than the server's real one
    with FakeOpenAI(n_ctx=600, props=False) as server:
        _use(server, monkeypatch)
        monkeypatch.setenv("RAG_LLM_CONTEXT_WINDOW", "8192")
        notice = _fault_notice(load_settings())
        assert "does not fit the context window" in notice
        assert "RAG_LLM_CONTEXT_WINDOW" in notice


def test_the_offline_guard_holds_with_the_openai_backend(
    openai_env: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from rag.cli import main
    from tests.netguard import NetGuard

    with NetGuard() as guard:
        assert main(["ask", "--json", H100]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["mode"] == "llm" and answer["citations"], answer
    assert guard.violations == [], guard.report()
    port = openai_env.url.rsplit(":", 1)[-1].split("/", 1)[0]
    assert port in {a.target.rsplit(":", 1)[-1] for a in guard.loopback}
