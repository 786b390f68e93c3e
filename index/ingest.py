"""Incremental ingestion: scan -> diff against the manifest -> load -> chunk -> embed ->
store, with a summary of what happened.

Unchanged files (same size and mtime, or same content hash) cost no loading and no
embedding call. Each document is committed on its own (vectors first, then the catalog
in one transaction), so an interrupted ingest keeps what it finished and the next one
converges. Only one ingest runs at a time per data directory (a lock file).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.catalog import Catalog, ChunkRow, DocumentRow
from index.chunker import chunk_spans
from index.embedders import BuiltinEmbedder, BundledEmbedder, Embedder, resolve_embedder
from index.language import detect_language
from index.lexical import LexicalIndex, tokenize
from index.loaders import load_bytes
from index.scan import Candidate, ScanResult, scan
from index.vectors import VectorStore
from rag.errors import DocumentError, StoreError
from rag.ollama_api import OllamaAPI
from rag.settings import Settings

ProgressFactory = Callable[[int, str], Any]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    reembedded: list[str] = field(default_factory=list)  # same content, new embedder
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks written (embedded) by this run
    embed_requests: int = 0
    seconds: float = 0.0
    embedder: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.reembedded)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "reembedded": self.reembedded,
            "removed": self.removed,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "chunks": self.chunks,
            "embed_requests": self.embed_requests,
            "seconds": round(self.seconds, 3),
            "embedder": self.embedder,
            "note": self.note,
        }

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}, "
            f"skipped {len(self.skipped)}"
            + (f", re-embedded {len(self.reembedded)}" if self.reembedded else "")
            + f"; {self.chunks} chunks embedded in {self.seconds:.2f} s "
            f"({self.embedder.get('kind')} {self.embedder.get('model')})"
        )


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Refuse a second concurrent ingest on the same data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ingest.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StoreError(
                f"another ingest is running on {data_dir} (pid {holder}); wait for it to finish"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _doc_id(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16]


def _chunk_id(doc_id: str, ordinal: int, text: str) -> str:
    return f"{doc_id}-{ordinal:05d}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


@dataclass
class _Pending:
    row: DocumentRow
    text: str
    chunks: list[ChunkRow]
    status: str  # "added" | "updated" | "reembedded"
    source: str


class Ingestor:
    """One ingest run over a data directory."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: bool | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.api = OllamaAPI(
            settings.ollama_host,
            timeout=settings.ollama_timeout,
            probe_timeout=settings.probe_timeout,
        )
        self._embedder = embedder
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.log = log or (lambda message: None)
        self._leftovers = False  # set per run: vectors an interrupted run may have left

    def run(self, paths: list[str]) -> IngestReport:
        start = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            catalog = Catalog(self.settings.catalog_path)
            try:
                self._run(paths, catalog, report)
            finally:
                catalog.close()
        report.seconds = time.perf_counter() - start
        return report

    def remove(self, targets: list[str]) -> IngestReport:
        """Forget documents, named by doc_id, source (as ingested) or path: from the
        catalog, from every vector collection, and from the lexical index. The files
        themselves are not touched. Unknown names are reported in `skipped`."""
        start = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            catalog = Catalog(self.settings.catalog_path)
            try:
                docs = catalog.documents()
                store = VectorStore(self.settings)
                for target in targets:
                    hits = [d for d in docs if target in (d.doc_id, d.source, d.path)]
                    if not hits:
                        report.skipped.append((target, "not in the index"))
                        continue
                    for doc in hits:
                        # Catalog first: it marks every collection dirty, so a crash
                        # before the vectors go leaves only orphans the next ingest sweeps.
                        catalog.remove_document(doc.doc_id)
                        for name, *_rest in catalog.collections():
                            col = store.named(name)
                            if col is not None:
                                store.delete_documents(col, [doc.doc_id])
                        report.removed.append(doc.source)
                    docs = [d for d in docs if d not in hits]
                if report.removed or self._lexical_stale(catalog):
                    self._rebuild_lexical(catalog)
            finally:
                catalog.close()
        report.seconds = time.perf_counter() - start
        return report

    def _run(self, paths: list[str], catalog: Catalog, report: IngestReport) -> None:
        embedder: Embedder
        if self._embedder is not None:
            embedder = self._embedder
        else:
            # the bundled model is only looked for here; it is loaded below if there is
            # anything to embed (an unchanged re-ingest never pays for it)
            embedder, report.note = resolve_embedder(self.settings, self.api, load=False)
        store = VectorStore(self.settings)
        opened: list[Any] = []

        def col() -> Any:
            # Opened on first use: an unchanged corpus never pays Chroma's start-up.
            if not opened:
                opened.append(store.collection(embedder))
                catalog.record_collection(
                    embedder.collection_name, embedder.kind, embedder.model, embedder.dim
                )
            return opened[0]

        report.embedder = embedder.describe()

        found = scan(paths)
        report.skipped.extend(found.skipped)
        # Dirty at the start: an earlier run died between Chroma and the catalog. The flag
        # must then stay up until the sweep below has run, even across another crash.
        self._leftovers = catalog.is_dirty(embedder.collection_name)
        try:
            pending = self._plan(found.candidates, catalog, embedder, report)
            if pending and self._embedder is None and embedder.kind == "bundled":
                failed = BundledEmbedder.available(load=True)
                if failed:  # a model file that does not load: fall back, plan again
                    embedder = BuiltinEmbedder()
                    report.note = f"{failed}: using the builtin hash embedder"
                    report.embedder = embedder.describe()
                    self._leftovers = catalog.is_dirty(embedder.collection_name)
                    report.unchanged, report.skipped = [], list(found.skipped)
                    pending = self._plan(found.candidates, catalog, embedder, report)
            self._write(pending, catalog, store, col, embedder, report)
            self._remove_missing(found, catalog, store, report)
        finally:
            if self._leftovers or catalog.is_dirty(embedder.collection_name):
                self._sweep(catalog, store, col(), embedder)
            if report.changed or self._lexical_stale(catalog):
                self._rebuild_lexical(catalog)
        report.embedder = embedder.describe()
        if opened:
            catalog.record_collection(
                embedder.collection_name, embedder.kind, embedder.model, embedder.dim
            )

    # planning -------------------------------------------------------------------------
    def _plan(
        self,
        candidates: list[Candidate],
        catalog: Catalog,
        embedder: Embedder,
        report: IngestReport,
    ) -> list[_Pending]:
        pending: list[_Pending] = []
        coll = embedder.collection_name
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        for cand in candidates:
            try:
                st = cand.path.stat()
            except OSError as exc:
                report.skipped.append((cand.source, f"cannot stat ({exc.strerror or exc})"))
                continue
            if st.st_size > max_bytes:
                report.skipped.append(
                    (cand.source, f"larger than RAG_MAX_FILE_MB={self.settings.max_file_mb:g}")
                )
                continue
            existing = catalog.get_by_path(str(cand.path))
            if (
                existing is not None
                and existing.size == st.st_size
                and existing.mtime_ns == st.st_mtime_ns
                and catalog.is_embedded(coll, existing.doc_id, existing.sha256)
            ):
                if existing.source != cand.source or existing.root != cand.root:
                    catalog.touch(
                        existing.doc_id, st.st_size, st.st_mtime_ns, cand.source, cand.root
                    )
                report.unchanged.append(cand.source)
                continue
            try:
                data = cand.path.read_bytes()
            except OSError as exc:
                report.skipped.append((cand.source, f"cannot read ({exc.strerror or exc})"))
                continue
            sha = hashlib.sha256(data).hexdigest()
            if existing is not None and existing.sha256 == sha:
                catalog.touch(existing.doc_id, st.st_size, st.st_mtime_ns, cand.source, cand.root)
                if catalog.is_embedded(coll, existing.doc_id, sha):
                    report.unchanged.append(cand.source)
                else:
                    text = catalog.document_text(existing.doc_id)
                    pending.append(
                        _Pending(
                            existing,
                            text,
                            catalog.chunks_of(existing.doc_id),
                            "reembedded",
                            cand.source,
                        )
                    )
                continue
            try:
                pending.append(self._prepare(cand, data, sha, st, existing is not None))
            except DocumentError as exc:
                report.skipped.append((cand.source, str(exc).removeprefix(f"{cand.source}: ")))
            except Exception as exc:  # a parser bug on one hostile file must not stop the rest
                detail = (str(exc).strip().splitlines() or [""])[0][:200]
                report.skipped.append(
                    (cand.source, f"cannot load ({type(exc).__name__}: {detail})")
                )
        return pending

    def _prepare(
        self, cand: Candidate, data: bytes, sha: str, st: os.stat_result, exists: bool
    ) -> _Pending:
        loaded = load_bytes(data, cand.source)
        text = loaded.text
        doc_id = _doc_id(cand.path)
        spans = chunk_spans(text, self.settings.chunk_size, self.settings.chunk_overlap)
        chunks = []
        for ordinal, span in enumerate(spans):
            piece = text[span.start : span.end]
            chunks.append(
                ChunkRow(
                    chunk_id=_chunk_id(doc_id, ordinal, piece),
                    doc_id=doc_id,
                    ord=ordinal,
                    start=span.start,
                    end=span.end,
                    page=loaded.page_at(span.start),
                    n_tokens=span.tokens,
                    lex=" ".join(tokenize(piece)),
                )
            )
        row = DocumentRow(
            doc_id=doc_id,
            path=str(cand.path),
            source=cand.source,
            root=cand.root,
            sha256=sha,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            title=loaded.title or cand.path.stem,
            lang=detect_language(text),
            format=loaded.format,
            encoding=loaded.encoding,
            n_chunks=len(chunks),
            ingested_at=time.time(),
        )
        return _Pending(row, text, chunks, "updated" if exists else "added", cand.source)

    # writing --------------------------------------------------------------------------
    def _write(
        self,
        pending: list[_Pending],
        catalog: Catalog,
        store: VectorStore,
        col_of: Callable[[], Any],
        embedder: Embedder,
        report: IngestReport,
    ) -> None:
        if not pending:
            return
        col = col_of()
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        total = sum(len(p.chunks) for p in pending)
        bar = self._bar(total)
        # Embed several documents per round so small files still fill whole batches.
        group: list[_Pending] = []
        group_chunks = 0
        target = max(embedder.batch_size * 4, 64)

        def flush() -> None:
            nonlocal group, group_chunks
            texts = [p.text[c.start : c.end] for p in group for c in p.chunks]

            def advance(n: int) -> None:
                report.embed_requests += 1  # embed() reports once per batch
                if bar is not None:
                    bar.update(n)

            vectors = embedder.embed(texts, progress=advance) if texts else []
            store._check(col, embedder)  # the first vectors fix an unknown dimension
            nodes = []
            stale: list[str] = []  # vector ids to clear first: old chunks, crash leftovers
            vi = 0
            for p in group:
                if p.status != "added":
                    stale.extend(c.chunk_id for c in catalog.chunks_of(p.row.doc_id))
                for c in p.chunks:
                    stale.append(c.chunk_id)
                    nodes.append(
                        TextNode(
                            id_=c.chunk_id,
                            text=texts[vi],
                            embedding=vectors[vi],
                            metadata={
                                "source": p.source,
                                "ord": c.ord,
                                "start": c.start,
                                "end": c.end,
                                "page": c.page or 0,
                                "lang": p.row.lang,
                                "title": p.row.title[:200],
                            },
                            excluded_embed_metadata_keys=[
                                "source",
                                "ord",
                                "start",
                                "end",
                                "page",
                                "lang",
                                "title",
                            ],
                            relationships={
                                NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.row.doc_id)
                            },
                        )
                    )
                    vi += 1
            # One delete and one add for the whole group: per-document calls (a metadata
            # `where` delete, then an add) cost Chroma a commit each and made ingestion
            # slower than llama-index's own pipeline. Vectors first, then the catalog: a
            # crash in between leaves vectors the catalog does not know, which the dirty
            # flag has the next run sweep.
            catalog.begin_vector_write(
                embedder.collection_name, [p.row.doc_id for p in group if p.status != "added"]
            )
            store.delete_ids(col, sorted(set(stale)))
            if nodes:
                store.write(col, nodes)
            for p in group:
                if p.status == "reembedded":
                    catalog.mark_embedded(embedder.collection_name, p.row.doc_id, p.row.sha256)
                    report.reembedded.append(p.source)
                else:
                    catalog.put_document(p.row, p.text, p.chunks, embedder.collection_name)
                    (report.added if p.status == "added" else report.updated).append(p.source)
                report.chunks += len(p.chunks)
                self.log(f"{p.status}: {p.source} ({len(p.chunks)} chunks)")
            if not self._leftovers:
                catalog.set_dirty(embedder.collection_name, False)
            group, group_chunks = [], 0

        try:
            for p in pending:
                group.append(p)
                group_chunks += len(p.chunks)
                if group_chunks >= target:
                    flush()
            if group:
                flush()
        finally:
            if bar is not None:
                bar.close()

    def _bar(self, total: int) -> Any:
        if not self.progress or total == 0:
            return None
        from tqdm import tqdm

        return tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, leave=False)

    def _remove_missing(
        self, found: ScanResult, catalog: Catalog, store: VectorStore, report: IngestReport
    ) -> None:
        """Forget documents whose files disappeared from a folder being ingested, or that
        were named on the command line and no longer exist. Nothing else is removed: a
        file that merely failed to load this time keeps its indexed version."""
        present = {str(c.path) for c in found.candidates}

        def under(path: str, folder: str) -> bool:
            return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)

        named_missing = {src: os.path.abspath(src) for src, _ in found.missing}
        matched: set[str] = set()
        for doc in catalog.documents():
            if doc.path in present:
                continue
            hit = [src for src, absolute in named_missing.items() if under(doc.path, absolute)]
            in_root = any(under(doc.path, root) for root in found.roots)
            if not hit and not (in_root and not os.path.lexists(doc.path)):
                continue
            matched.update(hit)
            for name, *_rest in catalog.collections():
                other = store.named(name)
                if other is not None:
                    store.delete_documents(other, [doc.doc_id])
            catalog.remove_document(doc.doc_id)
            report.removed.append(doc.source)
        for src in named_missing:
            if src not in matched:
                report.skipped.append((src, "no such file or folder"))

    # derived indexes ------------------------------------------------------------------
    def _lexical_stale(self, catalog: Catalog) -> bool:
        return LexicalIndex.saved_generation(self.settings.lexical_dir) != catalog.generation

    def _rebuild_lexical(self, catalog: Catalog) -> None:
        ids: list[str] = []
        tokens: list[list[str]] = []
        for chunk_id, lex in catalog.lexical_rows():
            ids.append(chunk_id)
            tokens.append(lex.split())
        LexicalIndex.build(ids, tokens, catalog.generation).save(self.settings.lexical_dir)

    def _sweep(self, catalog: Catalog, store: VectorStore, col: Any, embedder: Embedder) -> None:
        """Delete vectors whose chunk ids the catalog no longer knows (crash leftovers,
        documents changed while another embedder was active)."""
        known = catalog.all_chunk_ids()
        orphans = sorted(store.ids(col) - known)
        if orphans:
            store.delete_ids(col, orphans)
            catalog.bump()
        catalog.set_dirty(embedder.collection_name, False)


def ingest(paths: list[str], settings: Settings, **kwargs: Any) -> IngestReport:
    return Ingestor(settings, **kwargs).run(paths)
