"""Hybrid retrieval over the ingested corpus (builtin embedder, no model)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import QuestionError, StoreError
from core.settings import Settings, load_settings
from index.tokens import count_tokens
from rag.answer import Answerer
from rag.retrieve import MAX_QUERY_CHARS, Retriever, normalize_query, query_terms, rrf
from rag.schema import Passage
from tests.threads import run_in_threads

H100_QUESTION = "how many H100s does Meta plan to have"
ID_SENTENCE = "Metal akan memiliki lebih dari 340.000 GPU Nvidia H100"
ZH_SENTENCE = "Meta将拥有超过340,000个Nvidia的H100 GPU"


def _doc_text(p: Passage) -> str:
    return Path(p.source).read_text(encoding="utf-8-sig")


def test_h100_question_finds_the_indonesian_and_the_chinese_sentence(
    corpus_index: Settings,
) -> None:
    passages = Retriever(corpus_index).search([H100_QUESTION], k=5).passages
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    texts = [p.text for p in passages]
    assert any(ID_SENTENCE in t for t in texts[:3]), texts
    assert any(ZH_SENTENCE in t for t in texts[:3]), texts
    for p in passages:  # citations are exact spans of the document's text
        assert _doc_text(p)[p.start : p.end] == p.text


@pytest.mark.parametrize("query", ["340 000 GPU", "340 ribu GPU", "34万 GPU", "340,000 H100s"])
def test_numbers_match_across_formats(corpus_index: Settings, query: str) -> None:
    passages = Retriever(corpus_index).search([query], k=3, dense=False).passages
    assert any(ID_SENTENCE in p.text or ZH_SENTENCE in p.text for p in passages), query


def test_query_normalisation() -> None:
    assert query_terms("How many H100s? 340.000 and 34万") == ["h100", "340000"]
    long = "word " * 50_000
    assert len(normalize_query(long)) <= MAX_QUERY_CHARS


def test_rrf_rewards_agreement_between_lists() -> None:
    fused = rrf([(1.0, [("a", 9.0), ("b", 8.0)]), (1.0, [("c", 0.9), ("b", 0.8)])])
    assert [cid for cid, _ in fused] == ["b", "a", "c"]
    weighted = rrf([(1.0, [("a", 1.0)]), (0.2, [("c", 1.0)])])
    assert [cid for cid, _ in weighted] == ["a", "c"]


def test_top_k_and_token_budget(corpus_index: Settings) -> None:
    r = Retriever(corpus_index)
    assert len(r.search([H100_QUESTION], k=3).passages) == 3
    small = r.search([H100_QUESTION], k=10, budget=600).passages
    assert 1 <= len(small) < 10
    assert sum(count_tokens(p.text) for p in small) <= 600
    # at least one passage even when it alone is over budget
    assert len(r.search([H100_QUESTION], k=10, budget=1).passages) == 1


def test_overlapping_chunks_are_deduplicated(corpus_index: Settings) -> None:
    r = Retriever(corpus_index)
    for query in (H100_QUESTION, "Zuckerberg Llama open source", "Jensen Huang jaket kulit"):
        passages = r.search([query], k=20, budget=100_000).passages
        spans: dict[str, list[tuple[int, int]]] = {}
        for p in passages:
            for start, end in spans.get(p.doc_id, []):
                assert p.end <= start or p.start >= end, (query, p.n)
            spans.setdefault(p.doc_id, []).append((p.start, p.end))
            assert _doc_text(p)[p.start : p.end] == p.text


def test_dense_hits_give_up_the_models_bias_for_the_questions_language(
    corpus_index: Settings,
) -> None:
    from index.catalog import Catalog

    catalog = Catalog(corpus_index.catalog_path)
    try:
        ids = {d.lang: catalog.chunks_of(d.doc_id)[0].chunk_id for d in catalog.documents()}
        langs = catalog.chunk_languages([ids["id"], ids["zh"], "no-such-chunk"])
    finally:
        catalog.close()
    assert langs == {ids["id"]: "id", ids["zh"]: "zh"}
    r = Retriever(corpus_index)
    hits = [(ids["id"], 0.80), (ids["zh"], 0.78)]  # the Indonesian chunk ahead by 0.02
    question = r.question_language("Berapa banyak GPU yang akan dimiliki Meta pada akhir tahun?")
    assert [c for c, _ in r._unbiased(hits, question, 0.04)] == [ids["zh"], ids["id"]]
    assert r._unbiased(hits, question, 0.0) == hits  # an embedder with no measured bias
    # a Chinese question: the Chinese chunk gives up the bias, the Indonesian one stays first
    zh = r._unbiased(hits, r.question_language("Meta 年底会有多少 GPU？"), 0.04)
    assert [c for c, _ in zh] == [ids["id"], ids["zh"]] and zh[1][1] == pytest.approx(0.74)
    r.close()


def test_each_languages_nearest_chunks_join_the_global_dense_list() -> None:
    """A Chinese question's 50 nearest chunks were all Chinese: the English chunk that
    answered, first in the English list, never reached the global list to be re-ranked."""
    from rag.dense import DenseHits

    chinese = [(f"zh{i}", 0.85 - i * 0.001) for i in range(3)]
    hits = DenseHits(all=chinese, by_lang={"zh": chinese[:2], "en": [("en0", 0.80), ("zh0", 0.5)]})
    merged = hits.with_languages()
    assert [c for c, _ in merged] == ["zh0", "zh1", "zh2", "en0"]
    assert dict(merged)["zh0"] == pytest.approx(0.85)  # a chunk in both keeps its score
    assert DenseHits(all=chinese).with_languages() == chinese  # no per-language lists


def test_a_question_in_another_language_than_english_gives_up_a_larger_bias() -> None:
    from rag.sentences import same_language_bias

    english = same_language_bias("bundled", "en")
    assert 0.03 <= english < same_language_bias("bundled", "zh")
    assert same_language_bias("bundled", "yue") == same_language_bias("bundled", "zh")
    assert same_language_bias("bundled", "vi") > english
    # a language never measured keeps English's (Malay is read as Indonesian)
    assert same_language_bias("bundled", "id") == same_language_bias("bundled", "ms") == english
    assert same_language_bias("builtin", "zh") == same_language_bias(None, "en") == 0.0


def test_relevance_separates_matching_from_unknown_terms(corpus_index: Settings) -> None:
    r = Retriever(corpus_index)
    assert r.search([H100_QUESTION]).relevance > 0.9
    assert r.search(["qwertzuiop asdfghjkl"]).relevance < 0.05


def test_chunks_unknown_to_the_catalog_never_show(corpus_index: Settings) -> None:
    """A vector whose document the catalog does not hold (an ingest half done) is ignored."""
    from index.embedders import BuiltinEmbedder
    from index.vectors import VectorStore

    embedder = BuiltinEmbedder()
    col = VectorStore(corpus_index).collection(embedder, create=False)
    assert col is not None
    ghost = "ghost document about H100 GPUs Meta plan"
    col.add(ids=["ghost-00000-deadbeef"], embeddings=[embedder.embed_query(ghost)])
    r = Retriever(corpus_index)
    passages = r.search([ghost], k=10).passages
    assert passages
    assert all(p.chunk_id != "ghost-00000-deadbeef" for p in passages)


def test_a_new_ingest_is_picked_up(corpus_index: Settings, tmp_path: Path) -> None:
    from index.ingest import ingest

    r = Retriever(corpus_index)
    assert all("zorblaxian" not in p.text for p in r.search(["zorblaxian"], k=3).passages)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text(
        "The zorblaxian quasiturbine was unveiled in 2031 by Meta.\n", encoding="utf-8"
    )
    ingest([str(extra)], load_settings(), progress=False)
    passages = r.search(["zorblaxian quasiturbine"], k=3).passages
    assert passages and "zorblaxian" in passages[0].text
    (extra / "new.txt").unlink()
    ingest([str(extra)], load_settings(), progress=False)
    assert all("zorblaxian" not in p.text for p in r.search(["zorblaxian"], k=3).passages)


def test_concurrent_searches_agree(corpus_index: Settings) -> None:
    answerer = Answerer(corpus_index)
    questions = [
        H100_QUESTION,
        "Siapa Jensen Huang?",
        "Llama 3.1 405 miliar parameter",
        "谁是扎克伯格",
    ]
    expected = {q: [p.chunk_id for p in answerer.retrieve(q)] for q in questions}
    fresh = Answerer(corpus_index)  # cold: the threads race to open everything
    results = run_in_threads(
        20, lambda i: [p.chunk_id for p in fresh.retrieve(questions[i % len(questions)])]
    )
    for i, got in enumerate(results):
        assert got == expected[questions[i % len(questions)]]


def test_answerer_retrieve_validates_and_numbers(corpus_index: Settings) -> None:
    answerer = Answerer(corpus_index)
    passages = answerer.retrieve(H100_QUESTION, k=4)
    assert [p.n for p in passages] == [1, 2, 3, 4]
    with pytest.raises(QuestionError, match="empty"):
        answerer.retrieve("   ")
    with pytest.raises(QuestionError, match="99,999 characters long"):  # 100 KB: refused
        answerer.retrieve("Meta H100 " * 10_000)


def test_no_index_says_how_to_make_one(settings: Settings) -> None:
    with pytest.raises(StoreError, match="rag ingest"):
        Retriever(settings).search([H100_QUESTION])
    assert not settings.catalog_path.exists()  # asking created nothing


def test_vector_snapshot_answers_like_chroma_and_follows_ingests(
    corpus_index: Settings, tmp_path: Path
) -> None:
    """The snapshot the ingest publishes (readers never open the embedded Chroma) gives
    Chroma's own nearest neighbours, and is replaced by the next ingest."""
    from index import dense_cache
    from index.embedders import BuiltinEmbedder
    from index.ingest import ingest
    from index.vectors import VectorStore
    from rag.retrieve import DENSE_CACHE_DIR

    r = Retriever(corpus_index)
    r.search(["Jensen Huang"], k=3)
    folder = corpus_index.data_dir / DENSE_CACHE_DIR
    embedder = BuiltinEmbedder()
    cached = dense_cache.load(folder, embedder.collection_name)
    assert cached is not None and len(cached.ids) == r.catalog().counts()[1]
    assert isinstance(cached.vectors, np.memmap)  # memory-mapped, not copied
    store = VectorStore(corpus_index)
    col = store.collection(embedder, create=False)
    for query in ("Jensen Huang jaket kulit", "扎克伯格 开源", "Llama 3.1 405 miliar"):
        vector = embedder.embed_query(query)
        expected = store.search(col, vector, 10)
        got = cached.search(vector, 10)
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert [round(s, 4) for _, s in got] == [round(s, 4) for _, s in expected]
    store.close()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text("Quokka telemetry in 2031.\n", encoding="utf-8")
    ingest([str(extra)], load_settings(), progress=False)
    assert r.search(["quokka telemetry"], k=1).passages[0].text.startswith("Quokka")
    rebuilt = dense_cache.load(folder, embedder.collection_name)
    assert rebuilt is not None and len(rebuilt.ids) == len(cached.ids) + 1
    assert rebuilt.file_key != cached.file_key
    assert rebuilt.generation == r.catalog().generation


def test_near_misses_bridge_cognates() -> None:
    from rag.retrieve import NearMisses

    near = NearMisses(["komputasi", "kolaborasi", "konteks", "parameter", "meta", "pisang"])
    assert near.similar("computing") == ["komputasi"]
    assert near.similar("collaborating") == ["kolaborasi"]
    assert near.similar("context") == ["konteks"]
    assert near.similar("parameters") == ["parameter"]
    assert near.similar("banana") == []
    assert near.similar("ai") == []


def test_cognates_reach_the_indonesian_evidence(corpus_index: Settings) -> None:
    question = "Which eyewear maker is Meta collaborating with, according to the SIGGRAPH talk?"
    r = Retriever(corpus_index)
    evidence = "pembuat kacamata Luxotic"
    assert not any(evidence in p.text for p in r.search([question], k=5, expand=False).passages)
    assert any(evidence in p.text for p in r.search([question], k=5).passages)


def test_a_reset_and_new_index_are_followed(corpus_index: Settings, tmp_path: Path) -> None:
    """A long-running process (the UI) keeps answering from the new catalog after
    `rag reset` and an ingest, not from the deleted file."""
    from index.ingest import ingest

    r = Retriever(corpus_index)
    assert r.search([H100_QUESTION], k=1).passages
    # what `rag reset` removes (Chroma is left: chromadb caches an open store per process,
    # so deleting it under this test process would break the in-process ingest below)
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (corpus_index.data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(corpus_index.lexical_dir)
    with pytest.raises(StoreError, match="rag ingest"):
        r.search([H100_QUESTION])
    extra = tmp_path / "only"
    extra.mkdir()
    (extra / "solo.txt").write_text("Meta bought 7 H100 GPUs for the quokka lab.\n", "utf-8")
    ingest([str(extra)], load_settings(), progress=False)
    passages = r.search([H100_QUESTION], k=5).passages
    assert [Path(p.source).name for p in passages] == ["solo.txt"]


def test_the_chunk_that_goes_on_after_a_passage_is_read_from_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Retriever.chunk_at` over a real index: the chunk holding a character, whole, as a
    passage numbered as asked; the model-free answer reads the sentence opening the chunk
    after a passage it was given and cites that chunk as a new source."""
    from index.ingest import ingest
    from rag.extractive import answer_first

    monkeypatch.setenv("RAG_CHUNK_SIZE", "40")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    text = "\n\n".join(
        [
            "The scaling law says that compute grows with the data and the model size, "
            "and its square root rule means that the model itself does not grow much.",
            "Dario thinks the law holds for 3 or 4 more years.",
            "Casado said that a picture costs a tenth of a cent.",
        ]
    )
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "law.en.txt").write_text(text, encoding="utf-8")
    ingest([str(folder)], load_settings(), progress=False)
    question = "How many more years will the square root scaling law hold?"
    with Answerer(load_settings()) as answerer:
        retriever = answerer.retriever
        first = answerer.retrieve(question)[0]
        after = text.index("Dario")
        assert first.end <= after  # the law's chunk ends before the sentence that goes on
        chunk = retriever.chunk_at(first.doc_id, after, 9)
        assert chunk is not None and chunk.n == 9 and chunk.start <= after < chunk.end
        assert chunk.text == text[chunk.start : chunk.end] and chunk.doc_id == first.doc_id
        assert retriever.chunk_at(first.doc_id, len(text), 9) is None
        got = answer_first(question, [first], context=retriever)
    assert got.value == "3 or 4", got.text
    quote = got.quotes[0]
    assert quote.text == "Dario thinks the law holds for 3 or 4 more years."
    assert text[quote.start : quote.end] == quote.text
    assert quote.n == 2 and [(p.n, p.chunk_id) for p in got.extra] == [(2, chunk.chunk_id)]
