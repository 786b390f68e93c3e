"""The writing side of an ingest: the store opened under the one-writer lock, the
vector snapshots published for readers, and the streaming chunk -> embed -> write loop.

Documents are embedded and stored in rounds (at most MAX_ROUND_CHUNKS chunks: memory
holds one round of vectors, however large the document). Each document is committed on
its own, vectors first, then the catalog in one transaction, so an interrupted ingest
keeps what it finished. A document whose embedding or store write fails is skipped with
the reason and the rest goes on; the same failure again and again stops the run.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import (
    EmbedderMismatchError,
    ModelNotFoundError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    StoreError,
)
from core.settings import Settings
from index import dense_cache
from index.catalog import Catalog
from index.dense_cache import DENSE_DIR, SnapshotWriter
from index.embedders import Embedder
from index.prepare import Pending
from index.report import IngestReport, Progress, chunks_said
from index.storage import storage_problem
from index.vectors import VectorStore

ROUND_CHUNKS = 64  # chunks embedded and written per round, at least (and 4 batches)
MAX_ROUND_CHUNKS = 512  # and at most: a round's vectors exist in several copies at once
# Embedding failures that are about the embedder, not one document: the run stops.
FATAL_EMBED_ERRORS = (
    EmbedderMismatchError,
    ModelNotFoundError,
    OllamaTimeoutError,
    OllamaUnavailableError,
)
PUBLISH_EVERY = 20.0  # seconds between snapshot publishes during a long ingest


class _Flow:
    """One document on its way through the embed -> write loop."""

    def __init__(self, pending: Pending) -> None:
        self.p = pending
        self.started = False  # its old vectors were cleared and the first slice written
        self.failed: str | None = None
        self.reported = False


_Slice = tuple[_Flow, int, int]  # a document and a range of its chunks


class StoreWriter:
    """The writing side of an ingest (`Ingestor` is its one subclass): the vector store,
    opened only under the ingest lock and closed before it is released, the snapshot
    writers readers are served from, and the streaming chunk -> embed -> write loop that
    commits documents one by one."""

    def __init__(
        self,
        settings: Settings,
        *,
        progress: bool,
        log: Callable[[str], None],
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.settings = settings
        self.progress = progress
        self.log = log
        self.on_progress = on_progress
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

    # the store: opened only under the ingest lock, closed before it is released -------
    @contextmanager
    def _writing(self, catalog: Catalog) -> Iterator[None]:
        self._store = VectorStore(self.settings)
        self._col = None
        self._snaps = {}
        self._repair = []
        self._last_publish = time.monotonic()
        before = self._store.stamp()
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
                if not failed and stamp != before:
                    self._restamp(catalog, before)
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

    def _restamp(self, catalog: Catalog, before: list[int] | None) -> None:
        """Opening the store writes to its file even when a run changes no vectors (a
        sweep that finds no orphans after `rag remove`): a snapshot that held what the
        store held before the run still does, and takes the store's new stamp. Else the
        next status reported the store changed behind the snapshot's back, and only the
        ingest after next set it right."""
        if before is None:
            return
        for name, *_rest in catalog.collections():
            header = dense_cache.read_header(self.snapshot_dir, name)
            if header is not None and header.get("stamp") == before:
                # (what this run changed went through the snapshot writer too)
                snap = self._snaps.get(name) or self._snap(name, create=False)
                if snap is not None:
                    snap.changed = True  # published below, with the new stamp

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

    # writing: a streaming chunk -> embed -> write loop -----------------------------------
    def _write(
        self,
        pending: Iterator[Pending],
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
        self.log(f"{p.status}: {p.source} ({chunks_said(len(p.chunks))})")

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


def _disk_full(data_dir: Path, exc: BaseException) -> bool:
    """A store failure that is about the disk (full, read-only): it stops the run, as
    nothing else would fit either."""
    return storage_problem(data_dir) is not None or "no space left" in str(exc)


def _reason(what: str, exc: BaseException) -> str:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return f"not indexed: {what} ({detail})"


def _nodes(p: Pending, lo: int, hi: int, texts: list[str], vectors: list[list[float]]) -> list[Any]:
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


class _Tracker:
    """The terminal progress bar (tqdm: chunks/s and ETA) and the progress callback."""

    def __init__(self, ingestor: StoreWriter, report: IngestReport) -> None:
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
