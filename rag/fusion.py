"""Rank fusion: weighted reciprocal rank fusion (Cormack et al. 2009) of every list the
retriever produced, with the top hit of each primary ranker guaranteed a place.

Lists: BM25 and dense for the question and each variant (rewrites, follow-up context),
and dense per corpus language. Each list counts `weight / (k + rank)`; weights depend on
the embedder that made the dense lists, because a real multilingual model is a far
better ranker across languages than BM25, while the builtin hash embedder is only a
tie-breaker.

Robust to a weak ranker: the first hit of the question's own BM25 list and of its own
dense list always stays within the top `slots` of the fused ranking, so a poor ranking
on one side cannot push the other side's best passage out of the context (a weak dense
ranking fused with equal weight once dropped the H100 passage from all eight passages).

The parameters are chosen by `bench/tune_fusion.py` on development data only (the dev
half of bench/gold.jsonl and the XQuAD dev sets); the test half is never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Hits = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class RankedList:
    """One ranking: which ranker made it, for which query variant (0 = the question
    itself), over which language (None = the whole corpus)."""

    ranker: str  # "lexical" | "dense"
    hits: Hits
    variant: int = 0
    lang: str | None = None
    # How much of the query the list's top hit holds (lexical lists: idf-weighted share of
    # the query's terms). An English question over Chinese text shares only a name or a
    # number with it: BM25's ranking is then mostly noise and should count for less.
    confidence: float = 1.0


@dataclass(frozen=True)
class FusionParams:
    k: float = 60.0  # the RRF constant: smaller trusts the top ranks more
    lexical: float = 1.0  # weight of a BM25 list
    dense: float = 1.0  # weight of a global dense list
    per_lang: float = 0.0  # weight of a per-language dense list
    variant: float = 1.0  # multiplier for the lists of a rewrite / follow-up variant
    lex_conf: float = 0.0  # a lexical list's weight is multiplied by confidence ** lex_conf
    depth: int = 50  # candidates per global list
    lang_depth: int = 10  # candidates per per-language list


# Chosen by bench/tune_fusion.py (grid search, dev data only; see bench/RESULTS.md).
# builtin: hashed n-grams are noisy next to BM25, a tie-breaker only.
# bundled: multilingual-e5-small. ollama: an equal or better neural model (bge-m3); not
# measurable here (no weights), so it takes the bundled model's parameters.
PARAMS: dict[str, FusionParams] = {
    "builtin": FusionParams(k=60.0, lexical=1.0, dense=0.1, per_lang=0.0),
    "bundled": FusionParams(k=3.0, lexical=2.0, dense=1.0, per_lang=1.0, lex_conf=1.0),
}
PARAMS["ollama"] = PARAMS["bundled"]
LEXICAL_ONLY = FusionParams()


def params_for(kind: str | None) -> FusionParams:
    if kind is None:
        return LEXICAL_ONLY
    return PARAMS.get(kind, PARAMS["bundled"])


def fuse(
    lists: Sequence[RankedList], params: FusionParams, slots: int = 0
) -> list[tuple[str, float]]:
    """Fused (chunk id, score), best first. Ties keep first-seen order (the question's
    BM25 list comes first). With `slots` > 0, the first hit of each primary list (the
    question's own BM25 and global dense lists) is moved up to rank `slots` if it fell
    below it."""
    scores: dict[str, float] = {}
    primary: list[str] = []
    for lst in lists:
        if lst.ranker == "lexical":
            weight = params.lexical * (lst.confidence**params.lex_conf if params.lex_conf else 1)
        elif lst.lang is None:
            weight = params.dense
        else:
            weight = params.per_lang
        if lst.variant:
            weight *= params.variant
        if weight <= 0:
            continue  # (nor is its first hit moved up: BM25 with no confidence at all)
        for rank, (cid, _score) in enumerate(lst.hits, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (params.k + rank)
        if lst.variant == 0 and lst.lang is None and lst.hits:
            primary.append(lst.hits[0][0])
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if slots <= 0:
        return ranked
    order = [cid for cid, _ in ranked]
    for cid in dict.fromkeys(primary):
        pos = order.index(cid)
        if pos >= slots:
            order.insert(slots - 1, order.pop(pos))
    score_of = dict(ranked)
    return [(cid, score_of[cid]) for cid in order]


def rrf(lists: Sequence[tuple[float, Hits]], k: float = 60.0) -> list[tuple[str, float]]:
    """Plain weighted RRF over (weight, hits) pairs, best first."""
    scores: dict[str, float] = {}
    for weight, hits in lists:
        for rank, (cid, _score) in enumerate(hits, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
