"""Ollama faults during ingestion (RAG_EMBEDDER=ollama, the fake server): each gives one
clear line naming what to do, transient errors are retried with backoff, and whatever
was already stored (in an earlier run, or earlier in the same run) is kept and consistent.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from index.catalog import Catalog
from rag.answer import Answerer
from rag.cli import main
from tests.fake_ollama import FakeOllama
from tests.index_state import vector_ids

QUESTION = "how many H100s does Meta plan to have"


@pytest.fixture
def ollama_env(with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    monkeypatch.setenv("RAG_EMBEDDER", "ollama")
    return with_ollama


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["ingest", *args])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The single `error:` line, asserting there is exactly one and no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def consistent_state(settings: Settings) -> dict[str, int]:
    """Catalog, Chroma and BM25 agree; returns {source: n_chunks}."""
    from index.lexical import LexicalIndex

    catalog = Catalog(settings.catalog_path)
    try:
        docs = {d.source: d.n_chunks for d in catalog.documents()}
        chunk_ids = catalog.all_chunk_ids()
        collections = [name for name, *_ in catalog.collections()]
    finally:
        catalog.close()
    if chunk_ids:
        assert vector_ids(settings, collections) == chunk_ids
        lexical = LexicalIndex.load(settings.lexical_dir)
        assert lexical is not None and set(lexical.ids) == chunk_ids
    return docs


def split_corpus(corpus: Path, tmp_path: Path) -> Path:
    """Move two of the five documents aside (to be added in a later run)."""
    aside = tmp_path / "aside"
    aside.mkdir()
    later = sorted(corpus.iterdir())[-2:]
    for p in later:
        shutil.move(str(p), aside / p.name)
    return aside


def test_down_at_start(
    ollama_env: FakeOllama, corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama_env.stop()
    code, _out, err = run_cli(capsys, str(corpus_copy))
    assert code == 1
    line = error_line(err)
    assert f"Failed to connect to Ollama at {ollama_env.url}" in line
    assert "OLLAMA_HOST" in line
    assert consistent_state(load_settings()) == {}


def test_auto_falls_back_when_down(
    ollama_env: FakeOllama,
    short_corpus_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "auto")
    ollama_env.stop()
    code, out, err = run_cli(capsys, str(short_corpus_copy))
    assert code == 0, err
    assert "note: Ollama is not reachable: using the bundled multilingual-e5-small-q4" in err
    assert "added 4" in out and "(bundled multilingual-e5-small-q4)" in out


def test_transient_500_is_retried_with_backoff_and_the_ingest_completes(
    ollama_env: FakeOllama, corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama_env.fail("/api/embed", "500", times=2, message="CUDA out of memory")
    t0 = time.monotonic()
    code, out, err = run_cli(capsys, str(corpus_copy))
    assert code == 0, err
    assert "added 5" in out
    embeds = ollama_env.calls("/api/embed")
    # the same batch was sent three times: two 500s, then success; backoff 0.5 s + 1 s
    assert len(embeds) >= 3 and embeds[0].json == embeds[1].json == embeds[2].json
    assert embeds[2].timestamp - embeds[0].timestamp >= 1.4
    assert time.monotonic() - t0 >= 1.4
    assert consistent_state(load_settings())


def test_persistent_500_fails_with_one_line_and_keeps_earlier_documents(
    ollama_env: FakeOllama,
    corpus_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aside = split_corpus(corpus_copy, tmp_path)
    assert run_cli(capsys, str(corpus_copy))[0] == 0
    before = consistent_state(load_settings())
    assert len(before) == 3
    for p in aside.iterdir():
        shutil.move(str(p), corpus_copy / p.name)
    ollama_env.fail("/api/embed", "500", message="CUDA out of memory")
    code, _out, err = run_cli(capsys, str(corpus_copy))
    assert code == 1
    line = error_line(err)
    assert f"Ollama at {ollama_env.url} answered HTTP 500: CUDA out of memory" in line
    assert len(ollama_env.calls("/api/embed")) >= 3  # it did retry
    assert consistent_state(load_settings()) == before  # nothing lost, nothing half-added
    ollama_env.clear_faults()
    code, out, err = run_cli(capsys, str(corpus_copy))
    assert code == 0 and "added 2" in out, err
    assert len(consistent_state(load_settings())) == 5


def test_slower_than_the_timeout(
    ollama_env: FakeOllama,
    corpus_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_OLLAMA_TIMEOUT", "0.3")
    ollama_env.fail("/api/embed", "slow", seconds=3)
    code, _out, err = run_cli(capsys, str(corpus_copy))
    assert code == 1
    line = error_line(err)
    assert f"Ollama at {ollama_env.url} did not answer in time" in line
    assert "raise RAG_OLLAMA_TIMEOUT" in line
    assert len(ollama_env.calls("/api/embed")) == 3  # first try + 2 retries
    assert consistent_state(load_settings()) == {}


def test_unknown_model(
    ollama_env: FakeOllama,
    short_corpus_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "nomic-embed-text")
    code, _out, err = run_cli(capsys, str(short_corpus_copy))
    assert code == 1
    assert error_line(err) == (
        f"error: model nomic-embed-text is not available in Ollama at {ollama_env.url}: "
        'run "ollama pull nomic-embed-text"'
    )
    assert not ollama_env.calls("/api/embed")
    # auto: the bundled model, with a note saying how to get Ollama's
    monkeypatch.setenv("RAG_EMBEDDER", "auto")
    code, out, err = run_cli(capsys, str(short_corpus_copy))
    assert code == 0, err
    assert 'run "ollama pull nomic-embed-text"' in err and "bundled multilingual-e5" in err
    assert "added 4" in out


def test_dimension_changed_mid_way_keeps_what_is_stored(
    ollama_env: FakeOllama,
    corpus_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aside = split_corpus(corpus_copy, tmp_path)
    assert run_cli(capsys, str(corpus_copy))[0] == 0
    settings = load_settings()
    before = consistent_state(settings)
    with Answerer(settings) as answerer:
        hits_before = [p.chunk_id for p in answerer.retrieve(QUESTION)]
    for p in aside.iterdir():
        shutil.move(str(p), corpus_copy / p.name)
    (corpus_copy / "zuckerberg-agi-interview.id.txt").write_text(
        "Versi baru dokumen ini. " * 30, encoding="utf-8"
    )
    ollama_env.fail("/api/embed", "dim", dim=768)  # the model was swapped behind our back
    code, _out, err = run_cli(capsys, str(corpus_copy))
    assert code == 1
    line = error_line(err)
    assert "returned vectors of dimension 768, expected 1024" in line
    assert "rag reset" in line and "rag ingest" in line
    assert consistent_state(settings) == before
    ollama_env.clear_faults()  # the old model is back: the old index still answers the same
    with Answerer(load_settings()) as answerer:
        assert [p.chunk_id for p in answerer.retrieve(QUESTION)] == hits_before


def test_dies_mid_ingest_keeps_finished_documents_and_resumes(
    ollama_env: FakeOllama,
    corpus_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server goes away after a few embedding requests: the documents committed
    before stay, and the next run embeds only the rest."""
    monkeypatch.setenv("RAG_CHUNK_SIZE", "64")  # more chunks: several commit rounds
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "8")
    monkeypatch.setenv("RAG_EMBED_BATCH_SIZE", "16")  # rounds of >= 64 chunks
    stop = threading.Event()
    catalog_path = load_settings().catalog_path

    def committed() -> int:
        try:
            with contextlib.closing(sqlite3.connect(catalog_path, timeout=1)) as db:
                return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        except sqlite3.Error:
            return 0  # not created yet

    def kill_after_requests() -> None:  # as soon as the first document is committed
        while not stop.is_set():
            if committed() >= 1:
                ollama_env.stop()
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=kill_after_requests, daemon=True)
    watcher.start()
    try:
        code, _out, err = run_cli(capsys, str(corpus_copy))
    finally:
        stop.set()
        watcher.join()
    assert code == 1
    assert f"Failed to connect to Ollama at {ollama_env.url}" in error_line(err) or (
        "connection to Ollama" in error_line(err)
    )
    kept = consistent_state(load_settings())
    assert 1 <= len(kept) < 5, kept
    ollama_env.start()
    ollama_env.reset_log()
    code, out, err = run_cli(capsys, str(corpus_copy))
    assert code == 0, err
    final = consistent_state(load_settings())
    assert len(final) == 5
    assert f"added {5 - len(kept)}" in out and f"unchanged {len(kept)}" in out
    resumed = sum(n for src, n in final.items() if src not in kept)
    assert len(ollama_env.embed_inputs()) == resumed  # nothing kept was embedded again
