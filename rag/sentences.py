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
process's life (a chat asks about the same passages again) and, given a store
(`index.sentence_store`, in the data dir), between processes: a one-shot `rag ask` then
embeds only the sentences no earlier question brought up. The signals read fusion's first
`TOP_PASSAGES` passages (as before the rerank), the rerank the first `RERANK_PASSAGES`. Only
neural embedders are used: the builtin hash embedder's similarities carry no meaning at
sentence level.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from index.chunker import asks, sentence_spans, statements
from index.language import crossing, language_key, same_language
from rag.schema import Passage

if TYPE_CHECKING:
    from index.embedders import Embedder
    from index.sentence_store import SentenceVectorStore

TOP_PASSAGES = 5  # sentences come from these passages (as in bench/tune_abstain.py)
RERANK_PASSAGES = 10  # ... and the rerank's from these (`rag.rerank`)
PER_PASSAGE = 12  # ... at most this many of each (one very long passage must not cost seconds)
MIN_CHARS = 12  # a shorter "sentence" (a heading, a list marker) says nothing
GAP_RANK = 10  # sent_gap: best minus this-th best
CACHE_SIZE = 20_000
NEURAL = ("bundled", "ollama")
# An embedder scores a sentence in the question's own language higher than an equally
# relevant one in another: with the bundled model an English question's best English
# sentence beat the Chinese or Vietnamese one that answered (XQuAD en-mixed). Taken off
# wherever text of several languages is compared: the dense list before fusion
# (`rag.retrieve`), the sentence rerank (`rag.rerank`), the model-free answer's sentences
# and abstention's signals; on that model's cosine scale, by the question's language.
# A Chinese or Vietnamese question's own-language text stands about twice as far above
# the rest as an English one's (mean top-10 similarity, XQuAD mixed pool: asked in
# Chinese zh 0.84 over vi 0.77 and en 0.75; asked in English en 0.78 over vi 0.75 and
# zh 0.73). English's value was chosen by bench/tune_rerank.py (the best mean recall@1
# among penalties that cost no answer language anything), Chinese and Vietnamese by
# bench/tune_bias.py (each language's best recall@1 over the mixed pool). A language
# with no such dev set (Indonesian among them) keeps English's: a larger one, measured on
# Indonesian questions about Indonesian text (bench/who_said.py), put a Chinese passage
# first for half of them and brought no answer up (bench/RESULTS.md). An Ollama model's
# bias cannot be measured here: none is assumed.
OTHER = "*"  # the bias of a question language the table does not name
SAME_LANGUAGE_BIAS: dict[str, dict[str, float]] = {
    "bundled": {"en": 0.04, "zh": 0.08, "vi": 0.08, OTHER: 0.04}
}


def same_language_bias(kind: str | None, language: str) -> float:
    """How much embedder `kind` favours text in a question's own `language` (taken off
    that text's similarities; 0 for a kind never measured)."""
    table = SAME_LANGUAGE_BIAS.get(kind or "")
    if not table:
        return 0.0
    return table.get(language_key(language), table.get(OTHER, 0.0))


def _of(p: Passage) -> list[str]:
    """A passage's sentences that state something and are no page furniture
    (`index.chunker.statements`), whitespace-collapsed, at most PER_PASSAGE of them."""
    out = []
    for a, b in statements(p.text, sentence_spans(p.text)):
        text = " ".join(p.text[a:b].split())
        if len(text) >= MIN_CHARS:
            out.append(text)
    return out[:PER_PASSAGE]


def _unit(m: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


def sentences(passages: Sequence[Passage]) -> list[str]:
    """The sentences of the top passages (PER_PASSAGE each at most), distinct, in order."""
    return list(dict.fromkeys(t for p in passages[:TOP_PASSAGES] for t in _of(p)))


class SentenceSimilarity:
    """Question-sentence similarity with a bounded, thread-safe cache of sentence vectors
    (keyed by embedder and text), backed by `store` (kept between processes) if given."""

    def __init__(self, size: int = CACHE_SIZE, store: SentenceVectorStore | None = None) -> None:
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.store = store

    def vectors(self, embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
        key = embedder.collection_name
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (key, t) not in self._cache))
        if missing:
            got = self.store.get(key, missing, embedder.dim) if self.store is not None else {}
            todo = [t for t in missing if t not in got]
            if todo:
                embedded = dict(zip(todo, embedder.embed(todo), strict=True))
                if self.store is not None:
                    self.store.put(key, embedded)
                got.update(embedded)
            with self._lock:
                for text in missing:
                    self._cache[(key, text)] = got[text]
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

    def _similarities(
        self, embedder: Embedder, queries: Sequence[Sequence[float]], texts: Sequence[str]
    ) -> list[float]:
        """Each text's best cosine similarity to any of the query vectors (one batch of
        sentence vectors, through the cache)."""
        import numpy as np

        matrix = _unit(np.asarray(self.vectors(embedder, texts), dtype=np.float32))
        q = _unit(np.asarray(queries, dtype=np.float32))
        return [float(x) for x in (matrix @ q.T).max(axis=1)]

    def best_per_passage(
        self,
        embedder: Embedder,
        queries: Sequence[Sequence[float]],
        passages: Sequence[Passage],
    ) -> list[float | None]:
        """Each passage's best sentence similarity to any of the query vectors (None: no
        sentence of MIN_CHARS that `index.chunker.statements` keeps: a statement, no page
        furniture). The sentences are those `sentences()` reads, so abstention's signals
        embed nothing more."""
        per = [_of(p) for p in passages[:RERANK_PASSAGES]]
        texts = list(dict.fromkeys(t for ts in per for t in ts))
        out: list[float | None] = [None] * len(passages)
        if not texts or not queries:
            return out
        sims = dict(zip(texts, self._similarities(embedder, queries, texts), strict=True))
        for i, ts in enumerate(per):
            out[i] = max((sims[t] for t in ts), default=None)
        return out

    def signals(
        self,
        embedder: Embedder,
        query: Sequence[float],
        passages: Sequence[Passage],
        language: str = "und",
    ) -> dict[str, float]:
        """`sent_top` and `sent_gap` for a question's query vector over `passages`, with
        the embedder's bias for the question's `language` taken off the sentences in it
        (`same_language_bias`), and `cross`/`cross_script` of the best sentence's language
        (empty for the builtin embedder, or when there are no sentences)."""
        if embedder.kind not in NEURAL:
            return {}
        # a sentence that asks states no answer, but a question is near a question in
        # meaning: "What's the weather like tomorrow?" came closest to a heading, "## 15
        # Apakah manusia masih perlu berpartisipasi?"
        texts = [t for t in sentences(passages) if not asks(t)]
        if not texts:
            return {}
        lang_of: dict[str, str] = {}
        for p in passages[:TOP_PASSAGES]:
            for t in _of(p):
                lang_of.setdefault(t, p.lang)
        bias = same_language_bias(embedder.kind, language)
        sims = sorted(
            (
                (sim - (bias if same_language(language, lang_of[t]) else 0.0), lang_of[t])
                for t, sim in zip(texts, self._similarities(embedder, [query], texts), strict=True)
            ),
            reverse=True,
        )
        top, lang = sims[0]
        cross, cross_script = crossing(language, lang)
        return {
            "sent_top": top,
            "sent_gap": top - sims[min(len(sims), GAP_RANK) - 1][0],
            "sent_cross": cross,
            "sent_cross_script": cross_script,
        }


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
        language: str = "und",
    ) -> None:
        self._cache, self._embedder = cache, embedder
        self._question, self._vector = " ".join(question.split()), list(vector)
        self.language = language  # the question's (`index.language.question_language`)
        self.language_bias = same_language_bias(embedder.kind, language)

    def query(self, text: str) -> list[float]:
        if " ".join(text.split()) == self._question:
            return self._vector
        return self._embedder.embed_queries([text])[0]

    def queries(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_queries(texts)

    def passage(self, texts: list[str]) -> list[list[float]]:
        return self._cache.vectors(self._embedder, [" ".join(t.split()) for t in texts])

    def best_per_passage(self, passages: Sequence[Passage]) -> list[float | None]:
        """Each passage's best sentence similarity to the question (`rag.rerank`)."""
        return self._cache.best_per_passage(self._embedder, [self._vector], passages)

    def signals(self, passages: Sequence[Passage]) -> dict[str, float]:
        """`sent_top` and `sent_gap` of the question over `passages`, less the bias for
        its language, and the language crossing of the best sentence."""
        return self._cache.signals(self._embedder, self._vector, passages, self.language)
