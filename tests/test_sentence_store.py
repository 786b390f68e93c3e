"""Sentence vectors kept between processes (rag/sentence_store.py): a later process (here a
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
from index.embedders import BundledEmbedder
from rag import sentence_store
from rag.sentence_store import SENTENCE_DB, SentenceVectorStore
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
    sim = SentenceSimilarity(store=SentenceVectorStore(bad))
    assert len(sim.vectors(embedder, TEXTS)) == 3 and embedder.seen == TEXTS
    assert bad.read_bytes().startswith(b"this is not a database")  # left as it was
    # a data dir that does not exist is not created for a cache
    gone = tmp_path / "nothing" / SENTENCE_DB
    store = SentenceVectorStore(gone)
    store.put("m", {"x": [1.0]})
    assert store.get("m", ["x"]) == {} and not gone.parent.exists()


def test_another_writer_holding_the_file_does_not_stall_a_question(tmp_path: Path) -> None:
    path = tmp_path / SENTENCE_DB
    SentenceVectorStore(path).put("counting-6", {"seed": [0.0] * 6})
    holder = sqlite3.connect(str(path))
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write, for longer than BUSY_MS
    try:
        embedder = CountingEmbedder()
        sim = SentenceSimilarity(store=SentenceVectorStore(path))
        assert len(sim.vectors(embedder, TEXTS)) == 3 and embedder.seen == TEXTS
    finally:
        holder.rollback()
        holder.close()


def test_the_store_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sentence_store, "MAX_ROWS", 5)
    store = SentenceVectorStore(tmp_path / SENTENCE_DB)
    for i in range(4):
        store.put("m", {f"s{i}-{j}": [float(j)] for j in range(3)})
    db = sqlite3.connect(str(tmp_path / SENTENCE_DB))
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] <= 5
    db.close()
    assert store.get("m", ["s3-2"]) == {"s3-2": [2.0]}  # the newest are kept
    assert store.get("m", ["s0-0"]) == {}


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
