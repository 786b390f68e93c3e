"""Against a real Chroma server (`chroma run`) started by the test: RAG_CHROMA_URL is the
only change, and ingest, status and search behave as with the embedded store."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StoreError
from core.settings import load_settings
from index.embedders import BuiltinEmbedder
from index.ingest import Ingestor
from index.vectors import VectorStore
from rag.cli import main

pytestmark = pytest.mark.chroma_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _chroma_cli() -> str | None:
    here = Path(sys.executable).parent / "chroma"
    return str(here) if here.exists() else shutil.which("chroma")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    cli = _chroma_cli()
    if cli is None:
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [
            cli,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(
                    "chroma run did not start: " + (tmp_path / "chroma.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_ingest_status_and_search_against_a_chroma_server(
    chroma_server: str,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_CHROMA_URL", chroma_server)
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    settings = load_settings()
    report = Ingestor(settings, progress=False).run([str(corpus_copy)])
    assert len(report.added) == 5
    assert not settings.chroma_path.exists(), "no embedded store when a server is configured"

    again = Ingestor(settings, progress=False).run([str(corpus_copy)])
    assert again.chunks == 0 and len(again.unchanged) == 5

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["store"] == "server"
    assert status["store_location"] == chroma_server
    assert status["documents"] == 5

    store = VectorStore(settings)
    embedder = BuiltinEmbedder()
    col = store.collection(embedder, create=False)
    assert col is not None and col.count() == status["chunks"]
    hits = store.search(col, embedder.embed_query("340.000 GPU Nvidia H100"), 3)
    assert hits and hits[0][1] > 0.2

    assert main(["reset", "--yes"]) == 0
    assert "1 server collection(s)" in capsys.readouterr().out
    assert VectorStore(load_settings()).named(embedder.collection_name) is None


def test_an_emptied_server_is_refilled_by_the_next_ingest(
    chroma_server: str,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The catalog claims vectors the server no longer holds (a new or wiped server):
    status says so, and the next ingest re-embeds them instead of "unchanged"."""
    monkeypatch.setenv("RAG_CHROMA_URL", chroma_server)
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    settings = load_settings()
    first = Ingestor(settings, progress=False).run([str(corpus_copy)])
    VectorStore(settings).drop_all()  # the server lost everything
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (col,) = status["collections"]
    assert col["vectors"] == 0 and "missing on the server" in col["problem"]
    assert status["dense"]["on"] is False
    report = Ingestor(settings, progress=False).run([str(corpus_copy)])
    assert len(report.reembedded) == 5 and report.chunks == first.chunks
    assert any("lacked vectors" in line for line in report.repaired)
    store = VectorStore(settings)
    server_col = store.collection(BuiltinEmbedder(), create=False)
    assert server_col is not None and server_col.count() == first.chunks
    quiet = Ingestor(settings, progress=False).run([str(corpus_copy)])
    assert quiet.chunks == 0 and not quiet.repaired


def test_unreachable_chroma_server_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    with pytest.raises(StoreError, match=r"cannot open the Chroma server at http://127\.0\.0\.1"):
        Ingestor(load_settings(), progress=False).run([str(corpus_copy)])
    assert main(["ingest", str(corpus_copy)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the Chroma server") and err.count("\n") == 1
