"""`rag ask` end to end with a real model: llama.cpp's server (xllamacpp) running
SmolLM2-135M-Instruct on this CPU, reached through the OpenAI-compatible backend, on the
shipped corpus. A 135M model writes poor answers; what is asserted is the behaviour around
it: the answer streams, every citation marker shown maps to a listed passage (or is
reported removed), unsupported sentences are flagged, the prompt fits the server's 2048
tokens (the passages shrink, and a note says so), and the timings are reported.

Skipped, with the reason, when xllamacpp cannot run or the model cannot be fetched."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from rag.cli import main
from tests.real_llama import MODEL_ALIAS, N_CTX, llama_server, smollm2_gguf, xllamacpp_missing

QUESTION = "How many Nvidia H100 GPUs does Meta plan to have by the end of the year?"
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


class TimedOut(io.StringIO):
    """stdout that remembers when each write arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.writes.append((time.perf_counter(), text))
        return super().write(text)


@pytest.fixture(scope="module")
def model() -> Path:
    missing = xllamacpp_missing()
    if missing:
        pytest.skip(missing)
    path, why = smollm2_gguf()
    if path is None:
        pytest.skip(f"the real model cannot be had: {why}")
    return path


@pytest.fixture
def server_url(model: Path) -> Iterator[str]:
    with llama_server(model, n_ctx=N_CTX, n_predict=64) as url:
        yield url


@pytest.mark.timeout(900)
def test_rag_ask_streams_a_checked_answer_from_a_real_model(
    corpus_index: Settings,
    server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", server_url)
    monkeypatch.setenv("RAG_LLM_MODEL", MODEL_ALIAS)
    monkeypatch.setenv("RAG_OLLAMA_TIMEOUT", "600")  # two shared CPU cores
    out = TimedOut()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        assert main(["ask", QUESTION]) == 0
    total = time.perf_counter() - t0
    err = capsys.readouterr().err
    text = out.getvalue()

    answer, _, rest = text.partition("\nSources (* = cited):\n")
    assert rest, f"no sources listed:\n{text}\n{err}"
    sources, _, unsupported_block = rest.partition("\nNot supported by the cited passages:\n")
    listed = [int(m.group(1)) for m in re.finditer(r"^[* ]\[(\d+)\]", sources, re.MULTILINE)]
    assert listed == list(range(1, len(listed) + 1)) and listed

    # the model answered (no fallback), and the only note is the shrunk context
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, err
    for line in notes:
        assert f"context window ({N_CTX} tokens)" in line, err
    assert f"RAG_CONTEXT_TOKENS={corpus_index.context_tokens}" in notes[0]
    assert "Failed" not in err and "HTTP" not in err and "was cut" not in err

    # streamed: the answer arrived in many writes, spread over time
    answer_writes = [(t, s) for t, s in out.writes if s and "Sources (* = cited)" not in s]
    assert len(answer_writes) >= 5, out.writes[:10]
    first_token = answer_writes[0][0] - t0
    assert answer_writes[-1][0] - answer_writes[0][0] > 0.05
    assert answer.strip()

    # every marker shown maps to a listed passage, or is reported as removed
    removed_line = next((ln for ln in err.splitlines() if ln.startswith("removed citations")), "")
    removed = set(re.findall(r"\d+", removed_line))
    for m in MARKER.finditer(answer):
        for n in re.findall(r"\d+", m.group(1)):
            assert int(n) in listed or n in removed, (n, listed, err)
    cited = {int(n) for n in re.findall(r"^\*\[(\d+)\]", sources, re.MULTILINE)}
    assert cited <= set(listed)

    # unsupported sentences are flagged: each one listed is a sentence of the answer
    flagged = [ln.removeprefix("  - ") for ln in unsupported_block.splitlines() if ln.strip()]
    for sentence in flagged:
        assert sentence.strip()[:20] in " ".join(answer.split()) or sentence in answer

    streaming = answer_writes[-1][0] - answer_writes[0][0]
    print(f"\n{text}\n{err}")
    print(
        f"real model: first token after {first_token:.1f} s, whole answer {total:.1f} s "
        f"({len(answer_writes)} pieces streamed over {streaming:.1f} s), {len(listed)} "
        f"passages fit in n_ctx={N_CTX}, {len(flagged)} unsupported flagged"
    )
