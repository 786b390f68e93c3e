"""The dense side of retrieval: which collections to search, their query embedders, and
nearest-neighbour search globally and per corpus language.

- Collections holding embedded documents are used best first: the configured Ollama
  model (unless RAG_EMBEDDER names a local one), then the bundled multilingual model,
  then the builtin hash embedder. Each has the embedder that made it embed the query (in
  the query role: e5's `query:` prefix).
- On the embedded store, the vector snapshot the ingest publishes (`index.dense_cache`,
  memory-mapped) answers exactly; readers never open the embedded Chroma, which is not
  safe beside a writing process (and chromadb's import stays off the cold path). A
  Chroma server is queried directly.
- Per-language lists: multilingual embedders prefer passages in the question's own
  language, so an English question over a mixed pool also gets the best passages of each
  corpus language as lists of their own (`DenseHits.by_lang`); fusion weighs them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import RagError, StoreError
from core.settings import Settings
from index import dense_cache
from index.catalog import Catalog
from index.dense_cache import DenseMatrix

if TYPE_CHECKING:
    import numpy as np

    from index.embedders import Embedder

DENSE_CACHE_DIR = "dense"  # in the data dir: see index/dense_cache.py
Hits = list[tuple[str, float]]


@dataclass
class DenseHits:
    """One query's nearest chunks: over the whole collection and per corpus language."""

    all: Hits
    by_lang: dict[str, Hits] = field(default_factory=dict)

    def with_languages(self) -> Hits:
        """The global hits with each language's own nearest chunks added, best first by
        raw similarity. Across languages similarity runs lower, most across scripts: a
        Chinese question's 50 nearest chunks in a pool of Chinese, English and Vietnamese
        text were all Chinese, so taking the bias for the question's own language off
        them (`rag.retrieve`) could not bring up the English paragraph that answered
        (XQuAD zh-mixed: in the global top 20 for 39% of such questions, in the English
        list's top 5 for 98%; bench/RESULTS.md)."""
        if not self.by_lang:
            return self.all
        best: dict[str, float] = {}
        for cid, score in [*self.all, *(hit for hits in self.by_lang.values() for hit in hits)]:
            if score > best.get(cid, -math.inf):
                best[cid] = score
        return sorted(best.items(), key=lambda hit: -hit[1])


@dataclass
class DenseResult:
    hits: list[DenseHits]  # one per query, in order
    kind: str | None = None  # embedder kind that answered (None: no dense search)
    note: str | None = None
    embedder: Embedder | None = None  # the embedder that answered
    query_vector: list[float] | None = None  # the first query's vector (query role)


@dataclass
class _Dense:
    """One collection dense search may use: its query embedder, and (opened on demand)
    the Chroma collection or the cached copy of its vectors."""

    name: str
    embedder: Embedder
    collection: Any = None
    matrix: DenseMatrix | None = None
    langs: dict[str, Any] | None = None  # language -> row mask of `matrix`
    langs_key: Any = None


class DenseSearch:
    """Dense search for a `Retriever`; thread-safe, opens nothing before a query."""

    def __init__(
        self, settings: Settings, catalog: Callable[[], Catalog], lock: threading.RLock
    ) -> None:
        self.settings = settings
        self._catalog = catalog  # the retriever's catalog (used under `lock`)
        self._catalog_lock = lock
        self._lock = threading.Lock()
        self._plan: list[_Dense] = []
        self._plan_generation = -1
        self._store: Any = None

    def reset(self) -> None:
        with self._lock:
            self._plan = []
            self._plan_generation = -1

    # which collections ------------------------------------------------------------
    def _candidates(self) -> list[tuple[str, str, str]]:
        """(collection, kind, model) holding embedded documents, preferred first."""
        catalog = self._catalog()
        wanted = self.settings.embedder

        def preference(kind: str, model: str) -> int:
            if wanted in ("builtin", "bundled") and kind == wanted:
                return 0
            if wanted in ("auto", "ollama") and kind == "ollama":
                return 0 if model == self.settings.embed_model else 3
            return {"bundled": 1, "builtin": 2}.get(kind, 3)

        found = []
        for name, kind, model, _dim, _dirty in catalog.collections():
            count = catalog.embedded_count(name)
            if count:
                found.append((preference(kind, model), -count, name, kind, model))
        found.sort()
        return [(name, kind, model) for _p, _c, name, kind, model in found]

    def plan(self, generation: int) -> list[_Dense]:
        """The collections dense search may use, best first, with their query embedders."""
        with self._lock:
            if self._plan_generation == generation:
                return self._plan
            from index.embedders import BuiltinEmbedder, BundledEmbedder, OllamaEmbedder

            with self._catalog_lock:
                candidates = self._candidates()
            plan: list[_Dense] = []
            for name, kind, model in candidates:
                embedder: Embedder
                if kind == "builtin" and model == BuiltinEmbedder.model:
                    embedder = BuiltinEmbedder()
                elif kind == "bundled" and model == BundledEmbedder.model:
                    embedder = BundledEmbedder()
                elif kind == "ollama":
                    from core.ollama_api import OllamaAPI

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
            self._plan = plan
            self._plan_generation = generation
            return plan

    # searching --------------------------------------------------------------------
    def search(
        self, queries: Sequence[str], generation: int, n: int, per_lang: int = 0
    ) -> DenseResult:
        """Nearest chunks for each query with the best usable collection. `per_lang` > 0
        adds that many hits per corpus language (when the corpus has more than one)."""
        notes = []
        for dense in self.plan(generation):
            try:
                vectors = dense.embedder.embed_queries(list(queries))
                hits = self._hits(dense, generation, vectors, n, per_lang)
            except RagError as exc:
                # e.g. an Ollama embedding model that is down now: try the next collection
                notes.append(f"answering without dense search on {dense.name}: {exc}")
                continue
            if hits is not None:
                return DenseResult(
                    hits,
                    dense.embedder.kind,
                    "; ".join(notes) or None,
                    dense.embedder,
                    list(vectors[0]) if vectors else None,
                )
        return DenseResult([], None, "; ".join(notes) or None)

    def _hits(
        self, dense: _Dense, generation: int, vectors: list[list[float]], n: int, per_lang: int
    ) -> list[DenseHits] | None:
        """Nearest chunks per query vector, or None when the collection cannot be used.

        A failure is retried once with Chroma opened afresh: another process writing the
        embedded store leaves this process's handles stale. A second failure is a
        StoreError (dense search skipped, with a note)."""
        try:
            return self._hits_once(dense, generation, vectors, n, per_lang)
        except Exception:
            with self._lock:
                for other in self._plan:
                    other.collection = None
                dense.collection = None
                if self._store is not None:
                    self._store.reopen()
        try:
            return self._hits_once(dense, generation, vectors, n, per_lang)
        except RagError:
            raise
        except Exception as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"the vector store failed: {detail}") from None

    def _languages(self) -> dict[str, str]:
        """chunk id -> language of its document."""
        with self._catalog_lock:
            rows = (
                self._catalog()
                .db.execute(
                    "SELECT c.chunk_id, d.lang FROM chunks c JOIN documents d USING (doc_id)"
                )
                .fetchall()
            )
        return {str(r[0]): str(r[1]) for r in rows}

    def _masks(self, dense: _Dense, key: Any) -> dict[str, np.ndarray]:
        if dense.langs is None or dense.langs_key != key:
            import numpy as np

            assert dense.matrix is not None
            lang_of = self._languages()
            column = [lang_of.get(cid, "") for cid in dense.matrix.ids]
            langs = sorted({lang for lang in column if lang})
            arr = np.asarray(column, dtype=object)
            dense.langs = {lang: arr == lang for lang in langs}
            dense.langs_key = key
        return dense.langs

    def _hits_once(
        self, dense: _Dense, generation: int, vectors: list[list[float]], n: int, per_lang: int
    ) -> list[DenseHits] | None:
        with self._lock:
            if not self.settings.chroma_url:
                # Embedded store: never opened here (one writer: the ingest). Dense search
                # reads the snapshot the ingest published, reloaded when it is replaced;
                # ids the catalog does not know are dropped by the caller.
                folder = self.settings.data_dir / DENSE_CACHE_DIR
                file_key = dense_cache.file_key(dense_cache.path_of(folder, dense.name))
                if dense.matrix is None or dense.matrix.file_key != file_key:
                    dense.matrix = dense_cache.load(folder, dense.name) if file_key else None
                if dense.matrix is None:
                    raise StoreError(f"no vector snapshot of {dense.name} yet: run `rag ingest`")
                if dense.matrix.dim != len(vectors[0]):
                    return None
                key = (dense.matrix.file_key, generation)
                masks = self._masks(dense, key) if per_lang > 0 else {}
                if len(masks) < 2:
                    masks = {}
                out = []
                for v in vectors:
                    hits = DenseHits(dense.matrix.search(v, n))
                    for lang, mask in masks.items():
                        hits.by_lang[lang] = dense.matrix.search(v, per_lang, mask=mask)
                    out.append(hits)
                return out
            col = self._open_collection(dense)
            if col is None:
                return None
            with self._catalog_lock:
                langs = list(self._catalog().languages()) if per_lang > 0 else []
            if len(langs) < 2:
                langs = []
            out = []
            for v in vectors:
                hits = DenseHits(self._store.search(col, v, n))
                for lang in langs:
                    hits.by_lang[lang] = self._store.search(col, v, per_lang, where={"lang": lang})
                out.append(hits)
            return out

    def _open_collection(self, dense: _Dense) -> Any:
        if dense.collection is None:
            from index.vectors import VectorStore

            if self._store is None:
                self._store = VectorStore(self.settings)
            dense.collection = self._store.collection(dense.embedder, create=False)
        return dense.collection
