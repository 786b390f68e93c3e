"""Chroma, embedded (a folder in the data dir) or a server (`RAG_CHROMA_URL`).

One collection per embedder (`Embedder.collection_name`), whose metadata records the
embedder's kind, model and dimension; opening it with a different embedder of the same
name but another dimension is refused with a message saying how to re-index.

Writes go through llama-index's `ChromaVectorStore` (its node <-> metadata mapping is the
framework's format, readable by any llama-index app); queries go to the collection
directly, which keeps llama-index's 1.8 s import off the question-answering cold path.
Chroma's default embedding function is never constructed for our collections: every
open passes `embedding_function=None` (without it `get_collection` attaches the ONNX
MiniLM function, which downloads a model on first use).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.errors import EmbedderMismatchError, StoreError
from core.offline import configure_offline
from core.settings import Settings
from index.embedders import Embedder
from index.storage import storage_problem

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection


class VectorStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: ClientAPI | None = None
        self._max_batch: int | None = None

    def reopen(self) -> None:
        """Forget the client so the next use opens the store again (a Chroma server
        connection that failed). For the embedded store, also drop chromadb's in-memory
        "system" for the path; only the ingest, holding the ingest lock, opens it."""
        client, self._client = self._client, None
        if client is None or self.settings.chroma_url:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        identifier = getattr(client, "_identifier", None)
        with SharedSystemClient._refcount_lock:
            SharedSystemClient._identifier_to_system.pop(str(identifier), None)
            SharedSystemClient._identifier_to_refcount.pop(str(identifier), None)

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            configure_offline()
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            try:
                if self.settings.chroma_url:
                    parts = urlsplit(self.settings.chroma_url)
                    headers = (
                        {"Authorization": f"Bearer {self.settings.chroma_token}"}
                        if self.settings.chroma_token
                        else None
                    )
                    self._client = chromadb.HttpClient(
                        host=parts.hostname or "127.0.0.1",
                        port=parts.port or (443 if parts.scheme == "https" else 8000),
                        ssl=parts.scheme == "https",
                        headers=headers,
                        settings=chroma_settings,
                    )
                else:
                    self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(
                        path=str(self.settings.chroma_path), settings=chroma_settings
                    )
            except Exception as exc:  # chromadb raises many types for an unreachable server
                raise StoreError(self._failure("open", exc)) from None
        return self._client

    def _failure(self, what: str, exc: BaseException) -> str:
        kind = "Chroma server" if self.settings.chroma_url else "Chroma store"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.settings.chroma_url and re.search(
            r"unauthori[sz]ed|forbidden|\b40[13]\b", detail, re.I
        ):
            hint = (
                "check RAG_CHROMA_TOKEN" if self.settings.chroma_token else "set RAG_CHROMA_TOKEN"
            )
            detail += f" ({hint} to the server's token)"
        if not self.settings.chroma_url and what != "query":
            problem = storage_problem(self.settings.chroma_path)
            if problem:  # the library's words ("Failed to apply logs") hide it
                detail, what = problem, "write to"
        return f"cannot {what} the {kind} at {self.location}: {detail}"

    def collection(self, embedder: Embedder, *, create: bool = True) -> Collection | None:
        """The embedder's collection (created when missing and `create`), checked."""
        name = embedder.collection_name
        try:
            if create:
                col = self.client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata={
                        "rag:kind": embedder.kind,
                        "rag:model": embedder.model,
                        "rag:dim": embedder.dim or 0,
                        "rag:created": time.time(),
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                )
            else:
                try:
                    col = self.client.get_collection(name, embedding_function=None)
                except Exception as exc:
                    if "does not exist" in str(exc) or "not found" in str(exc).lower():
                        return None
                    raise
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(self._failure("use", exc)) from None
        self._check(col, embedder)
        return col

    def named(self, name: str) -> Collection | None:
        """An existing collection by name (unchecked), or None."""
        try:
            return self.client.get_collection(name, embedding_function=None)
        except StoreError:
            raise
        except Exception:
            return None

    def _check(self, col: Collection, embedder: Embedder) -> None:
        meta = col.metadata or {}
        stored_dim = int(meta.get("rag:dim") or 0)
        if embedder.dim and stored_dim and embedder.dim != stored_dim:
            raise EmbedderMismatchError(
                f"collection {col.name} holds {stored_dim}-dimensional vectors from "
                f"{meta.get('rag:kind')} {meta.get('rag:model')}, but the embedder now gives "
                f"{embedder.dim}: run `rag reset` then `rag ingest` to re-index"
            )
        if embedder.dim and not stored_dim:
            col.modify(metadata={**meta, "rag:dim": embedder.dim})

    def max_batch(self) -> int:
        """The most records one Chroma call accepts (5,461 for the embedded store)."""
        if self._max_batch is None:
            try:
                self._max_batch = int(self.client.get_max_batch_size())
            except StoreError:
                raise
            except Exception:
                self._max_batch = 1000
            if self._max_batch <= 0:
                self._max_batch = 1000
        return self._max_batch

    def write(self, col: Collection, nodes: Sequence[Any]) -> None:
        """Add llama-index TextNodes (with embeddings) through ChromaVectorStore, in
        calls of at most `max_batch()` records (Chroma refuses larger ones).

        ChromaVectorStore.add calls `collection.add`, which does not overwrite existing ids,
        so callers delete a document's old vectors first (`delete_documents`).
        """
        from llama_index.vector_stores.chroma import ChromaVectorStore

        nodes = list(nodes)
        self._room_for(nodes)
        step = self.max_batch()
        try:
            store = ChromaVectorStore(chroma_collection=col)
            for i in range(0, len(nodes), step):
                store.add(nodes[i : i + step])
        except Exception as exc:
            raise StoreError(self._failure("write to", exc)) from None

    def _room_for(self, nodes: Sequence[Any]) -> None:
        """Refuse a write the embedded store's disk cannot hold, before Chroma starts it:
        on a full disk Chroma reports a masked error, or retries forever."""
        if self.settings.chroma_url or not nodes:
            return
        import shutil

        need = sum(
            len(getattr(n, "text", "")) * 3 + len(getattr(n, "embedding", None) or ()) * 12
            for n in nodes
        ) + (8 << 20)  # text and metadata, vector in SQLite and HNSW, a margin
        try:
            free = shutil.disk_usage(self.settings.chroma_path).free
        except OSError:
            return
        if free < need:
            raise StoreError(
                f"cannot write to the Chroma store at {self.location}: no space left on "
                f"device ({free // (1 << 20)} MB free, about {need // (1 << 20) + 1} MB needed)"
            )

    def count(self, col: Collection) -> int:
        try:
            return int(col.count())
        except Exception as exc:
            raise StoreError(self._failure("read", exc)) from None

    def vectors(self, col: Collection, page: int = 2000) -> Iterator[tuple[list[str], Any]]:
        """Every (ids, float32 rows) of a collection, a page at a time."""
        import numpy as np

        offset = 0
        while True:
            try:
                got = col.get(include=["embeddings"], limit=page, offset=offset)
            except Exception as exc:
                raise StoreError(self._failure("read", exc)) from None
            ids = [str(i) for i in got["ids"]]
            if not ids:
                return
            yield ids, np.asarray(got["embeddings"], dtype=np.float32)
            offset += len(ids)

    def stamp(self) -> list[int] | None:
        """Identity of the embedded store's SQLite file (size, mtime): a store deleted or
        written by someone else since the last snapshot has another one. (Not the inode:
        a data dir copied with its times, a restored backup, is the same store.)"""
        if self.settings.chroma_url:
            return None
        try:
            st = (self.settings.chroma_path / "chroma.sqlite3").stat()
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]

    def close(self) -> None:
        """Release the client (the embedded store's files and threads with it). Only the
        ingest, holding the ingest lock, ever opens the embedded store: it closes it
        before releasing the lock, so no stale in-memory state survives into a later
        ingest of the same process."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # best effort: the process may be exiting
            client.close()  # type: ignore[attr-defined]  # chromadb >= 1.0: Client.close

    def delete_documents(self, col: Collection, doc_ids: Sequence[str]) -> None:
        try:
            for doc_id in doc_ids:
                col.delete(where={"document_id": doc_id})
        except Exception as exc:
            raise StoreError(self._failure("delete from", exc)) from None

    def ids(self, col: Collection) -> set[str]:
        out: set[str] = set()
        page = self.max_batch()
        try:
            while True:
                got = col.get(include=[], limit=page, offset=len(out))
                out.update(got["ids"])
                if len(got["ids"]) < page:
                    return out
        except Exception as exc:
            raise StoreError(self._failure("read", exc)) from None

    def delete_ids(self, col: Collection, ids: Sequence[str]) -> None:
        step = min(1000, self.max_batch())
        try:
            for i in range(0, len(ids), step):
                col.delete(ids=list(ids[i : i + step]))
        except Exception as exc:
            raise StoreError(self._failure("delete from", exc)) from None

    def search(
        self,
        col: Collection,
        vector: Sequence[float],
        k: int,
        where: dict[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k (chunk_id, cosine similarity), best first, optionally filtered on metadata
        (`{"lang": "zh"}`). (No `count()` first: it costs about 12 ms at 100k vectors, and
        a query on an empty collection returns nothing.)"""
        if k <= 0:
            return []
        try:
            import numpy as np

            query = np.asarray([vector], dtype=np.float32)
            res = col.query(query_embeddings=query, n_results=k, include=["distances"], where=where)
        except Exception as exc:
            raise StoreError(self._failure("query", exc)) from None
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]

    def drop_all(self) -> list[str]:
        """Delete every collection this project made (names starting with `rag-`)."""
        dropped = []
        try:
            for col in self.client.list_collections():
                name = col if isinstance(col, str) else col.name
                if name.startswith("rag-"):
                    self.client.delete_collection(name)
                    dropped.append(name)
        except Exception as exc:
            raise StoreError(self._failure("reset", exc)) from None
        return dropped
