"""Concurrency: a second ingest on the same data directory refuses with a clear message
(in this process or another), and questions answered while an ingest keeps rewriting
documents never see half a document: every passage is exactly its document's text of one
version, and all passages of a document in one answer come from the same version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

from core.settings import load_settings
from index.ingest import Ingestor
from index.writer_lock import ingest_lock
from rag.answer import Answerer
from rag.cli import main
from rag.schema import Passage

RAG = str(Path(sys.executable).with_name("rag"))
VERSION = re.compile(r"V(\d{4})")


def test_second_ingest_refuses_while_one_runs(
    corpus_copy: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    with ingest_lock(settings.data_dir):  # an ingest holds the lock (another fd)
        assert main(["ingest", str(corpus_copy)]) == 1
        err = capsys.readouterr().err
        assert err.strip() == (
            f"error: another ingest is running on {settings.data_dir} (pid {os.getpid()}); "
            "wait for it to finish"
        )
        # another process: the same refusal, one line, nothing written
        other = subprocess.run(
            [RAG, "ingest", str(corpus_copy)], capture_output=True, text=True, timeout=120
        )
        assert other.returncode == 1
        assert other.stderr.strip().startswith("error: another ingest is running on")
        assert "Traceback" not in other.stderr
        assert not settings.catalog_path.exists()
    # released: the next ingest runs
    assert main(["ingest", str(corpus_copy)]) == 0


def _version_text(doc: int, version: int) -> str:
    """Every sentence names its document and version, so any slice tells where it came
    from; the length changes with the version, so offsets move between versions."""
    sentences = [
        f"Dokumen D{doc} V{version:04d} kalimat {i}: Meta H100 GPU klaster versi V{version:04d}."
        for i in range(6 + (version % 5) * 3)
    ]
    return "\n".join(sentences) + "\n"


@pytest.mark.timeout(300)
def test_answers_during_reingest_never_show_half_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "48")  # several chunks per document
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "8")
    folder = tmp_path / "docs"
    folder.mkdir()
    docs = 4
    versions: dict[int, int] = {}
    for d in range(docs):
        versions[d] = 0
        (folder / f"doc{d}.txt").write_text(_version_text(d, 0), encoding="utf-8")
    settings = load_settings()
    Ingestor(settings, progress=False).run([str(folder)])

    stop = threading.Event()
    problems: list[str] = []
    rounds = {"ingests": 0, "retrievals": 0, "passages": 0}

    def writer() -> None:
        try:
            for step in range(1, 13):
                for d in (step % docs, (step + 1) % docs):
                    versions[d] = step
                    (folder / f"doc{d}.txt").write_text(_version_text(d, step), encoding="utf-8")
                Ingestor(settings, progress=False).run([str(folder)])
                rounds["ingests"] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            problems.append(f"writer: {exc!r}")
        finally:
            stop.set()

    def check(passages: list[Passage]) -> None:
        seen: dict[str, set[int]] = {}
        for p in passages:
            found = {int(v) for v in VERSION.findall(p.text)}
            doc = re.search(r"D(\d+)", p.text)
            if len(found) != 1 or doc is None:
                problems.append(f"passage mixes versions or lost its text: {p.text!r}")
                continue
            (version,) = found
            expected = _version_text(int(doc.group(1)), version)[p.start : p.end]
            if p.text != expected:
                problems.append(f"passage is not its document's text[start:end]: {p.text!r}")
            seen.setdefault(p.doc_id, set()).add(version)
        for doc_id, vs in seen.items():
            if len(vs) > 1:
                problems.append(f"one answer shows {doc_id} in versions {sorted(vs)}")

    def reader(answerer: Answerer) -> None:
        try:
            while not stop.is_set():
                passages = answerer.retrieve("Meta H100 GPU klaster versi", k=12)
                check(passages)
                rounds["retrievals"] += 1
                rounds["passages"] += len(passages)
        except BaseException as exc:  # pragma: no cover - reported below
            problems.append(f"reader: {exc!r} {traceback.format_exc()[-1500:]}")

    with Answerer(settings) as answerer:
        readers = [threading.Thread(target=reader, args=(answerer,)) for _ in range(3)]
        for t in readers:
            t.start()
        w = threading.Thread(target=writer)
        t0 = time.monotonic()
        w.start()
        w.join(timeout=240)
        stop.set()
        for t in readers:
            t.join(timeout=60)
        elapsed = time.monotonic() - t0
        # after the last ingest, answers show the current version of every document
        final = answerer.retrieve("Meta H100 GPU klaster versi", k=50)
    assert not problems, problems[:5]
    assert rounds["ingests"] == 12, rounds
    assert rounds["retrievals"] >= 10 and rounds["passages"] > 0, (rounds, elapsed)
    print(f"{rounds} in {elapsed:.1f} s")
    shown = {(p.text.split()[1], VERSION.findall(p.text)[0]) for p in final}
    assert shown == {(f"D{d}", f"{v:04d}") for d, v in versions.items()}


def test_a_long_running_reader_survives_an_ingest_by_another_process(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rag serve` (or `rag chat`) keeps Chroma open while the user runs `rag ingest` in
    another terminal. The next question must not fail on this process's stale view of the
    embedded store (chromadb: "Error finding id"), and dense search must see the new
    document."""
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    ingest = [RAG, "ingest", str(corpus_copy)]
    assert subprocess.run(ingest, capture_output=True, timeout=300).returncode == 0
    settings = load_settings()
    question = "zorblax quantum platypus reactor"
    with Answerer(settings) as answerer:
        first = answerer.retriever.search([question])
        assert first.notes == [] and first.passages  # Chroma opened, dense search used
        (corpus_copy / "new.txt").write_text(
            "The zorblax quantum platypus reactor was announced by Meta. " * 5,
            encoding="utf-8",
        )
        (corpus_copy / "a16z-third-era-of-computing.id.txt").unlink()
        run = subprocess.run(ingest, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        for _ in range(2):  # and again, from the refreshed state
            after = answerer.retriever.search([question])
            assert after.notes == [], after.notes  # dense search still works
            assert after.passages[0].source.endswith("new.txt")
            assert not any(p.source.endswith("a16z-third-era-of-computing.id.txt")
                           for p in after.passages)  # fmt: skip
        dense_only = answerer.retriever.search([question], expand=False)
        assert dense_only.passages[0].source.endswith("new.txt")
