"""Hybrid retrieval: BM25 (lexical) and Chroma (dense) result lists, fused by reciprocal
rank fusion, deduplicated, cut to top-k and a context budget in tiktoken tokens.

- Query normalisation is the lexical tokenizer's (`index.lexical.tokenize`): NFKC, case
  folding, numbers canonicalised (340,000 = 340.000 = 340 000 = 340 ribu = 34万), acronym
  plurals folded (H100s -> h100), Chinese segmented. The same function tokenised the
  chunks at ingest, so names and numbers match across languages without a model.
- Several query variants (the question, its rewrites into the corpus languages, a
  follow-up's context) each retrieve both ways; every list goes into one fusion.
- Only chunk ids the catalog knows are returned (`Catalog.chunk_views`), so a document
  half-written by a concurrent ingest never shows. When the catalog's generation changes,
  BM25 is reloaded (or rebuilt in memory if the saved index lags behind the catalog).
- A query term the index lacks gets its near misses added (`NearMisses`: trigram Dice
  over a spelling skeleton), so English "computing", "context", "collaborating" reach
  Indonesian "komputasi", "konteks", "kolaborasi" without a model.
- `relevance` measures how much of the question the best passage covers (idf-weighted
  share of query terms), which `rag.answer` uses to abstain without calling a model.
- Dense search on the embedded store reads the vector snapshot the ingest publishes
  (`rag.dense_cache`, memory-mapped): readers never open the embedded Chroma, which is
  not safe beside a writing process. A Chroma server is queried directly.

Everything here is model-free and thread-safe; nothing is opened before the first query.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from index.catalog import Catalog, ChunkView
from index.lexical import LexicalIndex, tokenize
from rag import dense_cache
from rag.dense_cache import DenseMatrix
from rag.errors import RagError, StoreError
from rag.schema import Passage
from rag.settings import Settings

if TYPE_CHECKING:
    from index.embedders import Embedder

MAX_QUERY_CHARS = 2000  # a longer question is cut for retrieval (BM25 and embeddings)
RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al. 2009)
LEXICAL_WEIGHT = 1.0
# Weight of a dense list in the fusion, by embedder kind. The builtin hashed n-grams are
# noisy next to BM25: on bench/gold.jsonl (no model) recall@1/5/10 is .83/.96/.98 at
# weight 0, .81/.96/.99 at 0.1, .79/.94/.99 at 0.3, .76/.93/.98 at 0.5 and .75/.91/.96
# at 1; 0.1 keeps it as a near-miss tie-breaker that lifts recall@10. A neural embedding
# model (Ollama, e.g. bge-m3) is an equal partner (not measurable here: no weights).
DENSE_WEIGHT = {"builtin": 0.1, "ollama": 1.0}
CANDIDATES = 50  # per list, before fusion
NEAR_MISS_DICE = 0.55  # trigram Dice for a cognate of a term the index lacks
NEAR_MISS_PER_TERM = 2
DENSE_CACHE_DIR = "dense"  # in the data dir: see rag/dense_cache.py
DUPLICATE_OVERLAP = 0.5  # a passage more than half covered by a better one is dropped


def normalize_query(text: str) -> str:
    """The question as retrieval sees it: whitespace collapsed, cut to MAX_QUERY_CHARS."""
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
    return text


def query_terms(text: str) -> list[str]:
    """Distinct lexical terms of a query, in order."""
    return list(dict.fromkeys(tokenize(normalize_query(text))))


_SKELETON_RULES = (
    ("ph", "f"), ("th", "t"), ("ch", "k"), ("ck", "k"), ("qu", "kw"),
    ("c", "k"), ("q", "k"), ("x", "ks"), ("y", "i"), ("z", "s"),
)  # fmt: skip
_DOUBLE = re.compile(r"(.)\1+")


def skeleton(word: str) -> str:
    """A spelling-neutral form for matching cognates across Latin-script languages:
    computing ~ komputasi, anthropic ~ antropis, context ~ konteks, collaborating ~
    kolaborasi."""
    for a, b in _SKELETON_RULES:
        word = word.replace(a, b)
    return _DOUBLE.sub(r"\1", word)


def _grams(word: str) -> set[str]:
    padded = f"<{skeleton(word)}>"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class NearMisses:
    """Index terms that look like a query term the index lacks (trigram Dice on
    `skeleton`). Lets an English question reach an Indonesian cognate without a model."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self._grams: dict[str, set[str]] = {}
        self._by_gram: dict[str, list[str]] = {}
        for term in vocabulary:
            if len(term) >= 4 and term.isascii() and term.isalpha():
                grams = _grams(term)
                self._grams[term] = grams
                for g in grams:
                    self._by_gram.setdefault(g, []).append(term)

    def similar(self, term: str) -> list[str]:
        if len(term) < 4 or not term.isascii() or not term.isalpha():
            return []
        grams = _grams(term)
        shared: dict[str, int] = {}
        for g in grams:
            for other in self._by_gram.get(g, ()):
                shared[other] = shared.get(other, 0) + 1
        scored = []
        for other, n in shared.items():
            dice = 2 * n / (len(grams) + len(self._grams[other]))
            if dice >= NEAR_MISS_DICE:
                scored.append((-dice, other))
        scored.sort()
        return [other for _d, other in scored[:NEAR_MISS_PER_TERM]]


@dataclass
class Retrieval:
    """The outcome of one retrieval: numbered passages and how relevant the best one is."""

    passages: list[Passage]
    relevance: float = 0.0  # 0..1: idf-weighted share of query terms in the best passage
    notes: list[str] = field(default_factory=list)  # e.g. dense search unavailable


@dataclass
class _Dense:
    """One collection dense search may use: its query embedder, and (opened on demand)
    the Chroma collection or the cached copy of its vectors."""

    name: str
    embedder: Embedder
    collection: Any = None
    matrix: DenseMatrix | None = None


class Retriever:
    """Opens the catalog, BM25 and Chroma lazily; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._dense_lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._catalog_ino = -1
        self._lexical: LexicalIndex | None = None
        self._generation = -1
        self._texts: dict[str, str] = {}
        self._near: NearMisses | None = None
        self._dense: list[_Dense] = []
        self._dense_generation = -1
        self._store: Any = None

    # opening -------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                if not self.settings.catalog_path.exists():
                    raise StoreError(
                        f"nothing is indexed in {self.settings.data_dir}: "
                        "run `rag ingest PATH` first"
                    )
                self._catalog = Catalog(self.settings.catalog_path)
                self._catalog_ino = self._inode()
            return self._catalog

    def _inode(self) -> int:
        try:
            return self.settings.catalog_path.stat().st_ino
        except OSError:
            return -1

    def _reopen_if_replaced(self) -> None:
        """`rag reset` and a new ingest replace the catalog file: follow it (a long-running
        UI would otherwise keep reading the deleted one)."""
        if self._catalog is not None and self._inode() != self._catalog_ino:
            self._catalog.close()
            self._catalog = None
            self._lexical = None
            self._generation = -1
            self._dense_generation = -1

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
            self._lexical = None
            self._dense = []
            self._generation = -1
            self._dense_generation = -1

    def languages(self) -> dict[str, int]:
        """Corpus languages and their document counts (from the catalog)."""
        with self._lock:
            return self.catalog().languages()

    def _refresh(self) -> tuple[LexicalIndex, int]:
        """The BM25 index for the catalog's current generation."""
        with self._lock:
            self._reopen_if_replaced()
            catalog = self.catalog()
            generation = catalog.generation
            if self._lexical is None or generation != self._generation:
                lexical = LexicalIndex.load(self.settings.lexical_dir)
                if lexical is None or lexical.generation != generation:
                    # the saved index lags (an ingest is running or crashed): rebuild
                    # in memory from the catalog, which is the source of truth
                    rows = list(catalog.lexical_rows())
                    lexical = LexicalIndex.build(
                        [r[0] for r in rows], [r[1].split() for r in rows], generation
                    )
                self._lexical = lexical
                self._generation = generation
                self._texts = {}
                self._near = None
            return self._lexical, self._generation

    def _token_counts(self, chunk_ids: Sequence[str]) -> dict[str, int]:
        """tiktoken counts of whole chunks, as measured at ingest (catalog)."""
        if not chunk_ids:
            return {}
        with self._lock:
            rows = (
                self.catalog()
                .db.execute(
                    f"SELECT chunk_id, n_tokens FROM chunks WHERE chunk_id IN "
                    f"({', '.join('?' * len(chunk_ids))})",
                    list(chunk_ids),
                )
                .fetchall()
            )
        return {str(r[0]): int(r[1]) for r in rows}

    def _document_text(self, doc_id: str) -> str:
        with self._lock:
            text = self._texts.get(doc_id)
            if text is None:
                text = self.catalog().document_text(doc_id)
                self._texts[doc_id] = text
            return text

    # dense side ----------------------------------------------------------------------
    def _dense_candidates(self) -> list[tuple[str, str, str]]:
        """(collection, kind, model) holding embedded documents, preferred first: the
        configured Ollama embedding model (unless RAG_EMBEDDER=builtin), then builtin."""
        catalog = self.catalog()

        def preference(kind: str, model: str) -> int:
            if self.settings.embedder == "builtin":
                return 0 if kind == "builtin" else 2
            if kind == "ollama" and model == self.settings.embed_model:
                return 0
            return 1 if kind == "builtin" else 2

        found = []
        for name, kind, model, _dim, _dirty in catalog.collections():
            count = catalog.embedded_count(name)
            if count:
                found.append((preference(kind, model), -count, name, kind, model))
        found.sort()
        return [(name, kind, model) for _p, _c, name, kind, model in found]

    def _dense_plan(self, generation: int) -> list[_Dense]:
        """The collections dense search may use, best first, with their query embedders.
        Nothing is opened here: Chroma only when a query needs it."""
        with self._dense_lock:
            if self._dense_generation == generation:
                return self._dense
            from index.embedders import BuiltinEmbedder, OllamaEmbedder

            with self._lock:
                candidates = self._dense_candidates()
            plan: list[_Dense] = []
            for name, kind, model in candidates:
                embedder: Embedder
                if kind == "builtin" and model == BuiltinEmbedder.model:
                    embedder = BuiltinEmbedder()
                elif kind == "ollama":
                    from rag.ollama_api import OllamaAPI

                    api = OllamaAPI(
                        self.settings.ollama_host,
                        timeout=self.settings.ollama_timeout,
                        probe_timeout=self.settings.probe_timeout,
                    )
                    embedder = OllamaEmbedder(
                        api, model, keep_alive=self.settings.ollama_keep_alive
                    )
                else:
                    continue
                if embedder.collection_name == name:
                    plan.append(_Dense(name, embedder))
            self._dense = plan
            self._dense_generation = generation
            return plan

    def _hits(
        self, dense: _Dense, generation: int, vectors: list[list[float]], n: int
    ) -> list[list[tuple[str, float]]] | None:
        """Nearest chunks per query vector, or None when the collection cannot be used.

        A failure is retried once with Chroma opened afresh: another process writing the
        embedded store (`rag ingest` beside `rag serve`) leaves this process's handles
        stale. A second failure is a StoreError (dense search skipped, with a note)."""
        try:
            return self._hits_once(dense, generation, vectors, n)
        except Exception:
            with self._dense_lock:
                for other in self._dense:
                    other.collection = None
                dense.collection = None
                if self._store is not None:
                    self._store.reopen()
        try:
            return self._hits_once(dense, generation, vectors, n)
        except RagError:
            raise
        except Exception as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"the vector store failed: {detail}") from None

    def _hits_once(
        self, dense: _Dense, generation: int, vectors: list[list[float]], n: int
    ) -> list[list[tuple[str, float]]] | None:
        with self._dense_lock:
            if not self.settings.chroma_url:
                # Embedded store: never opened here (one writer: the ingest). Dense search
                # reads the snapshot the ingest published, reloaded when it is replaced;
                # ids the catalog does not know are dropped by the caller.
                folder = self.settings.data_dir / DENSE_CACHE_DIR
                key = dense_cache.file_key(dense_cache.path_of(folder, dense.name))
                if dense.matrix is None or dense.matrix.file_key != key:
                    dense.matrix = dense_cache.load(folder, dense.name) if key else None
                if dense.matrix is None:
                    raise StoreError(f"no vector snapshot of {dense.name} yet: run `rag ingest`")
                if dense.matrix.dim != len(vectors[0]):
                    return None
                return [dense.matrix.search(v, n) for v in vectors]
            col = self._open_collection(dense)
            if col is None:
                return None
            return [self._store.search(col, v, n) for v in vectors]

    def _open_collection(self, dense: _Dense) -> Any:
        if dense.collection is None:
            from index.vectors import VectorStore

            if self._store is None:
                self._store = VectorStore(self.settings)
            dense.collection = self._store.collection(dense.embedder, create=False)
        return dense.collection

    def _dense_search(
        self, queries: Sequence[str], generation: int, n: int
    ) -> tuple[list[list[tuple[str, float]]], float, str | None]:
        notes = []
        for dense in self._dense_plan(generation):
            try:
                vectors = dense.embedder.embed(list(queries))
                hits = self._hits(dense, generation, vectors, n)
            except RagError as exc:
                # e.g. an Ollama embedding model that is down now: try the next collection
                notes.append(f"answering without dense search on {dense.name}: {exc}")
                continue
            if hits is not None:
                return hits, DENSE_WEIGHT.get(dense.embedder.kind, 1.0), "; ".join(notes) or None
        return [], 0.0, "; ".join(notes) or None

    def near_misses(self, term: str) -> list[str]:
        """Index terms resembling `term` when the index does not hold it (else none)."""
        lexical, _ = self._refresh()
        if lexical.doc_freq(term) > 0 or len(term) < 4 or not term.isascii():
            return []
        with self._lock:
            if self._near is None:
                self._near = NearMisses(lexical.vocabulary())
            near = self._near
        return near.similar(term)

    def expand(self, query: str) -> str:
        """The query plus index terms resembling its terms the index does not hold."""
        extra = [other for t in query_terms(query) for other in self.near_misses(t)]
        return f"{query} {' '.join(extra)}" if extra else query

    def term_weights(self, text: str) -> dict[str, float]:
        """The idf of each query term in the current index (unknown terms weigh most)."""
        lexical, _ = self._refresh()
        n_docs = max(1, len(lexical))
        return {t: idf(lexical.doc_freq(t), n_docs) for t in query_terms(text)}

    # searching -----------------------------------------------------------------------
    def search(
        self,
        queries: Sequence[str],
        k: int | None = None,
        *,
        budget: int | None = None,
        dense: bool = True,
        expand: bool = True,
    ) -> Retrieval:
        """Retrieve for every query variant, fuse, and return up to `k` passages whose
        text fits in `budget` tokens (settings by default), numbered from 1."""
        k = self.settings.top_k if k is None else k
        budget = self.settings.context_tokens if budget is None else budget
        variants = [q for q in dict.fromkeys(normalize_query(q) for q in queries) if q]
        if not variants or k <= 0:
            return Retrieval([])
        lexical, generation = self._refresh()
        if len(lexical) == 0:
            return Retrieval([], notes=["the index holds no chunks"])
        n = max(CANDIDATES, k * 4)
        lists: list[tuple[float, list[tuple[str, float]]]] = []
        for q in variants:
            lists.append((LEXICAL_WEIGHT, lexical.search(self.expand(q) if expand else q, n)))
        notes: list[str] = []
        if dense:
            dense_lists, weight, note = self._dense_search(variants, generation, n)
            lists.extend((weight, hits) for hits in dense_lists)
            if note:
                notes.append(note)
        fused = rrf(lists)
        with self._lock:
            views = self.catalog().chunk_views([cid for cid, _ in fused[: n * 2]])
        ranked = [(views[cid], score) for cid, score in fused if cid in views]
        passages = self._select(ranked, k, budget)
        terms = [query_terms(q) for q in variants]
        near = {t: self.near_misses(t) for ts in terms for t in ts} if expand else {}
        return Retrieval(passages, relevance(terms, passages, lexical, near), notes)

    def _select(self, ranked: list[tuple[ChunkView, float]], k: int, budget: int) -> list[Passage]:
        """Drop near-duplicates, trim partial overlaps, fill up to k passages and the
        token budget (at least one passage, even if it alone exceeds the budget)."""
        sizes = self._token_counts([view.chunk_id for view, _ in ranked[: k * 4]])
        kept: list[tuple[ChunkView, int, int, float]] = []  # view, start, end, score
        used = 0
        for view, score in ranked:
            if len(kept) >= k:
                break
            start, end = view.start, view.end
            for other, o_start, o_end, _ in kept:
                if other.doc_id != view.doc_id:
                    continue
                lo, hi = max(start, o_start), min(end, o_end)
                if hi <= lo:
                    continue
                if hi - lo > DUPLICATE_OVERLAP * (end - start):
                    start = end  # mostly a repeat of a better passage
                    break
                # cut the part a better passage already shows
                if lo <= start:
                    start = hi
                else:
                    end = lo
            if end <= start:
                continue
            if (start, end) != (view.start, view.end):
                text = self._document_text(view.doc_id)
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if end <= start:
                    continue
                piece = text[start:end]
            else:
                piece = view.text
            tokens = _tokens_of(piece, view, sizes)
            if kept and used + tokens > budget:
                continue  # a smaller passage further down may still fit
            used += tokens
            kept.append((view, start, end, score))
        passages = []
        for i, (view, start, end, score) in enumerate(kept, start=1):
            text = (
                view.text
                if (start, end) == (view.start, view.end)
                else self._document_text(view.doc_id)[start:end]
            )
            passages.append(
                Passage(
                    n=i,
                    chunk_id=view.chunk_id,
                    doc_id=view.doc_id,
                    source=view.source,
                    title=view.title,
                    lang=view.lang,
                    start=start,
                    end=end,
                    text=text,
                    score=score,
                    page=view.page,
                )
            )
        return passages


def _tokens_of(piece: str, view: ChunkView, sizes: dict[str, int]) -> int:
    """Tokens of a passage: the chunk's tiktoken count from ingest, pro-rated (with a 10%
    margin) when the passage was trimmed; counted afresh only if the catalog lacks it.
    Loading tiktoken's encoding costs 0.3 s, which the cold path avoids this way."""
    whole = sizes.get(view.chunk_id)
    if whole is None:
        from index.tokens import count_tokens

        return count_tokens(piece)
    if len(piece) >= len(view.text):
        return whole
    return min(whole, math.ceil(whole * len(piece) / max(1, len(view.text)) * 1.1) + 2)


def rrf(lists: Sequence[tuple[float, Sequence[tuple[str, float]]]]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum of weight / (RRF_K + rank) over the lists, best first.

    Ties keep first-seen order, so the first list (the original question's BM25) wins them.
    """
    scores: dict[str, float] = {}
    for weight, hits in lists:
        for rank, (cid, _score) in enumerate(hits, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def idf(df: int, n_docs: int) -> float:
    """BM25 (Lucene) inverse document frequency; an unknown term gets the highest value."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def relevance(
    variants_terms: Sequence[Sequence[str]],
    passages: Sequence[Passage],
    lexical: LexicalIndex,
    near: Mapping[str, Sequence[str]] | None = None,
) -> float:
    """The best idf-weighted share of a query variant's terms found in one passage.

    1.0: some passage holds every term of some variant; near 0: the passages share only
    common words with the question (or nothing). Terms the corpus never uses weigh the
    most, which is what makes an unanswerable question ("revenue", "Apple") score low.
    A term whose near miss (`NearMisses`, a cognate) is in the passage counts half.
    """
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
