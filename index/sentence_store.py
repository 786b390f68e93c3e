"""Sentence vectors kept between processes: `<data_dir>/sentences.sqlite3`.

The sentence rerank (`rag.rerank`), abstention's sentence signals and the model-free answer
read the vectors of the top passages' sentences (`rag.sentences`). In a long-running
process (`rag serve`, `rag chat`) they are cached in memory; a one-shot `rag ask` starts
empty and spent about a second embedding some 60 sentences on every question (bench/
RESULTS.md). This store keeps them on disk, keyed by the embedder's collection name and
a hash of the sentence text, so a later process reuses them.

It is a cache and nothing more:
- content-addressed: a sentence's vector never changes for one model, so another
  process's writes cannot make an entry wrong; a stored vector whose size is not the
  embedder's dimension is ignored;
- forgotten with the documents: an ingest that removes or changes a document empties it
  (`clear`, under the ingest lock: a deleted document's sentences must not linger), and
  `rag reset` deletes the file; an open store follows a file replaced under it;
- bounded: beyond MAX_BYTES of vectors the oldest entries are dropped;
- never in the way: another process writing (busy) skips one read or write; a damaged
  or read-only file or a full disk turns the store off for this process until the file
  is replaced. Either way the sentences are embedded again, nothing fails. It is not part
  of the index the ingest lock guards, so readers may write it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

SENTENCE_DB = "sentences.sqlite3"  # in the data dir
MAX_BYTES = 64 << 20  # vectors kept at most (~40k sentences at 384-d, ~16k at 1024-d)
MIN_ROWS = 1000  # ... but never fewer sentences than this
BUSY_MS = 200  # another process writing: wait this long, then go on without the store
CLEAR_BUSY_MS = 5000  # the ingest waits longer to empty it
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode in _BUSY


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


class SentenceVectorStore:
    """A small SQLite table of (model, sha1(text)) -> float32 vector, opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._ino: int | None = None  # inode of the file opened
        self._off_ino: int | None = None  # turned off for the file with this inode
        self._off = False
        self._lock = threading.Lock()

    def _open(self) -> sqlite3.Connection | None:
        ino = _inode(self.path)
        if self._off:
            if ino == self._off_ino:
                return None
            self._off = False  # the damaged file was replaced (`rag reset`, an ingest)
        if self._db is not None and ino != self._ino:
            self._close()  # replaced under us: writes would go to a deleted file
        if self._db is None:
            if not self.path.parent.is_dir():
                return None  # nothing indexed here: do not create the data dir for a cache
            db = sqlite3.connect(str(self.path), timeout=BUSY_MS / 1000, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost write is re-embedded
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, "
                    "vector BLOB NOT NULL, PRIMARY KEY (model, key))"
                )
                db.commit()
            except sqlite3.Error:
                db.close()
                raise
            self._db, self._ino = db, _inode(self.path)
        return self._db

    def get(self, model: str, texts: Sequence[str], dim: int | None) -> dict[str, list[float]]:
        """The stored vectors of those `texts` this model has (none when the store is off).
        Only float32 vectors of `dim` numbers count (of the most common size when `dim` is
        not known yet): a damaged or foreign entry is embedded again instead."""
        import numpy as np

        if not texts:
            return {}
        keys = {_key(t): t for t in texts}
        found: dict[str, bytes] = {}
        with self._lock:
            try:
                db = self._open()
                if db is None:
                    return {}
                items = list(keys)
                for i in range(0, len(items), 500):  # SQLite's bound-parameter limit
                    part = items[i : i + 500]
                    rows = db.execute(
                        "SELECT key, vector FROM vectors WHERE model = ? AND key IN "
                        f"({','.join('?' * len(part))})",
                        (model, *part),
                    ).fetchall()
                    for key, blob in rows:
                        if isinstance(key, bytes) and key in keys and isinstance(blob, bytes):
                            found[keys[key]] = blob
            except (sqlite3.Error, OSError) as exc:
                if not _busy(exc):
                    self._disable()
                return {}
        sizes = Counter(len(b) for b in found.values())
        size = 4 * dim if dim else (sizes.most_common(1)[0][0] if sizes else 0)
        return {
            t: np.frombuffer(b, dtype="<f4").tolist()
            for t, b in found.items()
            if size and len(b) == size
        }

    def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        """Keep these vectors (already stored ones are left as they are)."""
        import numpy as np

        if not vectors:
            return
        rows = [(model, _key(t), np.asarray(v, dtype="<f4").tobytes()) for t, v in vectors.items()]
        keep = max(MIN_ROWS, MAX_BYTES // max(1, len(rows[0][2])))
        with self._lock:
            try:
                db = self._open()
                if db is None:
                    return
                with db:
                    db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
                    top = db.execute("SELECT max(rowid) FROM vectors").fetchone()[0] or 0
                    if top > keep:
                        db.execute("DELETE FROM vectors WHERE rowid <= ?", (top - keep,))
            except (sqlite3.Error, OSError) as exc:
                if not _busy(exc):
                    self._disable()

    def _disable(self) -> None:
        self._off, self._off_ino = True, _inode(self.path)
        self._close()

    def _close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db, self._ino = None, None

    def close(self) -> None:
        with self._lock:
            self._close()


def clear(data_dir: Path) -> None:
    """Empty the store (the ingest, holding the lock, after removing or changing a
    document): deleted sentences are overwritten, not only unlinked from the table. A
    damaged file, or one still busy after CLEAR_BUSY_MS, is deleted instead."""
    path = data_dir / SENTENCE_DB
    if not path.exists():
        return
    try:
        db = sqlite3.connect(str(path), timeout=CLEAR_BUSY_MS / 1000)
        try:
            db.execute("PRAGMA secure_delete=ON")
            with db:
                db.execute("DELETE FROM vectors")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    except sqlite3.Error:
        for f in _files(path):
            with contextlib.suppress(OSError):
                f.unlink()
