"""Sentence rerank: the first few fused passages re-ordered by how close their best single
sentence comes to the question.

A chunk's vector averages ~300 tokens, so a passage on the question's topic scores about as
high as the one whose one sentence states the answer, and an English question leans
toward English chunks over the Indonesian or Chinese one that answers. The best sentence
is a sharper signal (the "MaxP" of passage ranking). It only re-orders the first `depth`
passages (recall@5 is unchanged by construction), and a small prior per rank keeps fusion's
order where sentences tie:

    score(i) = best sentence cosine of passage i - RANK_PRIOR * i

On the dev sets (`python bench/tune_rerank.py`, held-out halves never read) recall@1 rises
on every cross-lingual set and stays level on Chinese over Chinese; see bench/RESULTS.md.

Cost: the sentences of the first `depth` passages are embedded (passage role) once per
process and cached (`rag.sentences.SentenceSimilarity`), the same vectors abstention and the
model-free answer read, so a question pays for them once. Only neural embedders: the
builtin hash embedder's sentence similarities mean nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.schema import Passage
from rag.sentences import NEURAL, SentenceSimilarity

if TYPE_CHECKING:
    from index.embedders import Embedder

RANK_PRIOR = 0.005  # cosine given up per rank (bench/tune_rerank.py, dev sets)


def sentence_rerank(
    passages: Sequence[Passage],
    cache: SentenceSimilarity,
    embedder: Embedder,
    query: Sequence[float],
    depth: int,
    prior: float = RANK_PRIOR,
) -> list[Passage]:
    """`passages` with the first `depth` re-ordered by best sentence similarity (minus
    `prior` per rank) and all renumbered from 1; unchanged for a non-neural embedder."""
    if depth < 2 or len(passages) < 2 or embedder.kind not in NEURAL:
        return list(passages)
    head = list(passages[:depth])
    best = cache.best_per_passage(embedder, query, head)

    def key(i: int) -> float:
        b = best[i]
        return float("inf") if b is None else -(b - prior * i)  # no sentence: last

    order = sorted(range(len(head)), key=key)
    ranked = [head[i] for i in order] + list(passages[depth:])
    return [dataclasses.replace(p, n=n) for n, p in enumerate(ranked, start=1)]
