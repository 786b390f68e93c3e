"""Vector snapshots: the read path of dense search on the embedded store.

Chroma's embedded store is not made for several processes at once (a reader beside a
writer segfaulted and left vectors unreadable). So only the process holding the ingest
lock opens it, and every reader (`rag ask`, `rag serve`, another thread) answers dense
queries from a snapshot of each collection's vectors that the writer publishes after it
commits: one file per collection, `<data_dir>/dense/<collection>.vec`, written to a temp
name, fsynced and renamed, so a reader sees the old snapshot or the new one, never half.
Readers memory-map the vectors (no size cap, nothing copied into the heap) and search
them exactly (brute-force cosine). A snapshot may lag the catalog while an ingest runs:
readers keep answering from it, and ids the catalog does not know are dropped by the
retriever (chunk ids hash their text, so a known id always means the same passage).

File layout: MAGIC, two little-endian u64 (offset and length of a JSON header), padding
to 64 bytes, then `n x dim` float32 rows (L2-normalised), then the header: format,
collection, catalog generation at publish time, n, dim, the ids, and the store stamp
(identity of Chroma's SQLite file when the snapshot was taken: a later ingest that finds
another stamp counts the store again instead of trusting the snapshot).

A Chroma server (`RAG_CHROMA_URL`) is queried directly; it has no snapshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DENSE_DIR = "dense"  # vector snapshots, in the data dir
FORMAT = 2
MAGIC = b"RAGVEC2\n"
DATA_OFFSET = 64
BLOCK = 4096  # rows copied per step when a snapshot is written


@dataclass(frozen=True)
class DenseMatrix:
    collection: str
    generation: int
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32, rows L2-normalised; usually a read-only memmap
    stamp: list[int] | None = None
    file_key: tuple[int, int, int] = (0, 0, 0)  # (inode, size, mtime_ns) of the file read

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def search(
        self, vector: Sequence[float], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (id, cosine similarity), best first; only rows where `mask` is true."""
        import numpy as np

        if not self.ids or k <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if norm == 0.0 or q.shape[0] != self.dim:
            return []
        scores = self.vectors @ (q / norm)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
            k = min(k, int(mask.sum()))
            if k <= 0:
                return []
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]


def path_of(folder: Path, collection: str) -> Path:
    return folder / f"{collection}.vec"


def file_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_header(folder: Path, collection: str) -> dict[str, Any] | None:
    """The snapshot's header (without the vectors), or None when missing or unreadable."""
    try:
        with open(path_of(folder, collection), "rb") as fh:
            head = fh.read(DATA_OFFSET)
            if len(head) < 24 or head[:8] != MAGIC:
                return None
            offset, length = struct.unpack("<QQ", head[8:24])
            fh.seek(offset)
            raw = fh.read(length)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    try:
        meta = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    n, dim = int(meta.get("n", -1)), int(meta.get("dim", -1))
    if n < 0 or dim < 0 or len(meta.get("ids", ())) != n:
        return None
    if offset != DATA_OFFSET + n * dim * 4 or offset + length != size:
        return None  # truncated or padded: not a snapshot this module wrote
    return meta


def load(folder: Path, collection: str) -> DenseMatrix | None:
    """The published snapshot, memory-mapped, or None when missing or unreadable."""
    import numpy as np

    path = path_of(folder, collection)
    for _attempt in range(3):  # replaced between the stat and the open: read again
        key = file_key(path)
        meta = read_header(folder, collection)
        if meta is None or key is None:
            return None
        if file_key(path) != key:
            continue
        n, dim = int(meta["n"]), int(meta["dim"])
        if n == 0 or dim == 0:
            vectors = np.zeros((0, max(dim, 1)), dtype=np.float32)
        else:
            try:
                vectors = np.memmap(
                    path, dtype=np.float32, mode="r", offset=DATA_OFFSET, shape=(n, dim)
                )
            except (OSError, ValueError):
                return None
        stamp = meta.get("stamp")
        return DenseMatrix(
            collection,
            int(meta.get("generation", 0)),
            [str(i) for i in meta["ids"]],
            vectors,
            list(stamp) if stamp else None,
            key,
        )
    return None


def normalise(vectors: Any) -> np.ndarray:
    import numpy as np

    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2:
        rows = rows.reshape(len(rows), -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)


def write(
    folder: Path,
    collection: str,
    generation: int,
    blocks: Iterable[tuple[Sequence[str], np.ndarray]],
    *,
    dim: int,
    stamp: list[int] | None,
) -> int:
    """Publish a snapshot from (ids, rows) blocks, streamed to disk: temp file, fsync,
    rename. Returns the number of vectors. A failed write (a full disk) removes its temp
    file and raises the OSError it met."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    path = path_of(folder, collection)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    ids: list[str] = []
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + bytes(DATA_OFFSET - len(MAGIC)))
            for block_ids, rows in blocks:
                if not len(block_ids):
                    continue
                rows = np.ascontiguousarray(rows, dtype=np.float32)
                if rows.shape != (len(block_ids), dim):
                    raise ValueError(f"snapshot rows of shape {rows.shape}, expected dim {dim}")
                fh.write(rows.tobytes())
                ids.extend(block_ids)
            offset = fh.tell()
            meta = {
                "format": FORMAT,
                "collection": collection,
                "generation": generation,
                "n": len(ids),
                "dim": dim,
                "stamp": stamp,
                "ids": ids,
            }
            raw = json.dumps(meta).encode("utf-8")
            fh.write(raw)
            fh.seek(8)
            fh.write(struct.pack("<QQ", offset, len(raw)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return len(ids)


@dataclass
class SnapshotWriter:
    """The writer's side: the last published snapshot plus what this ingest added and
    removed since, spooled to disk (memory stays bounded however large the ingest).
    `publish` streams the merged result into a new snapshot file."""

    folder: Path
    collection: str
    base: DenseMatrix | None = None
    dim: int | None = None
    _added: dict[str, int] = field(default_factory=dict)  # id -> row in the spool
    _removed: set[str] = field(default_factory=set)
    _rows: int = 0
    _spool: Any = None
    _spool_path: Path | None = None
    changed: bool = False
    unstamped: bool = False  # published during an ingest, without the store's stamp

    @classmethod
    def open(cls, folder: Path, collection: str) -> SnapshotWriter:
        base = load(folder, collection)
        return cls(folder, collection, base, base.dim if base is not None and base.ids else None)

    @property
    def ids(self) -> set[str]:
        have = {
            i for i in (self.base.ids if self.base is not None else ()) if i not in self._removed
        }
        return have | set(self._added)

    def count(self) -> int:
        return len(self.ids)

    def reset(self) -> None:
        """Forget the base: the snapshot is rebuilt from what is added next."""
        if self.base is not None:
            self._removed.update(self.base.ids)
        self.base = None
        self.changed = True

    def add(self, ids: Sequence[str], vectors: Any) -> None:
        if not len(ids):
            return
        rows = normalise(vectors)
        if self.dim is None:
            self.dim = int(rows.shape[1])
        if self._spool is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._spool_path = self.folder / f"{self.collection}.{os.getpid()}.spool"
            self._spool = open(self._spool_path, "w+b")  # noqa: SIM115
        self._spool.seek(self._rows * self.dim * 4)
        self._spool.write(rows.tobytes())
        for i, cid in enumerate(ids):
            self._added[cid] = self._rows + i
        self._rows += len(ids)
        self.changed = True

    def remove(self, ids: Iterable[str]) -> None:
        for cid in ids:
            self._added.pop(cid, None)
            self._removed.add(cid)
            self.changed = True

    def _blocks(self) -> Iterable[tuple[list[str], np.ndarray]]:
        """The merged rows, a block at a time, read with plain reads (not mapped: the
        copy of a large snapshot must not count as resident memory of the writer)."""
        import numpy as np

        base = self.base
        if base is not None and base.ids:
            dim = base.dim
            with open(path_of(self.folder, self.collection), "rb") as fh:
                for at in range(0, len(base.ids), BLOCK):
                    ids = base.ids[at : at + BLOCK]
                    keep = [
                        i for i, cid in enumerate(ids)
                        if cid not in self._removed and cid not in self._added
                    ]  # fmt: skip
                    if not keep:
                        continue
                    fh.seek(DATA_OFFSET + at * dim * 4)
                    rows = np.fromfile(fh, dtype=np.float32, count=len(ids) * dim)
                    rows = rows.reshape(len(ids), dim)
                    yield [ids[i] for i in keep], rows[keep]
        if self._added and self.dim:
            dim = self.dim
            self._spool.flush()
            live = sorted(self._added.items(), key=lambda item: item[1])
            at = 0
            while at < len(live):
                first = live[at][1]
                part = [item for item in live[at : at + BLOCK] if item[1] < first + BLOCK]
                last = part[-1][1]
                self._spool.seek(first * dim * 4)
                rows = np.fromfile(self._spool, dtype=np.float32, count=(last - first + 1) * dim)
                rows = rows.reshape(-1, dim)
                yield [cid for cid, _ in part], rows[[row - first for _, row in part]]
                at += len(part)

    def publish(self, generation: int, stamp: list[int] | None) -> int:
        """Write the merged snapshot and make it the new base."""
        dim = self.dim or (self.base.dim if self.base is not None else 0) or 1
        n = write(self.folder, self.collection, generation, self._blocks(), dim=dim, stamp=stamp)
        self.base = load(self.folder, self.collection)
        self.unstamped = stamp is None
        self._added.clear()
        self._removed.clear()
        self._rows = 0
        if self._spool is not None:
            self._spool.truncate(0)
        self.changed = False
        return n

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            if self._spool_path is not None:
                self._spool_path.unlink(missing_ok=True)


def drop(folder: Path, collection: str) -> None:
    with contextlib.suppress(OSError):
        path_of(folder, collection).unlink()
