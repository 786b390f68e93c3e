"""Sentence rerank (rag/rerank.py): the passage whose one sentence matches the question
moves up, only within the first `depth`, a rank prior keeps fusion's order on near ties,
numbering starts again at 1, and nothing changes without a neural embedder."""

from __future__ import annotations

from core.settings import Settings
from index.embedders import BuiltinEmbedder
from rag.rerank import sentence_rerank
from rag.sentences import SentenceSimilarity
from tests.test_sentences import CountingEmbedder, passage


def _ids(ps: list) -> list[str]:
    return [p.chunk_id for p in ps]


def test_the_passage_with_the_matching_sentence_moves_first_within_the_depth() -> None:
    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa aaaa"])[0]
    ps = [
        passage(1, "eeee iiii oooo eeee. iiii oooo uuuu."),  # topical filler
        passage(2, "nnnn eeee nnnn eeee. oooo oooo iiii."),
        passage(3, "uuuu uuuu eeee. aaaa aaaa aaaa aaaa. oooo iiii."),  # one sentence matches
        passage(4, "aaaa aaaa aaaa, beyond the depth."),
    ]
    got = sentence_rerank(ps, SentenceSimilarity(), embedder, query, depth=3)
    assert _ids(got) == ["c3", "c1", "c2", "c4"]
    assert [p.n for p in got] == [1, 2, 3, 4]  # renumbered: [n] follows the new order
    assert got[0].text == ps[2].text and got[0].start == ps[2].start  # nothing else changes
    # passage 4 matches as well but lies beyond the depth: recall@depth cannot change
    assert got[3].chunk_id == "c4"


def test_a_near_tie_keeps_fusions_order() -> None:
    embedder = CountingEmbedder()
    query = embedder.embed(["aaaa eeee"])[0]
    ps = [passage(1, "aaaa eeee aaaa eeee."), passage(2, "aaaa eeee aaaa eeee!")]
    sim = SentenceSimilarity()
    assert _ids(sentence_rerank(ps, sim, embedder, query, depth=5)) == ["c1", "c2"]
    # without the prior, a tie still keeps the order (a stable sort)
    assert _ids(sentence_rerank(ps, sim, embedder, query, depth=5, prior=0.0)) == ["c1", "c2"]


def test_no_rerank_for_the_builtin_embedder_or_a_depth_below_two() -> None:
    builtin = BuiltinEmbedder()
    ps = [passage(1, "Nothing about it here at all."), passage(2, "The answer is right here.")]
    query = builtin.embed_queries(["the answer is right here"])[0]
    assert _ids(sentence_rerank(ps, SentenceSimilarity(), builtin, query, depth=5)) == ["c1", "c2"]
    counting = CountingEmbedder()
    q = counting.embed(["aaaa"])[0]
    assert _ids(sentence_rerank(ps, SentenceSimilarity(), counting, q, depth=1)) == ["c1", "c2"]
    assert counting.seen == ["aaaa"]  # nothing embedded for depth 1


def test_retrieval_reranks_with_the_bundled_model_and_can_be_turned_off(
    bundled_index: Settings,
) -> None:
    from rag.retrieve import Retriever

    question = "how many H100s does Meta plan to have?"
    retriever = Retriever(bundled_index)
    fused = retriever.search([question], rerank=False).passages
    got = retriever.search([question]).passages
    depth = bundled_index.rerank_depth
    assert sorted(_ids(got[:depth])) == sorted(_ids(fused[:depth]))  # the same passages
    assert _ids(got[depth:]) == _ids(fused[depth:])
    assert [p.n for p in got] == list(range(1, len(got) + 1))
    # the first passage holds the sentence that states the plan
    assert "340" in got[0].text, got[0].text[:200]
    off = Retriever(bundled_index.model_copy(update={"rerank_depth": 0}))
    assert _ids(off.search([question]).passages) == _ids(fused)
    retriever.close()
    off.close()
