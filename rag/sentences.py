"""Sentence-level dense similarity: how close the question comes to the single best
sentence of the top passages, and how far that sentence stands above the rest.

A chunk-level similarity mixes the sentence that answers with the ones around it, so a
passage about the right topic scores about as high as one that states the answer. Each
sentence of the top passages is embedded (passage role) and compared with the question's
query vector, which dense search already made. `rag.abstain` uses the result:

- `sent_top`: the best question-sentence cosine similarity;
- `sent_gap`: its margin over the tenth best sentence (an answer stands out).

On the development sets (bench/tune_abstain.py) these lift abstention on unanswerable
XQuAD questions at the same false-abstention rate; see bench/RESULTS.md.

Cost: ~30 ms a sentence with the bundled model on an idle core, ~100 ms on a busy one.
The sentence rerank (`rag.rerank`) embeds the first passages' sentences on every search
(unless RAG_RERANK_DEPTH=0); the signals here are computed only when asked for
(`Retrieval.sentence_signals`: abstention asks only when the chunk-level signals leave the
question open) and reuse those vectors. Vectors are cached by sentence text for the
process's life (a chat asks about the same passages again), and only the first
`TOP_PASSAGES` passages are read. Only neural embedders are used: the
builtin hash embedder's similarities carry no meaning at sentence level.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from index.chunker import sentence_spans
from rag.schema import Passage

if TYPE_CHECKING:
    from index.embedders import Embedder

TOP_PASSAGES = 5  # sentences come from these passages (as in bench/tune_abstain.py)
MAX_SENTENCES = 60  # ... at most this many (one very long passage must not cost seconds)
MIN_CHARS = 12  # a shorter "sentence" (a heading, a list marker) says nothing
GAP_RANK = 10  # sent_gap: best minus this-th best
CACHE_SIZE = 20_000
NEURAL = ("bundled", "ollama")


def sentences(passages: Sequence[Passage]) -> list[str]:
    """The sentences of the top passages, whitespace-collapsed, distinct, in order."""
    out: dict[str, None] = {}
    for p in passages[:TOP_PASSAGES]:
        for a, b in sentence_spans(p.text):
            text = " ".join(p.text[a:b].split())
            if len(text) >= MIN_CHARS:
                out[text] = None
    return list(out)[:MAX_SENTENCES]


class SentenceSimilarity:
    """Question-sentence similarity with a bounded, thread-safe cache of sentence vectors
    (keyed by embedder and text)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def vectors(self, embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
        key = embedder.collection_name
        with self._lock:
            missing = [t for t in texts if (key, t) not in self._cache]
        if missing:
            fresh = embedder.embed(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[(key, text)] = vector
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            out: list[list[float]] = []
            for t in texts:
                cached = self._cache.get((key, t))
                if cached is None:  # evicted meanwhile by another thread: embed again
                    cached = embedder.embed([t])[0]
                else:
                    self._cache.move_to_end((key, t))
                out.append(cached)
            return out

    def best_per_passage(
        self, embedder: Embedder, query: Sequence[float], passages: Sequence[Passage]
    ) -> list[float | None]:
        """Each passage's best question-sentence cosine similarity (None: no sentence of
        MIN_CHARS); all sentences embedded in one batch, through the cache."""
        import numpy as np

        per = [sentences([p])[:MAX_SENTENCES] for p in passages]
        texts = list(dict.fromkeys(t for ts in per for t in ts))
        if not texts:
            return [None] * len(passages)
        matrix = np.asarray(self.vectors(embedder, texts), dtype=np.float32)
        q = np.asarray(query, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * (float(np.linalg.norm(q)) or 1.0)
        sims = dict(zip(texts, (matrix @ q) / np.where(norms > 0, norms, 1.0), strict=True))
        return [max((float(sims[t]) for t in ts), default=None) for ts in per]

    def signals(
        self, embedder: Embedder, query: Sequence[float], passages: Sequence[Passage]
    ) -> dict[str, float]:
        """`sent_top` and `sent_gap` for a question's query vector over `passages`
        (empty for the builtin embedder, or when there are no sentences)."""
        if embedder.kind not in NEURAL:
            return {}
        texts = sentences(passages)
        if not texts:
            return {}
        import numpy as np

        matrix = np.asarray(self.vectors(embedder, texts), dtype=np.float32)
        q = np.asarray(query, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * (float(np.linalg.norm(q)) or 1.0)
        sims = np.sort((matrix @ q) / np.where(norms > 0, norms, 1.0))[::-1]
        top = float(sims[0])
        return {"sent_top": top, "sent_gap": top - float(sims[min(len(sims), GAP_RANK) - 1])}


class RetrievalSentences:
    """A retrieval's embedder and sentence cache, seen as the `SentenceEmbedder` the
    model-free answer compares the question with its candidate sentences through: the
    sentences abstention embedded cost nothing the second time, and the question's
    vector is the one dense search made."""

    def __init__(
        self,
        cache: SentenceSimilarity,
        embedder: Embedder,
        question: str,
        vector: Sequence[float],
    ) -> None:
        self._cache, self._embedder = cache, embedder
        self._question, self._vector = " ".join(question.split()), list(vector)

    def query(self, text: str) -> list[float]:
        if " ".join(text.split()) == self._question:
            return self._vector
        return self._embedder.embed_queries([text])[0]

    def passage(self, texts: list[str]) -> list[list[float]]:
        return self._cache.vectors(self._embedder, [" ".join(t.split()) for t in texts])

    def best_per_passage(self, passages: Sequence[Passage]) -> list[float | None]:
        """Each passage's best question-sentence similarity (`rag.rerank` reads it)."""
        return self._cache.best_per_passage(self._embedder, self._vector, passages)

    def signals(self, passages: Sequence[Passage]) -> dict[str, float]:
        """`sent_top` and `sent_gap` of the question over `passages`."""
        return self._cache.signals(self._embedder, self._vector, passages)
