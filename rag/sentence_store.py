"""Sentence vectors kept between processes: `<data_dir>/sentences.sqlite3`.

The sentence rerank (`rag.rerank`), abstention's sentence signals and the model-free answer
read the vectors of the top passages' sentences (`rag.sentences`). In a long-running
process (`rag serve`, `rag chat`) they are cached in memory; a one-shot `rag ask` starts
empty and spent about a second embedding some 60 sentences on every question (bench/
RESULTS.md). This store keeps them on disk, keyed by the embedder's collection name
(model and dimension) and a hash of the sentence text, so a later process reuses them.

It is a cache and nothing more:
- content-addressed: a sentence's vector never changes for one model, so re-ingesting,
  removing a document or another process's writes cannot make an entry wrong (only
  unused); `rag reset` deletes the file with the index;
- bounded: beyond MAX_ROWS the oldest entries are dropped (~1.6 KB each at 384-d);
- never in the way: a locked, damaged or read-only file, or a full disk, only means
  embedding again. The first failure turns the store off for the process's life; nothing
  the index holds is touched (the file is not part of the store the ingest lock guards).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

SENTENCE_DB = "sentences.sqlite3"  # in the data dir
MAX_ROWS = 100_000
BUSY_MS = 200  # another process writing: wait this long, then go on without the store


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class SentenceVectorStore:
    """A small SQLite table of (model, sha1(text)) -> float32 vector, opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._off = False
        self._lock = threading.Lock()

    def _open(self) -> sqlite3.Connection | None:
        if self._off:
            return None
        if self._db is None:
            if not self.path.parent.is_dir():
                return None  # nothing indexed here: do not create the data dir for a cache
            db = sqlite3.connect(str(self.path), timeout=BUSY_MS / 1000, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, "
                    "vector BLOB NOT NULL, PRIMARY KEY (model, key))"
                )
                db.commit()
            except sqlite3.Error:
                db.close()
                raise
            self._db = db
        return self._db

    def get(self, model: str, texts: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of those `texts` this model has (none when the store is off)."""
        import numpy as np

        if not texts:
            return {}
        keys = {_key(t): t for t in texts}
        found: dict[str, list[float]] = {}
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
                        found[keys[bytes(key)]] = np.frombuffer(blob, dtype="<f4").tolist()
            except (sqlite3.Error, OSError, ValueError):
                self._disable()
                return {}
        return found

    def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        """Keep these vectors (already stored ones are left as they are)."""
        import numpy as np

        if not vectors:
            return
        rows = [(model, _key(t), np.asarray(v, dtype="<f4").tobytes()) for t, v in vectors.items()]
        with self._lock:
            try:
                db = self._open()
                if db is None:
                    return
                with db:
                    db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
                    top = db.execute("SELECT max(rowid) FROM vectors").fetchone()[0] or 0
                    if top > MAX_ROWS:
                        db.execute("DELETE FROM vectors WHERE rowid <= ?", (top - MAX_ROWS,))
            except (sqlite3.Error, OSError):
                self._disable()

    def _disable(self) -> None:
        self._off = True
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
