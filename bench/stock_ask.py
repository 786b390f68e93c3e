"""The baseline for `rag ask --no-llm`: a minimal stock llama-index script doing the same
retrieval (BM25 + Chroma vectors, fused by reciprocal rank) over an index persisted by
run.py (SentenceSplitter defaults, BM25Retriever.persist, a persistent Chroma folder).

    python bench/stock_ask.py PERSIST_DIR "question"
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stock
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.retrievers.bm25 import BM25Retriever


def main() -> int:
    persist, question = Path(sys.argv[1]), sys.argv[2]
    bm25 = BM25Retriever.from_persist_dir(str(persist / "bm25"))
    collection = stock.chroma_collection(persist / "chroma", "stock")
    vector = stock.vector_retriever_over(collection, stock.BuiltinLlamaEmbedding(), k=5)
    fusion = QueryFusionRetriever(
        [bm25, vector], similarity_top_k=5, num_queries=1, mode="reciprocal_rerank",
        use_async=False, llm=stock.MockLLM(),
    )  # fmt: skip
    for n, hit in enumerate(fusion.retrieve(question), 1):
        print(f"[{n}] {hit.node.metadata.get('file_name')}: {hit.node.get_content()[:200]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
