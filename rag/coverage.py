"""Lexical coverage: how much of the question a passage holds, idf-weighted.

One of the signals abstention uses (`rag.abstain`): 1.0 when some passage holds every term
of some query variant; near 0 when the passages share only common words with the question.
Terms the corpus never uses weigh the most, which is what makes an unanswerable question
("revenue", "Apple") score low. A term whose near miss (a cognate) is present counts half.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from index.lexical import LexicalIndex, tokenize
from rag.schema import Passage


def idf(df: int, n_docs: int) -> float:
    """BM25 (Lucene) inverse document frequency; an unknown term gets the highest value."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def coverage(
    variants_terms: Sequence[Sequence[str]],
    passages: Sequence[Passage],
    lexical: LexicalIndex,
    near: Mapping[str, Sequence[str]] | None = None,
) -> float:
    """The best idf-weighted share of a query variant's terms found in one passage."""
    if not passages:
        return 0.0
    near = near or {}
    n_docs = max(1, len(lexical))
    passage_terms = [set(tokenize(p.text)) for p in passages]
    best = 0.0
    for terms in variants_terms:
        weights = {t: idf(lexical.doc_freq(t), n_docs) for t in terms}
        total = sum(weights.values())
        if total <= 0:
            continue
        for have in passage_terms:
            got = 0.0
            for t, w in weights.items():
                if t in have:
                    got += w
                elif any(o in have for o in near.get(t, ())):
                    got += w / 2
            best = max(best, got / total)
    return best
