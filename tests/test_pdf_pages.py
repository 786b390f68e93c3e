"""Page-exact PDF citations: the catalog keeps each PDF's page start offsets, and
`Catalog.page_of(doc_id, offset)` names the page of any offset (the page of a quoted
sentence, not of the chunk it sits in); a chunk's `page` stays the page it starts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import load_settings
from index.catalog import Catalog
from index.ingest import ingest
from tests.test_loaders import make_pdf


def test_page_of_names_the_page_of_any_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "48")  # chunks that span page breaks
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    pages = [
        "\n".join(f"Halaman {p} baris {i}: Meta memiliki {p * 100 + i} GPU." for i in range(7))
        for p in range(1, 6)
    ]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "laporan.pdf").write_bytes(make_pdf(pages))
    (folder / "catatan.txt").write_text("Tanpa halaman.\n", encoding="utf-8")
    settings = load_settings()
    ingest([str(folder)], settings, progress=False)
    catalog = Catalog(settings.catalog_path)
    try:
        docs = {Path(d.source).name: d for d in catalog.documents()}
        pdf = docs["laporan.pdf"]
        text = catalog.document_text(pdf.doc_id)
        for p in range(1, 6):
            for i in (0, 6):
                at = text.index(f"Halaman {p} baris {i}:")
                assert catalog.page_of(pdf.doc_id, at) == p
                assert catalog.page_of(pdf.doc_id, at + 12) == p
        spanning = 0
        for chunk in catalog.chunks_of(pdf.doc_id):
            assert chunk.page == catalog.page_of(pdf.doc_id, chunk.start)
            if catalog.page_of(pdf.doc_id, chunk.end - 1) != chunk.page:
                spanning += 1
        assert spanning >= 1  # the case this exists for
        assert catalog.page_of(pdf.doc_id, len(text)) is None
        assert catalog.page_of(pdf.doc_id, -1) is None
        assert catalog.page_of(docs["catatan.txt"].doc_id, 0) is None
        assert catalog.page_of("no-such-doc", 0) is None
    finally:
        catalog.close()


def test_a_quoted_sentence_carries_its_own_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk that starts on page 1 and quotes a sentence on page 2: the quote says p. 2."""
    from rag.answer import Answerer

    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "400")  # one chunk over both pages
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    pages = [
        "Laporan tahunan ini membahas pusat data perusahaan di beberapa negara.",
        "Perusahaan Quokka memiliki 340.000 GPU H100 pada akhir tahun.",
    ]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "laporan.pdf").write_bytes(make_pdf(pages))
    settings = load_settings()
    ingest([str(folder)], settings, progress=False)
    answer = Answerer(settings).ask("Berapa GPU H100 yang dimiliki Quokka?", no_llm=True)
    assert answer.mode == "extractive", answer.answer
    first = answer.quotes[0]
    assert "340.000" in first.text
    assert answer.passages[0].page == 1 and first.page == 2
