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

The parts, in `index/`: `writer_lock` (the one-writer lock), `prepare` (a file read,
loaded and chunked, on a worker thread ahead of the embedding), `store_writer` (the store
under the lock, the snapshots, the chunk -> embed -> write loop: `Ingestor` extends it)
and `report` (what a run reports). This module decides what is done: the plan (what
changed), self-repair, removals, and the BM25 rebuild.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

from core.errors import StoreError
from core.ollama_api import OllamaAPI
from core.settings import Settings
from index import dense_cache, sentence_store
from index.catalog import Catalog, DocumentRow
from index.embedders import BuiltinEmbedder, BundledEmbedder, Embedder, resolve_embedder
from index.lexical import LexicalIndex, lexical_problem
from index.prepare import Pending, Work, prepared
from index.report import IngestReport, Progress
from index.scan import Candidate, ScanResult, scan
from index.storage import describe_os_error, storage_problem
from index.store_writer import StoreWriter
from index.writer_lock import ingest_lock


class Ingestor(StoreWriter):
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
        super().__init__(
            settings,
            progress=sys.stderr.isatty() if progress is None else progress,
            log=log or (lambda message: None),
            on_progress=on_progress,
        )
        self.api = OllamaAPI(
            settings.ollama_host,
            timeout=settings.ollama_timeout,
            probe_timeout=settings.probe_timeout,
        )
        self._embedder = embedder
        self.prefetch = prefetch

    def run(self, paths: list[str]) -> IngestReport:
        start = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            catalog = Catalog(self.settings.catalog_path)
            failed = False
            try:
                catalog.retokenize()  # stored by an older tokenizer: the next ingest mends it
                with self._writing(catalog):
                    self._run(paths, catalog, report)
            except BaseException:
                failed = True
                raise
            finally:
                if report.updated or report.removed:  # their old sentences must not linger
                    sentence_store.clear(self.settings.data_dir)
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
                if report.removed:
                    sentence_store.clear(self.settings.data_dir)
            finally:
                catalog.close()
        report.seconds = time.perf_counter() - start
        return report

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
    ) -> Generator[Pending, None, None]:
        """The documents to embed, in order, prepared (read, parsed, chunked) by a worker
        thread while the caller embeds the previous ones. Catalog work stays here, in the
        caller's thread."""
        coll = embedder.collection_name
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        work: list[Work] = []
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
            work.append(Work(cand, st, existing))
        self._bytes_left = self._bytes_total = sum(w.st.st_size for w in work)
        seen: set[str] = set()
        for w, outcome in prepared(work, self.settings, prefetch=self.prefetch):
            cand, st, existing = w.cand, w.st, w.existing
            self._bytes_left -= st.st_size
            if isinstance(outcome, str):
                report.skipped.append((cand.source, outcome))
            elif isinstance(outcome, Pending):
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

    def _reembed(self, catalog: Catalog, doc: DocumentRow, source: str) -> Pending:
        return Pending(
            doc, catalog.document_text(doc.doc_id), catalog.chunks_of(doc.doc_id),
            "reembedded", source,
        )  # fmt: skip

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


def ingest(paths: list[str], settings: Settings, **kwargs: Any) -> IngestReport:
    return Ingestor(settings, **kwargs).run(paths)


def forget_documents(
    settings: Settings, docs: Sequence[DocumentRow]
) -> list[tuple[DocumentRow, bool]]:
    """Remove documents from the index, as the UI's delete and `rag remove` do: the files
    stay, except a file uploaded through the UI, whose copy in the data folder goes too.
    Returns each document removed, and whether its uploaded copy was deleted."""
    if not docs:
        return []
    report = Ingestor(settings, progress=False).remove([d.doc_id for d in docs])
    uploads = settings.uploads_dir.resolve()
    done = []
    for doc in docs:
        if doc.source not in report.removed:
            continue
        path = Path(doc.path)
        uploaded = path.parent.resolve() == uploads
        if uploaded:
            path.unlink(missing_ok=True)
        done.append((doc, uploaded))
    return done
