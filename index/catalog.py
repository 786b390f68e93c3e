"""The catalog: one SQLite file holding the ingest manifest, every document's extracted
text, every chunk's span and lexical tokens, and which documents are embedded in which
vector collection.

It is the source of truth. Chroma holds vectors only for ids the catalog knows (the
rest are ignored by queries and swept on the next ingest) and the BM25 index is rebuilt
from it, so a crash between the stores never shows half a document. Chunk text is not
stored twice: it is `documents.text[start:end]`, which keeps citations exact by design.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError
from index.lexical import TOKENIZER_VERSION
from index.speakers import chunk_lex, turns
from index.storage import storage_problem

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id      TEXT PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,   -- resolved absolute path: the manifest key
    source      TEXT NOT NULL,          -- the path as the user gave it
    root        TEXT,                   -- folder it was found in (for removals), or NULL
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    lang        TEXT NOT NULL,
    format      TEXT NOT NULL,
    encoding    TEXT,
    text        TEXT NOT NULL,
    n_chunks    INTEGER NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id   TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ord        INTEGER NOT NULL,
    start_char INTEGER NOT NULL,
    end_char   INTEGER NOT NULL,
    page       INTEGER,
    n_tokens   INTEGER NOT NULL,
    lex        TEXT NOT NULL            -- lexical tokens, space-separated
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ord);
CREATE TABLE IF NOT EXISTS embedded (
    collection TEXT NOT NULL,
    doc_id     TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (collection, doc_id)
);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    starts TEXT NOT NULL                -- JSON list: text offset where each page starts
);
CREATE TABLE IF NOT EXISTS collections (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    model      TEXT NOT NULL,
    dim        INTEGER,
    dirty      INTEGER NOT NULL DEFAULT 0,  -- may hold vectors the catalog does not know
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class DocumentRow:
    doc_id: str
    path: str
    source: str
    root: str | None
    sha256: str
    size: int
    mtime_ns: int
    title: str
    lang: str
    format: str
    encoding: str | None
    n_chunks: int
    ingested_at: float


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    doc_id: str
    ord: int
    start: int
    end: int
    page: int | None
    n_tokens: int
    lex: str  # "" for a large document: computed from the text when it is stored


@dataclass(frozen=True)
class ChunkView:
    """A chunk with its document's metadata and its exact text."""

    chunk_id: str
    doc_id: str
    ord: int
    start: int
    end: int
    page: int | None
    source: str
    title: str
    lang: str
    text: str


_DOC_COLS = (
    "doc_id, path, source, root, sha256, size, mtime_ns, title, lang, format, encoding, "
    "n_chunks, ingested_at"
)


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            with self.db:
                self.db.executescript(_SCHEMA)
                row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                    self.db.execute(
                        "INSERT INTO meta VALUES ('tokenizer', ?)", (str(TOKENIZER_VERSION),)
                    )
                elif int(row[0]) != SCHEMA_VERSION:
                    raise StoreError(
                        f"{path}: catalog schema {row[0]} is not {SCHEMA_VERSION}; "
                        "run `rag reset` and ingest again"
                    )
        except sqlite3.DatabaseError as exc:
            if not self._open_read_only(exc):
                raise StoreError(self._failure("open", exc)) from None
        except OSError as exc:
            problem = storage_problem(path.parent)
            raise StoreError(f"cannot open the catalog {path}: {problem or exc}") from None

    def _open_read_only(self, exc: sqlite3.DatabaseError) -> bool:
        """On a read-only file system, an existing catalog is still readable (questions
        need nothing else): opened immutable. False when that does not apply."""
        problem = storage_problem(self.path.parent) or ""
        if "read-only" not in problem or not self.path.is_file():
            return False
        try:
            self.db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?immutable=1", uri=True, check_same_thread=False
            )
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError:
            return False
        return row is not None and int(row[0]) == SCHEMA_VERSION

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.db:
                yield self.db
        except sqlite3.DatabaseError as exc:
            raise StoreError(self._failure("write", exc)) from None

    def _failure(self, what: str, exc: BaseException) -> str:
        problem = storage_problem(self.path.parent)
        if problem:
            return f"cannot {what} the catalog {self.path}: {problem}"
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            return (
                f"the catalog {self.path} is damaged ({exc}): run `rag reset --yes` "
                "and ingest again (your documents are not touched)"
            )
        if "malformed" in str(exc) or "not a database" in str(exc):
            return (
                f"the catalog {self.path} is damaged ({exc}): run `rag reset --yes` "
                "and ingest again (your documents are not touched)"
            )
        return f"cannot {what} the catalog {self.path}: {exc}"

    # generation: bumped by every change, so derived indexes can tell they are stale ---
    @property
    def generation(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # lexical tokens ---------------------------------------------------------------------
    def tokens_outdated(self) -> bool:
        """Were the stored chunk tokens made by an older `tokenize` (`retokenize` mends)?"""
        row = self.db.execute("SELECT value FROM meta WHERE key='tokenizer'").fetchone()
        return row is None or int(row[0]) != TOKENIZER_VERSION

    def retokenize(self) -> int:
        """Make every chunk's stored tokens again when an older `tokenize` made them
        (`TOKENIZER_VERSION`; a catalog from before the version was kept is version 1).
        The writer calls it under the ingest lock; the generation bump makes the BM25
        index rebuild. Returns how many chunks' tokens changed."""
        if not self.tokens_outdated():
            return 0
        changed = 0
        with self.transaction() as db:
            for (doc_id,) in db.execute("SELECT doc_id FROM documents").fetchall():
                text = self.document_text(doc_id)  # one document's text in memory at a time
                rows = db.execute(
                    "SELECT chunk_id, start_char, end_char, lex FROM chunks WHERE doc_id = ?",
                    (doc_id,),
                ).fetchall()
                speaking = turns(text)
                for chunk_id, start, end, lex in rows:
                    new = chunk_lex(text, start, end, speaking)
                    if new != lex:
                        db.execute("UPDATE chunks SET lex = ? WHERE chunk_id = ?", (new, chunk_id))
                        changed += 1
            db.execute(
                "INSERT INTO meta VALUES ('tokenizer', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (str(TOKENIZER_VERSION), str(TOKENIZER_VERSION)),
            )
            if changed:
                self._bump(db)
        return changed

    # documents ------------------------------------------------------------------------
    def get_by_path(self, path: str) -> DocumentRow | None:
        row = self.db.execute(
            f"SELECT {_DOC_COLS} FROM documents WHERE path = ?", (path,)
        ).fetchone()
        return DocumentRow(*row) if row else None

    def documents(self) -> list[DocumentRow]:
        rows = self.db.execute(f"SELECT {_DOC_COLS} FROM documents ORDER BY source").fetchall()
        return [DocumentRow(*r) for r in rows]

    def document_text(self, doc_id: str) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return str(row[0])

    def put_document(
        self,
        doc: DocumentRow,
        text: str,
        chunks: Sequence[ChunkRow],
        embedded_in: str | None,
        *,
        pages: Sequence[int] = (),
    ) -> None:
        """Replace the document and all its chunks atomically. `pages`: the text offset
        where each page starts (PDFs; page 1 first), for `page_of`."""
        with self.transaction() as db:
            db.execute("DELETE FROM documents WHERE doc_id = ? OR path = ?", (doc.doc_id, doc.path))
            db.execute(
                f"INSERT INTO documents ({_DOC_COLS}, text) VALUES ({', '.join('?' * 14)})",
                (
                    doc.doc_id, doc.path, doc.source, doc.root, doc.sha256, doc.size,
                    doc.mtime_ns, doc.title, doc.lang, doc.format, doc.encoding,
                    doc.n_chunks, doc.ingested_at, text,
                ),
            )  # fmt: skip
            speaking = [] if all(c.lex for c in chunks) else turns(text)
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (  # a generator: a large document's rows are not all built at once
                    (
                        c.chunk_id, c.doc_id, c.ord, c.start, c.end, c.page, c.n_tokens,
                        c.lex or chunk_lex(text, c.start, c.end, speaking),
                    )
                    for c in chunks
                ),
            )  # fmt: skip
            if embedded_in:
                db.execute(
                    "INSERT INTO embedded VALUES (?, ?, ?)", (embedded_in, doc.doc_id, doc.sha256)
                )
            db.execute("DELETE FROM pages WHERE doc_id = ?", (doc.doc_id,))
            if pages:
                db.execute(
                    "INSERT INTO pages VALUES (?, ?)",
                    (doc.doc_id, json.dumps([int(p) for p in pages])),
                )
            # other collections may still hold this document's old vectors
            db.execute("UPDATE collections SET dirty = 1 WHERE name != ?", (embedded_in or "",))
            self._bump(db)

    def touch(self, doc_id: str, size: int, mtime_ns: int, source: str, root: str | None) -> None:
        """Same content, new stat (or new spelling of the path): no reindex needed."""
        with self.transaction() as db:
            db.execute(
                "UPDATE documents SET size = ?, mtime_ns = ?, source = ?, root = ? "
                "WHERE doc_id = ?",
                (size, mtime_ns, source, root, doc_id),
            )

    def mark_embedded(self, collection: str, doc_id: str, sha256: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO embedded VALUES (?, ?, ?)", (collection, doc_id, sha256)
            )
            self._bump(db)  # the vectors changed: caches keyed on the generation are stale

    def begin_vector_write(self, collection: str, doc_ids: Sequence[str]) -> None:
        """Before replacing vectors in `collection`: mark it dirty and stop claiming the
        documents' current vectors, in one transaction. Should the write then fail or be
        killed halfway, the next ingest embeds those documents again (instead of trusting
        vectors that were deleted) and sweeps whatever was half written."""
        with self.transaction() as db:
            db.execute("UPDATE collections SET dirty = 1 WHERE name = ?", (collection,))
            db.executemany(
                "DELETE FROM embedded WHERE collection = ? AND doc_id = ?",
                [(collection, d) for d in doc_ids],
            )

    def bump(self) -> None:
        """Record that the vectors changed without a document changing (a sweep)."""
        with self.transaction() as db:
            self._bump(db)

    def is_embedded(self, collection: str, doc_id: str, sha256: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM embedded WHERE collection = ? AND doc_id = ? AND sha256 = ?",
            (collection, doc_id, sha256),
        ).fetchone()
        return row is not None

    def unmark_embedded(self, collection: str, doc_ids: Sequence[str]) -> None:
        """Stop claiming vectors the store turned out not to hold (they are re-embedded)."""
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM embedded WHERE collection = ? AND doc_id = ?",
                [(collection, d) for d in doc_ids],
            )
            self._bump(db)

    def claimed_chunks(self, collection: str) -> int:
        """How many vectors `collection` should hold: the chunks of its embedded documents."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(d.n_chunks), 0) FROM embedded e JOIN documents d "
            "USING (doc_id) WHERE e.collection = ? AND e.sha256 = d.sha256",
            (collection,),
        ).fetchone()
        return int(row[0])

    def claimed_chunk_docs(self, collection: str) -> dict[str, str]:
        """chunk_id -> doc_id of every vector `collection` should hold."""
        rows = self.db.execute(
            "SELECT c.chunk_id, c.doc_id FROM chunks c JOIN embedded e USING (doc_id) "
            "JOIN documents d USING (doc_id) WHERE e.collection = ? AND e.sha256 = d.sha256",
            (collection,),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def embedded_count(self, collection: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM embedded WHERE collection = ?", (collection,)
        ).fetchone()
        return int(row[0])

    def remove_document(self, doc_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            db.execute("UPDATE collections SET dirty = 1")
            self._bump(db)

    def page_of(self, doc_id: str, offset: int) -> int | None:
        """The page (1-based) holding text offset `offset` of a paged document (PDF), or
        None for a document without pages or an offset outside its text."""
        row = self.db.execute("SELECT starts FROM pages WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None or offset < 0:
            return None
        starts = json.loads(row[0])
        length = self.db.execute(
            "SELECT length(text) FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        if not starts or length is None or offset >= int(length[0]):
            return None
        page = bisect.bisect_right(starts, offset)
        return max(1, page)

    # chunks ---------------------------------------------------------------------------
    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self.db.execute(
            "SELECT chunk_id, doc_id, ord, start_char, end_char, page, n_tokens, lex "
            "FROM chunks WHERE doc_id = ? ORDER BY ord",
            (doc_id,),
        ).fetchall()
        return [ChunkRow(*r) for r in rows]

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT chunk_id FROM chunks")}

    def lexical_rows(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute("SELECT chunk_id, lex FROM chunks ORDER BY doc_id, ord")

    def chunk_views(self, chunk_ids: Sequence[str]) -> dict[str, ChunkView]:
        """Chunks by id, with exact text sliced from their document. Unknown ids are absent."""
        out: dict[str, ChunkView] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = self.db.execute(
                "SELECT c.chunk_id, c.doc_id, c.ord, c.start_char, c.end_char, c.page, "
                "d.source, d.title, d.lang, substr(d.text, c.start_char + 1, "
                "c.end_char - c.start_char) FROM chunks c JOIN documents d USING (doc_id) "
                f"WHERE c.chunk_id IN ({', '.join('?' * len(part))})",
                part,
            ).fetchall()
            for r in rows:
                out[r[0]] = ChunkView(*r)
        return out

    # collections ----------------------------------------------------------------------
    def record_collection(self, name: str, kind: str, model: str, dim: int | None) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO collections (name, kind, model, dim, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "dim = COALESCE(excluded.dim, collections.dim)",
                (name, kind, model, dim, time.time()),
            )

    def collections(self) -> list[tuple[str, str, str, int | None, bool]]:
        rows = self.db.execute("SELECT name, kind, model, dim, dirty FROM collections").fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def set_dirty(self, name: str, dirty: bool) -> None:
        with self.transaction() as db:
            db.execute("UPDATE collections SET dirty = ? WHERE name = ?", (int(dirty), name))

    def is_dirty(self, name: str) -> bool:
        row = self.db.execute("SELECT dirty FROM collections WHERE name = ?", (name,)).fetchone()
        return bool(row[0]) if row else False

    # statistics -----------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def chunk_languages(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        """The language of each chunk's document (unknown ids left out)."""
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(chunk_ids))
        for at in range(0, len(ids), 500):  # under SQLite's limit of bound parameters
            batch = ids[at : at + 500]
            rows = self.db.execute(
                "SELECT c.chunk_id, d.lang FROM chunks c JOIN documents d USING (doc_id) "
                f"WHERE c.chunk_id IN ({', '.join('?' * len(batch))})",
                batch,
            ).fetchall()
            out.update((str(r[0]), str(r[1])) for r in rows)
        return out

    def languages(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT lang, COUNT(*) FROM documents GROUP BY lang ORDER BY COUNT(*) DESC, lang"
        ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}
