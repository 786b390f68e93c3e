"""Incremental ingestion: scan -> diff against the manifest -> load -> chunk -> embed ->
store, with a summary of what happened.

Unchanged files (same size and mtime, or same content hash) cost no loading and no
embedding call. Documents stream through a chunk -> embed -> write loop (a worker thread
prepares the next documents while this one is embedded; memory holds one round of
vectors, however large the document), and each document is committed on its own
(vectors first, then the catalog in one transaction), so an interrupted ingest keeps
what it finished and the next one converges. A document whose embedding or store write
fails is skipped with the reason; the rest goes on.

One writer: only the process holding the ingest lock (`<data_dir>/ingest.lock`) opens
the embedded Chroma store, and it closes it before releasing the lock. Readers answer
from the vector snapshot the ingest publishes (`index.dense_cache`). Every ingest checks
that the store holds the vectors the catalog claims and the snapshot what the store
holds, and repairs what is off (see `Ingestor._verify`).
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import queue
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import (
    DocumentError,
    EmbedderMismatchError,
    ModelNotFoundError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    StoreError,
)
from core.ollama_api import OllamaAPI
from core.settings import Settings
from index import dense_cache
from index.catalog import Catalog, ChunkRow, DocumentRow
from index.chunker import Span, chunk_spans
from index.dense_cache import SnapshotWriter
from index.embedders import BuiltinEmbedder, BundledEmbedder, Embedder, resolve_embedder
from index.language import detect_language
from index.lexical import LexicalIndex, tokenize
from index.loaders import LoadedDocument, load_bytes
from index.scan import Candidate, ScanResult, scan
from index.storage import describe_os_error, storage_problem
from index.vectors import VectorStore

DENSE_DIR = "dense"  # vector snapshots, in the data dir (index/dense_cache.py)
ROUND_CHUNKS = 64  # chunks embedded and written per round, at least (and 4 batches)
MAX_ROUND_CHUNKS = 512  # and at most: a round's vectors exist in several copies at once
BLOCK_CHARS = 2_000_000  # a longer text is chunked a block at a time (memory)
PREFETCH_BYTES = 32 * 1024 * 1024  # source bytes the preparing thread may run ahead
# Embedding failures that are about the embedder, not one document: the run stops.
FATAL_EMBED_ERRORS = (
    EmbedderMismatchError,
    ModelNotFoundError,
    OllamaTimeoutError,
    OllamaUnavailableError,
)
PUBLISH_EVERY = 20.0  # seconds between snapshot publishes during a long ingest


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
    repaired: list[str] = field(default_factory=list)  # what self-repair found and fixed

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
            "repaired": self.repaired,
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


def _data_dir_ready(data_dir: Path) -> None:
    """Create the data directory, or say in one line why it cannot be used."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"RAG_DATA_DIR {data_dir} is a file, not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = storage_problem(data_dir) or describe_os_error(exc)
        raise StoreError(f"cannot create the data directory {data_dir}: {problem}") from None


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """Refuse a second concurrent ingest on the same data directory. The holder is the
    only process that opens the embedded vector store."""
    _data_dir_ready(data_dir)
    path = data_dir / "ingest.lock"
    try:
        fh = open(path, "a+")  # noqa: SIM115
    except OSError as exc:
        problem = storage_problem(data_dir) or describe_os_error(exc)
        raise StoreError(f"cannot write to the data directory {data_dir}: {problem}") from None
    with fh:
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
    pages: list[int] = field(default_factory=list)  # PDF page start offsets
    committed: bool = False


@dataclass(frozen=True)
class _Work:
    cand: Candidate
    st: os.stat_result
    existing: DocumentRow | None


@dataclass(frozen=True)
class _Same:
    """The file's content is what the catalog already holds."""

    sha256: str


_Outcome = _Pending | _Same | str  # prepared, unchanged content, or a skip reason


class _Flow:
    """One document on its way through the embed -> write loop."""

    def __init__(self, pending: _Pending) -> None:
        self.p = pending
        self.started = False  # its old vectors were cleared and the first slice written
        self.failed: str | None = None
        self.reported = False


_Slice = tuple[_Flow, int, int]  # a document and a range of its chunks


class Ingestor:
    """One ingest run over a data directory."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: bool | None = None,
        log: Callable[[str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        prefetch: bool = True,
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
        self.on_progress = on_progress
        self.prefetch = prefetch
        self._leftovers = False  # set per run: vectors an interrupted run may have left
        self._store: VectorStore | None = None
        self._col: Any = None
        self._snaps: dict[str, SnapshotWriter] = {}
        self._repair: list[str] = []  # doc ids whose vectors the store turned out to lack
        self._last_publish = 0.0
        self._publish_seconds = 0.0
        self._bytes_left = self._bytes_total = 0
        self._streak: tuple[str | None, int] = (None, 0)  # the last failure, how many in a row
        self._succeeded = False  # a document was committed in this run

    @property
    def snapshot_dir(self) -> Path:
        return self.settings.data_dir / DENSE_DIR

    def run(self, paths: list[str]) -> IngestReport:
        start = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            catalog = Catalog(self.settings.catalog_path)
            failed = False
            try:
                with self._writing(catalog):
                    self._run(paths, catalog, report)
            except BaseException:
                failed = True
                raise
            finally:
                try:  # what was committed before a failure is searchable too
                    if report.changed or self._lexical_problem(catalog):
                        self._rebuild_lexical(catalog)
                except Exception:
                    if not failed:  # never mask the error that stopped the run
                        raise
                finally:
                    catalog.close()
        report.seconds = time.perf_counter() - start
        return report

    def remove(self, targets: list[str]) -> IngestReport:
        """Forget documents, named by doc_id, source (as ingested) or path: from the
        catalog, from every vector collection (and its snapshot), and from the lexical
        index. The files themselves are not touched. Unknown names are reported in
        `skipped`."""
        start = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            catalog = Catalog(self.settings.catalog_path)
            try:
                with self._writing(catalog):
                    docs = catalog.documents()
                    for target in targets:
                        hits = [d for d in docs if target in (d.doc_id, d.source, d.path)]
                        if not hits:
                            report.skipped.append((target, "not in the index"))
                            continue
                        for doc in hits:
                            self._forget(catalog, doc)
                            report.removed.append(doc.source)
                        docs = [d for d in docs if d not in hits]
                if report.removed or self._lexical_problem(catalog):
                    self._rebuild_lexical(catalog)
            finally:
                catalog.close()
        report.seconds = time.perf_counter() - start
        return report

    # the store: opened only under the ingest lock, closed before it is released -------
    @contextmanager
    def _writing(self, catalog: Catalog) -> Iterator[None]:
        self._store = VectorStore(self.settings)
        self._col = None
        self._snaps = {}
        self._repair = []
        self._last_publish = time.monotonic()
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            try:
                self._store.close()
                stamp = self._store.stamp()
                for snap in self._snaps.values():
                    if snap.changed or snap.unstamped:  # the final publish records the stamp
                        snap.publish(catalog.generation, stamp)
            except Exception:
                if not failed:  # never mask the error that stopped the run
                    raise
            finally:
                for snap in self._snaps.values():
                    snap.close()
                self._snaps = {}
                self._store = None
                self._col = None

    @property
    def store(self) -> VectorStore:
        assert self._store is not None, "used outside _writing()"
        return self._store

    def _snap(self, name: str, *, create: bool) -> SnapshotWriter | None:
        """The snapshot writer of a collection (embedded store only). Without `create`,
        only a collection that already has a snapshot gets one."""
        if self.settings.chroma_url:
            return None
        snap = self._snaps.get(name)
        if snap is None:
            snap = SnapshotWriter.open(self.snapshot_dir, name)
            if snap.base is None and not create:
                snap.close()
                return None
            self._snaps[name] = snap
        return snap

    def _open(self, catalog: Catalog, embedder: Embedder) -> Any:
        # Opened on first use: an unchanged corpus never pays Chroma's start-up.
        if self._col is None:
            self._col = self.store.collection(embedder)
            catalog.record_collection(
                embedder.collection_name, embedder.kind, embedder.model, embedder.dim
            )
        return self._col

    def _forget(self, catalog: Catalog, doc: DocumentRow) -> None:
        """Remove one document from the catalog, every collection and every snapshot.
        Catalog first: it marks every collection dirty, so a crash before the vectors go
        leaves only orphans the next ingest sweeps."""
        chunk_ids = [c.chunk_id for c in catalog.chunks_of(doc.doc_id)]
        catalog.remove_document(doc.doc_id)
        for name, *_rest in catalog.collections():
            col = self.store.named(name)
            if col is not None:
                self.store.delete_documents(col, [doc.doc_id])
            snap = self._snap(name, create=False)
            if snap is not None:
                snap.remove(chunk_ids)

    # one run ----------------------------------------------------------------------------
    def _run(self, paths: list[str], catalog: Catalog, report: IngestReport) -> None:
        embedder: Embedder
        if self._embedder is not None:
            embedder = self._embedder
        else:
            # the bundled model is only looked for here; it is loaded below if there is
            # anything to embed (an unchanged re-ingest never pays for it)
            embedder, report.note = resolve_embedder(self.settings, self.api, load=False)
        report.embedder = embedder.describe()
        coll = embedder.collection_name

        found = scan(paths)
        report.skipped.extend(found.skipped)
        # Dirty at the start: an earlier run died between Chroma and the catalog. The flag
        # must then stay up until the sweep below has run, even across another crash.
        self._leftovers = catalog.is_dirty(coll)
        try:
            self._verify(catalog, embedder, report)
            pending = self._plan(found.candidates, catalog, embedder, report)
            first = next(pending, None)
            if first is not None and self._embedder is None and embedder.kind == "bundled":
                failed = BundledEmbedder.available(load=True)
                if failed:  # a model file that does not load: fall back, plan again
                    pending.close()
                    embedder = BuiltinEmbedder()
                    coll = embedder.collection_name
                    report.note = f"{failed}: using the builtin hash embedder"
                    report.embedder = embedder.describe()
                    self._leftovers = catalog.is_dirty(coll)
                    report.unchanged, report.skipped = [], list(found.skipped)
                    self._verify(catalog, embedder, report)
                    pending = self._plan(found.candidates, catalog, embedder, report)
                    first = next(pending, None)
            items = itertools.chain([first], pending) if first is not None else iter(())
            try:
                self._write(items, catalog, embedder, report)
            finally:
                pending.close()
            self._remove_missing(found, catalog, report)
        finally:
            if self._leftovers or catalog.is_dirty(coll):
                self._sweep(catalog, embedder)
        report.embedder = embedder.describe()
        if self._col is not None:
            catalog.record_collection(coll, embedder.kind, embedder.model, embedder.dim)

    # self-repair ------------------------------------------------------------------------
    def _verify(self, catalog: Catalog, embedder: Embedder, report: IngestReport) -> None:
        """Check that the store holds the vectors the catalog claims, and that the
        snapshot readers use holds what the store holds. The cheap path (every unchanged
        re-ingest) compares counts in the snapshot's header with the catalog and the store
        file's identity with the one recorded at the last publish, opening nothing. A
        mismatch opens the store, counts, and fixes what is off: documents whose vectors
        are missing are re-embedded below, vectors nobody claims are deleted, and a
        snapshot that differs from the store is rebuilt from it."""
        coll = embedder.collection_name
        claimed = catalog.claimed_chunks(coll)
        known = any(name == coll for name, *_rest in catalog.collections())
        if not known and claimed == 0:
            return
        embedded_store = not self.settings.chroma_url
        header = dense_cache.read_header(self.snapshot_dir, coll) if embedded_store else None
        stamp = self.store.stamp()
        if (
            embedded_store
            and header is not None
            and int(header["n"]) == claimed
            and stamp is not None
            and header.get("stamp") == stamp
            and not self._leftovers
        ):
            return
        col = self._open(catalog, embedder)
        count = self.store.count(col)
        present: set[str] | None = None
        if count != claimed or self._leftovers:
            present = self.store.ids(col)
            claims = catalog.claimed_chunk_docs(coll)
            lacking = sorted({doc for cid, doc in claims.items() if cid not in present})
            extra = sorted(present - claims.keys())
            if extra:
                self.store.delete_ids(col, extra)
                present -= set(extra)
                catalog.bump()
            if lacking:
                catalog.unmark_embedded(coll, lacking)
                self._repair = lacking
                report.repaired.append(
                    f"{len(lacking)} document(s) lacked vectors in {coll}: re-embedded"
                )
            count = len(present)
        if not embedded_store:
            return
        snap = self._snap(coll, create=True)
        assert snap is not None
        if snap.base is not None and snap.count() == count:
            if present is None:
                present = self.store.ids(col)
            if snap.ids == present:
                if header is None or header.get("stamp") != stamp:
                    snap.changed = True  # republish with the current stamp
                return
        snap.reset()
        for ids, rows in self.store.vectors(col):
            snap.add(ids, rows)
        snap.changed = True
        report.repaired.append(f"vector snapshot of {coll} rebuilt from the store ({count})")

    # planning -------------------------------------------------------------------------
    def _plan(
        self,
        candidates: list[Candidate],
        catalog: Catalog,
        embedder: Embedder,
        report: IngestReport,
    ) -> Generator[_Pending, None, None]:
        """The documents to embed, in order, prepared (read, parsed, chunked) by a worker
        thread while the caller embeds the previous ones. Catalog work stays here, in the
        caller's thread."""
        coll = embedder.collection_name
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        work: list[_Work] = []
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
            work.append(_Work(cand, st, existing))
        self._bytes_left = self._bytes_total = sum(w.st.st_size for w in work)
        seen: set[str] = set()
        for w, outcome in self._prepared(work):
            cand, st, existing = w.cand, w.st, w.existing
            self._bytes_left -= st.st_size
            if isinstance(outcome, str):
                report.skipped.append((cand.source, outcome))
            elif isinstance(outcome, _Pending):
                seen.add(outcome.row.doc_id)
                yield outcome
            else:  # same content as indexed: outcome is its sha256
                assert existing is not None
                seen.add(existing.doc_id)
                catalog.touch(existing.doc_id, st.st_size, st.st_mtime_ns, cand.source, cand.root)
                if catalog.is_embedded(coll, existing.doc_id, existing.sha256):
                    report.unchanged.append(cand.source)
                else:
                    yield self._reembed(catalog, existing, cand.source)
        for doc in catalog.documents():  # vectors lost from the store: embed them again
            if (
                doc.doc_id in self._repair
                and doc.doc_id not in seen
                and not catalog.is_embedded(coll, doc.doc_id, doc.sha256)
            ):
                yield self._reembed(catalog, doc, doc.source)

    def _reembed(self, catalog: Catalog, doc: DocumentRow, source: str) -> _Pending:
        return _Pending(
            doc, catalog.document_text(doc.doc_id), catalog.chunks_of(doc.doc_id),
            "reembedded", source,
        )  # fmt: skip

    def _prepared(self, work: list[_Work]) -> Iterator[tuple[_Work, _Outcome]]:
        """(work, outcome) in order: a _Pending, a skip reason, or the sha256 of content
        the catalog already holds. With `prefetch`, a worker thread prepares ahead, up to
        PREFETCH_BYTES of source files beyond the one being embedded."""
        if not self.prefetch or len(work) < 2:
            for w in work:
                yield w, self._prepare_one(w)
            return
        results: queue.Queue[tuple[_Work, _Outcome] | None] = queue.Queue()
        budget = threading.Condition()
        in_flight = [0]
        stop = threading.Event()

        def worker() -> None:
            try:
                for w in work:
                    with budget:
                        while in_flight[0] > 0 and in_flight[0] + w.st.st_size > PREFETCH_BYTES:
                            if stop.is_set():
                                return
                            budget.wait(0.2)
                        in_flight[0] += w.st.st_size
                    if stop.is_set():
                        return
                    results.put((w, self._prepare_one(w)))
            finally:
                results.put(None)

        thread = threading.Thread(target=worker, name="ingest-prepare", daemon=True)
        thread.start()
        try:
            while True:
                item = results.get()
                if item is None:
                    return
                yield item
                with budget:  # the caller is done with it
                    in_flight[0] -= item[0].st.st_size
                    budget.notify()
        finally:
            stop.set()
            with budget:
                budget.notify()
            thread.join()

    def _prepare_one(self, w: _Work) -> _Outcome:
        cand = w.cand
        try:
            data = cand.path.read_bytes()
        except OSError as exc:
            return f"cannot read ({exc.strerror or exc})"
        sha = hashlib.sha256(data).hexdigest()
        if w.existing is not None and w.existing.sha256 == sha:
            return _Same(sha)
        try:
            loaded = load_bytes(data, cand.source)
            del data  # a large file: its bytes are not kept beside its text
            return self._prepare(cand, loaded, sha, w.st, w.existing is not None)
        except DocumentError as exc:
            return str(exc).removeprefix(f"{cand.source}: ")
        except Exception as exc:  # a parser bug on one hostile file must not stop the rest
            detail = (str(exc).strip().splitlines() or [""])[0][:200]
            return f"cannot load ({type(exc).__name__}: {detail})"

    def _spans(self, text: str) -> Iterator[Span]:
        """Chunk spans of `text`. A long text is chunked a block (about BLOCK_CHARS, cut
        at a paragraph or line break) at a time, so the chunker's per-sentence work is
        held for one block, not for a whole book; chunks do not cross block edges."""
        size, overlap = self.settings.chunk_size, self.settings.chunk_overlap
        if len(text) <= BLOCK_CHARS:
            yield from chunk_spans(text, size, overlap)
            return
        start = 0
        while start < len(text):
            end = min(len(text), start + BLOCK_CHARS)
            if end < len(text):
                cut = text.rfind("\n\n", start + BLOCK_CHARS // 2, end)
                if cut < 0:
                    cut = text.rfind("\n", start + BLOCK_CHARS // 2, end)
                end = cut + 1 if cut >= 0 else end
            for span in chunk_spans(text[start:end], size, overlap):
                yield Span(span.start + start, span.end + start, span.tokens)
            start = end

    def _prepare(
        self, cand: Candidate, loaded: LoadedDocument, sha: str, st: os.stat_result, exists: bool
    ) -> _Pending:
        text = loaded.text
        doc_id = _doc_id(cand.path)
        lazy = len(text) > BLOCK_CHARS  # lexical tokens computed when stored, not kept
        chunks = []
        for ordinal, span in enumerate(self._spans(text)):
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
                    lex="" if lazy else " ".join(tokenize(piece)),
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
        pages = loaded.page_starts
        return _Pending(row, text, chunks, "updated" if exists else "added", cand.source, pages)

    # writing: a streaming chunk -> embed -> write loop -----------------------------------
    def _write(
        self,
        pending: Iterator[_Pending],
        catalog: Catalog,
        embedder: Embedder,
        report: IngestReport,
    ) -> None:
        """Embed and store documents as they come, `target` chunks per round: small
        documents share a round (whole embedding batches), a large one is cut into many
        rounds, so memory holds one round of vectors however large the document. A
        document is committed to the catalog after its last round; one that fails (its
        embedding or its store write) is skipped with the reason and the rest goes on."""
        target = min(max(embedder.batch_size * 4, ROUND_CHUNKS), MAX_ROUND_CHUNKS)
        tracker = _Tracker(self, report)
        open_flows: list[_Flow] = []
        round_: list[_Slice] = []
        size = 0
        try:
            for p in pending:
                tracker.prepared(len(p.chunks), self._bytes_left)
                flow = _Flow(p)
                if not p.chunks:  # nothing to embed: commit the document as it is
                    self._commit(flow, catalog, embedder, report)
                    continue
                open_flows.append(flow)
                lo = 0
                while lo < len(p.chunks):
                    hi = min(len(p.chunks), lo + target - size)
                    round_.append((flow, lo, hi))
                    size += hi - lo
                    lo = hi
                    if size >= target:
                        self._flush(round_, catalog, embedder, report, tracker)
                        open_flows = [f for f in open_flows if f.started and not f.failed]
                        self._settle(catalog, embedder, open_flows)
                        round_, size = [], 0
            if round_:
                self._flush(round_, catalog, embedder, report, tracker)
                self._settle(catalog, embedder, [])
        finally:
            tracker.close()

    def _settle(self, catalog: Catalog, embedder: Embedder, open_flows: list[_Flow]) -> None:
        """After a round: clear the dirty flag when no document is half written, and
        publish the snapshot now and then so readers see a long ingest's progress."""
        half_written = any(f.started and not f.failed and not f.p.committed for f in open_flows)
        if not half_written and not self._leftovers:
            catalog.set_dirty(embedder.collection_name, False)
        snap = self._snaps.get(embedder.collection_name)
        # Every PUBLISH_EVERY seconds, or less often when a publish is slow (a large
        # collection): copying the snapshot stays a small share of the ingest's time.
        wait = max(PUBLISH_EVERY, 20 * self._publish_seconds)
        if snap is not None and snap.changed and time.monotonic() - self._last_publish >= wait:
            t0 = time.monotonic()
            snap.publish(catalog.generation, None)  # no stamp: the store is open
            self._last_publish = time.monotonic()
            self._publish_seconds = self._last_publish - t0

    def _flush(
        self,
        round_: list[_Slice],
        catalog: Catalog,
        embedder: Embedder,
        report: IngestReport,
        tracker: _Tracker,
    ) -> None:
        live = [s for s in round_ if s[0].failed is None]
        texts = [[f.p.text[c.start : c.end] for c in f.p.chunks[lo:hi]] for f, lo, hi in live]
        vectors: list[list[list[float]] | None] = []
        try:
            flat = embedder.embed([t for ts in texts for t in ts], progress=tracker.embedded)
            at = 0
            for ts in texts:
                vectors.append(flat[at : at + len(ts)])
                at += len(ts)
        except FATAL_EMBED_ERRORS:
            raise
        except Exception as exc:
            if len({id(f) for f, _, _ in live}) == 1:
                self._failed(live[0][0], "embedding failed", exc)
                vectors = [None] * len(live)
            else:  # find the document that fails: embed each slice on its own
                vectors = []
                for (flow, _lo, _hi), ts in zip(live, texts, strict=True):
                    if flow.failed:
                        vectors.append(None)
                        continue
                    try:
                        vectors.append(embedder.embed(ts, progress=tracker.embedded))
                    except FATAL_EMBED_ERRORS:
                        raise
                    except Exception as one:
                        self._failed(flow, "embedding failed", one)
                        vectors.append(None)
        col = self._open(catalog, embedder)
        if any(v for v in vectors):
            self.store._check(col, embedder)  # the first vectors fix an unknown dimension
        snap = self._snap(embedder.collection_name, create=True)
        ready: list[tuple[_Slice, list[str], list[list[float]]]] = []
        for (flow, lo, hi), ts, vs in zip(live, texts, vectors, strict=True):
            if flow.failed or vs is None:
                self._abandon(flow, catalog, embedder, report)
            else:
                ready.append(((flow, lo, hi), ts, vs))
        if not ready:
            return
        # One delete and one add for the whole round: per-document calls cost Chroma a
        # commit each (400 small files took 55 s that way, 5 s this way).
        self._clear_old([s[0][0] for s in ready if not s[0][0].started], catalog, embedder, snap)
        nodes = [n for (flow, lo, hi), ts, vs in ready for n in _nodes(flow.p, lo, hi, ts, vs)]
        try:
            self.store.write(col, nodes)
            written = ready
        except StoreError as exc:
            if _disk_full(self.settings.data_dir, exc):
                raise  # a full or read-only disk stops the run: nothing else would fit
            written = []
            for item in ready:  # find the document the store refuses
                (flow, lo, hi), ts, vs = item
                try:
                    self.store.write(col, _nodes(flow.p, lo, hi, ts, vs))
                    written.append(item)
                except StoreError as exc:
                    if _disk_full(self.settings.data_dir, exc):
                        raise
                    self._failed(flow, "storing failed", exc)
                    self._abandon(flow, catalog, embedder, report)
        for (flow, lo, hi), _ts, vs in written:
            if flow.failed:
                continue
            if snap is not None:
                snap.add([c.chunk_id for c in flow.p.chunks[lo:hi]], vs)
            if hi == len(flow.p.chunks):
                self._commit(flow, catalog, embedder, report)
                self._streak = (None, 0)

    def _failed(self, flow: _Flow, what: str, exc: Exception) -> None:
        """Mark a document failed. The same failure again and again, with nothing
        succeeding in between, is not about one document (a server that keeps failing):
        then the run stops with that error as its one line."""
        flow.failed = _reason(what, exc)
        reason, count = self._streak
        count = count + 1 if reason == str(exc) else 1
        self._streak = (str(exc), count)
        if count >= (3 if self._succeeded else 2):
            raise exc

    def _clear_old(
        self,
        flows: list[_Flow],
        catalog: Catalog,
        embedder: Embedder,
        snap: SnapshotWriter | None,
    ) -> None:
        """Before documents' first vectors: stop claiming their old ones and delete them
        (and leftovers of an interrupted write of the same chunks). Vectors first, the
        catalog after a document's last round: a crash in between leaves vectors the
        catalog does not know, which the dirty flag has the next run sweep."""
        if not flows:
            return
        stale: set[str] = set()
        for flow in flows:
            p = flow.p
            stale.update(c.chunk_id for c in p.chunks)
            if p.status != "added":
                stale.update(c.chunk_id for c in catalog.chunks_of(p.row.doc_id))
        catalog.begin_vector_write(
            embedder.collection_name, [f.p.row.doc_id for f in flows if f.p.status != "added"]
        )
        for flow in flows:
            flow.started = True
        ids = sorted(stale)
        self.store.delete_ids(self._col, ids)
        if snap is not None:
            snap.remove(ids)

    def _commit(
        self, flow: _Flow, catalog: Catalog, embedder: Embedder, report: IngestReport
    ) -> None:
        p = flow.p
        coll = embedder.collection_name
        if p.status == "reembedded":
            catalog.mark_embedded(coll, p.row.doc_id, p.row.sha256)
            report.reembedded.append(p.source)
        else:
            catalog.put_document(p.row, p.text, p.chunks, coll, pages=p.pages)
            (report.added if p.status == "added" else report.updated).append(p.source)
        p.committed = True
        self._succeeded = True
        report.chunks += len(p.chunks)
        self.log(f"{p.status}: {p.source} ({len(p.chunks)} chunks)")

    def _abandon(
        self, flow: _Flow, catalog: Catalog, embedder: Embedder, report: IngestReport
    ) -> None:
        """A document that failed: report it once and take back what it wrote."""
        if flow.p.committed or flow.reported:
            return
        flow.reported = True
        report.skipped.append((flow.p.source, flow.failed or "not indexed"))
        self.log(f"skipped: {flow.p.source}: {flow.failed}")
        if flow.started and self._col is not None:
            ids = [c.chunk_id for c in flow.p.chunks]
            # on failure it stays dirty: the sweep (now or next run) removes them
            with contextlib.suppress(StoreError):
                self.store.delete_ids(self._col, ids)
            snap = self._snaps.get(embedder.collection_name)
            if snap is not None:
                snap.remove(ids)

    def _remove_missing(self, found: ScanResult, catalog: Catalog, report: IngestReport) -> None:
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
            self._forget(catalog, doc)
            report.removed.append(doc.source)
        for src in named_missing:
            if src not in matched:
                report.skipped.append((src, "no such file or folder"))

    # derived indexes ------------------------------------------------------------------
    def _lexical_problem(self, catalog: Catalog) -> str | None:
        return lexical_problem(self.settings.lexical_dir, catalog.generation)

    def _rebuild_lexical(self, catalog: Catalog) -> None:
        ids: list[str] = []
        tokens: list[list[str]] = []
        canonical: dict[str, str] = {}  # one string object per distinct token: at 120k
        for chunk_id, lex in catalog.lexical_rows():  # chunks, 0.6 GB less than split()
            ids.append(chunk_id)
            tokens.append([canonical.setdefault(t, t) for t in lex.split()])
        folder = self.settings.lexical_dir
        try:
            LexicalIndex.build(ids, tokens, catalog.generation).save(folder)
        except OSError as exc:
            shutil.rmtree(folder.with_name(folder.name + ".tmp"), ignore_errors=True)
            raise StoreError(
                f"cannot write the lexical index {folder}: "
                f"{storage_problem(folder.parent) or describe_os_error(exc)}"
            ) from None

    def _sweep(self, catalog: Catalog, embedder: Embedder) -> None:
        """Delete vectors whose chunk ids the catalog no longer knows (crash leftovers,
        documents changed while another embedder was active)."""
        col = self._open(catalog, embedder)
        known = catalog.all_chunk_ids()
        orphans = sorted(self.store.ids(col) - known)
        if orphans:
            self.store.delete_ids(col, orphans)
            snap = self._snap(embedder.collection_name, create=False)
            if snap is not None:
                snap.remove(orphans)
            catalog.bump()
        catalog.set_dirty(embedder.collection_name, False)


def _disk_full(data_dir: Path, exc: BaseException) -> bool:
    """A store failure that is about the disk (full, read-only): it stops the run, as
    nothing else would fit either."""
    return storage_problem(data_dir) is not None or "no space left" in str(exc)


def _reason(what: str, exc: BaseException) -> str:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return f"not indexed: {what} ({detail})"


def _nodes(
    p: _Pending, lo: int, hi: int, texts: list[str], vectors: list[list[float]]
) -> list[Any]:
    """llama-index TextNodes of chunks lo..hi of a document, in the framework's format."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    keys = ["source", "ord", "start", "end", "page", "lang", "title"]
    nodes = []
    for c, text, vector in zip(p.chunks[lo:hi], texts, vectors, strict=True):
        nodes.append(
            TextNode(
                id_=c.chunk_id,
                text=text,
                embedding=vector,
                metadata={
                    "source": p.source,
                    "ord": c.ord,
                    "start": c.start,
                    "end": c.end,
                    "page": c.page or 0,
                    "lang": p.row.lang,
                    "title": p.row.title[:200],
                },
                excluded_embed_metadata_keys=keys,
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.row.doc_id)},
            )
        )
    return nodes


@dataclass(frozen=True)
class Progress:
    """Where an ingest is: chunks embedded, the total expected (an estimate while
    documents are still being prepared), chunks per second and seconds left."""

    done: int
    total: int
    rate: float
    eta: float | None

    def line(self) -> str:
        eta = f", about {self.eta:.0f} s left" if self.eta is not None else ""
        return f"embedded {self.done}/{self.total} chunks ({self.rate:.0f} chunks/s{eta})"


class _Tracker:
    """The terminal progress bar (tqdm: chunks/s and ETA) and the progress callback."""

    def __init__(self, ingestor: Ingestor, report: IngestReport) -> None:
        self.ingestor = ingestor
        self.report = report
        self.done = 0
        self.prepared_chunks = 0
        self.total = 0
        self.started = time.monotonic()
        self.last_call = 0.0
        self.bar: Any = None

    def prepared(self, chunks: int, bytes_left: int) -> None:
        self.prepared_chunks += chunks
        bytes_done = max(1, self.ingestor._bytes_total - bytes_left)
        per_byte = self.prepared_chunks / bytes_done
        self.total = max(self.done, self.prepared_chunks + int(bytes_left * per_byte))
        if self.bar is None and self.ingestor.progress and self.total:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total, unit="chunk", desc="embedding", file=sys.stderr, leave=False
            )
        elif self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def embedded(self, n: int) -> None:
        self.report.embed_requests += 1  # embed() reports once per batch
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        callback = self.ingestor.on_progress
        now = time.monotonic()
        if callback is not None and (now - self.last_call >= 0.5 or self.done >= self.total):
            self.last_call = now
            elapsed = max(1e-6, now - self.started)
            rate = self.done / elapsed
            left = max(0, self.total - self.done)
            callback(
                Progress(self.done, max(self.total, self.done), rate, left / rate if rate else None)
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def lexical_problem(folder: Path, generation: int) -> str | None:
    """Why the saved BM25 index cannot serve this catalog generation, or None when it
    can: missing, built from another generation, or damaged (a file of the wrong size).
    Checked without importing bm25s or numpy: the .npy headers say how large each file
    must be, and the JSON files must parse."""
    generation_saved = LexicalIndex.saved_generation(folder)
    if generation_saved is None:
        return "missing or unreadable"
    if generation_saved != generation:
        return f"built from generation {generation_saved}, the catalog is at {generation}"
    try:
        for path in folder.iterdir():
            if path.suffix == ".npy":
                if not _npy_complete(path):
                    return f"{path.name} is damaged"
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"damaged ({type(exc).__name__})"
    return None


def _npy_complete(path: Path) -> bool:
    """Whether a .npy file is as long as its header says."""
    with open(path, "rb") as fh:
        head = fh.read(10)
        if len(head) < 10 or head[:6] != b"\x93NUMPY":
            return False
        major = head[6]
        if major == 1:
            hlen = int.from_bytes(head[8:10], "little")
            start = 10
        else:
            fh.seek(8)
            hlen = int.from_bytes(fh.read(4), "little")
            start = 12
        fh.seek(start)
        header = ast.literal_eval(fh.read(hlen).decode("latin1"))
        size = os.fstat(fh.fileno()).st_size
    shape = header["shape"]
    count = 1
    for dim in shape:
        count *= int(dim)
    itemsize = int(re.sub(r"\D", "", header["descr"]) or "1")
    return size == start + hlen + count * itemsize


def ingest(paths: list[str], settings: Settings, **kwargs: Any) -> IngestReport:
    return Ingestor(settings, **kwargs).run(paths)
