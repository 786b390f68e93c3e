"""A read-side copy of a small Chroma collection's vectors, for exact cosine search
without importing chromadb.

Why: `import chromadb` plus opening the persistent client costs about a second, most of
a cold `rag ask --no-llm`. For a collection of up to MAX_VECTORS vectors, a float32
matrix in the data dir answers the same query exactly (brute force, a few ms at 20k) and
loads in milliseconds. The copy is keyed by the catalog generation: after any ingest the
first query reads the vectors from Chroma again (Chroma stays the store; this is a cache,
rebuilt from it, and deleting the folder is always safe). Larger collections, and Chroma
servers, are queried through Chroma itself (HNSW).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
MAX_VECTORS = 20_000  # 80 MB at 1024 dimensions; beyond that Chroma's HNSW index is better


@dataclass(frozen=True)
class DenseMatrix:
    collection: str
    generation: int
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32, rows L2-normalised

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def search(
        self, vector: Sequence[float], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (id, cosine similarity), best first; only rows where `mask` is true."""
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


def _path(folder: Path, collection: str) -> Path:
    return folder / f"{collection}.npz"


def load(folder: Path, collection: str, generation: int) -> DenseMatrix | None:
    """The cached matrix, or None when missing, stale or unreadable."""
    try:
        with np.load(_path(folder, collection), allow_pickle=False) as data:
            if int(data["format"]) != FORMAT or int(data["generation"]) != generation:
                return None
            ids = [str(i) for i in data["ids"]]
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        return None
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        return None
    return DenseMatrix(collection, generation, ids, vectors)


def build(folder: Path, collection: Any, generation: int) -> DenseMatrix | None:
    """Read every vector of a Chroma `collection` and cache them; None if it is too big."""
    if collection.count() > MAX_VECTORS:
        return None
    got = collection.get(include=["embeddings"])
    ids = [str(i) for i in got["ids"]]
    raw = got.get("embeddings")
    if not ids or raw is None:
        vectors = np.zeros((0, 1), dtype=np.float32)
    else:
        vectors = np.asarray(raw, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = (vectors / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)
    matrix = DenseMatrix(collection.name, generation, ids, vectors)
    save(folder, matrix)
    return matrix


def save(folder: Path, matrix: DenseMatrix) -> None:
    """One file, written to a temp name and renamed: readers see the old or the new copy."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = _path(folder, matrix.collection)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                format=np.int64(FORMAT),
                generation=np.int64(matrix.generation),
                ids=np.asarray(matrix.ids, dtype=str),
                vectors=matrix.vectors,
            )
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only data dir: no cache, queries go to Chroma
