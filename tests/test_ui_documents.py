"""ui/documents.py: uploads land only in <data_dir>/uploads under a safe name, type and
size limits give clear reasons, ingest progress streams, delete removes a document."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from core.errors import RagError
from core.settings import Settings, load_settings
from index.catalog import Catalog
from tests.fake_ollama import FakeOllama
from ui.documents import (
    MAX_NAME_CHARS,
    delete_document,
    ingest_with_progress,
    list_documents,
    sanitize_filename,
    save_uploads,
    uploads_dir,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.md", "report.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        ("/abs/path/notes.html", "notes.html"),
        (".bashrc.md", "bashrc.md"),
        ("..", "upload"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("na<me>|?*:.pdf", "na_me_____.pdf"),
        ("Laporan Tahunan 2024 (final).docx", "Laporan Tahunan 2024 (final).docx"),
        ("报告.txt", "报告.txt"),
    ],
)
def test_sanitize_filename(raw: str, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_sanitize_keeps_long_names_bounded_with_their_suffix() -> None:
    name = sanitize_filename("x" * 500 + ".md")
    assert len(name) <= MAX_NAME_CHARS and name.endswith(".md")


def _tmp_upload(tmp_path: Path, name: str, data: bytes) -> tuple[str, Path]:
    folder = tmp_path / "browser-cache"
    folder.mkdir(exist_ok=True)
    path = folder / "blob"
    path.write_bytes(data)
    renamed = folder / f"blob-{len(list(folder.iterdir()))}"
    path.rename(renamed)
    return name, renamed


def test_save_uploads_writes_only_inside_the_upload_folder(
    settings: Settings, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    target_dir = uploads_dir(settings)
    target_dir.mkdir(parents=True)
    (target_dir / "planted.txt").symlink_to(outside)  # a symlink planted at the target
    result = save_uploads(
        [
            _tmp_upload(tmp_path, "../../outside.txt", b"attack 1"),
            _tmp_upload(tmp_path, "planted.txt", b"attack 2"),
            _tmp_upload(tmp_path, "notes.md", b"# Notes\nhello"),
        ],
        settings,
    )
    assert result.rejected == []
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in result.saved) == ["notes.md", "outside.txt", "planted.txt"]
    for path in result.saved:
        assert path.parent == target_dir.resolve()
        assert not path.is_symlink()
    assert (target_dir / "planted.txt").read_bytes() == b"attack 2"
    assert sorted(os.listdir(target_dir)) == ["notes.md", "outside.txt", "planted.txt"]


def test_save_uploads_rejects_type_size_and_empty_with_reasons(
    settings: Settings, tmp_path: Path
) -> None:
    result = save_uploads(
        [
            _tmp_upload(tmp_path, "tool.exe", b"MZ..."),
            _tmp_upload(tmp_path, "noext", b"abc"),
            _tmp_upload(tmp_path, "big.txt", b"x" * 2048),
            _tmp_upload(tmp_path, "empty.md", b""),
            _tmp_upload(tmp_path, "ok.txt", b"fine"),
        ],
        settings,
        max_bytes=1024,
    )
    reasons = dict(result.rejected)
    assert reasons["tool.exe"].startswith("unsupported file type .exe; allowed: ")
    assert ".pdf" in reasons["tool.exe"] and ".docx" in reasons["tool.exe"]
    assert reasons["noext"].startswith("unsupported file type (none)")
    assert reasons["big.txt"] == "2.0 KB is over the 1.0 KB limit (RAG_MAX_FILE_MB)"
    assert reasons["empty.md"] == "the file is empty"
    assert [p.name for p in result.saved] == ["ok.txt"]


def test_upload_ingest_list_and_delete(corpus_index: Settings, tmp_path: Path) -> None:
    saved = save_uploads(
        [
            _tmp_upload(tmp_path, "zorblax.md", b"# Zorblax\n\nThe Zorblax reactor makes 42 GW."),
            _tmp_upload(tmp_path, "broken.pdf", b"not a pdf at all"),
        ],
        corpus_index,
    )
    events = list(ingest_with_progress(corpus_index, saved.saved))
    lines = [line for line, report in events if line]
    report = events[-1][1]
    assert report is not None
    assert len(report.added) == 1 and report.added[0].endswith("zorblax.md")
    assert any(line.startswith("added:") and "zorblax.md" in line for line in lines)
    assert [Path(s).name for s, _ in report.skipped] == ["broken.pdf"]

    docs = {Path(d.source).name: d for d in list_documents(corpus_index)}
    assert len(docs) == 6
    zorblax = docs["zorblax.md"]
    assert zorblax.n_chunks >= 1 and zorblax.lang

    message = delete_document(corpus_index, zorblax.doc_id)
    assert "from the index and the upload folder" in message
    assert not (uploads_dir(corpus_index) / "zorblax.md").exists()
    assert "zorblax.md" not in {Path(d.source).name for d in list_documents(corpus_index)}

    corpus_doc = next(iter(docs.values()))
    if corpus_doc.doc_id == zorblax.doc_id:
        corpus_doc = list(docs.values())[1]
    message = delete_document(corpus_index, corpus_doc.doc_id)
    assert "the file itself was not touched" in message
    assert Path(corpus_doc.path).exists()
    catalog = Catalog(corpus_index.catalog_path)
    assert catalog.counts()[0] == 4
    catalog.close()
    with pytest.raises(RagError, match="no longer in the index"):
        delete_document(corpus_index, corpus_doc.doc_id)


def test_a_slow_ingest_shows_it_is_still_working(
    with_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ui.app import App

    monkeypatch.setenv("RAG_EMBEDDER", "ollama")
    with_ollama.fail("/api/embed", "slow", seconds=1.6, times=1)
    app = App(load_settings())
    doc = tmp_path / "cache" / "slow notes.txt"
    doc.parent.mkdir()
    doc.write_text("Embedding this takes a while on a slow Ollama.\n", encoding="utf-8")
    logs = [step[0] for step in app.upload([str(doc)])]
    assert any(re.search(r"indexing 1 file\(s\)… [1-9]\d* s</li>", log) for log in logs), logs
    assert "added: " in logs[-1] and "ingest-log done" in logs[-1]
    assert [d.title for d in list_documents(load_settings())] == [
        "Embedding this takes a while on a slow Ollama."
    ]


def test_the_upload_log_names_the_file_only_with_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAG_DATA_DIR=.rag (as `make run` has it): the log said "added: /home/me/app/notes.md",
    a path that does not exist (the relative upload folder was taken out of the absolute
    one)."""
    from core.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_DATA_DIR", ".rag")
    settings = load_settings()
    upload = _tmp_upload(tmp_path, "notes.md", b"# Notes\n\nZorblax 42 GW.")
    saved = save_uploads([upload], settings)
    # (given by their absolute paths: with the folders taken out in a set's order, which
    # changes with each process's string hashing, this failed about every other run)
    paths = [p.resolve() for p in saved.saved]
    lines = [line for line, _report in ingest_with_progress(settings, paths) if line]
    added = [line for line in lines if line.startswith("added:")]
    assert added and all(line.startswith("added: notes.md") for line in added), lines
    assert not any(str(tmp_path) in line for line in lines), lines
