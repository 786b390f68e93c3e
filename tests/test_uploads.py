"""Uploads never replace silently: a second, different file with an existing name is
stored beside it (`laporan (2).txt`), two same-name files in one upload are both kept,
an upload the ingest skipped is removed from `uploads/`, Gradio's cached copy of an upload
is removed once stored and when its document is deleted, and the upload log shows the
embedding progress (chunks, chunks/s, time left)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from ui.documents import (
    delete_document,
    forget_cached,
    gradio_cache_dir,
    list_documents,
    save_uploads,
    uploads_dir,
)


def _cached(settings: Settings, folder: str, name: str, data: bytes) -> Path:
    """A file as Gradio leaves it in its cache: a folder of its own per upload."""
    path = gradio_cache_dir(settings) / folder / name
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def app_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    return load_settings()


def test_same_name_uploads_are_kept_side_by_side(app_settings: Settings) -> None:
    from ui.app import App

    app = App(app_settings)
    first = _cached(app_settings, "a1", "laporan.txt", b"Laporan pertama: Quokka 2031.\n")
    logs = [step[0] for step in app.upload([str(first)])]
    assert "added: " in logs[-1]
    second = _cached(app_settings, "b2", "laporan.txt", b"Laporan kedua: Okapi 2032.\n")
    third = _cached(app_settings, "c3", "laporan.txt", b"Laporan ketiga: Dugong 2033.\n")
    logs = [step[0] for step in app.upload([str(second), str(third)])]
    assert "stored as laporan (2).txt" in logs[-1] and "stored as laporan (3).txt" in logs[-1]
    stored = sorted(p.name for p in uploads_dir(app_settings).iterdir())
    assert stored == ["laporan (2).txt", "laporan (3).txt", "laporan.txt"]
    texts = {Path(d.path).name: d.title for d in list_documents(app_settings)}
    assert texts == {
        "laporan.txt": "Laporan pertama: Quokka 2031.",
        "laporan (2).txt": "Laporan kedua: Okapi 2032.",
        "laporan (3).txt": "Laporan ketiga: Dugong 2033.",
    }
    # Gradio's cached copies are gone once stored
    assert not [p for p in gradio_cache_dir(app_settings).rglob("*") if p.is_file()]
    # the very same file again is the same document, not a fourth copy
    again = _cached(app_settings, "d4", "laporan.txt", b"Laporan pertama: Quokka 2031.\n")
    assert "unchanged 1" in [step[0] for step in app.upload([str(again)])][-1]
    assert len(list_documents(app_settings)) == 3


def test_a_skipped_upload_is_removed_from_the_upload_folder(app_settings: Settings) -> None:
    from ui.app import App

    bad = _cached(app_settings, "x1", "rusak.pdf", b"%PDF-1.4 this is not really a pdf")
    good = _cached(app_settings, "x2", "baik.md", b"# Baik\n\nDokumen yang baik.\n")
    logs = [step[0] for step in App(app_settings).upload([str(bad), str(good)])]
    assert "skipped rusak.pdf" in logs[-1]
    assert "removed rusak.pdf from the upload folder" in logs[-1]
    assert sorted(p.name for p in uploads_dir(app_settings).iterdir()) == ["baik.md"]


def test_the_upload_log_shows_progress(
    app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.app import App

    monkeypatch.setenv("RAG_CHUNK_SIZE", "32")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    body = "\n".join(f"Kalimat {i} tentang GPU H100 nomor {i * 3}." for i in range(3000))
    doc = _cached(app_settings, "p1", "panjang.txt", body.encode("utf-8"))
    logs = [step[0] for step in App(load_settings()).upload([str(doc)])]
    progress = [log for log in logs if "chunks/s" in log]
    assert progress, logs[-1]
    assert progress[-1].count("chunks/s") == 1  # one line, updated in place


def test_deleting_a_document_removes_its_cached_copy(app_settings: Settings) -> None:
    data = b"Zorblax reactor makes 42 GW.\n"
    cached = _cached(app_settings, "z1", "zorblax.txt", data)
    saved = save_uploads([("zorblax.txt", cached)], app_settings)
    from ui.documents import ingest_paths

    ingest_paths(app_settings, saved.saved)
    stale = _cached(app_settings, "z2", "zorblax-copy.txt", data)  # still in Gradio's cache
    other = _cached(app_settings, "z3", "other.txt", b"something else\n")
    (doc,) = list_documents(app_settings)
    delete_document(app_settings, doc.doc_id)
    assert not cached.exists() and not stale.exists() and not stale.parent.exists()
    assert other.exists()
    outside = Path(app_settings.data_dir).parent / "mine.txt"
    outside.write_bytes(data)
    assert forget_cached(app_settings, [outside]) == 0 and outside.exists()
