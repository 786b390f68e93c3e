"""Messages that tell the truth, and output that cannot act on the terminal.

A full disk says "no space left on device" and leaves no temp files; a read-only data
directory says so (and questions still work from it); a damaged catalog names
`rag reset --yes`; RAG_DATA_DIR pointing at a file says so. `rag status` reports what is
really there (snapshot vectors vs chunks, BM25 health, why dense search is off), and an
answer given without dense search says so once. Control characters in passages, titles
and questions are shown as escapes by the CLI and the UI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from index.dense_cache import DENSE_DIR
from rag.cli import main
from tests.conftest import CORPUS

LEFTOVERS = ("*.tmp", "*.spool", "bm25.tmp", "bm25.old", "*.tmp-*")


def _mount(target: Path, size: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "small", "1m")


@pytest.fixture
def roomy_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "roomy", "32m")


def _leftovers(root: Path) -> list[Path]:
    return [p for pattern in LEFTOVERS for p in root.rglob(pattern)]


def test_a_full_disk_says_so_and_leaves_no_temp_files(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(small_disk / "data"))
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    assert main(["ingest", str(CORPUS)]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "no space left on device" in lines[0]
    assert "Failed to apply logs" not in err and "Traceback" not in err
    assert _leftovers(small_disk) == []


def test_a_read_only_data_dir_says_so_and_still_answers(
    roomy_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = roomy_disk / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    assert main(["ingest", str(CORPUS)]) == 0
    subprocess.run(["mount", "-o", "remount,ro", str(roomy_disk)], check=True)
    capsys.readouterr()
    assert main(["ingest", str(CORPUS)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: cannot write to the data directory {data}: {data} is on a read-only file system\n"
    )
    assert main(["ask", "--no-llm", "berapa GPU H100"]) == 0
    out, err = capsys.readouterr()
    assert "340.000" in out and "error" not in err


def test_a_damaged_catalog_names_rag_reset(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus_index.catalog_path
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    for command in (["ask", "--no-llm", "H100"], ["status"], ["ingest", str(CORPUS)]):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert err.startswith(f"error: the catalog {path} is damaged"), err
        assert "run `rag reset --yes`" in err and err.count("\n") == 1
    assert main(["reset", "--yes"]) == 0
    assert main(["ingest", str(CORPUS)]) == 0


def test_a_data_dir_that_is_a_file_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("RAG_DATA_DIR", str(blocker))
    for command in (["ask", "--no-llm", "H100"], ["ingest", str(CORPUS)], ["status"]):
        assert main(command) == 1
        assert capsys.readouterr().err == (
            f"error: RAG_DATA_DIR {blocker} is a file, not a directory\n"
        )


def test_status_reports_what_is_really_there(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def status() -> dict[str, object]:
        assert main(["status", "--json"]) == 0
        return dict(json.loads(capsys.readouterr().out))

    st = status()
    (col,) = st["collections"]  # type: ignore[misc]
    assert col["vectors"] == col["chunks"] == st["chunks"] and col["problem"] is None
    assert st["dense"] == {"on": True, "collection": col["name"], "reason": None}
    assert st["lexical"] == {"chunks": st["chunks"], "problem": None}

    shutil.rmtree(corpus_index.data_dir / DENSE_DIR)
    st = status()
    assert st["dense"]["on"] is False  # type: ignore[index]
    assert "no vector snapshot" in st["dense"]["reason"]  # type: ignore[index]
    assert main(["status"]) == 0
    assert "dense:    off: " in capsys.readouterr().out

    assert main(["ingest", str(CORPUS)]) == 0
    capsys.readouterr()
    shutil.rmtree(corpus_index.chroma_path)
    (col,) = status()["collections"]  # type: ignore[misc]
    assert "changed since the snapshot" in col["problem"] and "missing" in col["problem"]

    npy = max(corpus_index.lexical_dir.glob("*.npy"), key=lambda p: p.stat().st_size)
    npy.write_bytes(npy.read_bytes()[:100])
    assert "damaged" in status()["lexical"]["problem"]  # type: ignore[index]
    assert main(["ingest", str(CORPUS)]) == 0
    assert "repaired: " in capsys.readouterr().err
    st = status()
    assert st["lexical"]["problem"] is None and st["dense"]["reason"] is None  # type: ignore[index]


def test_answering_without_dense_search_says_so_once(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--no-llm", "berapa GPU H100"]) == 0
    assert "dense search" not in capsys.readouterr().err
    shutil.rmtree(corpus_index.data_dir / DENSE_DIR)
    assert main(["ask", "--no-llm", "berapa GPU H100"]) == 0
    out, err = capsys.readouterr()
    assert "340.000" in out
    notes = [line for line in err.splitlines() if "without dense search" in line]
    assert len(notes) == 1 and "rag ingest" in notes[0], err


HOSTILE = (
    "Judul \x1b]0;pwned\x07 berbahaya\n\nMeta memiliki 340.000 GPU\x1b[2J H100 \u202e!kcatta\r."
)


def test_control_characters_are_escaped_in_cli_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "evil\x1b[31m.txt").write_text(HOSTILE, encoding="utf-8")
    assert main(["ingest", "-v", str(folder)]) == 0
    assert main(["status"]) == 0
    assert main(["ask", "--no-llm", "berapa GPU H100 \x1b[2J Meta"]) == 0
    assert main(["ask", "berapa GPU H100 Meta"]) == 0  # model-free fallback, with a note
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
        assert "\x07" not in text
    assert "\\x1b[2J" in out and "\\u202e" in out  # shown, visibly
    assert "\\x1b]0;pwned\\x07" in out  # the title, in `rag status`


def test_the_ui_shows_control_characters_as_escapes() -> None:
    from ui.render import esc

    shown = esc(HOSTILE)
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
    assert "\\x1b]0;pwned\\x07" in shown and "\\u202e" in shown and "\n" in shown


def test_status_of_a_down_chroma_server(
    corpus_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.status import collect_status
    from tests.fake_ollama import dead_ollama_url

    monkeypatch.setenv("RAG_CHROMA_URL", dead_ollama_url())
    st = collect_status(load_settings())
    (col,) = st["collections"]
    assert col["vectors"] is None and "Chroma server is down" in col["problem"]
    assert st["dense"]["on"] is False and "Chroma server is down" in st["dense"]["reason"]


def test_reset_waits_for_no_ingest(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from index.writer_lock import ingest_lock

    with ingest_lock(corpus_index.data_dir):  # an ingest is writing
        assert main(["reset", "--yes"]) == 1
        assert "another ingest is running on" in capsys.readouterr().err
        assert corpus_index.catalog_path.exists() and corpus_index.chroma_path.exists()
    assert main(["reset", "--yes"]) == 0
    assert not corpus_index.catalog_path.exists()
