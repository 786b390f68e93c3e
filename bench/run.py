"""`make bench`: our figures against stock llama-index, measured in the same run.

Sections (each prints ours, the baseline's and the ratio, then RESULTS.md is written):
  crosslingual  XQuAD dev sets and the gold halves with the bundled multilingual model:
            ours vs dense-only vs stock BM25; abstention (bench/crosslingual.py)
  quality   recall@k / MRR on bench/gold.jsonl, and recall at the same context budget in
            tokens, for ours and for stock BM25 / stock vector retrieval
  eval      `rag eval --no-llm --json`: answer accuracy, citations, abstention
  ingest    chunks/s against a stock IngestionPipeline with the same embedder: builtin,
            and the fake Ollama server (HTTP requests per chunk); re-ingest of an
            unchanged corpus (seconds, embedding calls)
  latency   warm retrieval p50/p95 at 1k, 10k and 100k chunks of a synthetic corpus
            (bench/synth.py) against the stock retrievers over the very same chunks
  cold      cold `rag ask --no-llm` wall time and peak RSS against bench/stock_ask.py
  ui        `rag serve` time to ready against a minimal stock Gradio chat

    python bench/run.py [--quick] [--only SECTION ...] [--results FILE]

`--quick` uses small sizes (for development); the full run is what RESULTS.md records.
Ratios are ours ÷ stock: above 1 is better for rates and recall, below 1 for times and
memory. Everything runs offline; Ollama is only ever the fake server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this one

from harness import (
    BENCH,
    BUDGET_S,
    DEAD,
    OUT,
    PY,
    RAG,
    ROOT,
    child_env,
    dead_url,
    fresh,
    ready,
    run,
    section,
)
from results import Bench, Row, fmt, load, save

GOLD = BENCH / "gold.jsonl"
QUESTION = "how many H100s does Meta plan to have?"
BUDGETS = (300, 1500, 3000)  # tokens of context; 1500 = five of our <=300-token chunks
KS = (1, 3, 5, 10)
LATENCY_CHUNK = (128, 16)  # chunk size/overlap of the synthetic latency tiers

# quality -------------------------------------------------------------------------------


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
    from rag.evaluate import indexed_documents, load_gold
    from rag.settings import load_settings

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


# rag eval ------------------------------------------------------------------------------


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


# ingestion -----------------------------------------------------------------------------


def ingest_pair(
    bench: Bench,
    label: str,
    corpus: Path,
    tag: str,
    env_extra: dict[str, str],
    ollama: str | None,
    reingest: bool = True,
) -> None:
    """Ours (`Ingestor`) and a stock IngestionPipeline on the same corpus with the same
    embedder, each in its own process with the libraries imported before the clock
    starts; then both again on the unchanged corpus."""
    ours_dir = fresh(OUT / f"ingest-{tag}-ours")
    stock_dir = fresh(OUT / f"ingest-{tag}-stock")
    env = child_env(RAG_DATA_DIR=str(ours_dir), **env_extra)
    fake = bench.fake

    def requests() -> int | None:
        return len(fake.calls("/api/embed")) if (fake and ollama) else None

    def reset() -> None:
        if fake:
            fake.reset_log()

    ours_cmd = [PY, str(BENCH / "tasks.py"), "ingest-ours", str(corpus)]
    stock_cmd = [PY, str(BENCH / "tasks.py"), "ingest-stock", str(stock_dir), str(corpus)]
    if ollama:
        stock_cmd += ["--ollama", ollama]
    reset()
    ours = run(ours_cmd, env)
    o, o_req = ours.json(), requests()
    reset()
    base = run(stock_cmd, child_env())
    s, s_req = base.json(), requests()
    o_rate, s_rate = o["chunks"] / o["seconds"], s["nodes"] / s["seconds"]
    bench.add(
        Row("ingest", f"ingestion, {label}: chunks/s", o_rate, s_rate, "", ">= 2x",
            o_rate >= 2 * s_rate, f"{o['chunks']} vs {s['nodes']} chunks")
    )  # fmt: skip
    bench.add(
        Row("ingest", f"ingestion, {label}: chunks/s counting process start and imports",
            o["chunks"] / ours.wall, s["nodes"] / base.wall)
    )  # fmt: skip
    if o_req is not None and s_req is not None:
        bench.add(
            Row("ingest", f"ingestion, {label}: embedding HTTP requests per chunk",
                o_req / max(o["chunks"], 1), s_req / max(s["nodes"], 1), "",
                note=f"{o_req} vs {s_req} requests")
        )  # fmt: skip
    if not reingest:
        return
    # the same corpus again, unchanged: in-process, then as the user runs it (`rag ingest`)
    reset()
    a = run(ours_cmd, env).json()
    a_req = requests() if ollama else a.get("embed_requests")
    reset()
    again = run([RAG, "ingest", str(corpus), "--json"], env)
    again.json()
    reset()
    base2 = run(stock_cmd, child_env())
    s2 = base2.json()
    s2_req = requests() if ollama else s2.get("embed_calls")
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: seconds", a["seconds"],
            s2["seconds"], " s", "<= 1 s", a["seconds"] <= 1.0)
    )  # fmt: skip
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: `rag ingest` wall time vs stock script",
            again.wall, base2.wall, " s", "<= 1 s", again.wall <= 1.0)
    )  # fmt: skip
    bench.add(
        Row("reingest", f"re-ingest unchanged, {label}: embedding calls", a_req, s2_req, "",
            "0", a_req == 0)
    )  # fmt: skip


def ingestion(bench: Bench) -> None:
    import synth

    n = 300 if bench.quick else 1000
    corpus = OUT / "synth-ingest"
    shutil.rmtree(corpus, ignore_errors=True)
    synth.generate_chunks(corpus, n, 300, 40)
    bench.tables.setdefault("facts", []).append(
        f"Ingestion corpus: bench/synth.py, about {n} chunks of <= 300 tokens "
        f"({len(list(corpus.iterdir()))} documents); stock pipeline: SentenceSplitter(300, 40)."
    )
    bench.tables["facts"].append(
        "Ingestion work compared: ours = read, detect language, chunk (tiktoken), embed, "
        "Chroma, BM25 tokens + catalog; stock = SimpleDirectoryReader, SentenceSplitter, "
        "embed, Chroma (+ docstore for re-runs). Both timed in their own process after "
        "importing chromadb and llama-index; 'counting process start' adds those."
    )
    ingest_pair(bench, "builtin embedder", corpus, "builtin", {}, None)
    from tests.fake_ollama import FakeOllama

    fake = FakeOllama().start()
    bench.fake = fake
    try:
        env = {"OLLAMA_HOST": fake.url, "RAG_EMBEDDER": "ollama", "RAG_EMBED_MODEL": "bge-m3"}
        ingest_pair(bench, "fake Ollama (bge-m3)", corpus, "ollama", env, fake.url, False)
        ingest_pair(bench, "fake Ollama, shipped corpus", ROOT / "corpus", "corpus", env, fake.url)
    finally:
        fake.stop()
        bench.fake = None


# latency -------------------------------------------------------------------------------


def latency(bench: Bench) -> None:
    import synth

    # None: hybrid if the build fits in what is left of the budget, else lexical only
    tiers: list[tuple[int, bool | None]] = (
        [(300, True), (1000, True), (3000, None)]
        if bench.quick
        else [(1_000, True), (10_000, True), (100_000, None)]
    )
    size, overlap = LATENCY_CHUNK
    chunk_env = {"RAG_CHUNK_SIZE": str(size), "RAG_CHUNK_OVERLAP": str(overlap)}
    per_chunk = 0.0  # seconds per chunk of the last `rag ingest` tier
    projected = 0.0
    for n, auto in tiers:
        hybrid = bool(auto)
        if auto is None:
            # HNSW inserts slow down a little as the index grows: allow 40% more per chunk,
            # plus the queries and the stock side; keep 90 s for the cold-start and UI runs
            projected = per_chunk * n * 1.4 + 120
            left = BUDGET_S - (time.perf_counter() - bench.t0) - 90
            hybrid = bench.force_hybrid or 0 < projected <= left
            choice = "hybrid" if hybrid else "lexical only"
            print(
                f"  {n:,} chunks: hybrid build projected {projected:.0f} s, "
                f"{left:.0f} s left: {choice}"
            )
        corpus = OUT / f"synth-{n}"
        shutil.rmtree(corpus, ignore_errors=True)
        synth.generate_chunks(corpus, n, size, overlap)
        data = fresh(OUT / f"latency-{n}")
        if hybrid:
            built = run(
                [RAG, "ingest", str(corpus), "--json"],
                child_env(RAG_DATA_DIR=str(data), **chunk_env),
            ).json()
        else:
            built = run(
                [PY, str(BENCH / "tasks.py"), "build-lexical", str(data), str(corpus),
                 "--chunk-size", str(size), "--overlap", str(overlap)], child_env()
            ).json()  # fmt: skip
        chunks = built["chunks"]
        if hybrid:
            per_chunk = built["seconds"] / max(chunks, 1)
        else:
            bench.notes.append(
                f"The {chunks:,}-chunk latency tier is lexical only (catalog + BM25, compared "
                "with the stock BM25Retriever): at the "
                f"{per_chunk * 1000:.1f} ms per chunk `rag ingest` took on the previous tier "
                "(mostly Chroma's `add`, which fills the HNSW index and also full-text-indexes "
                f"each chunk's text) the hybrid build was projected at {projected:.0f} s, more "
                "than was left of the 15-minute budget on this (shared) machine. Dense and "
                "hybrid retrieval are measured at the smaller tiers."
            )
        ours = run(
            [PY, str(BENCH / "tasks.py"), "latency-ours", str(data)],
            child_env(RAG_DATA_DIR=str(data), **chunk_env),
        ).json()
        cmd = [PY, str(BENCH / "tasks.py"), "latency-stock", str(data)]
        base = run(cmd if hybrid else [*cmd, "--no-vector"], child_env()).json()
        kind = (
            "hybrid vs stock QueryFusionRetriever(BM25, vector)"
            if hybrid
            else "lexical only vs stock BM25Retriever"
        )
        ref = base["hybrid"] if hybrid else base["bm25"]
        label = f"{chunks:,} chunks"
        target = "<= 10 ms" if n >= 100_000 else ""
        met = ours["p50"] <= 10 if target else None
        metric = f"warm retrieval p50, {label} ({kind})"
        bench.add(Row("latency", metric, ours["p50"], ref["p50"], " ms", target, met))
        bench.add(Row("latency", f"warm retrieval p95, {label}", ours["p95"], ref["p95"], " ms"))

        def pp(d: dict[str, float] | None) -> str:
            return f"{fmt(d['p50'])} / {fmt(d['p95'])}" if d else "-"

        table = bench.tables.setdefault(
            "latency",
            [
                "| chunks | ours | stock hybrid (QueryFusionRetriever) | stock BM25Retriever "
                "| stock vector retriever |",
                "|---|---|---|---|---|",
            ],
        )
        table.append(
            f"| {chunks:,} ({'hybrid' if hybrid else 'lexical only'}) | {pp(ours)} | "
            f"{pp(base.get('hybrid'))} | {pp(base['bm25'])} | {pp(base.get('vector'))} |"
        )
        how = (
            "`rag ingest`, builtin embedder"
            if hybrid
            else "catalog + BM25 only, bench/tasks.py build-lexical"
        )
        bench.tables.setdefault("facts", []).append(
            f"Latency tier {label}: built in {built['seconds']:.0f} s "
            f"({how}); "
            f"stock BM25Retriever build over the same chunks {base['bm25_build_s']:.0f} s; "
            f"our first query {ours['first_query_ms']:.0f} ms."
        )
        if n >= 10_000:
            shutil.rmtree(corpus, ignore_errors=True)


# cold start ----------------------------------------------------------------------------


def cold(bench: Bench) -> None:
    data = OUT / "quality" / "ours"
    stock_dir = OUT / "quality" / "stock"
    runs = 3
    ours, base = [], []
    for _ in range(runs):
        p = run([RAG, "ask", "--no-llm", QUESTION], child_env(RAG_DATA_DIR=str(data)))
        if p.code != 0:
            raise RuntimeError(p.out[-500:])
        ours.append(p)
        b = run([PY, str(BENCH / "stock_ask.py"), str(stock_dir), QUESTION], child_env())
        if b.code != 0:
            raise RuntimeError(b.out[-500:])
        base.append(b)
    o_wall = statistics.median(p.wall for p in ours)
    s_wall = statistics.median(p.wall for p in base)
    bench.add(
        Row(
            "cold",
            f"cold `rag ask --no-llm` wall time (median of {runs})",
            o_wall,
            s_wall,
            " s",
            "<= 1.5 s",
            o_wall <= 1.5,
        )
    )
    bench.add(
        Row(
            "cold",
            "cold ask peak RSS",
            max(p.maxrss_mb for p in ours),
            max(p.maxrss_mb for p in base),
            " MB",
        )
    )
    (OUT / "cold-ask-output.txt").write_text(ours[0].out, "utf-8")


# UI ------------------------------------------------------------------------------------


def ui(bench: Bench) -> None:
    if not (ROOT / "ui" / "app.py").exists():
        bench.notes.append("UI time to ready: not measured, ui/app.py does not exist yet.")
        return
    data = OUT / "quality" / "ours"
    stock_dir = OUT / "quality" / "stock"
    ours, base = [], []
    for _ in range(1):
        port = int(dead_url().rsplit(":", 1)[1])
        ours.append(
            ready([RAG, "serve", "--port", str(port)], child_env(RAG_DATA_DIR=str(data)), port)
        )
        port = int(dead_url().rsplit(":", 1)[1])
        base.append(
            ready([PY, str(BENCH / "stock_ui.py"), str(stock_dir), str(port)], child_env(), port)
        )
    bench.add(
        Row(
            "ui",
            "UI time to ready (`rag serve` until GET / answers 200)",
            statistics.median(ours),
            statistics.median(base),
            " s",
        )
    )


# report --------------------------------------------------------------------------------

# Why a target can be missed: from profiling on this machine (bench/out holds the data).
# Shown in RESULTS.md under each missed target whose metric contains the key.
WHY: dict[str, str] = {
    "recall@": (
        "The misses are listed with what was retrieved in bench/out/eval.json. They are mostly "
        "English questions whose answer sits in Indonesian or Chinese text with no shared "
        "name or number (e.g. 'eyewear maker' vs 'pembuat kacamata', 'context windows' vs "
        "'jendela konteks'): without a model the lexical side cannot bridge them and the "
        "builtin hashed n-gram vectors are not cross-lingual. With Ollama, the question is "
        "rewritten into the corpus languages first (issue 3), which this model-free figure "
        "does not include."
    ),
    "chunks/s": (
        "Both pipelines share the two largest costs: the same builtin embedder (about 45% "
        "of our ingest of the 1,068-chunk corpus) and Chroma's `add` through llama-index's "
        "ChromaVectorStore (about 25%: ~0.8 ms per chunk for the vectors plus ~0.5 ms for "
        "the full-text index of the chunk text stored as the Chroma document, which we keep "
        "so any llama-index app can read the collection). On top, ours does strictly more per "
        "chunk: BM25 tokenisation with Chinese segmentation (its tokens are reused by the "
        "builtin embedder), language detection (a one-off ~0.45 s model load per process), "
        "exact tiktoken spans and the SQLite catalog that makes citations exact and re-ingest "
        "free. Batching Chroma writes per embedding group (one delete by id and one add "
        "instead of two calls per document) took ours from 68 to 121 chunks/s on the same "
        "corpus; a 2x margin over a pipeline that shares the embedder and the store is out of "
        "reach without dropping that extra work or the llama-index collection format."
    ),
    "wall time vs stock script": (
        "The ingest work itself is the in-process figure above; the rest is Python start-up "
        "and the CLI's imports (`python -X importtime`: index.ingest ~1.0 s cumulative, "
        "rag.settings/pydantic-settings ~0.4 s, httpx via rag.ollama_api ~0.3 s on this "
        "loaded machine). Deferring pydantic-settings and httpx until they are needed is "
        "what remains to get the whole command under 1 s."
    ),
    "warm retrieval p50": (
        "cProfile of our retrieval on the 110,291-chunk hybrid tier (40 gold questions): of "
        "~38 ms per query, ~24 ms is Chroma's `collection.count()`, called twice per query "
        "(rag/dense_cache.py, to decide whether the collection is small enough for the "
        "in-memory matrix, and index/vectors.py, before the search) at ~12 ms each at this "
        "size; the HNSW query itself is ~3 ms and BM25 + catalog ~5 ms. Remembering the "
        "count per catalog generation would bring the p50 near the stock "
        "QueryFusionRetriever over the same collection."
    ),
    "cold `rag ask": (
        "Most of the cold time is imports before the first query; see "
        "`python -X importtime -m rag.cli ask --no-llm ...`."
    ),
}


def why(metric: str) -> str:
    return next((text for key, text in WHY.items() if key in metric), "")


def machine() -> str:
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {mem} RAM, "
        f"Python {platform.python_version()}, {platform.platform()}; load average at the end "
        f"{load} (the machine is shared with other jobs)"
    )


def write_results(bench: Bench, path: Path, started: datetime, total: float) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Generated by bench/run.py{' --quick' if bench.quick else ''} (`make bench`) on "
        f"{started:%Y-%m-%d %H:%M} UTC in {total / 60:.1f} minutes.",
        f"Machine: {machine()}.",
        "",
        "Every figure below was measured in this one run, ours and the baseline's side by side.",
        "Ratio = ours / stock: above 1 is better for recall and rates, below 1 is better for",
        "times and memory. Stock = llama-index as a user would assemble it (bench/stock.py).",
        "",
        "## Summary",
        "",
        "| section | benchmark | ours | stock llama-index | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in bench.rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "n/a"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        ours = fmt(r.ours) + r.unit
        extra = f" ({r.note})" if r.note else ""
        lines.append(
            f"| {r.section} | {r.metric}{extra} | {ours} | {fmt(r.stock)}{r.unit} | {ratio} | "
            f"{r.target} | {met} |"
        )
    if "quality" in bench.tables:
        lines += [
            "",
            "## Retrieval quality on bench/gold.jsonl (80 answerable questions, en/id/zh)",
            "",
            "R@k counts a question when a passage holding an evidence quote (or overlapping its",
            "span) is among the first k; 'R in N tok' when it is inside the first N tokens of",
            "context (the passage that crosses N is cut), which compares retrievers with",
            "different chunk sizes on the same amount of context.",
            "",
            *bench.tables["quality"],
        ]
    if "latency" in bench.tables:
        lines += [
            "",
            "## Warm retrieval latency, p50 / p95 in ms (top 10, the 88 gold questions twice)",
            "",
            "Synthetic corpus from bench/synth.py, chunks of at most "
            f"{LATENCY_CHUNK[0]} tokens; the stock retrievers run over the very same chunks "
            "(and, for hybrid tiers, the very same Chroma collection), with the same embedder.",
            "",
            *bench.tables["latency"],
        ]
    if "eval" in bench.tables:
        lines += ["", "## `rag eval --no-llm` (model-free answers)", "", *bench.tables["eval"]]
    if bench.tables.get("facts"):
        lines += ["", "## Setup", "", *(f"- {f}" for f in bench.tables["facts"])]
    missed = [r for r in bench.rows if r.met is False]
    lines += ["", "## Targets missed", ""]
    if not missed:
        lines.append("None.")
    for r in missed:
        lines.append(f"- **{r.metric}**: {fmt(r.ours)}{r.unit} against {r.target}. {why(r.metric)}")
    notes = list(bench.notes)
    extra = BENCH / "RESULTS-latency-100k-hybrid.md"
    if path.resolve() != extra.resolve() and extra.exists():
        notes.append(
            f"{extra.name}: a separate run of the latency section with the largest tier "
            "built with vectors too (`python bench/run.py --only latency --hybrid-100k "
            "--results bench/RESULTS-latency-100k-hybrid.md`, ~10 minutes on its own)."
        )
    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in notes] or ["None."]
    lines += [
        "",
        "Section durations: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in bench.durations.items())
        + ".",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def crosslingual(bench: Bench) -> None:
    import crosslingual as xl

    xl.run(bench, Row, fmt)


SECTIONS: dict[str, Callable[[Bench], None]] = {
    "crosslingual": crosslingual,
    "quality": quality,
    "eval": evaluation,
    "ingest": ingestion,
    "latency": latency,
    "cold": cold,
    "ui": ui,
}


def main() -> int:
    ap = argparse.ArgumentParser(description="Benchmarks against stock llama-index.")
    ap.add_argument("--quick", action="store_true", help="small sizes, for development")
    ap.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    ap.add_argument(
        "--results", type=Path, default=None, help="default: bench/RESULTS.md (full run)"
    )
    ap.add_argument(
        "--hybrid-100k",
        action="store_true",
        help="build the largest latency tier with vectors even if it overruns the budget",
    )
    ap.add_argument(
        "--render", action="store_true", help="rewrite RESULTS.md from bench/out/results.json"
    )
    args = ap.parse_args()
    if args.render:
        bench, started, total = load(OUT / "results.json")
        results = args.results or (BENCH / "RESULTS.md")
        write_results(bench, results, started, total)
        print(f"wrote {results}")
        return 0
    from rag.offline import configure_offline

    configure_offline()
    os.environ.pop("OPENAI_API_KEY", None)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "children.log").write_text("", encoding="utf-8")
    bench = Bench(quick=args.quick, force_hybrid=args.hybrid_100k)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    for name, fn in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        with section(bench, name):
            fn(bench)
    total = time.perf_counter() - t0
    save(bench, OUT / "results.json", started, total)
    results = args.results or (OUT / "RESULTS.quick.md" if args.quick else BENCH / "RESULTS.md")
    write_results(bench, results, started, total)
    print(f"\nwrote {results.relative_to(ROOT) if results.is_relative_to(ROOT) else results} "
          f"in {total / 60:.1f} minutes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
