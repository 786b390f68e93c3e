"""One file on its way into the index, before any embedding: read, hashed, loaded
(text, title, pages), chunked with exact offsets, its language detected. The result is a
`Pending` document (or the sha256 of content the catalog already holds, or the reason it
was skipped). `prepared` runs this on a worker thread ahead of the embedding, within a
budget of source bytes, so reading and parsing overlap with embedding.

Document and chunk ids are stable (`doc_id_of`, `chunk_id_of`): re-ingesting a file
upserts instead of duplicating.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DocumentError
from core.settings import Settings
from index.catalog import ChunkRow, DocumentRow
from index.chunker import Span, chunk_spans
from index.language import detect_language
from index.loaders import LoadedDocument, load_bytes
from index.scan import Candidate
from index.speakers import chunk_lex, turns

BLOCK_CHARS = 2_000_000  # a longer text is chunked a block at a time (memory)
PREFETCH_BYTES = 32 * 1024 * 1024  # source bytes the preparing thread may run ahead


def doc_id_of(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16]


def chunk_id_of(doc_id: str, ordinal: int, text: str) -> str:
    return f"{doc_id}-{ordinal:05d}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


@dataclass
class Pending:
    row: DocumentRow
    text: str
    chunks: list[ChunkRow]
    status: str  # "added" | "updated" | "reembedded"
    source: str
    pages: list[int] = field(default_factory=list)  # PDF page start offsets
    committed: bool = False


@dataclass(frozen=True)
class Work:
    cand: Candidate
    st: os.stat_result
    existing: DocumentRow | None


@dataclass(frozen=True)
class Same:
    """The file's content is what the catalog already holds."""

    sha256: str


Outcome = Pending | Same | str  # prepared, unchanged content, or a skip reason


def prepared(
    work: list[Work], settings: Settings, *, prefetch: bool
) -> Iterator[tuple[Work, Outcome]]:
    """(work, outcome) in order: a Pending, a skip reason, or the sha256 of content
    the catalog already holds. With `prefetch`, a worker thread prepares ahead, up to
    PREFETCH_BYTES of source files beyond the one being embedded."""
    if not prefetch or len(work) < 2:
        for w in work:
            yield w, prepare_one(w, settings)
        return
    results: queue.Queue[tuple[Work, Outcome] | None] = queue.Queue()
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
                results.put((w, prepare_one(w, settings)))
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


def prepare_one(w: Work, settings: Settings) -> Outcome:
    cand = w.cand
    try:
        data = cand.path.read_bytes()
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    sha = hashlib.sha256(data).hexdigest()
    if w.existing is not None and w.existing.sha256 == sha:
        return Same(sha)
    try:
        loaded = load_bytes(data, cand.source)
        del data  # a large file: its bytes are not kept beside its text
        return _prepare(settings, cand, loaded, sha, w.st, w.existing is not None)
    except DocumentError as exc:
        return str(exc).removeprefix(f"{cand.source}: ")
    except Exception as exc:  # a parser bug on one hostile file must not stop the rest
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        return f"cannot load ({type(exc).__name__}: {detail})"


def _spans(text: str, settings: Settings) -> Iterator[Span]:
    """Chunk spans of `text`. A long text is chunked a block (about BLOCK_CHARS, cut
    at a paragraph or line break) at a time, so the chunker's per-sentence work is
    held for one block, not for a whole book; chunks do not cross block edges."""
    size, overlap = settings.chunk_size, settings.chunk_overlap
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
    settings: Settings,
    cand: Candidate,
    loaded: LoadedDocument,
    sha: str,
    st: os.stat_result,
    exists: bool,
) -> Pending:
    text = loaded.text
    doc_id = doc_id_of(cand.path)
    lazy = len(text) > BLOCK_CHARS  # lexical tokens computed when stored, not kept
    chunks = []
    speaking = [] if lazy else turns(text)
    for ordinal, span in enumerate(_spans(text, settings)):
        piece = text[span.start : span.end]
        chunks.append(
            ChunkRow(
                chunk_id=chunk_id_of(doc_id, ordinal, piece),
                doc_id=doc_id,
                ord=ordinal,
                start=span.start,
                end=span.end,
                page=loaded.page_at(span.start),
                n_tokens=span.tokens,
                lex="" if lazy else chunk_lex(text, span.start, span.end, speaking),
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
    return Pending(row, text, chunks, "updated" if exists else "added", cand.source, pages)
