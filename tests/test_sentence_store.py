"""Sentence vectors kept between processes (index/sentence_store.py): a later process (here a
new SentenceSimilarity or Retriever on the same data dir) embeds only sentences no earlier
one did, gets the very same vectors, and a damaged, missing or locked file only means
embedding again."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from index import sentence_store
from index.embedders import BundledEmbedder
from index.sentence_store import SENTENCE_DB, SentenceVectorStore
from rag.sentences import SentenceSimilarity
from tests.test_sentences import CountingEmbedder

TEXTS = ["aaaa eeee iiii.", "oooo uuuu nnnn.", "aaaa aaaa oooo."]


def test_a_later_process_embeds_only_what_no_earlier_one_did(tmp_path: Path) -> None:
    first, later = CountingEmbedder(), CountingEmbedder()
    got = SentenceSimilarity(store=SentenceVectorStore(tmp_path / SENTENCE_DB)).vectors(
        first, TEXTS[:2]
    )
    assert first.seen == TEXTS[:2]
    again = SentenceSimilarity(store=SentenceVectorStore(tmp_path / SENTENCE_DB))
    # stored as float32, the precision similarity is computed in: the same numbers
    assert np.array_equal(
        np.asarray(again.vectors(later, TEXTS)[:2], np.float32), np.asarray(got, np.float32)
    )
    assert later.seen == TEXTS[2:]  # only the new sentence was embedded
    # another model never gets this model's vectors
    other = CountingEmbedder()
    other.model = "another"
    SentenceSimilarity(store=SentenceVectorStore(tmp_path / SENTENCE_DB)).vectors(other, TEXTS)
    assert other.seen == TEXTS


def test_a_damaged_or_unwritable_store_only_means_embedding_again(tmp_path: Path) -> None:
    bad = tmp_path / SENTENCE_DB
    bad.write_bytes(b"this is not a database" * 100)
    embedder = CountingEmbedder()
    store = SentenceVectorStore(bad)
    sim = SentenceSimilarity(store=store)
    assert len(sim.vectors(embedder, TEXTS)) == 3 and embedder.seen == TEXTS
    assert bad.read_bytes().startswith(b"this is not a database")  # left as it was
    # once the file is replaced (`rag reset`, an ingest clearing it), the store works again
    bad.unlink()
    store.put("m", {"x": [1.0, 2.0]})
    assert store.get("m", ["x"], 2) == {"x": [1.0, 2.0]}
    # a data dir that does not exist is not created for a cache
    gone = tmp_path / "nothing" / SENTENCE_DB
    store = SentenceVectorStore(gone)
    store.put("m", {"x": [1.0]})
    assert store.get("m", ["x"], 1) == {} and not gone.parent.exists()


def test_a_damaged_or_foreign_entry_is_embedded_again(tmp_path: Path) -> None:
    path = tmp_path / SENTENCE_DB
    embedder = CountingEmbedder()
    SentenceSimilarity(store=SentenceVectorStore(path)).vectors(embedder, TEXTS)
    db = sqlite3.connect(str(path))
    db.execute("UPDATE vectors SET vector = x'00000000' WHERE rowid = 1")  # one number
    db.execute("UPDATE vectors SET vector = 'text' WHERE rowid = 2")  # not even bytes
    db.commit()
    db.close()
    later = CountingEmbedder()
    got = SentenceSimilarity(store=SentenceVectorStore(path)).vectors(later, TEXTS)
    assert later.seen == TEXTS[:2]  # the two bad entries, not the good third
    assert all(len(v) == len(CountingEmbedder.ALPHABET) for v in got)


def test_another_writer_holding_the_file_skips_the_store_only_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / SENTENCE_DB
    store = SentenceVectorStore(path)
    store.put("m", {"seed": [0.5]})
    holder = sqlite3.connect(str(path))
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write, for longer than BUSY_MS
    try:
        store.put("m", {"busy": [1.5]})  # skipped, no error
    finally:
        holder.rollback()
        holder.close()
    store.put("m", {"after": [2.5]})  # the store is still on
    assert store.get("m", ["seed", "busy", "after"], 1) == {"seed": [0.5], "after": [2.5]}


def test_the_store_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sentence_store, "MAX_BYTES", 5 * 4)
    monkeypatch.setattr(sentence_store, "MIN_ROWS", 5)
    store = SentenceVectorStore(tmp_path / SENTENCE_DB)
    for i in range(4):
        store.put("m", {f"s{i}-{j}": [float(j)] for j in range(3)})
    db = sqlite3.connect(str(tmp_path / SENTENCE_DB))
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] <= 5
    db.close()
    assert store.get("m", ["s3-2"], 1) == {"s3-2": [2.0]}  # the newest are kept
    assert store.get("m", ["s0-0"], 1) == {}


def test_a_second_retriever_on_the_same_data_dir_reuses_the_sentence_vectors(
    bundled_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.retrieve import Retriever

    embedded: list[str] = []
    original = BundledEmbedder.embed_batch

    def counting(self: BundledEmbedder, texts: Sequence[str]) -> list[list[float]]:
        embedded.extend(texts)  # observe the real model's calls, results untouched
        return original(self, texts)

    monkeypatch.setattr(BundledEmbedder, "embed_batch", counting)
    question = "how many H100s does Meta plan to have"
    first = Retriever(bundled_index)
    got = first.search([question])
    first_signals = dict(got.sentence_signals())
    first.close()
    assert len(embedded) > 10 and (bundled_index.data_dir / SENTENCE_DB).is_file()

    embedded.clear()
    later = Retriever(bundled_index)  # a new `rag ask`: an empty memory cache
    again = later.search([question])
    assert [p.chunk_id for p in again.passages] == [p.chunk_id for p in got.passages]
    assert dict(again.sentence_signals()) == first_signals
    later.close()
    # passages are no longer embedded at query time; only the question's own vector is
    assert len(embedded) <= 1, embedded


def test_reset_deletes_the_sentence_store(
    bundled_index: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main
    from rag.retrieve import Retriever

    retriever = Retriever(bundled_index)
    retriever.search(["Who is the CEO of Apple?"])
    retriever.close()
    assert (bundled_index.data_dir / SENTENCE_DB).is_file()
    assert main(["reset", "--yes"]) == 0
    capsys.readouterr()
    assert not any(p.name.startswith(SENTENCE_DB) for p in bundled_index.data_dir.iterdir())


def test_removing_or_changing_a_document_empties_the_store(
    corpus_copy: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import load_settings
    from index.ingest import Ingestor

    monkeypatch.setenv("RAG_EMBEDDER", "builtin")
    settings = load_settings(data_dir=data_dir)
    Ingestor(settings, progress=False).run([str(corpus_copy)])

    def stored() -> int:
        db = sqlite3.connect(str(data_dir / SENTENCE_DB))
        try:
            return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])
        finally:
            db.close()

    reader = SentenceVectorStore(data_dir / SENTENCE_DB)  # a `rag serve` beside the ingest
    reader.put("m", {"Meta akan memiliki 340.000 GPU.": [1.0]})
    Ingestor(settings, progress=False).run([str(corpus_copy)])  # nothing changed
    assert stored() == 1
    doc = next(corpus_copy.glob("*.txt"))
    doc.write_text(doc.read_text(encoding="utf-8") + "\nSatu kalimat baru.", encoding="utf-8")
    Ingestor(settings, progress=False).run([str(corpus_copy)])  # one document changed
    assert stored() == 0
    reader.put("m", {"again": [2.0]})  # the reader goes on with the emptied file
    assert reader.get("m", ["again"], 1) == {"again": [2.0]}
    Ingestor(settings, progress=False).remove([str(doc)])
    assert stored() == 0
