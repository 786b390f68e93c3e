"""Reading back what an ingest stored, for tests that check the stores agree."""

from __future__ import annotations

from collections.abc import Iterable

from core.settings import Settings
from index.vectors import VectorStore


def vector_ids(settings: Settings, collections: Iterable[str]) -> set[str]:
    """Every vector id held by the named Chroma collections (each must exist)."""
    store = VectorStore(settings)
    ids: set[str] = set()
    for name in collections:
        col = store.named(name)
        assert col is not None, name
        ids |= store.ids(col)
    return ids
