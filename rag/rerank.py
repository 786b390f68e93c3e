"""Sentence rerank: the first few fused passages re-ordered by how close their best single
sentence comes to the question.

A chunk's vector averages ~300 tokens, so a passage on the question's topic scores about as
high as the one whose one sentence states the answer, and an English question leans
toward English chunks over the Indonesian or Chinese one that answers. The best sentence
is a sharper signal (the "MaxP" of passage ranking). It only re-orders the first `depth`
passages (at most RERANK_PASSAGES; recall@depth is unchanged by construction, and
abstention's sentence signals read fusion's first TOP_PASSAGES, on which its thresholds
were chosen: `rag.retrieve`), a small prior per rank keeps fusion's order where sentences tie,
and a passage in the question's own language gives up what the model adds for that alone:

    score(i) = best sentence cosine of passage i - RANK_PRIOR * i
               - the bias for the question's language (`rag.sentences.same_language_bias`)
                 if passage i is in that language

Only a single question is reranked: with rewrites into the corpus languages (the model
path) fusion of the many lists is already strong and measured lower with the rerank.

Chosen on the dev sets (`python bench/tune_rerank.py`): recall@1 rises on every
cross-lingual set and stays level on Chinese over Chinese; the script also chooses on half
of the XQuAD articles and reports the other half, and bench/RESULTS.md gives the gold test
half, which was never read while choosing. The depth went from 5 to 8 (every passage a
question gets by default) once questions written by people who read only the articles
(bench/walk.jsonl, bench/probe.jsonl) showed answers at ranks 6 to 10: measured with the
product's retrieval on the dev sets, recall@1 rose or held on each (probe dev 0.688 ->
0.719, XQuAD vi-mixed 0.798 -> 0.803) and recall@3 on XQuAD zh-mixed 0.906 -> 0.921.

Cost: the sentences of the first `depth` passages (12 each at most) are embedded (passage
role) and cached by text for the process's life (`rag.sentences.SentenceSimilarity`); they
are the sentences abstention and the model-free answer read, so a question pays for them
once: about 1 s more for a cold `rag ask` on an idle 2-core machine at depth 5
(bench/RESULTS.md), about 0.3 s more at depth 8.
RAG_RERANK_DEPTH=0 turns it off. Only the bundled embedder (see KINDS).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from index.language import same_language
from rag.schema import Passage
from rag.sentences import RERANK_PASSAGES, SentenceSimilarity, same_language_bias

if TYPE_CHECKING:
    from index.embedders import Embedder

RANK_PRIOR = 0.005  # cosine given up per rank (bench/tune_rerank.py, dev sets)
# the prior is on this embedder's cosine scale and was measured with it alone; an Ollama
# embedding model's scale differs and cannot be measured here, so it keeps fusion's order
KINDS = ("bundled",)


def order(
    best: Sequence[float | None],
    prior: float = RANK_PRIOR,
    same: Sequence[bool] = (),
    penalty: float = 0.0,
) -> list[int]:
    """Positions re-ordered by best sentence similarity minus `prior` per rank and minus
    `penalty` where `same` says the passage is in the question's language (no sentence:
    last; ties keep fusion's order). bench/tune_rerank.py uses it too."""

    def key(i: int) -> float:
        b = best[i]
        if b is None:
            return float("inf")
        return -(b - prior * i - (penalty if i < len(same) and same[i] else 0.0))

    return sorted(range(len(best)), key=key)


def sentence_rerank(
    passages: Sequence[Passage],
    cache: SentenceSimilarity,
    embedder: Embedder,
    queries: Sequence[Sequence[float]],
    depth: int,
    prior: float = RANK_PRIOR,
    language: str = "und",
) -> list[Passage]:
    """`passages` with the first `depth` (RERANK_PASSAGES at most) re-ordered by `order`
    and all renumbered from 1; unchanged for another embedder kind than KINDS. `language`:
    the question's (`index.language.question_language`); "und" takes no penalty. A
    failing embedder raises (RagError): the caller keeps fusion's order."""
    depth = min(depth, RERANK_PASSAGES)
    if depth < 2 or len(passages) < 2 or embedder.kind not in KINDS:
        return list(passages)
    head = list(passages[:depth])
    best = cache.best_per_passage(embedder, queries, head)
    same = [same_language(language, p.lang) for p in head]
    penalty = same_language_bias(embedder.kind, language)
    ranked = [head[i] for i in order(best, prior, same, penalty)]
    ranked += passages[depth:]
    return [dataclasses.replace(p, n=n) for n, p in enumerate(ranked, start=1)]
