"""Fusion: weighted RRF over every ranked list, robust to a weak ranker."""

from __future__ import annotations

import random

import pytest

from core.settings import Settings
from rag.fusion import PARAMS, FusionParams, RankedList, fuse
from rag.retrieve import Retriever


def _ids(prefix: str, n: int) -> list[tuple[str, float]]:
    return [(f"{prefix}{i}", 1.0 / (i + 1)) for i in range(n)]


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_a_poor_dense_ranking_cannot_push_out_the_bm25_top_hit(kind: str) -> None:
    """BM25 ranks `x` first; a dense ranker that is useless (a random order of 50 other
    chunks, which all also appear lower in BM25) would bury it under plain RRF."""
    rng = random.Random(7)
    lexical = [("x", 9.0), *_ids("c", 49)]
    others = [f"c{i}" for i in range(49)]
    rng.shuffle(others)
    dense = [(cid, 0.5) for cid in others]
    lists = [RankedList("lexical", lexical), RankedList("dense", dense)]
    params = PARAMS[kind]
    plain = [cid for cid, _ in fuse(lists, params)]
    guarded = [cid for cid, _ in fuse(lists, params, slots=8)]
    assert "x" in guarded[:8]
    if params.dense >= params.lexical:  # the failure the guarantee exists for
        assert "x" not in plain[:8]


def test_the_dense_top_hit_is_guaranteed_too() -> None:
    lexical = _ids("c", 50)
    dense = [("y", 0.9), *reversed(_ids("c", 49))]
    fused = fuse([RankedList("lexical", lexical), RankedList("dense", dense)], FusionParams(), 3)
    assert "y" in [cid for cid, _ in fused[:3]]


def test_per_language_lists_lift_the_best_passage_of_another_language() -> None:
    """A multilingual embedder ranks passages in the question's language first: the best
    Chinese passage at rank 30 globally still gets in through the Chinese list."""
    glob = [*_ids("en", 29), ("zh0", 0.5)]
    lists = [
        RankedList("lexical", []),
        RankedList("dense", glob),
        RankedList("dense", [("zh0", 0.5), ("zh1", 0.4)], lang="zh"),
    ]
    with_lang = [cid for cid, _ in fuse(lists, FusionParams(k=10, per_lang=1.0))]
    without = [cid for cid, _ in fuse(lists, FusionParams(k=10, per_lang=0.0))]
    assert with_lang.index("zh0") < 5 < without.index("zh0")


def test_variants_weigh_less_than_the_question() -> None:
    lists = [RankedList("lexical", [("a", 1.0)]), RankedList("lexical", [("b", 1.0)], variant=1)]
    fused = fuse(lists, FusionParams(variant=0.5))
    assert [cid for cid, _ in fused] == ["a", "b"]


def test_the_bundled_model_ranks_the_h100_sentences_first(bundled_index: Settings) -> None:
    """The product's typical question, English over Indonesian and Chinese sources, with
    no Ollama: the passages holding 340,000 (340.000 / 340,000) come first."""
    r = Retriever(bundled_index)
    try:
        got = r.search(["how many H100s does Meta plan to have?"], k=8)
    finally:
        r.close()
    assert got.dense_kind == "bundled"
    top = got.passages[:2]
    assert {p.lang for p in top} == {"id", "zh"}, [(p.lang, p.text[:60]) for p in top]
    assert all("340.000" in p.text or "340,000" in p.text for p in top)
    assert got.signals["dense_top"] > 0.8 and got.signals["agree"] == 1.0


def test_a_bm25_list_weighed_to_nothing_moves_no_hit_up() -> None:
    # its top hit holds none of the question's terms (confidence 0): the list counts for
    # nothing, and its first hit is not lifted into the slots either (it raised
    # ValueError when no other list held that hit)
    params = FusionParams(lex_conf=1.0)
    lists = [
        RankedList("lexical", [("only-bm25", 3.0), ("both", 2.0)], confidence=0.0),
        RankedList("dense", [("both", 0.9), ("dense-2", 0.8)]),
    ]
    fused = [cid for cid, _ in fuse(lists, params, slots=1)]
    assert fused == ["both", "dense-2"]
    assert fuse([lists[0]], params, slots=3) == []
