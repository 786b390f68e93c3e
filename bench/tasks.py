"""Benchmark steps that must run in a process of their own (cold start, memory, isolation).

    python bench/tasks.py ingest-ours CORPUS          (data dir from RAG_DATA_DIR)
    python bench/tasks.py ingest-stock PERSIST_DIR CORPUS [--chunk-size N --overlap N]
                                                          [--ollama URL]
    python bench/tasks.py build-lexical DATA_DIR CORPUS --chunk-size N --overlap N
    python bench/tasks.py latency-ours DATA_DIR
    python bench/tasks.py latency-stock DATA_DIR [--no-vector]

Each prints one JSON object on its last line. `run.py` drives them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOLD = ROOT / "bench" / "gold.jsonl"
WARMUP = 5


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in GOLD.read_text("utf-8").splitlines() if line]


def _pcts(ms: list[float]) -> dict[str, float]:
    from rag.evaluate import percentile

    return {"p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2)}


def _time_queries(fn: Any, questions: list[str], repeat: int = 2) -> dict[str, float]:
    for q in questions[:WARMUP]:
        fn(q)
    ms = []
    for _ in range(repeat):
        for q in questions:
            t = time.perf_counter()
            fn(q)
            ms.append((time.perf_counter() - t) * 1000)
    return _pcts(ms)


# ingestion ---------------------------------------------------------------------------


def _preimport() -> None:
    """Libraries both sides load anyway, imported before the clock starts (for both)."""
    from core.offline import configure_offline

    configure_offline()
    import chromadb  # noqa: F401
    import llama_index.core  # noqa: F401
    from llama_index.vector_stores.chroma import ChromaVectorStore  # noqa: F401


def ingest_ours(args: argparse.Namespace) -> dict[str, Any]:
    """Our `Ingestor` in-process, timed like the stock pipeline (imports done first)."""
    _preimport()
    from core.settings import load_settings
    from index.ingest import Ingestor

    settings = load_settings()
    t0 = time.perf_counter()
    report = Ingestor(settings, progress=False).run([args.corpus])
    seconds = time.perf_counter() - t0
    d = report.as_dict()
    return {
        "chunks": d["chunks"],
        "seconds": round(seconds, 3),
        "embed_requests": d.get("embed_requests"),
    }


def ingest_stock(args: argparse.Namespace) -> dict[str, Any]:
    """A stock IngestionPipeline: SentenceSplitter -> embedder -> Chroma, with a docstore
    so that a re-run can skip unchanged documents (persisted next to Chroma)."""
    t_import = time.perf_counter()
    _preimport()
    import stock
    from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.vector_stores.chroma import ChromaVectorStore

    imported = time.perf_counter() - t_import
    t0 = time.perf_counter()
    persist = Path(args.persist_dir)
    embed = stock.ollama_embedding(args.ollama) if args.ollama else stock.BuiltinLlamaEmbedding()
    store = ChromaVectorStore(
        chroma_collection=stock.chroma_collection(persist / "chroma", "stock")
    )
    pipeline = IngestionPipeline(
        transformations=[
            SentenceSplitter(chunk_size=args.chunk_size, chunk_overlap=args.overlap),
            embed,
        ],
        vector_store=store,
        docstore=SimpleDocumentStore(),
        docstore_strategy=DocstoreStrategy.UPSERTS,
    )
    state = persist / "pipeline"
    if state.exists():
        pipeline.load(str(state))
    docs = stock.load_documents(Path(args.corpus))
    nodes = pipeline.run(documents=docs, show_progress=False)
    pipeline.persist(str(state))
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {"nodes": len(nodes), "seconds": round(seconds, 3)}
    out["import_seconds"] = round(imported, 3)
    if isinstance(embed, stock.BuiltinLlamaEmbedding):
        out["embed_calls"] = embed.calls
    return out


def build_lexical(args: argparse.Namespace) -> dict[str, Any]:
    """A lexical-only index (catalog + BM25, no vectors) built with the product's own
    loader, chunker, tokenizer, catalog and BM25 code: for the largest latency tier, where
    filling a Chroma HNSW index would take longer than the whole benchmark budget."""
    from core.offline import configure_offline
    from index.catalog import Catalog, ChunkRow, DocumentRow
    from index.chunker import chunk_spans
    from index.lexical import LexicalIndex, tokenize
    from index.loaders import load_bytes
    from index.prepare import chunk_id_of, doc_id_of

    configure_offline()
    t0 = time.perf_counter()
    data = Path(args.data_dir)
    catalog = Catalog(data / "catalog.sqlite3")
    n_chunks = 0
    for path in sorted(Path(args.corpus).glob("*.txt")):
        raw = path.read_bytes()
        loaded = load_bytes(raw, str(path))
        text = loaded.text
        doc_id = doc_id_of(path.resolve())
        rows = []
        for ordinal, span in enumerate(chunk_spans(text, args.chunk_size, args.overlap)):
            piece = text[span.start : span.end]
            rows.append(
                ChunkRow(
                    chunk_id_of(doc_id, ordinal, piece),
                    doc_id,
                    ordinal,
                    span.start,
                    span.end,
                    None,
                    span.tokens,
                    " ".join(tokenize(piece)),
                )
            )
        st = path.stat()
        doc = DocumentRow(
            doc_id, str(path.resolve()), str(path), str(path.parent), "0" * 64, st.st_size,
            st.st_mtime_ns, loaded.title or path.stem, path.name.rsplit(".", 2)[-2],
            loaded.format, loaded.encoding, len(rows), time.time(),
        )  # fmt: skip
        catalog.put_document(doc, text, rows, None)
        n_chunks += len(rows)
    ids, tokens = [], []
    for chunk_id, lex in catalog.lexical_rows():
        ids.append(chunk_id)
        tokens.append(lex.split())
    LexicalIndex.build(ids, tokens, catalog.generation).save(data / "bm25")
    catalog.close()
    return {"chunks": n_chunks, "seconds": round(time.perf_counter() - t0, 3)}


# latency -------------------------------------------------------------------------------


def our_retriever(settings: Any) -> Any:
    """question, k -> passages, through the answering API when it exists."""
    try:
        from rag.answer import Answerer
    except ImportError:
        from rag.retrieve import Retriever

        retriever = Retriever(settings)
        return lambda q, k: retriever.search([q], k, budget=10**9).passages
    answerer = Answerer(settings)
    return lambda q, k: answerer.retrieve(q, k)


def latency_ours(args: argparse.Namespace) -> dict[str, Any]:
    from core.offline import configure_offline
    from core.settings import load_settings

    configure_offline()
    os.environ["RAG_DATA_DIR"] = args.data_dir
    settings = load_settings()
    retrieve = our_retriever(settings)
    questions = _questions()
    t = time.perf_counter()
    retrieve(questions[0], 10)
    first = (time.perf_counter() - t) * 1000
    out = _time_queries(lambda q: retrieve(q, 10), questions)
    out["first_query_ms"] = round(first, 1)
    return out


def latency_stock(args: argparse.Namespace) -> dict[str, Any]:
    """Stock retrievers over the very same chunks (and, when there is one, the very same
    Chroma collection) as our index at this tier."""
    import stock
    from llama_index.core.retrievers import QueryFusionRetriever

    from index.catalog import Catalog

    data = Path(args.data_dir)
    catalog = Catalog(data / "catalog.sqlite3")
    ids = [cid for cid, _lex in catalog.lexical_rows()]
    views = catalog.chunk_views(ids)
    catalog.close()
    rows = [(cid, v.source, v.text) for cid, v in views.items()]
    t0 = time.perf_counter()
    bm25 = stock.bm25(stock.text_nodes(rows), k=10)
    build = time.perf_counter() - t0
    questions = _questions()
    out: dict[str, Any] = {"chunks": len(rows), "bm25_build_s": round(build, 2)}
    out["bm25"] = _time_queries(bm25.retrieve, questions)
    if not args.no_vector:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.PersistentClient(
            str(data / "chroma"), ChromaSettings(anonymized_telemetry=False)
        )
        col = client.get_collection("rag-builtin-hash-ngram-v1", embedding_function=None)
        vector = stock.vector_retriever_over(col, stock.BuiltinLlamaEmbedding(), k=10)
        out["vector"] = _time_queries(vector.retrieve, questions)
        fusion = QueryFusionRetriever(
            [bm25, vector],
            similarity_top_k=10,
            num_queries=1,
            mode="reciprocal_rerank",
            use_async=False,
            llm=stock.MockLLM(),
        )
        out["hybrid"] = _time_queries(fusion.retrieve, questions)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="task", required=True)
    p = sub.add_parser("ingest-stock")
    p.add_argument("persist_dir")
    p.add_argument("corpus")
    p.add_argument("--chunk-size", type=int, default=300)
    p.add_argument("--overlap", type=int, default=40)
    p.add_argument("--ollama", default=None)
    p.set_defaults(func=ingest_stock)
    p = sub.add_parser("ingest-ours")
    p.add_argument("corpus")
    p.set_defaults(func=ingest_ours)
    p = sub.add_parser("build-lexical")
    p.add_argument("data_dir")
    p.add_argument("corpus")
    p.add_argument("--chunk-size", type=int, default=300)
    p.add_argument("--overlap", type=int, default=40)
    p.set_defaults(func=build_lexical)
    p = sub.add_parser("latency-ours")
    p.add_argument("data_dir")
    p.set_defaults(func=latency_ours)
    p = sub.add_parser("latency-stock")
    p.add_argument("data_dir")
    p.add_argument("--no-vector", action="store_true")
    p.set_defaults(func=latency_stock)
    args = ap.parse_args()
    result = args.func(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
