"""Ingestor.remove: forgetting one document takes it out of the catalog, every vector
collection and the lexical index, and leaves the others (and the files) alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from index.catalog import Catalog
from index.ingest import Ingestor
from index.lexical import LexicalIndex
from tests.index_state import vector_ids


def _state(settings: Settings) -> tuple[list[str], set[str], set[str]]:
    catalog = Catalog(settings.catalog_path)
    try:
        sources = [d.source for d in catalog.documents()]
        names = [name for name, *_ in catalog.collections()]
    finally:
        catalog.close()
    lexical = LexicalIndex.load(settings.lexical_dir)
    assert lexical is not None
    return sources, vector_ids(settings, names), set(lexical.ids)


def test_remove_by_doc_id_source_and_path(corpus_index: Settings) -> None:
    catalog = Catalog(corpus_index.catalog_path)
    docs = catalog.documents()
    catalog.close()
    assert len(docs) == 5
    zh = next(d for d in docs if d.source.endswith(".zh.txt"))
    a16z = next(d for d in docs if "a16z" in d.source)

    report = Ingestor(corpus_index, progress=False).remove([zh.doc_id, "no/such/doc.txt"])
    assert report.removed == [zh.source]
    assert report.skipped == [("no/such/doc.txt", "not in the index")]
    sources, vector_ids, lexical_ids = _state(corpus_index)
    assert zh.source not in sources and len(sources) == 4
    assert not any(i.startswith(zh.doc_id) for i in vector_ids)
    assert not any(i.startswith(zh.doc_id) for i in lexical_ids)
    assert any(i.startswith(a16z.doc_id) for i in vector_ids)  # the others stay
    assert vector_ids == lexical_ids  # no orphans either way
    assert Path(zh.path).exists()  # the file itself is not touched

    report = Ingestor(corpus_index, progress=False).remove([a16z.path])
    assert report.removed == [a16z.source]
    sources, vector_ids, lexical_ids = _state(corpus_index)
    assert len(sources) == 3 and vector_ids == lexical_ids
    assert not any(i.startswith(a16z.doc_id) for i in lexical_ids)


def test_removed_document_comes_back_on_the_next_ingest(corpus_index: Settings) -> None:
    catalog = Catalog(corpus_index.catalog_path)
    doc = catalog.documents()[0]
    catalog.close()
    Ingestor(corpus_index, progress=False).remove([doc.source])
    report = Ingestor(corpus_index, progress=False).run([doc.path])
    assert len(report.added) == 1
    sources, vector_ids, lexical_ids = _state(corpus_index)
    assert len(sources) == 5 and vector_ids == lexical_ids


def test_an_unchanged_ingest_after_a_remove_leaves_the_snapshot_in_step(
    corpus_index: Settings, tmp_path: Path
) -> None:
    """`rag ingest f; rag remove f; rag ingest corpus` (nothing to do): the last run opens
    the store to sweep it, which writes to its file; the vector snapshot must take the
    store's new stamp, or status reported "the Chroma store changed since the snapshot
    was taken" until the ingest after next."""
    from rag.status import collect_status

    note = tmp_path / "falcon.txt"
    note.write_text("Project Falcon launched on 14 March 2023.\n", encoding="utf-8")
    Ingestor(corpus_index, progress=False).run([str(note)])
    Ingestor(corpus_index, progress=False).remove([str(note)])
    catalog = Catalog(corpus_index.catalog_path)
    corpus = str(Path(catalog.documents()[0].path).parent)
    catalog.close()
    report = Ingestor(corpus_index, progress=False).run([corpus])
    assert report.added == [] and len(report.unchanged) == 5
    (collection,) = collect_status(corpus_index)["collections"]
    assert collection["problem"] is None, collection
    assert collection["vectors"] == collection["chunks"]


def test_rag_remove_forgets_documents_named_by_path_or_file_name(
    corpus_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rag remove` does what the UI's delete does: the files stay, an unknown name is
    one line on stderr (status 1) and the rest is still removed."""
    from rag.cli import main

    catalog = Catalog(corpus_index.catalog_path)
    docs = catalog.documents()
    catalog.close()
    zh = next(d for d in docs if d.source.endswith(".zh.txt"))
    a16z = next(d for d in docs if "a16z" in d.source)
    code = main(["remove", Path(zh.source).name, "no-such.txt", a16z.path])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip() == "skipped: no-such.txt: not in the index"
    assert out.splitlines() == [f"removed: {zh.source}", f"removed: {a16z.source}"]
    sources, vector_ids, lexical_ids = _state(corpus_index)
    assert len(sources) == 3 and zh.source not in sources and a16z.source not in sources
    assert vector_ids == lexical_ids
    assert Path(zh.path).exists() and Path(a16z.path).exists()
    assert main(["remove", Path(zh.source).name]) == 1  # gone already: said so


def test_rag_remove_deletes_an_uploaded_copy(
    corpus_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    corpus_index.uploads_dir.mkdir(parents=True)
    upload = corpus_index.uploads_dir / "notes.txt"
    upload.write_text("Budi chose the secret code ALPHA for the launch.\n", encoding="utf-8")
    Ingestor(corpus_index, progress=False).run([str(upload)])
    assert main(["remove", "notes.txt"]) == 0
    assert "(and its uploaded copy)" in capsys.readouterr().out
    assert not upload.exists()
    sources, _, _ = _state(corpus_index)
    assert len(sources) == 5 and not any(s.endswith("notes.txt") for s in sources)


def test_rag_remove_takes_a_folder_for_every_file_under_it(
    corpus_index: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    catalog = Catalog(corpus_index.catalog_path)
    folder = Path(catalog.documents()[0].path).parent
    catalog.close()
    assert main(["remove", str(folder)]) == 0
    assert capsys.readouterr().out.count("removed: ") == 5
    sources, vector_ids, lexical_ids = _state(corpus_index)
    assert sources == [] and vector_ids == lexical_ids == set()
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    assert main(["remove", str(empty)]) == 1
    assert "a folder holding no indexed file" in capsys.readouterr().err
