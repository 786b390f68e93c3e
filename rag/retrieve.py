"""Hybrid retrieval: BM25 (lexical) and dense result lists, fused (`rag.fusion`),
deduplicated, cut to top-k and a context budget in tiktoken tokens.

- Query normalisation is the lexical tokenizer's (`index.lexical.tokenize`): NFKC, case
  folding, numbers canonicalised (340,000 = 340.000 = 340 000 = 340 ribu = 34万), acronym
  plurals folded (H100s -> h100), Chinese segmented. The same function tokenised the
  chunks at ingest, so names and numbers match across languages without a model.
- Several query variants (the question, its rewrites into the corpus languages, a
  follow-up's context) each retrieve both ways; every list goes into one fusion, and the
  dense side adds per-language lists (`rag.dense`).
- Only chunk ids the catalog knows are returned (`Catalog.chunk_views`), so a document
  half-written by a concurrent ingest never shows. When the catalog's generation changes,
  BM25 is reloaded (or rebuilt in memory if the saved index lags behind the catalog).
- A query term the index lacks gets its near misses added (`rag.nearmiss`).
- With the bundled embedder and a single query, the first fused passages are re-ordered
  by their best sentence's similarity to the question (`rag.rerank`), then renumbered.
- `Retrieval.signals` carries what abstention needs (`rag.abstain`): lexical coverage of
  the question, the best dense similarity of a chunk and of a sentence (`rag.sentences`),
  whether the rankers agree, and whether the nearest chunk is in another language or
  script.

Everything here is thread-safe; nothing is opened before the first query.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.errors import RagError, StoreError
from core.settings import Settings
from index.catalog import Catalog, ChunkView
from index.language import UNKNOWN, crossing, latin_script, question_language, same_language
from index.lexical import LexicalIndex, tokenize
from index.sentence_store import SENTENCE_DB, SentenceVectorStore
from rag.coverage import coverage, idf
from rag.dense import DENSE_CACHE_DIR, DenseSearch
from rag.fusion import Hits, RankedList, fuse, params_for, rrf
from rag.nearmiss import HELD_DICE, NEAR_MISS_PER_TERM, NearMisses
from rag.rerank import sentence_rerank
from rag.schema import Passage
from rag.sentences import (
    NEURAL,
    TOP_PASSAGES,
    RetrievalSentences,
    SentenceSimilarity,
    same_language_bias,
)

if TYPE_CHECKING:
    from index.embedders import Embedder

__all__ = [
    "DENSE_CACHE_DIR",
    "MAX_QUERY_CHARS",
    "NearMisses",
    "Retrieval",
    "Retriever",
    "normalize_query",
    "query_terms",
    "rrf",
]

MAX_QUERY_CHARS = 2000  # a longer question is cut for retrieval (BM25 and embeddings)
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


@dataclass
class Retrieval:
    """The outcome of one retrieval: numbered passages and how relevant the best one is."""

    passages: list[Passage]
    relevance: float = 0.0  # 0..1: idf-weighted share of query terms in the best passage
    notes: list[str] = field(default_factory=list)  # e.g. dense search unavailable
    signals: dict[str, float] = field(default_factory=dict)  # for abstention
    dense_kind: str | None = None  # embedder kind of the dense lists (None: lexical only)
    # question-sentence similarity (neural embedders only): for abstention and the
    # model-free answer
    sentences: RetrievalSentences | None = None
    # the passages abstention's sentence signals read: fusion's first (None: `passages`)
    fused: list[Passage] | None = None

    def sentence_signals(self) -> dict[str, float]:
        """`signals` with the sentence-level ones added (`rag.sentences`): computed on the
        first call, since it embeds the top passages' sentences."""
        if self.sentences is not None and "sent_top" not in self.signals:
            passages = self.passages if self.fused is None else self.fused
            self.signals.update(self.sentences.signals(passages))
        return self.signals


@dataclass
class Ranking:
    """The ranked lists of one retrieval, before fusion."""

    lists: list[RankedList]
    dense_kind: str | None
    notes: list[str]
    signals: dict[str, float]
    depth: int
    embedder: Embedder | None = None  # the dense side's embedder and the question's vector
    query_vector: list[float] | None = None
    language: str = "und"  # the first variant's (`Retriever.question_language`), dense side


HELD_MIN_CHARS = 6  # a shorter indexed name has too many look-alikes (apple ~ aplikasi)


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
        self._sentences = SentenceSimilarity(
            store=SentenceVectorStore(settings.data_dir / SENTENCE_DB)
        )
        self.dense = DenseSearch(settings, self.catalog, self._lock)

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
            self.dense.reset()

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
            if self._sentences.store is not None:
                self._sentences.store.close()
            self._lexical = None
            self._generation = -1
        self.dense.reset()

    def page_of(self, doc_id: str, offset: int) -> int | None:
        """The page of a document offset (PDFs; `Catalog.page_of`), None without pages."""
        with self._lock:
            return self.catalog().page_of(doc_id, offset)

    def languages(self) -> dict[str, int]:
        """Corpus languages and their document counts (from the catalog)."""
        with self._lock:
            return self.catalog().languages()

    def question_language(self, question: str) -> str:
        """The question's language among the corpus languages and English
        (`index.language.question_language`)."""
        return question_language(question, self.languages())

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

    def document_text(self, doc_id: str) -> str | None:
        """A document's extracted text (None when it is no longer indexed)."""
        try:
            return self._document_text(doc_id)
        except KeyError:
            return None

    def lexical_texts(self, queries: Sequence[str], k: int = 100) -> list[str]:
        """The text of BM25's first `k` chunks for each query, once each (where the index
        names a product with a version, `rag.versions`: "llama 4" and "llama4", as the
        tokenizer reads "Llama 4" and "Llama4"; the chunks holding both words rank first)."""
        lexical, _ = self._refresh()
        if not len(lexical):
            return []
        ids = list(
            dict.fromkeys(cid for q in queries for cid, _ in lexical.search(normalize_query(q), k))
        )
        with self._lock:
            views = self.catalog().chunk_views(ids)
        return [views[cid].text for cid in ids if cid in views]

    def span_passage(self, doc_id: str, start: int, end: int, n: int) -> Passage | None:
        """Characters `start:end` of `doc_id` as passage [n], from the chunk that holds
        them whole (a source the model-free answer cites beyond the retrieved ones: a
        speaker's label above them); None when no chunk does."""
        view = self._view_holding(doc_id, start, end)
        if view is None or not start < end:
            return None
        text = view.text[start - view.start : end - view.start]
        page = self.page_of(doc_id, start) if view.page is not None else None
        return Passage(
            n, view.chunk_id, view.doc_id, view.source, view.title, view.lang,
            start, end, text, 0.0, page or view.page,
        )  # fmt: skip

    def chunk_at(self, doc_id: str, at: int, n: int) -> Passage | None:
        """The first chunk of `doc_id` that holds character `at`, whole, as passage [n] (the
        chunk that goes on where a retrieved one ends); None when none does."""
        view = self._view_holding(doc_id, at, at + 1)
        if view is None:
            return None
        return Passage(
            n, view.chunk_id, view.doc_id, view.source, view.title, view.lang,
            view.start, view.end, view.text, 0.0, view.page,
        )  # fmt: skip

    def _view_holding(self, doc_id: str, start: int, end: int) -> ChunkView | None:
        """The first chunk of `doc_id` that holds characters `start:end` whole."""
        with self._lock:
            catalog = self.catalog()
            row = next(
                (c for c in catalog.chunks_of(doc_id) if c.start <= start and end <= c.end),
                None,
            )
            return catalog.chunk_views([row.chunk_id]).get(row.chunk_id) if row else None

    def _document_text(self, doc_id: str) -> str:
        with self._lock:
            text = self._texts.get(doc_id)
            if text is None:
                text = self.catalog().document_text(doc_id)
                self._texts[doc_id] = text
            return text

    def near_misses(self, term: str, *, held: bool = False) -> list[str]:
        """Index terms resembling `term` when the index does not hold it (else none);
        `held`: also when it does (a name spelt otherwise in another language: Anthropic,
        Antropis), `term` itself left out."""
        lexical, _ = self._refresh()
        indexed = lexical.doc_freq(term) > 0
        if indexed and (not held or len(term) < HELD_MIN_CHARS):
            return []
        if len(term) < 4 or not term.isascii():
            return []
        with self._lock:
            if self._near is None:
                self._near = NearMisses(lexical.vocabulary())
            near = self._near
        if not indexed:
            return near.similar(term)
        # it finds the term itself; a word the name starts with is another word (open)
        found = near.similar(term, NEAR_MISS_PER_TERM + 1, HELD_DICE)
        return [o for o in found if o != term and not term.startswith(o)][:NEAR_MISS_PER_TERM]

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
        rerank: bool = True,
    ) -> Retrieval:
        """Retrieve for every query variant, fuse, and return up to `k` passages whose
        text fits in `budget` tokens (settings by default), numbered from 1. With a neural
        embedder the first `settings.rerank_depth` are re-ordered by their best sentence
        (`rag.rerank`; `rerank=False`: fusion's order)."""
        k = self.settings.top_k if k is None else k
        budget = self.settings.context_tokens if budget is None else budget
        variants = [q for q in dict.fromkeys(normalize_query(q) for q in queries) if q]
        if not variants or k <= 0:
            return Retrieval([])
        lexical, _generation = self._refresh()
        if len(lexical) == 0:
            return Retrieval([], notes=["the index holds no chunks"])
        ranking = self.rank_lists(variants, max(k * 4, 1), dense=dense, expand=expand)
        fused = fuse(ranking.lists, params_for(ranking.dense_kind), slots=k)
        n = ranking.depth
        with self._lock:
            views = self.catalog().chunk_views([cid for cid, _ in fused[: n * 2]])
        ranked = [(views[cid], score) for cid, score in fused if cid in views]
        passages = self._select(ranked, k, budget)
        notes = list(ranking.notes)
        # abstention's sentence signals read the sentences of fusion's first TOP_PASSAGES
        # passages, the set its thresholds were chosen on, whatever the rerank brings up
        # from below them: the rerank's reach of 8 passages (it was 5) raised the best
        # sentence's similarity of unanswerable Chinese questions more than of answerable
        # ones (XQuAD left-out Chinese abstention 48.9% -> 42.2% at thresholds chosen again;
        # bench/RESULTS.md)
        fused_top = passages[:TOP_PASSAGES]
        # one question only: with rewrites into the corpus languages fusion is already
        # strong, and the rerank measured lower there (XQuAD en-mixed with rewrites
        # recall@1 0.911 -> 0.892, bench/RESULTS.md); a follow-up's bare words are no
        # question to rank by
        if rerank and len(variants) == 1 and ranking.embedder is not None and ranking.query_vector:
            try:
                passages = sentence_rerank(
                    passages,
                    self._sentences,
                    ranking.embedder,
                    [ranking.query_vector],
                    self.settings.rerank_depth,
                    language=ranking.language,
                )
            except RagError as exc:  # the embedder failed now: fusion's order stands
                notes.append(f"passages in fusion's order (sentence rerank failed: {exc})")
        terms = [query_terms(q) for q in variants]
        near = {t: self.near_misses(t) for ts in terms for t in ts} if expand else {}
        cover = coverage(terms, passages, lexical, near)
        signals = dict(ranking.signals, coverage=cover)
        sentences = None
        if (
            ranking.embedder is not None
            and ranking.query_vector is not None
            and ranking.embedder.kind in NEURAL
        ):
            sentences = RetrievalSentences(
                self._sentences,
                ranking.embedder,
                variants[0],
                ranking.query_vector,
                ranking.language,
            )
        return Retrieval(passages, cover, notes, signals, ranking.dense_kind, sentences, fused_top)

    def _cross(self, asked: str, chunk_id: str) -> tuple[float, float]:
        """(cross, cross_script) of a question in language `asked` over the nearest chunk
        (`index.language.crossing`): similarity across languages runs lower, lowest across
        scripts, and abstention must not read that as irrelevance."""
        with self._lock:
            langs = self.catalog().chunk_languages([chunk_id])
        if chunk_id not in langs:
            return 0.0, 0.0
        return crossing(asked, langs[chunk_id])

    def _held(self, query: str, hits: Sequence[tuple[str, float]], lexical: LexicalIndex) -> float:
        """The idf-weighted share of the query's terms (a near miss counts half) that the
        first hit holds: BM25's confidence in its own ranking (`rag.fusion`)."""
        if not hits:
            return 0.0
        with self._lock:
            row = (
                self.catalog()
                .db.execute("SELECT lex FROM chunks WHERE chunk_id = ?", (hits[0][0],))
                .fetchone()
            )
        have = set(str(row[0]).split()) if row else set()
        n_docs = max(1, len(lexical))
        total = got = 0.0
        for t in query_terms(query):
            w = idf(lexical.doc_freq(t), n_docs)
            total += w
            if t in have:
                got += w
            elif any(o in have for o in self.near_misses(t)):
                got += w / 2
        return got / total if total > 0 else 0.0

    def rank_lists(
        self,
        variants: Sequence[str],
        min_depth: int = 0,
        *,
        dense: bool = True,
        expand: bool = True,
        lang_depth: int | None = None,
    ) -> Ranking:
        """Every ranked list for the (normalised) query variants, before fusion: BM25 and
        dense per variant, dense per corpus language. `bench/tune_fusion.py` fuses these
        with other parameters to choose `rag.fusion.PARAMS`."""
        lexical, generation = self._refresh()
        kind = None
        notes: list[str] = []
        lists: list[RankedList] = []
        # the depth of the dense embedder's parameters (known once the plan is)
        plan = self.dense.plan(generation) if dense else []
        params = params_for(plan[0].embedder.kind if plan else None)
        n = max(params.depth, min_depth)
        for i, q in enumerate(variants):
            hits = lexical.search(self.expand(q) if expand else q, n)
            lists.append(
                RankedList("lexical", hits, variant=i, confidence=self._held(q, hits, lexical))
            )
        signals: dict[str, float] = {}
        embedder: Embedder | None = None
        query_vector: list[float] | None = None
        asked: list[str] = ["und"]
        if dense and plan:
            per_lang = params.lang_depth if lang_depth is None else lang_depth
            result = self.dense.search(variants, generation, n, per_lang=per_lang)
            if result.note:
                notes.append(result.note)
            kind = result.kind
            embedder, query_vector = result.embedder, result.query_vector
            asked = [self.question_language(q) for q in variants]  # once per search
            globals_: list[Hits] = []
            for i, dh in enumerate(result.hits):
                bias = same_language_bias(kind, asked[i])
                globals_.append(self._unbiased(dh.with_languages(), asked[i], bias))
                lists.append(RankedList("dense", globals_[-1], variant=i))
                for lang, hits in dh.by_lang.items():
                    lists.append(RankedList("dense", hits, variant=i, lang=lang))
            if globals_ and globals_[0]:
                # abstention reads the similarities with the bias taken off too: an
                # English question's nearest English chunk of another article looked
                # answerable (bench/RESULTS.md)
                top = globals_[0]
                scores = [score for _cid, score in top]
                mean = sum(scores) / len(scores)
                spread = math.sqrt(sum((x - mean) ** 2 for x in scores) / len(scores))
                signals["dense_top"] = top[0][1]
                signals["dense_gap"] = top[0][1] - top[min(len(top), 10) - 1][1]
                signals["dense_z"] = (top[0][1] - mean) / (spread + 1e-6)
                signals["cross"], signals["cross_script"] = self._cross(asked[0], top[0][0])
                # which way a crossing of scripts goes picks abstention's threshold: a
                # Chinese question over Latin text is not English over Chinese
                signals["asked_latin"] = float(latin_script(asked[0]))
                lex_top = [cid for cid, _ in lists[0].hits[:5]]
                dense_top5 = [cid for cid, _ in top[:5]]
                signals["agree"] = float(
                    bool(lex_top) and (lex_top[0] in dense_top5 or dense_top5[0] in lex_top)
                )
        return Ranking(lists, kind, notes, signals, n, embedder, query_vector, asked[0])

    def _unbiased(self, hits: Hits, asked: str, bias: float) -> Hits:
        """`hits` re-ranked with the embedder's bias for the question's own language taken
        off (`rag.sentences.same_language_bias`): an English question's English chunks no
        longer crowd out the Chinese or Vietnamese one that answers (XQuAD en-mixed
        recall@5 0.908 -> 0.945, the other dev sets level; bench/RESULTS.md); abstention's
        chunk-level signals are read off the result too. `asked`: the question's language."""
        if not bias or not hits or asked in UNKNOWN:
            return hits
        with self._lock:
            langs = self.catalog().chunk_languages([cid for cid, _ in hits])
        adjusted = [
            (cid, score - bias if same_language(asked, langs.get(cid, "und")) else score)
            for cid, score in hits
        ]
        return sorted(adjusted, key=lambda hit: -hit[1])  # stable: ties keep their order

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
