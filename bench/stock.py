"""The baselines: what a user would assemble from stock llama-index for the same job.

- `SimpleDirectoryReader` + `SentenceSplitter()` (defaults: 1024 tokens, 200 overlap) +
  `BM25Retriever` from llama-index-retrievers-bm25 (its defaults: English stemmer and
  stopwords).
- The same nodes in a `VectorStoreIndex` over a `ChromaVectorStore`, embedded with *our*
  builtin embedder wrapped as a llama-index `BaseEmbedding` (so the comparison is about the
  pipeline, not the embedding model), or with llama-index's `OllamaEmbedding`.
- An `IngestionPipeline` (splitter, embedder, Chroma; with a docstore for re-runs).

Every retrieved node becomes a `rag.schema.Passage` (source, [start, end), text) so it is
scored by exactly the rules `rag eval` uses (rag/evaluate.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.offline import configure_offline

configure_offline()

from llama_index.core import Settings as LISettings  # noqa: E402
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.node_parser import SentenceSplitter  # noqa: E402
from llama_index.core.schema import BaseNode, NodeWithScore, TextNode  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402

from index.embedders import BuiltinEmbedder  # noqa: E402
from rag.schema import Passage  # noqa: E402

# never the OpenAI fallback
LISettings.llm = MockLLM()


class BuiltinLlamaEmbedding(BaseEmbedding):
    """Our weight-free embedder behind llama-index's embedding interface; counts calls."""

    model_name: str = "hash-ngram-v1"
    _inner: BuiltinEmbedder = PrivateAttr()
    _calls: int = PrivateAttr(default=0)
    _texts: int = PrivateAttr(default=0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._inner = BuiltinEmbedder()

    @property
    def calls(self) -> int:
        return self._calls

    @property
    def texts(self) -> int:
        return self._texts

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embeddings([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self._calls += 1
        self._texts += len(texts)
        return self._inner.embed_batch(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


LISettings.embed_model = BuiltinLlamaEmbedding()


def ollama_embedding(host: str, model: str = "bge-m3") -> BaseEmbedding:
    from llama_index.embeddings.ollama import OllamaEmbedding

    return OllamaEmbedding(model_name=model, base_url=host)


def load_documents(folder: Path) -> list[Any]:
    """Stock reading: SimpleDirectoryReader, file names as ids (so re-runs can dedupe)."""
    return SimpleDirectoryReader(str(folder), filename_as_id=True).load_data(show_progress=False)


def split(
    documents: Sequence[Any], chunk_size: int | None = None, overlap: int | None = None
) -> list[BaseNode]:
    splitter = (
        SentenceSplitter()
        if chunk_size is None
        else SentenceSplitter(chunk_size=chunk_size, chunk_overlap=overlap or 0)
    )
    return splitter.get_nodes_from_documents(list(documents))


def bm25(nodes: Sequence[BaseNode], k: int = 10) -> Any:
    from llama_index.retrievers.bm25 import BM25Retriever

    return BM25Retriever.from_defaults(nodes=list(nodes), similarity_top_k=k)


def chroma_collection(path: Path | None, name: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    s = ChromaSettings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(str(path), s) if path else chromadb.EphemeralClient(s)
    return client.get_or_create_collection(name, embedding_function=None)


def vector_index(
    nodes: Sequence[BaseNode], collection: Any, embed: BaseEmbedding
) -> VectorStoreIndex:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = ChromaVectorStore(chroma_collection=collection)
    ctx = StorageContext.from_defaults(vector_store=store)
    return VectorStoreIndex(
        list(nodes), storage_context=ctx, embed_model=embed, show_progress=False
    )


def vector_retriever_over(collection: Any, embed: BaseEmbedding, k: int = 10) -> Any:
    """A stock retriever over an existing Chroma collection (ours, for latency tiers)."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = ChromaVectorStore(chroma_collection=collection)
    index = VectorStoreIndex.from_vector_store(store, embed_model=embed)
    return index.as_retriever(similarity_top_k=k)


def persisted_fusion(persist: Path, k: int = 5) -> Any:
    """BM25 + Chroma vectors fused by reciprocal rank, over an index run.py persisted:
    the retrieval the stock `ask` and UI scripts do, as a user would write it."""
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    bm25 = BM25Retriever.from_persist_dir(str(persist / "bm25"))
    collection = chroma_collection(persist / "chroma", "stock")
    vector = vector_retriever_over(collection, BuiltinLlamaEmbedding(), k=k)
    return QueryFusionRetriever(
        [bm25, vector], similarity_top_k=k, num_queries=1, mode="reciprocal_rerank",
        use_async=False, llm=MockLLM(),
    )  # fmt: skip


def to_passages(hits: Sequence[NodeWithScore]) -> list[Passage]:
    out = []
    for n, hit in enumerate(hits, 1):
        node = hit.node
        meta = node.metadata or {}
        source = str(meta.get("file_path") or meta.get("source") or meta.get("file_name") or "")
        text = node.get_content()
        start = getattr(node, "start_char_idx", None)
        end = getattr(node, "end_char_idx", None)
        if start is None or end is None:
            start, end = -1, -1
        out.append(
            Passage(
                n=n,
                chunk_id=node.node_id,
                doc_id=str(getattr(node, "ref_doc_id", "") or ""),
                source=source,
                title="",
                lang="",
                start=int(start),
                end=int(end),
                text=text,
                score=float(hit.score or 0.0),
            )
        )
    return out


def retrieve_fn(retriever: Any) -> Callable[[str], list[Passage]]:
    def run(question: str) -> list[Passage]:
        return to_passages(retriever.retrieve(question))

    return run


def text_nodes(rows: Sequence[tuple[str, str, str]]) -> list[TextNode]:
    """(id, source, text) rows as plain nodes (for the latency tiers: the same chunks as ours)."""
    return [TextNode(id_=cid, text=text, metadata={"file_path": src}) for cid, src, text in rows]


def quiet() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
