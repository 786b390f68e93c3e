"""Documents of any size, one bad document among good ones, and self-repair: a document
over Chroma's batch limit indexes beside other files; a document whose embedding fails is
skipped with its reason while the rest is indexed; deleting `chroma/` or the vector
snapshot, or damaging the BM25 index, is repaired by the next ingest. After each, the
catalog, Chroma, the snapshot and BM25 hold exactly the same chunk ids.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings, load_settings
from index import dense_cache
from index.catalog import Catalog
from index.dense_cache import DENSE_DIR
from index.embedders import BuiltinEmbedder
from index.ingest import Ingestor, ingest
from index.lexical import LexicalIndex, lexical_problem
from index.vectors import VectorStore
from rag.cli import main
from rag.retrieve import Retriever
from tests.fake_ollama import FakeOllama

COLL = BuiltinEmbedder().collection_name


def full_state(settings: Settings) -> dict[str, int]:
    """Catalog, every Chroma collection, its snapshot and BM25 agree, and every stored
    vector reads back (finite, unit length, the right dimension). Returns
    {file name: chunks}."""
    catalog = Catalog(settings.catalog_path)
    try:
        docs = {Path(d.source).name: d.n_chunks for d in catalog.documents()}
        chunk_ids = catalog.all_chunk_ids()
        collections = [name for name, *_ in catalog.collections()]
        generation = catalog.generation
    finally:
        catalog.close()
    store = VectorStore(settings)
    try:
        for name in collections:
            col = store.named(name)
            assert col is not None, name
            stored: dict[str, np.ndarray] = {}
            for ids, rows in store.vectors(col):
                for i, row in zip(ids, rows, strict=True):
                    stored[i] = row
            assert set(stored) == chunk_ids, name
            snap = dense_cache.load(settings.data_dir / DENSE_DIR, name)
            assert snap is not None and set(snap.ids) == chunk_ids, name
            for i, cid in enumerate(snap.ids):
                row = np.asarray(snap.vectors[i])
                assert np.isfinite(row).all() and abs(float(np.linalg.norm(row)) - 1.0) < 1e-3
                want = stored[cid] / np.linalg.norm(stored[cid])
                assert float(row @ want) > 0.999, cid
    finally:
        store.close()
    lexical = LexicalIndex.load(settings.lexical_dir)
    assert lexical is not None and set(lexical.ids) == chunk_ids
    assert lexical_problem(settings.lexical_dir, generation) is None
    return docs


def _big_text(sentences: int) -> str:
    return "\n".join(
        f"Kalimat nomor {i} menyebut kode unik zq{i:06d}x dan angka {i * 7}."
        for i in range(sentences)
    )


def _small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Builtin embedder, 32-token chunks: many chunks from little text. Returns an empty
    folder for the test's documents."""
    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "32")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


@pytest.mark.timeout(300)
def test_a_document_over_the_batch_limit_indexes_beside_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _small_chunks(tmp_path, monkeypatch)
    (folder / "a-small.txt").write_text("Quokka berlari di pulau Rottnest.\n", encoding="utf-8")
    (folder / "big.txt").write_text(_big_text(6200), encoding="utf-8")
    (folder / "z-small.txt").write_text("Okapi tinggal di hutan Ituri.\n", encoding="utf-8")
    settings = load_settings()
    store = VectorStore(settings)
    limit = store.max_batch()
    store.close()
    report = ingest([str(folder)], settings, progress=False)
    assert sorted(Path(s).name for s in report.added) == ["a-small.txt", "big.txt", "z-small.txt"]
    state = full_state(settings)
    assert state["big.txt"] > limit, (state, limit)  # one document, more than one write
    r = Retriever(settings)
    for query, name in (("zq006150x", "big.txt"), ("okapi Ituri", "z-small.txt")):
        assert Path(r.search([query], k=1).passages[0].source).name == name
    r.close()
    again = ingest([str(folder)], settings, progress=False)
    assert len(again.unchanged) == 3 and again.chunks == 0 and not again.repaired


def test_one_document_failing_to_embed_is_skipped_and_the_rest_goes_on(
    with_ollama: FakeOllama,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "ollama")
    (corpus_copy / "poison.txt").write_text(
        "Dokumen ini memuat kata POISONWORD yang membuat model gagal.\n", encoding="utf-8"
    )
    with_ollama.fail("/api/embed", "500", message="input is too long", when="POISONWORD")
    assert main(["ingest", str(corpus_copy)]) == 0
    out, err = capsys.readouterr()
    assert "added 5" in out and "skipped 1" in out
    assert (
        f"skipped: {corpus_copy / 'poison.txt'}: not indexed: embedding failed (Ollama at "
        f"{with_ollama.url} answered HTTP 500: input is too long)"
    ) in err
    settings = load_settings()
    assert "poison.txt" not in full_state(settings)
    with_ollama.clear_faults()
    assert main(["ingest", str(corpus_copy)]) == 0
    out, _err = capsys.readouterr()
    assert "added 1" in out and "unchanged 5" in out
    assert len(full_state(settings)) == 6


def test_deleted_chroma_is_rebuilt_by_the_next_ingest(corpus_index: Settings) -> None:
    before = full_state(corpus_index)
    shutil.rmtree(corpus_index.chroma_path)
    report = ingest(["corpus"], corpus_index, progress=False)
    assert len(report.reembedded) == 5 and report.chunks == sum(before.values())
    assert any("lacked vectors" in line for line in report.repaired)
    assert full_state(corpus_index) == before
    quiet = ingest(["corpus"], corpus_index, progress=False)
    assert quiet.chunks == 0 and not quiet.repaired and len(quiet.unchanged) == 5


def test_deleted_or_damaged_snapshot_is_rebuilt_without_embedding(
    corpus_index: Settings,
) -> None:
    before = full_state(corpus_index)
    folder = corpus_index.data_dir / DENSE_DIR
    shutil.rmtree(folder)
    r = Retriever(corpus_index)
    retrieval = r.search(["Jensen Huang"], k=3)
    assert retrieval.passages  # BM25 still answers ...
    assert any("no vector snapshot" in n for n in retrieval.notes)  # ... and says why
    report = ingest(["corpus"], corpus_index, progress=False)
    assert report.chunks == 0 and any("snapshot" in line for line in report.repaired)
    assert full_state(corpus_index) == before
    assert not r.search(["Jensen Huang"], k=3).notes
    path = dense_cache.path_of(folder, COLL)
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    assert dense_cache.load(folder, COLL) is None
    report = ingest(["corpus"], corpus_index, progress=False)
    assert report.chunks == 0 and report.repaired
    assert full_state(corpus_index) == before


def test_damaged_bm25_is_rebuilt_by_the_next_ingest(corpus_index: Settings) -> None:
    before = full_state(corpus_index)
    victim = max(corpus_index.lexical_dir.glob("*.npy"), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    catalog = Catalog(corpus_index.catalog_path)
    generation = catalog.generation
    catalog.close()
    assert "damaged" in (lexical_problem(corpus_index.lexical_dir, generation) or "")
    report = ingest(["corpus"], corpus_index, progress=False)
    assert report.chunks == 0 and len(report.unchanged) == 5
    assert full_state(corpus_index) == before


def test_progress_reaches_the_callback_with_rate_and_eta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.report import Progress

    folder = _small_chunks(tmp_path, monkeypatch)
    for i in range(4):
        (folder / f"d{i}.txt").write_text(_big_text(300 + i), encoding="utf-8")
    seen: list[Progress] = []
    report = Ingestor(load_settings(), progress=False, on_progress=seen.append).run([str(folder)])
    assert seen and seen[-1].done == report.chunks == seen[-1].total
    assert all(p.rate > 0 for p in seen)
    assert "chunks/s" in seen[0].line()


def test_snapshot_files_round_trip(tmp_path: Path) -> None:
    """Ids of any length (the JSON header is not a multiple of 4 bytes), an empty
    snapshot, and a writer that adds, removes and re-adds before publishing."""
    rng = np.random.default_rng(7)
    writer = dense_cache.SnapshotWriter.open(tmp_path, "c")
    rows = rng.normal(size=(5, 3)).astype(np.float32)
    writer.add(["a", "bb", "ccc", "dddd", "e"], rows)
    writer.remove(["bb"])
    writer.add(["bb"], rows[4:5])
    assert writer.publish(3, [1, 2]) == 5
    snap = dense_cache.load(tmp_path, "c")
    assert snap is not None and snap.generation == 3 and snap.stamp == [1, 2]
    assert sorted(snap.ids) == ["a", "bb", "ccc", "dddd", "e"]
    got = dict(zip(snap.ids, np.asarray(snap.vectors), strict=True))
    assert np.allclose(got["bb"], rows[4] / np.linalg.norm(rows[4]), atol=1e-6)
    writer.remove(["a", "e"])
    assert writer.publish(4, None) == 3
    writer.close()
    assert sorted(dense_cache.load(tmp_path, "c").ids) == ["bb", "ccc", "dddd"]  # type: ignore[union-attr]
    assert not list(tmp_path.glob("*.spool")) and not list(tmp_path.glob("*.tmp"))
    empty = dense_cache.SnapshotWriter.open(tmp_path, "empty")
    empty.publish(1, None)
    loaded = dense_cache.load(tmp_path, "empty")
    assert loaded is not None and loaded.ids == [] and loaded.search([1.0, 0.0], 3) == []


def test_a_long_text_is_chunked_by_blocks_with_lexical_tokens_computed_when_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.prepare
    from index.lexical import tokenize

    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")  # so chunks tile the text exactly
    monkeypatch.setattr(index.prepare, "BLOCK_CHARS", 20_000)  # a small "large" text
    folder = tmp_path / "docs"
    folder.mkdir()
    text = _big_text(2000)  # about 130,000 characters: seven blocks
    (folder / "long.txt").write_text(text, encoding="utf-8")
    settings = load_settings()
    ingest([str(folder)], settings, progress=False)
    catalog = Catalog(settings.catalog_path)
    try:
        (doc,) = catalog.documents()
        stored = catalog.document_text(doc.doc_id)
        chunks = catalog.chunks_of(doc.doc_id)
    finally:
        catalog.close()
    assert stored == text
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    covered = 0
    for c in chunks:
        assert covered <= c.start < c.end <= len(text)  # in order, inside the text
        assert stored[covered : c.start].strip() == ""  # nothing but space skipped
        covered = c.end
        assert c.lex == " ".join(tokenize(stored[c.start : c.end]))
        assert 0 < c.n_tokens <= settings.chunk_size
    assert stored[covered:].strip() == ""
    assert full_state(settings)["long.txt"] == len(chunks)


def test_the_last_publish_records_the_store_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots published during a long ingest carry no stamp (the store is open); the
    last one must, or every later ingest would open Chroma to count."""
    import index.store_writer

    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "32")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    monkeypatch.setattr(index.store_writer, "PUBLISH_EVERY", 0.0)  # publish after every round
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(_big_text(1500), encoding="utf-8")
    settings = load_settings()
    ingest([str(folder)], settings, progress=False)
    header = dense_cache.read_header(settings.data_dir / DENSE_DIR, COLL)
    assert header is not None and header["stamp"] == VectorStore(settings).stamp() is not None
