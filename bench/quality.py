"""`make bench` sections `quality` and `eval`, on the shipped corpus and bench/gold.jsonl.

quality  recall@k / MRR, and recall at the same context budget in tokens, for ours (the
         product's retriever over a fresh `rag ingest corpus`) and for stock BM25 / stock
         vector retrieval over the same documents (bench/stock.py)
eval     `rag eval --no-llm --json` on the index `quality` built: answer accuracy,
         citations, abstention, per language

The index `quality` builds (bench/out/quality/ours, and the stock one beside it) is the one
the `eval`, `cold` and `ui` sections use.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness import BENCH, DEAD, OUT, RAG, ROOT, child_env, fresh, run
from results import Bench, Row, fmt

GOLD = BENCH / "gold.jsonl"
BUDGETS = (300, 1500, 3000)  # tokens of context; 1500 = five of our <=300-token chunks
KS = (1, 3, 5, 10)


def score_system(
    gold: Sequence[Any], retrieve: Callable[[str], list[Any]], documents: dict[str, str]
) -> dict[str, Any]:
    from rag.evaluate import (
        first_relevant_rank,
        fit_budget,
        locate_evidence,
        mean_reciprocal_rank,
        percentile,
        recall_at,
    )

    ranks: list[int | None] = []
    in_budget: dict[int, int] = dict.fromkeys(BUDGETS, 0)
    ms: list[float] = []
    answerable = [g for g in gold if g.answerable]
    for item in answerable:
        t = time.perf_counter()
        passages = retrieve(item.question)[:10]
        ms.append((time.perf_counter() - t) * 1000)
        spans = locate_evidence(item.evidence, documents)
        ranks.append(first_relevant_rank(passages, spans))
        for budget in BUDGETS:
            if first_relevant_rank(fit_budget(passages, budget), spans) is not None:
                in_budget[budget] += 1
    out: dict[str, Any] = {f"recall@{k}": recall_at(ranks, k) for k in KS}
    out["mrr"] = mean_reciprocal_rank(ranks)
    for budget in BUDGETS:
        out[f"budget@{budget}"] = in_budget[budget] / len(answerable)
    out["p50_ms"] = percentile(ms, 50)
    return out


def quality(bench: Bench) -> None:
    from core.settings import load_settings
    from rag.evaluate import indexed_documents, load_gold

    gold = load_gold(GOLD)
    qdir = fresh(OUT / "quality")
    ours_dir = qdir / "ours"
    proc = run([RAG, "ingest", "corpus", "--json"], child_env(RAG_DATA_DIR=str(ours_dir)))
    first = proc.json()
    bench.tables.setdefault("facts", []).append(
        f"Shipped corpus: 5 documents, {first['chunks']} chunks of at most 300 tokens "
        f"(first `rag ingest corpus`: {proc.wall:.1f} s wall, {first['seconds']:.1f} s in-process)."
    )

    import stock  # heavy: llama-index

    os.environ.update({"OLLAMA_HOST": DEAD, "RAG_EMBEDDER": "builtin", "RAG_PROBE_TIMEOUT": "0.5"})
    settings = load_settings(data_dir=ours_dir)
    try:
        from rag.answer import Answerer

        retriever = Answerer(settings).retriever
    except ImportError:
        from rag.retrieve import Retriever

        retriever = Retriever(settings)

    def ours(q: str) -> list[Any]:
        return retriever.search([q], 10, budget=10**9).passages

    docs = stock.load_documents(ROOT / "corpus")
    stock_docs = {d.metadata["file_path"]: d.text for d in docs}
    default_nodes = stock.split(docs)
    bm25 = stock.bm25(default_nodes)
    stock_dir = qdir / "stock"
    bm25.persist(str(stock_dir / "bm25"))
    collection = stock.chroma_collection(stock_dir / "chroma", "stock")
    vindex = stock.vector_index(default_nodes, collection, stock.BuiltinLlamaEmbedding())
    vector = vindex.as_retriever(similarity_top_k=10)
    bm25_300 = stock.bm25(stock.split(docs, 300, 40))
    systems = {
        "ours: hybrid BM25 + builtin vectors, <=300-token chunks": (
            ours,
            indexed_documents(settings),
        ),
        "stock: SentenceSplitter() + BM25Retriever": (stock.retrieve_fn(bm25), stock_docs),
        "stock: SentenceSplitter() + VectorStoreIndex/Chroma, same embedder": (
            stock.retrieve_fn(vector),
            stock_docs,
        ),
        "stock: SentenceSplitter(300, 40) + BM25Retriever": (
            stock.retrieve_fn(bm25_300),
            stock_docs,
        ),
    }
    scores = {name: score_system(gold, fn, d) for name, (fn, d) in systems.items()}
    cols = [*(f"recall@{k}" for k in KS), "mrr", *(f"budget@{b}" for b in BUDGETS), "p50_ms"]
    heads = [*(f"R@{k}" for k in KS), "MRR", *(f"R in {b} tok" for b in BUDGETS), "p50 ms"]
    table = ["| retriever | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for name, sc in scores.items():
        table.append(f"| {name} | " + " | ".join(fmt(sc[c]) for c in cols) + " |")
    bench.tables["quality"] = table
    print("\n".join("  " + t for t in table))
    o = scores[next(iter(scores))]
    b = scores["stock: SentenceSplitter() + BM25Retriever"]
    v = scores["stock: SentenceSplitter() + VectorStoreIndex/Chroma, same embedder"]
    bench.add(
        Row(
            "quality",
            "recall@5 (model-free)",
            o["recall@5"],
            b["recall@5"],
            "",
            ">= 0.95",
            o["recall@5"] >= 0.95,
        )
    )
    bench.add(
        Row(
            "quality",
            "recall@1 (model-free)",
            o["recall@1"],
            b["recall@1"],
            "",
            ">= 0.80",
            o["recall@1"] >= 0.8,
        )
    )
    for budget in BUDGETS:
        gap = o[f"budget@{budget}"] - b[f"budget@{budget}"]
        bench.add(
            Row(
                "quality",
                f"recall within {budget} tokens of context vs stock BM25",
                o[f"budget@{budget}"],
                b[f"budget@{budget}"],
                "",
                ">= +15 points" if budget == 1500 else "",
                gap >= 0.15 if budget == 1500 else None,
                f"{gap * 100:+.1f} points",
            )
        )
    bench.add(
        Row(
            "quality",
            "recall within 1500 tokens vs stock vector",
            o["budget@1500"],
            v["budget@1500"],
        )
    )
    retriever.close()


def evaluation(bench: Bench) -> None:
    data = OUT / "quality" / "ours"
    proc = run([RAG, "eval", "--no-llm", "--json"], child_env(RAG_DATA_DIR=str(data)))
    m = proc.json()
    (OUT / "eval.json").write_text(json.dumps(m, ensure_ascii=False, indent=1), "utf-8")
    lines = [
        "| metric (`rag eval --no-llm`, 88 questions) | value |",
        "|---|---|",
        *(f"| recall@{k} | {fmt(m[f'recall@{k}'])} |" for k in KS),
        f"| MRR | {fmt(m['mrr'])} |",
        f"| answer accuracy (accept regex) | {fmt(m['answer_accuracy'])} |",
        f"| citation precision / recall | {fmt(m['citation_precision'])} / "
        f"{fmt(m['citation_recall'])} |",
        f"| abstention accuracy (8 unanswerable) | {fmt(m['abstention_accuracy'])} |",
        f"| false abstentions (answerable) | {fmt(m['false_abstention_rate'])} |",
        f"| ask latency p50 / p95 | {m['latency_ms']['p50']} / {m['latency_ms']['p95']} ms |",
        f"| failed questions | {len(m['failures'])} (listed in bench/out/eval.json) |",
    ]
    for lang, v in m["by_lang"].items():
        lines.append(
            f"| {lang} ({v['questions']} q): recall@5 / accuracy | "
            f"{fmt(v['recall@5'])} / {fmt(v['answer_accuracy'])} |"
        )
    bench.tables["eval"] = lines
    print("\n".join("  " + ln for ln in lines))
