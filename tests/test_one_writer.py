"""One writer, any number of readers: while `rag ingest` writes hundreds of documents in
one process, `rag ask` processes and a UI chat backend in another process keep answering
(from the last published vector snapshot), none of them opens the embedded Chroma store
or crashes, and afterwards every stored vector reads back and the catalog, Chroma, the
snapshot and BM25 agree. The long version (2,000 documents, repeated) is
`bench/concurrency_loop.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.settings import load_settings
from tests.conftest import ROOT
from tests.test_ingest_scale import full_state

RAG = str(Path(sys.executable).with_name("rag"))

READER = textwrap.dedent(
    """
    import sys, time
    from core.settings import load_settings
    from ui.chat import ChatBackend
    backend = ChatBackend(load_settings())
    stop_file = sys.argv[1]
    answered = 0
    while True:
        last = None
        for last in backend.ask("berapa GPU H100 dokumen 7", no_llm=True):
            pass
        assert last is not None and last.done and not last.error, last.error
        answered += 1
        import os
        if os.path.exists(stop_file):
            break
        time.sleep(0.05)
    backend.close()
    print("ANSWERED", answered, "chromadb" in sys.modules)
    """
)


def _documents(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"{folder.name}-{i:04d}.txt").write_text(
            f"Dokumen {i} mencatat {i * 13} GPU H100 untuk proyek nomor {i}.\n"
            f"Kalimat kedua dokumen {i} membahas Llama dan Meta.\n",
            encoding="utf-8",
        )


@pytest.mark.timeout(180)
def test_asks_and_ui_questions_during_a_large_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    first = tmp_path / "first"
    _documents(first, 20)
    env = dict(os.environ)
    assert subprocess.run([RAG, "ingest", str(first)], env=env, timeout=120).returncode == 0

    folder = tmp_path / "many"
    _documents(folder, 300)
    stop_file = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(stop_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ingest = subprocess.Popen(
        [RAG, "ingest", "--json", str(first), str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    asks: list[subprocess.CompletedProcess[str]] = []
    while ingest.poll() is None or len(asks) < 3:
        asks.append(
            subprocess.run(
                [RAG, "ask", "--no-llm", "--json", "berapa GPU H100 dokumen 7"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        )
        time.sleep(0.05)
    out, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, err
    report = json.loads(out)
    assert len(report["added"]) == 300 and len(report["unchanged"]) == 20
    stop_file.write_text("stop", encoding="utf-8")
    r_out, r_err = reader.communicate(timeout=60)
    assert reader.returncode == 0, r_err
    answered, opened_chroma = r_out.split()[1:]
    assert int(answered) >= 1 and opened_chroma == "False"  # readers never open Chroma
    for done in asks:
        assert done.returncode == 0, (done.returncode, done.stderr)
        answer = json.loads(done.stdout)
        assert answer["citations"], answer
    state = full_state(load_settings())  # every stored vector reads back
    assert len(state) == 320
